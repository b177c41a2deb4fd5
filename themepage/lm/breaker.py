"""A circuit breaker per LM: once the provider is unreachable, every page made with that LM fails fast.

Shared by a page's concurrent steps and by all pages made with the same `dspy.LM` object (a batch),
so an unreachable provider costs one error, not one per step. After COOLDOWN seconds one call may
probe again (half-open); a success closes the breaker.
"""

from __future__ import annotations

import threading
import time

COOLDOWN = 30.0
_ATTRIBUTE = "_themepage_breaker"
_REGISTRY_LOCK = threading.Lock()


class ProviderUnreachable(RuntimeError):
    """The LM provider cannot be reached at all (connection refused, name not resolved, 401/403).

    Raised out of a page (and so out of a batch) instead of falling back step after step.
    """


class CircuitBreaker:
    """Open after an unreachable provider; refuses calls until the cooldown ends."""

    def __init__(self, cooldown: float = COOLDOWN):
        self.cooldown = cooldown
        self._lock = threading.Lock()
        self._opened_at: float | None = None
        self._cause = ""

    def __reduce__(self):
        """Copies and pickles of an LM get a fresh, closed breaker (a lock cannot be copied)."""
        return (CircuitBreaker, (self.cooldown,))

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None and time.monotonic() - self._opened_at < self.cooldown

    def check(self) -> None:
        """Raise ProviderUnreachable while the breaker is open."""
        with self._lock:
            if self._opened_at is not None and time.monotonic() - self._opened_at < self.cooldown:
                raise ProviderUnreachable(self._cause)

    def trip(self, cause: str) -> ProviderUnreachable:
        """Open the breaker; returns the error to raise."""
        with self._lock:
            self._opened_at, self._cause = time.monotonic(), f"LM provider unreachable: {cause}"
            return ProviderUnreachable(self._cause)

    def close(self) -> None:
        with self._lock:
            self._opened_at = None


def breaker_for(lm: object) -> CircuitBreaker:
    """The breaker shared by everything made with `lm` (copies of it share it too)."""
    with _REGISTRY_LOCK:
        breaker = getattr(lm, _ATTRIBUTE, None)
        if breaker is None:
            breaker = CircuitBreaker()
            setattr(lm, _ATTRIBUTE, breaker)
        return breaker
