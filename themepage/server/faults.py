"""Fault injection for the local OpenAI-compatible server: a per-server schedule of misbehaviours.

Tests queue faults (`schedule.add("rate_limit", times=2)`) or make one permanent
(`schedule.always("hang")`); every request takes the next queued fault, else the
permanent one, else none. The server counts what it received, so tests can assert
how many calls the client really made (retries, fallbacks, cache hits).
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass

KINDS = {
    "rate_limit": "HTTP 429 with a Retry-After header",
    "server_error": "HTTP 500 with an OpenAI-style error body",
    "unavailable": "HTTP 503 with an OpenAI-style error body",
    "garbage": "HTTP 200 whose body is not JSON at all",
    "truncated_json": "HTTP 200 whose JSON body is cut in half",
    "truncated": "HTTP 200, valid JSON, the answer text cut off (finish_reason 'length')",
    "garbled": "HTTP 200, valid JSON, the answer text is prose with no fields",
    "hang": "sleep `seconds` (past the client's timeout), then answer normally",
}


@dataclass(frozen=True)
class Fault:
    """One misbehaviour; `seconds` is the Retry-After for rate_limit and the sleep for hang."""

    kind: str
    seconds: float = 1.0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; choose from {', '.join(KINDS)}")


class FaultSchedule:
    """Thread-safe queue of faults plus an optional permanent one; counts requests by outcome."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Fault] = deque()
        self._always: Fault | None = None
        self.counts: Counter[str] = Counter()

    def add(self, kind: str, times: int = 1, seconds: float = 1.0) -> FaultSchedule:
        fault = Fault(kind, seconds)
        with self._lock:
            self._queue.extend([fault] * times)
        return self

    def always(self, kind: str | None, seconds: float = 1.0) -> FaultSchedule:
        """Make every request (after the queued ones) fail this way; None clears it."""
        with self._lock:
            self._always = Fault(kind, seconds) if kind else None
        return self

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._always = None

    def next(self) -> Fault | None:
        """The fault for the request arriving now (and count it)."""
        with self._lock:
            fault = self._queue.popleft() if self._queue else self._always
            self.counts[fault.kind if fault else "ok"] += 1
            return fault

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)
