"""What every LLM program run shares: phase timings, usage and cost accounting, bounded retries, fallbacks, fan-out.

Worst-case page time with an HTTP LM (T = timeout, r = retries, g = DEADLINE_GRACE = 1 s):

    one LM call      L = (r + 1)·T + B(r),  B(r) = sum of min(2^a, 60) for a < r = 2^r - 1 (r <= 6),
                     DSPy's sleeps between tries (a server's Retry-After replaces them)
    one predictor    P = ADAPTER_CALLS·L = 2·L   (an unparseable chat answer gets one JSONAdapter call)
    one step         S = ATTEMPTS·(P + g)        (`attempt`: a call and a retry, then the fallback)
    top-down page    (1 + 2·ceil(themes / MAX_THREADS))·S = 3·S   (plan, then fill+filter per theme)
    bottoms-up page  (1 + ceil(clusters / MAX_THREADS))·S = 2·S   (generate, then name per cluster)

plus the page's own work (milliseconds). Defaults T = 30 s, r = 2: L = 93 s, S = 374 s, top-down
<= 1122 s, bottoms-up <= 748 s (`page_time_bound`). Each call runs under a deadline of P + g, which
caps what DSPy does not (a long Retry-After, a server trickling bytes, lm15's 10 s connect). A call
DSPy already retried that still failed transiently (timeout, 429, 5xx) falls back at once, so a
dead server costs about one L per step, not S.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, TypeVar

import dspy
from dspy.dsp.utils.settings import thread_local_overrides
from dspy.utils.exceptions import is_retryable_lm_error
from dspy.utils.usage_tracker import track_usage

from themepage.page import PageStats

T = TypeVar("T")
ATTEMPTS = 2
"""One call and one retry, then the caller's retrieval fallback."""
ADAPTER_CALLS = 2
"""LM calls one predictor call can make: the ChatAdapter's, then the JSONAdapter's if it could not parse."""
MAX_THREADS = 8
DEADLINE_GRACE = 1.0
"""Seconds a call may run past its computed worst case before it is abandoned."""
STEPS = {"top-down": (1, 2), "bottoms-up": (1, 1)}
"""Per program: (sequential steps, steps per concurrent item) on a page's critical path."""


def backoff_total(retries: int) -> float:
    """Seconds DSPy sleeps between `retries` retries: min(2^attempt, 60) each (dspy.clients.execution._delay)."""
    return float(sum(min(2 ** min(a, 6), 60) for a in range(retries)))


def call_time_bound(timeout: float, retries: int) -> float:
    """L: one LM call, its retries and the backoff between them."""
    return (retries + 1) * timeout + backoff_total(retries)


def page_time_bound(program: str, timeout: float, retries: int, items: int = 6) -> float:
    """Worst-case seconds for one page of `program` (see the module docstring); items = themes or clusters."""
    first, per_item = STEPS[program]
    steps = first + per_item * math.ceil(items / MAX_THREADS)
    return steps * ATTEMPTS * (ADAPTER_CALLS * call_time_bound(timeout, retries) + DEADLINE_GRACE)


class ProviderUnreachable(RuntimeError):
    """The LM provider cannot be reached at all (connection refused, name not resolved, 401/403).

    Raised out of a page (and so out of a batch) instead of falling back step after step.
    """


class DeadlineExceeded(TimeoutError):
    """A call outlived its worst case (P + grace) and was abandoned to its thread."""


@dataclass
class RunRecord:
    """Collects a page's timings, LM usage, cost and fallbacks while it is made."""

    timings_ms: dict[str, float] = field(default_factory=dict)
    fallbacks: list[str] = field(default_factory=list)
    usage: list[dict[str, Any]] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings_ms[name] = round((time.perf_counter() - start) * 1000, 2)

    @contextmanager
    def tracking(self) -> Iterator[None]:
        """Record the LM usage and cost of calls made inside the block (on this thread and its fan-outs)."""
        # DSPy reports cost only in history entries, appended to every module on the caller stack:
        # a stand-in module on that stack collects this page's (thread-local, so concurrent pages stay apart)
        log = SimpleNamespace(history=[])
        with track_usage() as tracker, dspy.context(caller_modules=[*(dspy.settings.caller_modules or []), log]):
            try:
                yield
            finally:
                for entries in tracker.usage_data.values():
                    self.usage.extend(entries)
                # cache hits carry the original call's cost but no usage: they cost nothing now
                self.costs.extend(float(e["cost"]) for e in list(log.history) if e.get("usage") and e.get("cost"))

    def fallback(self, phase: str, cause: str) -> None:
        self.fallbacks.append(f"fallback in {phase}: {cause}")

    def stats(self) -> PageStats:
        cost = sum(self.costs)
        return PageStats(timings_ms=self.timings_ms, lm_calls=len(self.usage),
                         prompt_tokens=sum(int(u.get("prompt_tokens") or 0) for u in self.usage),
                         completion_tokens=sum(int(u.get("completion_tokens") or 0) for u in self.usage),
                         cost_usd=cost or None, fallbacks=list(self.fallbacks))


def describe_error(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}"


def _inheriting(function: Callable[..., T]) -> Callable[..., T]:
    """`function` wrapped to run on another thread under the caller's thread-local DSPy settings."""
    parent = thread_local_overrides.get().copy()

    def run(*args):
        token = thread_local_overrides.set({**thread_local_overrides.get(), **parent})
        try:
            return function(*args)
        finally:
            thread_local_overrides.reset(token)

    return run


def _deadline() -> float | None:
    """P + grace for the LM in context, or None when it has no timeout (the offline engine)."""
    lm = dspy.settings.lm
    timeout = getattr(lm, "kwargs", {}).get("timeout")
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool):
        return None
    return ADAPTER_CALLS * call_time_bound(timeout, getattr(lm, "num_retries", 0)) + DEADLINE_GRACE


def _call_within(call: Callable[[], T], seconds: float | None) -> T:
    if seconds is None:
        return call()
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run():
        try:
            outcome["result"] = call()
        except BaseException as exc:  # handed to the waiting caller
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=_inheriting(run), name="lm-call", daemon=True).start()
    if not done.wait(seconds):
        raise DeadlineExceeded(f"no answer within {seconds:g} s; abandoned")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def attempt(call: Callable[[], T], valid: Callable[[T], str | None] = lambda _: None,
            attempts: int = ATTEMPTS) -> tuple[T | None, str | None]:
    """Call up to `attempts` times until the result is valid; returns (result, None) or (None, last cause).

    `valid` returns None for a usable result, else why it is not. A transient LM failure
    (timeout, rate limit, server error) that DSPy already retried ends the attempts at once.
    """
    cause = None
    deadline = _deadline()
    for _ in range(attempts):
        try:
            result = _call_within(call, deadline)
        except Exception as exc:  # any LM, adapter or parse failure: retry, then fall back
            cause = describe_error(exc)
            if isinstance(exc, DeadlineExceeded) or is_retryable_lm_error(exc):
                break
            continue
        cause = valid(result)
        if cause is None:
            return result, None
    return None, cause


def fan_out(function: Callable[[Any], T], items: list[Any]) -> list[T]:
    """Run `function` over items on a small thread pool, each worker under the caller's DSPy settings.

    Workers inherit the caller's thread-local overrides (LM, adapter, trace, usage tracker), as in
    DSPy's ParallelExecutor, but with no global progress state, so concurrent pages can fan out too.
    """
    if not items:
        return []
    if len(items) == 1:
        return [function(items[0])]
    return list(_shared_pool().map(_inheriting(function), items))


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _shared_pool() -> ThreadPoolExecutor:
    """One process-wide pool: starting threads for every page cost more than a fast LM's answers.

    Tasks never wait on the pool themselves, so pages made concurrently (batch) cannot deadlock it.
    """
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="themepage-fan-out")
        return _POOL
