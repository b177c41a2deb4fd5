"""DSPy's response cache made safe for retries: a retry reaches the model, a failed answer is never re-served.

DSPy keys its cache on the request but ignores `api_base`, and a retry of a failed step sends the
very same request, so without care the cache answers the retry with the answer that just failed,
and re-serves it on every later run, even against a healthy server. Here:

- each attempt of a step runs under a copy of the LM whose `rollout_id` (part of DSPy's cache key,
  stripped before the request is sent) is derived from the api_base, the attempt number and what else the
  engine answers from (its `cache_salt`: the offline engine's theme library): a retry is a new request,
  answers from one server are never served for another, nor the offline engine's answers from before its
  library changed;
- every LM call of an attempt is recorded (a DSPy callback); when the attempt fails (LM error, parse
  error, guard), its entries are removed from the memory and disk cache, and so is any single answer
  the adapter could not parse even when its JSON fallback then succeeded.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import dspy
from dspy.clients.execution import IGNORED_CACHE_KEYS, prepare
from dspy.utils.callback import BaseCallback

_VARIANTS = "_themepage_attempt_lms"
_LOCK = threading.Lock()
_ATTEMPT = "_themepage_attempt"


def attempt_number(lm: Any) -> int:
    """Which try of a step `lm` serves (0: the first; `attempt_lm`)."""
    return getattr(lm, _ATTEMPT, 0)


def rollout_id(api_base: str | None, attempt: int, salt: str = "") -> int | None:
    """A stable id for (server, attempt, salt); None for the first attempt at the provider's default address with no
    salt. `salt` is what else an engine answers from (`cache_salt`: the offline engine's theme library)."""
    if not api_base and attempt == 0 and not salt:
        return None
    digest = hashlib.sha256((f"{api_base or ''}#{attempt}" + (f"#{salt}" if salt else "")).encode()).digest()
    return int.from_bytes(digest[:6], "big")


def attempt_lm(lm: Any, attempt: int) -> Any:
    """`lm` as used by the `attempt`-th try of a step (memoized on the LM; the same LM when nothing differs).
    A retry's LM carries its attempt number (`attempt_number`), so an adapter may sample it otherwise."""
    if not isinstance(lm, dspy.BaseLM):
        return lm
    salt = str(getattr(getattr(lm, "engine", None), "cache_salt", ""))
    rollout = rollout_id(lm.kwargs.get("api_base"), attempt, salt)
    if rollout is None or lm.kwargs.get("rollout_id") is not None:
        return lm
    with _LOCK:
        variants = lm.__dict__.setdefault(_VARIANTS, {})
        if attempt not in variants:
            variant = lm.copy(rollout_id=rollout)
            variant.history = lm.history  # every try shows in the LM's own history, as the user inspects it
            variant.__dict__.pop(_VARIANTS, None)
            variant.__dict__[_ATTEMPT] = attempt
            variants[attempt] = variant
        return variants[attempt]


class CallLog(BaseCallback):
    """Records the LM calls made under it, and which of their answers the adapter failed to parse."""

    def __init__(self):
        self.calls: list[tuple[Any, dict]] = []
        self.unparsed: list[tuple[Any, dict]] = []
        self._last = threading.local()
        self._lock = threading.Lock()

    def on_lm_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        call = (instance, dict(inputs))
        with self._lock:
            self.calls.append(call)
        self._last.call = call

    def on_adapter_parse_end(self, call_id: str, outputs: Any, exception: Exception | None = None) -> None:
        last = getattr(self._last, "call", None)
        if exception is not None and last is not None:
            with self._lock:
                self.unparsed.append(last)

    def forget_all(self) -> None:
        """Remove every recorded call's answer from DSPy's cache (the attempt failed)."""
        evict(self.calls)

    def forget_unparsed(self) -> None:
        """Remove the answers the adapter could not parse (the attempt succeeded through a fallback)."""
        evict(self.unparsed)


def evict(calls: list[tuple[Any, dict]]) -> None:
    """Delete the cache entries of these (lm, call inputs) from DSPy's memory and disk cache."""
    cache = dspy.cache
    if cache is None or not calls or not (cache.enable_memory_cache or cache.enable_disk_cache):
        return
    for lm, inputs in calls:
        key = cache_key(lm, inputs)
        if key is None:
            continue
        with cache._lock:
            cache.memory_cache.pop(key, None)
        if cache.enable_disk_cache:
            cache.disk_cache.delete(key)
        else:
            cache.disk_cache.pop(key, None)


def cache_key(lm: Any, inputs: dict[str, Any]) -> str | None:
    """The key DSPy's cache stores this call's answer under (None when it cannot be derived)."""
    if not isinstance(lm, dspy.BaseLM):
        return None
    try:
        call = prepare(lm, inputs.get("prompt"), inputs.get("messages"), inputs.get("kwargs") or {})
        return dspy.cache.cache_key(call.key(lm, False), IGNORED_CACHE_KEYS)
    except (TypeError, ValueError):
        return None
