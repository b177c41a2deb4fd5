"""Wall-clock bounds: each LM call runs under a deadline, and every call of a page under the page's own.

The page's end (a monotonic instant) lives in DSPy's thread-local settings, so the threads a page
fans out to inherit it with the LM and adapter. A call is abandoned to its (daemon) thread when its
deadline passes; the step then falls back to retrieval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import dspy
from dspy.dsp.utils.settings import thread_local_overrides
from dspy.dsp.utils.utils import dotdict

T = TypeVar("T")
PAGE_ENDS = "themepage_page_ends"
"""DSPy settings key: the monotonic instant the current page must be done by (absent = unbounded)."""


class DeadlineExceeded(TimeoutError):
    """A call outlived its worst case (P + grace) or the page's deadline and was abandoned to its thread."""


def page_clock(seconds: float | None) -> dict[str, float]:
    """The dspy.context settings that bound a page to `seconds` from now ({} when unbounded)."""
    if seconds is None:
        return {}
    if seconds <= 0:
        raise ValueError(f"page deadline must be a positive number of seconds, got {seconds:g}")
    return {PAGE_ENDS: time.monotonic() + seconds}


def page_remaining() -> float | None:
    """Seconds left before the current page's deadline (may be <= 0), or None when the page is unbounded."""
    ends = dspy.settings.get(PAGE_ENDS)
    return None if ends is None else ends - time.monotonic()


def inheriting(function: Callable[..., T]) -> Callable[..., T]:
    """`function` wrapped to run on another thread under the caller's thread-local DSPy settings."""
    parent = thread_local_overrides.get().copy()

    def run(*args):
        token = thread_local_overrides.set(dotdict({**thread_local_overrides.get(), **parent}))  # as dspy.context does
        try:
            return function(*args)
        finally:
            thread_local_overrides.reset(token)

    return run


def call_within(call: Callable[[], T], seconds: float | None, why: str = "") -> T:
    """call() on its own thread, abandoned with DeadlineExceeded after `seconds` (None = wait for it)."""
    if seconds is None:
        return call()
    if seconds <= 0:
        raise DeadlineExceeded(why or "no time left")
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run():
        try:
            outcome["result"] = call()
        except BaseException as exc:  # handed to the waiting caller
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=inheriting(run), name="lm-call", daemon=True).start()
    if not done.wait(seconds):
        raise DeadlineExceeded(why or f"no answer within {seconds:g} s; abandoned")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
