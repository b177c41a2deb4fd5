"""A bound on the bytes read per LM answer, so a server sending megabytes cannot hold a page past its deadline.

DSPy's native HTTP client (lm15, which `engine="auto"` picks for OpenAI-compatible servers) reads a
whole response body into memory before anything looks at it, and the adapter then parses it on
the page's time. `limit_answer_bytes` wraps that client's body `read` (sync and async) so a body
longer than MAX_ANSWER_BYTES raises the client's own transport error as soon as the limit is
passed: the connection is dropped, nothing further is read, and the step fails like any transport
failure (DSPy's retries, then the retrieval fallback). LiteLLM's OpenAI-compatible client gets the same bound
from `themepage.lm.litellm_limit`; whatever is read, the adapters refuse an answer longer than
`themepage.lm.adapter.MAX_ANSWER_CHARS` before parsing it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

MAX_ANSWER_BYTES = 1 << 20
"""Bytes of one HTTP answer read at most: a step's longest answer, JSON-escaped and wrapped, is far smaller."""
_MARK = "_themepage_answer_limit"
_LOCK = threading.Lock()


def _client_types():
    from dspy._vendor.lm15.transports import TransportError
    from dspy._vendor.lm15.transports._types import AsyncTransportResponse, TransportResponse

    return TransportError, TransportResponse, AsyncTransportResponse


def answer_too_large(limit: int) -> Exception:
    """The lm15 transport error for a body past `limit` bytes (DSPy reports it as an LM transport failure)."""
    transport_error = _client_types()[0]
    return transport_error(f"answer longer than {limit} bytes; stopped reading it")


def _bounded(chunks: Iterator[bytes], limit: int) -> bytes:
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > limit:
            close = getattr(chunks, "close", None)  # a generator's close runs the response's release:
            if close is not None:  # the connection is dropped, not reused
                close()
            raise answer_too_large(limit)
    return bytes(body)


def limit_answer_bytes(limit: int = MAX_ANSWER_BYTES) -> None:
    """Make every lm15 response read stop with a transport error past `limit` bytes (idempotent; the latest
    limit wins)."""
    _, sync_response, async_response = _client_types()
    with _LOCK:
        if getattr(sync_response, _MARK, None) is None:
            def read(self) -> bytes:
                return _bounded(iter(self), getattr(type(self), _MARK))

            async def aread(self) -> bytes:
                bound = getattr(type(self), _MARK)
                body = bytearray()
                chunks = self.__aiter__()
                async for chunk in chunks:
                    body += chunk
                    if len(body) > bound:
                        await chunks.aclose()
                        raise answer_too_large(bound)
                return bytes(body)

            sync_response.read = read
            async_response.read = aread
        setattr(sync_response, _MARK, limit)
        setattr(async_response, _MARK, limit)
