"""Pages per second per core for a batch of the bundled users: threaded, and on a local Ray cluster.

    python bench/batch_speed.py [--program top-down] [--concurrency 4] [--repeat 2]

Both engines make the same pages with the offline LM and DSPy's cache off (every call reaches the
engine). Ray is timed from its first actor to its last page (the cluster already started; its start
is printed apart), so index loading in every worker counts. Cores = CPUs the engine may use
(this machine's for threads, the cluster's for Ray). Needs the ray extra for the Ray rows.
"""

from __future__ import annotations

import argparse
import os
import time

import dspy

from themepage.cli.page_job import PageJob
from themepage.constants import BUNDLED_DATA_DIR


def threaded_pages(make, users: list[int], concurrency: int):
    """Pages in user order, `concurrency` users at a time: the threaded batch's engine without its file handling."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(make, users))


def timed(label: str, run, cores: int, pages_expected: int) -> list:
    start = time.perf_counter()
    pages = list(run())
    seconds = time.perf_counter() - start
    assert len(pages) == pages_expected
    rate = len(pages) / seconds
    print(f"{label:<34} {len(pages):>4} pages {seconds:7.2f} s {rate:7.2f} pages/s {rate / cores:7.2f} pages/s/core"
          f" ({cores} cores)")
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description="Pages per second per core: threads and Ray.")
    parser.add_argument("--program", default="top-down")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    job = PageJob(BUNDLED_DATA_DIR, None, args.program, "relevance")
    make = job()
    users = [int(u) for u in make.index.histories.user_ids]
    cores = os.cpu_count() or 1
    threaded: list = []
    for n in range(args.repeat):
        threaded = timed(f"threads x{args.concurrency}, run {n + 1}",
                         lambda: threaded_pages(make, users, args.concurrency), cores, len(users))
    import ray

    from themepage.cli.batch_ray import ray_pages, start_ray

    start = time.perf_counter()
    start_ray(None, num_cpus=cores)
    print(f"local Ray cluster started in {time.perf_counter() - start:.1f} s")
    try:
        ray_cores = int(ray.cluster_resources()["CPU"])
        for n in range(args.repeat):
            distributed = timed(f"ray {ray_cores} actors x{args.concurrency}, run {n + 1}",
                                lambda: ray_pages(job, users, args.concurrency), ray_cores, len(users))
            same = [p.model_dump(exclude={"stats": {"timings_ms"}}) for p in distributed] == \
                   [p.model_dump(exclude={"stats": {"timings_ms"}}) for p in threaded]
            print(f"  same pages as threads: {same}")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
