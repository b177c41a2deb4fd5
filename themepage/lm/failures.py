"""Which exceptions are the LM's fault (retry, then fall back) and which are ours (let them surface).

A step falls back to retrieval when the LM, its transport, the adapter or the parsing of its answer
failed. A bug in our own code (TypeError, KeyError, ...) must crash loudly instead of hiding behind a
fallback. Connection refused, an unresolvable name and 401/403 mean the provider cannot be reached at
all: retrying step after step only repeats the error, so they open the circuit breaker.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pydantic
from dspy.utils.exceptions import DSPyError, LMAuthError, LMUnexpectedError

from themepage.lm.structured import ContextOverflow

LM_ERROR_TYPES = (DSPyError, pydantic.ValidationError, json.JSONDecodeError, TimeoutError, ConnectionError,
                  ContextOverflow)
"""DSPy's LM and adapter errors (LMError, AdapterParseError), parse and validation errors, timeouts, transport,
and a prompt that does not fit the model's context."""
LM_CLIENT_MODULES = ("litellm", "openai", "anthropic", "httpx", "httpcore", "dspy._vendor.lm15")
"""Exceptions defined by LM client libraries, recognised without importing them (importing litellm is slow)."""
PROGRAMMING_ERRORS = (TypeError, AttributeError, KeyError, IndexError, NameError, AssertionError)
UNREACHABLE_CAUSES = (ConnectionRefusedError, socket.gaierror)
UNREACHABLE_STATUSES = (401, 403)


def causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and the exceptions it was raised from or during, outermost first (cycles cut)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _from_client_library(exc: BaseException) -> bool:
    return any(cls.__module__.startswith(LM_CLIENT_MODULES) for cls in type(exc).__mro__)


def is_lm_failure(exc: BaseException) -> bool:
    """Whether `exc` is an LM, transport, adapter or parse failure (as opposed to a bug in our code)."""
    if isinstance(exc, LMUnexpectedError) and isinstance(exc.__cause__, PROGRAMMING_ERRORS):
        return False  # an engine's own bug, wrapped by DSPy's boundary
    return isinstance(exc, LM_ERROR_TYPES) or _from_client_library(exc)


def is_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the provider cannot be reached at all: refused, unresolvable, 401 or 403."""
    for cause in causes(exc):
        if isinstance(cause, (LMAuthError, *UNREACHABLE_CAUSES)):
            return True
        if getattr(cause, "status", None) in UNREACHABLE_STATUSES or \
                getattr(cause, "status_code", None) in UNREACHABLE_STATUSES:
            return True
    return False
