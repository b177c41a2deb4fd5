"""A hostile OpenAI-compatible server on 127.0.0.1 whose every answer is written by the test.

`AnswerServer(write)` answers each chat completion with `write(fields)` as the message content, `fields` being the
output fields the request asks for (read from its closing `Respond with ...` line), so a test can put the same
hostile value in every field. `AnswerServer(body=...)` instead sends a raw body of any size, in chunks, with an
optional pause between them (an answer bigger than a page's deadline allows).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIELD = re.compile(r"\[\[ ## (\w+) ## \]\]|`(\w+)`")
CHUNK = 64 * 1024


def output_fields(body: dict) -> list[str]:
    """The output fields a chat request asks for, from the `Respond with ...` line of its last message."""
    text = str(body.get("messages", [{}])[-1].get("content", ""))
    line = text[text.rfind("Respond with"):] if "Respond with" in text else ""
    names = [a or b for a, b in FIELD.findall(line)]
    return [name for name in names if name != "completed"]


def chat_fields(value: str) -> Callable[[list[str]], str]:
    """A `write` that puts `value` in every field, in the chat adapter's `[[ ## name ## ]]` layout."""
    return lambda fields: "\n\n".join(f"[[ ## {name} ## ]]\n{value}" for name in fields) + "\n\n[[ ## completed ## ]]"


def completion(content: str, model: str = "m") -> bytes:
    return json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": model,
                       "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": content}}],
                       "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}}).encode()


class AnswerServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, write: Callable[[list[str]], str] | None = None, body: bytes | None = None,
                 pause: float = 0.0):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.write, self.body, self.pause = write, body, pause
        self.requests = 0
        self.sent: list[int] = []
        """Body bytes written per answer before it ended or the client hung up."""
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/v1"

    def __enter__(self) -> AnswerServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: AnswerServer

    def _send(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        sent = 0
        try:
            for start in range(0, len(data), CHUNK):
                self.wfile.write(data[start:start + CHUNK])
                self.wfile.flush()
                sent += len(data[start:start + CHUNK])
                if self.server.pause:
                    time.sleep(self.server.pause)
        except OSError:  # the client stopped reading: that is the point of some tests
            pass
        with self.server.lock:
            self.server.sent.append(sent)

    def do_GET(self):  # noqa: N802
        self._send(json.dumps({"object": "list", "data": [{"id": "m", "object": "model",
                                                           "owned_by": "organization-owner"}]}).encode())

    def do_POST(self):  # noqa: N802
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.requests += 1
        if self.server.body is not None:
            self._send(self.server.body)
        else:
            self._send(completion(self.server.write(output_fields(request)), request.get("model", "m")))

    def log_message(self, *args):
        pass


class RewritingEngine:
    """The offline engine with every answer passed through `rewrite` (for OfflineLMServer): valid answers that
    carry hostile text where the test puts it."""

    def __init__(self, engine, rewrite: Callable[[str], str]):
        self.engine, self.rewrite = engine, rewrite

    def answer(self, system: str, turns) -> str:
        return self.rewrite(self.engine.answer(system, turns))


def prefix_texts(titles: list[str], rationale: str) -> Callable[[str], str]:
    """A `rewrite` that starts every title with the next of `titles` (in turn) and every rationale with `rationale`
    (JSON values and chat sections alike)."""
    turn = itertools.cycle(titles)
    texts = re.compile(r'("(title|rationale)"\s*:\s*"|\[\[ ## (title|rationale) ## \]\]\n)')

    def prefixed(match: re.Match) -> str:
        field = match.group(2) or match.group(3)
        return match.group(1) + (next(turn) + " " if field == "title" else rationale)

    return lambda text: texts.sub(prefixed, text)
