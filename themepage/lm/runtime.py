"""What every LLM program run shares: phase timings, usage and cost accounting, bounded retries, fallbacks, fan-out.

Worst-case page time with an HTTP LM (T = timeout, r = retries, g = DEADLINE_GRACE = 1 s, D = page deadline):

    one LM call      L = (r + 1)·T + B(r),  B(r) = sum of min(2^a, 60) for a < r = 2^r - 1 (r <= 6),
                     DSPy's sleeps between tries (a server's Retry-After replaces them)
    one predictor    P = ADAPTER_CALLS·L = 2·L   (an unparseable chat answer gets one JSONAdapter call)
    one step         S = ATTEMPTS·(P + g)        (`attempt`: a call and a retry, then the fallback)
    top-down page    (1 + 2·ceil(themes / MAX_THREADS))·S = 3·S   (plan, then fill+filter per theme)
    bottoms-up page  (1 + ceil(clusters / MAX_THREADS))·S = 2·S   (generate, then name per cluster)
    any page         min(the above, D) + g        (with a page deadline, the CLI's default D = 60 s)

plus the page's own work (`page_time_bound` computes the bound for given settings). Each call runs under a deadline of
min(P + g, time left on the page), which caps what DSPy does not (a long Retry-After, a server
trickling bytes, lm15's 10 s connect); a step still waiting at the page's deadline is abandoned and
falls back to retrieval, and fan-out items not yet started then run their fallbacks at once, so each
page of a batch is bounded by its own deadline. A call DSPy already retried that still failed
transiently (timeout, 429, 5xx) falls back at once, so a dead server costs about one L per step, not
S. An unreachable provider (refused, unresolvable, 401/403) raises ProviderUnreachable within one call.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, TypeVar

import dspy
from dspy.utils.exceptions import is_retryable_lm_error
from dspy.utils.usage_tracker import track_usage

from themepage.lm.breaker import ProviderUnreachable, breaker_for
from themepage.lm.deadline import DeadlineExceeded, call_within, inheriting, page_remaining
from themepage.lm.failures import is_lm_failure, is_unreachable
from themepage.lm.redact import redact
from themepage.lm.response_cache import CallLog, attempt_lm
from themepage.page import PageStats

__all__ = ["DeadlineExceeded", "ProviderUnreachable", "RunRecord", "attempt", "fan_out", "page_time_bound"]

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


def page_time_bound(program: str, timeout: float, retries: int, items: int = 6,
                    page_deadline: float | None = None) -> float:
    """Worst-case seconds for one page of `program` (see the module docstring); items = themes or clusters."""
    first, per_item = STEPS[program]
    steps = first + per_item * math.ceil(items / MAX_THREADS)
    bound = steps * ATTEMPTS * (ADAPTER_CALLS * call_time_bound(timeout, retries) + DEADLINE_GRACE)
    return bound if page_deadline is None else min(bound, page_deadline + DEADLINE_GRACE)


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
    text = redact(" ".join(str(exc).split()))
    return f"{type(exc).__name__}: {text[:160]}"


def _call_deadline() -> tuple[float | None, str]:
    """Seconds the next call may take: P + grace for the LM in context, capped by the page's time left."""
    lm = dspy.settings.lm
    timeout = getattr(lm, "kwargs", {}).get("timeout")
    seconds = None
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        seconds = ADAPTER_CALLS * call_time_bound(timeout, getattr(lm, "num_retries", 0)) + DEADLINE_GRACE
    left = page_remaining()
    if left is not None and (seconds is None or left < seconds):
        return max(left, 0.0), "page deadline reached; abandoned the step"
    return seconds, ""


def attempt(call: Callable[[], T], valid: Callable[[T], str | None] = lambda _: None, attempts: int = ATTEMPTS,
            complete: Callable[[T], bool] = lambda _: True,
            refused_attempts: int | None = None, first_try: int = 0) -> tuple[T | None, str | None]:
    """Call up to `attempts` times until the result is valid; returns (result, None) or (None, last cause).
    With `refused_attempts`, a step whose every try so far answered and was refused by `valid` (never an LM
    failure) may take that many tries: a guard's refusal is worth another sample, a broken server is not. An LM
    that answers a prompt alike every time (`answers_alike`: the offline engine) is not asked again after a
    refusal: it would only spend another round trip saying the same.
    `first_try` numbers the tries from there (a step asked again after a usable but short answer is a retry).

    `valid` returns None for a usable result, else why it is not; a usable result that is not
    `complete` (short of what was asked, e.g. a truncated answer) is used but not left in the cache.
    Only LM, transport, adapter and parse failures are caught (`is_lm_failure`); anything else is a
    bug and propagates. A transient failure DSPy already retried, or the page's deadline, ends the
    attempts at once; an unreachable provider opens the LM's circuit breaker and raises
    ProviderUnreachable. Each try is a distinct request (`attempt_lm`), and the cached answers of
    a failed try are evicted (`CallLog`).
    """
    lm = dspy.settings.lm
    breaker = breaker_for(lm) if lm is not None else None
    cause = None
    limit, number = first_try + max(attempts, refused_attempts or 0), first_try - 1
    while (number := number + 1) < limit:
        if breaker is not None:
            breaker.check()
        log = CallLog()
        seconds, why = _call_deadline()
        try:
            with dspy.context(lm=attempt_lm(lm, number), callbacks=[*(dspy.settings.callbacks or []), log]):
                result = call_within(call, seconds, why)
        except Exception as exc:
            if not is_lm_failure(exc):
                raise
            limit = first_try + attempts
            log.forget_all()
            if breaker is not None and is_unreachable(exc):
                raise breaker.trip(describe_error(exc)) from exc
            cause = describe_error(exc)
            if isinstance(exc, DeadlineExceeded) or is_retryable_lm_error(exc):
                break
            continue
        cause = valid(result)
        if cause is None:
            log.forget_unparsed() if complete(result) else log.forget_all()
            if breaker is not None:
                breaker.close()
            return result, None
        log.forget_all()
        if answers_alike():
            break
    return None, cause


def answers_alike() -> bool:
    """Whether the configured LM's engine answers a prompt alike on every try (its engine says `deterministic`, as the
    offline engine does): a retry of a refused answer is then the same answer again."""
    engine = getattr(dspy.settings.lm, "engine", None)
    return bool(getattr(engine, "deterministic", False))


def answers_in_process() -> bool:
    """Whether the configured LM answers on the calling thread without waiting on I/O (its engine says
    `answers_in_process`, as the offline engine does): threads then only add contention, so fan_out runs inline."""
    engine = getattr(dspy.settings.lm, "engine", None)
    return bool(getattr(engine, "answers_in_process", False))


def fan_out(function: Callable[[Any], T], items: list[Any]) -> list[T]:
    """Run `function` over items on a small thread pool, each worker under the caller's DSPy settings.

    Workers inherit the caller's thread-local overrides (LM, adapter, trace, usage tracker, page
    deadline), as in DSPy's ParallelExecutor, but with no global progress state, so concurrent pages
    can fan out too. Items still queued when the page's deadline passes (the pool busy with other
    pages) are taken back and run here, where their steps find no time left and fall back at once.
    With an LM that answers in process (`answers_in_process`) the items run one after another here.
    """
    if not items:
        return []
    if len(items) == 1 or answers_in_process():
        return [function(item) for item in items]
    futures = [_shared_pool().submit(inheriting(function), item) for item in items]
    left = page_remaining()
    if left is None:
        return [future.result() for future in futures]
    wait(futures, timeout=max(left, 0.0) + DEADLINE_GRACE)
    return [function(item) if future.cancel() else future.result() for item, future in zip(items, futures, strict=True)]


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
