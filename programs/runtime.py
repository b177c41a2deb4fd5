"""What every LLM program run shares: phase timings, usage accounting, bounded retries, fallbacks, fan-out."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dspy.utils.parallelizer import ParallelExecutor
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


def fan_out(function: Callable[[Any], T], items: list[Any], record: RunRecord) -> list[T]:
    """Run `function` over items concurrently with DSPy's executor (settings and traces propagate).

    Each worker tracks its own LM usage and hands it back, since the executor gives
    every thread a private copy of the caller's usage tracker.
    """
    if not items:
        return []

    def tracked(item):
        with track_usage() as tracker:
            result = function(item)
        return result, tracker

    executor = ParallelExecutor(num_threads=min(len(items), MAX_THREADS), max_errors=len(items) + 1,
                                disable_progress_bar=True, provide_traceback=False)
    outputs = executor.execute(tracked, items)
    results = []
    for item, output in zip(items, outputs):
        if output is None or isinstance(output, BaseException):
            raise RuntimeError(f"concurrent step failed for {item!r}: {output!r}")
        result, tracker = output
        record.absorb(tracker)
        results.append(result)
    return results
