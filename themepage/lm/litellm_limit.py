"""The bound on bytes read per LM answer, for LiteLLM's OpenAI-compatible provider (`engine = "litellm"`).

LiteLLM builds its OpenAI SDK clients around `litellm.client_session` when one is set, else around a fresh
httpx client of its own, and the SDK reads the whole body before anything parses it. `limit_litellm_answer_bytes`
sets that session to the client LiteLLM would have built (same TLS, proxy and HTTP/2 settings) with a response
hook that makes the body stop past the limit: the read raises `AnswerTooLarge`, the connection is dropped, and
LiteLLM reports it as a provider error carrying that message, so the step fails like any LM failure (DSPy's
retries, then the retrieval fallback). It is not an httpx error on purpose: the SDK would retry that itself and
replace the message with "Connection error". Only the synchronous client is bounded: the pages call the LM
synchronously, and LiteLLM keeps one async client per event loop, which a shared session would break.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx

from themepage.lm.answer_limit import MAX_ANSWER_BYTES

_LOCK = threading.Lock()


class AnswerTooLarge(ConnectionError):
    """An answer body longer than the limit: reading stopped there and the connection is dropped."""


class _BoundedBody(httpx.SyncByteStream):
    """A response body that raises AnswerTooLarge once more than `limit` bytes came through."""

    def __init__(self, body: httpx.SyncByteStream, limit: int):
        self.body, self.limit = body, limit

    def __iter__(self) -> Iterator[bytes]:
        read = 0
        for chunk in self.body:
            read += len(chunk)
            if read > self.limit:
                raise AnswerTooLarge(f"answer longer than {self.limit} bytes; stopped reading it")
            yield chunk

    def close(self) -> None:
        self.body.close()


class AnswerBound:
    """An httpx response hook bounding each body to `limit` bytes (one per client; the latest limit wins)."""

    def __init__(self, limit: int):
        self.limit = limit

    def __call__(self, response: httpx.Response) -> None:
        if isinstance(response.stream, httpx.SyncByteStream):
            response.stream = _BoundedBody(response.stream, self.limit)


def limit_litellm_answer_bytes(litellm: Any, limit: int = MAX_ANSWER_BYTES) -> httpx.Client:
    """Bound every answer LiteLLM's OpenAI-compatible provider reads synchronously to `limit` bytes (idempotent).

    A session set before (by the caller's own code) keeps its settings and gets the bound added."""
    with _LOCK:
        client = litellm.client_session
        if client is None:
            from litellm.llms.openai.common_utils import BaseOpenAILLM

            client = BaseOpenAILLM.get_sync_http_client()
            if client is None:  # not an httpx client this version can bound
                raise RuntimeError("LiteLLM built no HTTP client to bound")
        hooks = client.event_hooks
        bound = next((hook for hook in hooks["response"] if isinstance(hook, AnswerBound)), None)
        if bound is None:
            client.event_hooks = {**hooks, "response": [*hooks["response"], AnswerBound(limit)]}
        else:
            bound.limit = limit
        litellm.client_session = client
        return client
