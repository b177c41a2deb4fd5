"""The OpenAI chat-completions wire format: read a request's messages, write a completion or an error."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass

from themepage.offline.engine import estimate_tokens

_ids = itertools.count(1)


class BadRequest(ValueError):
    """The request is not a chat completion the server can answer (HTTP 400)."""


def _text(content) -> str:
    """Message content as text: a string, or the text parts of a content list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    raise BadRequest(f"unsupported message content of type {type(content).__name__}")


@dataclass(frozen=True)
class ChatRequest:
    """What the server needs from a chat-completions body."""

    model: str
    system: str
    turns: list[tuple[str, str]]
    n: int = 1
    json_mode: bool = False
    """The client asked for JSON (response_format), as DSPy's JSONAdapter does."""


def read_request(raw: bytes) -> ChatRequest:
    """The request in a chat-completions body; BadRequest if it is not one."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise BadRequest(f"request body is not JSON: {exc}") from None
    except RecursionError:  # arrays or objects nested past the parser's depth
        raise BadRequest("request body nests arrays or objects too deeply") from None
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        raise BadRequest("'messages' must be a non-empty list")
    if body.get("stream"):
        raise BadRequest("streaming is not supported by this server")
    system, turns = [], []
    for message in body["messages"]:
        if not isinstance(message, dict) or "role" not in message:
            raise BadRequest("every message needs a role")
        text = _text(message.get("content"))
        if message["role"] in ("system", "developer"):
            system.append(text)
        else:
            turns.append((message["role"], text))
    n = body.get("n") or 1
    if not isinstance(n, int) or not 1 <= n <= 8:
        raise BadRequest("'n' must be an integer from 1 to 8")
    return ChatRequest(str(body.get("model") or "offline"), "\n\n".join(system), turns, n,
                       json_mode=bool(body.get("response_format")))


def usage(system: str, turns: list[tuple[str, str]], answer: str, n: int = 1) -> dict[str, int]:
    """Token counts estimated as the offline engine does (about four characters a token)."""
    prompt = estimate_tokens(system) + sum(estimate_tokens(text) for _, text in turns)
    completion = n * estimate_tokens(answer)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(model: str, text: str, tokens: dict[str, int], n: int = 1, finish_reason: str = "stop") -> dict:
    """A `chat.completion` object with `n` identical choices."""
    choices = [{"index": i, "message": {"role": "assistant", "content": text}, "logprobs": None,
                "finish_reason": finish_reason} for i in range(n)]
    return {"id": f"chatcmpl-themepage-{next(_ids)}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": choices, "usage": tokens, "system_fingerprint": None}


def error(message: str, kind: str, code: str | None = None) -> dict:
    """OpenAI's error envelope."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def models(names: list[str]) -> dict:
    return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "themepage"}
                                       for name in names]}
