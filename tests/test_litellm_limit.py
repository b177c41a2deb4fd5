"""The LiteLLM answer bound on its own (issue 20, probe 7): a shared httpx session whose bodies stop past the limit.

The end-to-end case (a page over LiteLLM against a 10 MB answer) is in test_answers_parse.py; these run against
httpx's in-memory transport, with a stand-in for the litellm module.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest

from themepage.lm.litellm_limit import AnswerBound, AnswerTooLarge, limit_litellm_answer_bytes


def sized(size: int) -> httpx.MockTransport:
    """A transport answering `size` bytes, streamed in 1 KiB chunks (a body given whole would come pre-read)."""
    return httpx.MockTransport(lambda request: httpx.Response(200, content=chunks(size)))


def chunks(size: int) -> Iterator[bytes]:
    for start in range(0, size, 1024):
        yield b"x" * min(1024, size - start)


def test_a_body_past_the_limit_stops_with_answer_too_large():
    litellm = SimpleNamespace(client_session=httpx.Client(transport=sized(5000)))
    client = limit_litellm_answer_bytes(litellm, limit=4096)
    assert litellm.client_session is client
    with pytest.raises(AnswerTooLarge, match="longer than 4096 bytes"):
        client.get("http://127.0.0.1/v1/chat/completions")


def test_a_body_within_the_limit_is_read_whole():
    litellm = SimpleNamespace(client_session=httpx.Client(transport=sized(4096)))
    assert limit_litellm_answer_bytes(litellm, limit=4096).get("http://127.0.0.1/").content == b"x" * 4096


def test_bounding_again_keeps_one_hook_and_the_latest_limit_and_the_callers_hooks():
    seen = []
    session = httpx.Client(transport=sized(3000), event_hooks={"response": [seen.append]})
    litellm = SimpleNamespace(client_session=session)
    limit_litellm_answer_bytes(litellm, limit=4096)
    client = limit_litellm_answer_bytes(litellm, limit=2048)
    assert client is session
    bounds = [hook for hook in client.event_hooks["response"] if isinstance(hook, AnswerBound)]
    assert [bound.limit for bound in bounds] == [2048]
    with pytest.raises(AnswerTooLarge, match="longer than 2048 bytes"):
        client.get("http://127.0.0.1/")
    assert len(seen) == 1
