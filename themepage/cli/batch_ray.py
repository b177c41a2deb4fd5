"""Batch pages on Ray: users split into chunks, mapped over actors that each open the page maker once.

The core does not import the programs, so the caller hands in `open_maker`: a picklable zero-argument
callable that, run once in each actor, loads the index and returns `make(user_id) -> Page`. Results come
back in the users' order (`ActorPool.map` is ordered), as JSON (lone surrogates replaced), identical to
the threaded batch's pages.

Load per worker: an actor runs one chunk at a time (Ray's default max_concurrency = 1) on a pool of
`concurrency` page threads; each page fans out on the process-wide pool of `themepage.lm.runtime.MAX_THREADS`
threads, so one worker has at most `concurrency + MAX_THREADS` LM calls in flight, whatever the batch size.

Workers take the driver's DSPy cache switches: with caching off (as in the tests) both engines make
the same LM calls, so even the pages' usage stats agree; with it on, a worker's cache hits cost nothing.
"""

from __future__ import annotations

import json
import math
import os
import resource
import time
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from themepage.page import Page
from themepage.wording.unicode_text import valid_data

PageMaker = Callable[[int], Page]
CHUNKS_PER_WORKER = 4
"""Chunks each worker gets on average: enough to even out slow pages, few enough to keep overhead low."""
MAX_CHUNK = 16


class RayMissing(RuntimeError):
    """Ray is not installed: `pip install 'themepage[ray]'`."""


class PageWorker:
    """A Ray actor body: opens the page maker once, then makes chunks of pages on a bounded thread pool."""

    def __init__(self, open_maker: Callable[[], PageMaker], concurrency: int, cache: tuple[bool, bool] = (True, True)):
        started = time.process_time()
        if not all(cache):
            import dspy

            dspy.configure_cache(enable_disk_cache=cache[0], enable_memory_cache=cache[1])
        self.make = open_maker()
        self.pool = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="themepage-page")
        self.open_cpu, self.opened_at = time.process_time() - started, time.process_time()

    def pages(self, users: list[int]) -> list[str]:
        return [json.dumps(valid_data(page.model_dump(mode="json"))) for page in self.pool.map(self.make, users)]

    def usage(self) -> dict[str, float]:
        """This worker's CPU seconds opening the maker and making pages since, and its peak RSS (MiB)."""
        return {"open_cpu": self.open_cpu, "pages_cpu": time.process_time() - self.opened_at,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def chunked(users: Sequence[int], workers: int) -> list[list[int]]:
    """Users in order, cut into about CHUNKS_PER_WORKER chunks per worker of at most MAX_CHUNK users."""
    if not users:
        return []
    size = max(1, min(MAX_CHUNK, math.ceil(len(users) / (max(1, workers) * CHUNKS_PER_WORKER))))
    return [list(users[i:i + size]) for i in range(0, len(users), size)]


def driver_cache() -> tuple[bool, bool]:
    """This process's DSPy cache switches: (disk, memory)."""
    import dspy

    return bool(dspy.cache.enable_disk_cache), bool(dspy.cache.enable_memory_cache)


def _ray():
    try:
        import ray
    except ImportError:
        raise RayMissing("the ray engine needs Ray: pip install 'themepage[ray]'") from None
    return ray


def start_ray(address: str | None = None, **init_kwargs: Any) -> bool:
    """Connect to the cluster at `address` (or start a local one); False when Ray was already running.

    Usage statistics stay off (no network), and workers inherit this process's THEMEPAGE_* and
    LITELLM_LOCAL_MODEL_COST_MAP variables.
    """
    ray = _ray()
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    passed = {k: v for k, v in os.environ.items() if k.startswith("THEMEPAGE_") or k == "LITELLM_LOCAL_MODEL_COST_MAP"}
    local = {"include_dashboard": False, "_node_ip_address": "127.0.0.1"} if address is None else {}
    ray.init(address=address, runtime_env={"env_vars": passed}, log_to_driver=False, **local, **init_kwargs)
    return True


def ray_pages(open_maker: Callable[[], PageMaker], users: Sequence[int], concurrency: int = 4,
              address: str | None = None, workers: int | None = None,
              on_page: Callable[[], None] | None = None,
              on_usage: Callable[[list[dict[str, float]]], None] | None = None,
              **init_kwargs: Any) -> Generator[Page, None, None]:
    """Pages for `users`, in order, made by `workers` actors (default: one per CPU of the cluster).

    `on_usage`, when given, receives every actor's `PageWorker.usage()` once the last page is out.
    """
    ray = _ray()
    from ray.util import ActorPool

    started = start_ray(address, **init_kwargs)
    actors: list[Any] = []
    try:
        count = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        chunks = chunked(users, count)
        remote_worker = ray.remote(num_cpus=1)(PageWorker)
        cache = driver_cache()
        actors = [remote_worker.remote(open_maker, concurrency, cache) for _ in range(min(count, len(chunks)))]
        if not actors:
            return
        for pages in ActorPool(actors).map(lambda actor, chunk: actor.pages.remote(chunk), chunks):
            for text in pages:
                if on_page:
                    on_page()
                yield Page.model_validate_json(text)
        if on_usage:
            on_usage(ray.get([actor.usage.remote() for actor in actors]))
    finally:
        for actor in actors:
            ray.kill(actor)
        if started:
            ray.shutdown()
