"""What every LLM program run shares: phase timings, usage accounting, bounded retries, fallbacks, fan-out."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from concurrent.futures import ThreadPoolExecutor

from dspy.dsp.utils.settings import thread_local_overrides
from dspy.utils.usage_tracker import UsageTracker, track_usage

from themepage.page import PageStats

T = TypeVar("T")
ATTEMPTS = 2
"""One call and one retry, then the caller's retrieval fallback."""
MAX_THREADS = 8


@dataclass
class RunRecord:
    """Collects a page's timings, LM usage and fallbacks while it is made."""

    timings_ms: dict[str, float] = field(default_factory=dict)
    fallbacks: list[str] = field(default_factory=list)
    usage: list[dict[str, Any]] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings_ms[name] = round((time.perf_counter() - start) * 1000, 2)

    @contextmanager
    def tracking(self) -> Iterator[None]:
        """Record the LM usage of calls made on this thread inside the block."""
        with track_usage() as tracker:
            try:
                yield
            finally:
                self.absorb(tracker)

    def absorb(self, tracker: UsageTracker) -> None:
        for entries in tracker.usage_data.values():
            self.usage.extend(entries)

    def fallback(self, phase: str, cause: str) -> None:
        self.fallbacks.append(f"fallback in {phase}: {cause}")

    def stats(self) -> PageStats:
        cost = sum(float(u.get("cost") or 0.0) for u in self.usage)
        return PageStats(timings_ms=self.timings_ms, lm_calls=len(self.usage),
                         prompt_tokens=sum(int(u.get("prompt_tokens") or 0) for u in self.usage),
                         completion_tokens=sum(int(u.get("completion_tokens") or 0) for u in self.usage),
                         cost_usd=cost or None, fallbacks=list(self.fallbacks))


def describe_error(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}"


def attempt(call: Callable[[], T], valid: Callable[[T], str | None] = lambda _: None,
            attempts: int = ATTEMPTS) -> tuple[T | None, str | None]:
    """Call up to `attempts` times until the result is valid; returns (result, None) or (None, last cause).

    `valid` returns None for a usable result, else why it is not.
    """
    cause = None
    for _ in range(attempts):
        try:
            result = call()
        except Exception as exc:  # any LM, adapter or parse failure: retry, then fall back
            cause = describe_error(exc)
            continue
        cause = valid(result)
        if cause is None:
            return result, None
    return None, cause


def fan_out(function: Callable[[Any], T], items: list[Any]) -> list[T]:
    """Run `function` over items on a small thread pool, each worker under the caller's DSPy settings.

    The caller's thread-local DSPy overrides (LM, adapter, trace, usage tracker) are
    handed to every worker, as DSPy's own ParallelExecutor does, so traces and usage
    land where the caller collects them. Unlike that executor it keeps no global
    progress-bar state, so pages can be made concurrently (batch) and fan out inside.
    """
    if not items:
        return []
    parent = thread_local_overrides.get().copy()

    def run(item):
        token = thread_local_overrides.set({**thread_local_overrides.get(), **parent})
        try:
            return function(item)
        finally:
            thread_local_overrides.reset(token)

    if len(items) == 1:
        return [function(items[0])]
    with ThreadPoolExecutor(max_workers=min(len(items), MAX_THREADS)) as pool:
        return list(pool.map(run, items))
