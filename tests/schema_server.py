"""A loopback stand-in for llama.cpp's server: answers /models as llama-cpp-python does and every chat
completion with the first answer its `response_format` schema admits, recording every request body.

It lets the structured path run end to end in tests without llama.cpp; what a real model writes
is tested in test_local_lm.py.
"""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def answer_for(schema: dict, counter: itertools.count) -> object:
    """A value matching `schema`: id enum arrays take as many values as allowed, in order; name enum arrays one
    name, rotating; strings are numbered; tuples (`prefixItems`) item by item; alternatives (`anyOf`) the first."""
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    if "anyOf" in schema:
        return answer_for(schema["anyOf"][0], counter)
    kind = schema.get("type")
    if kind == "array" and "prefixItems" in schema:
        return [answer_for(item, counter) for item in schema["prefixItems"]]
    if kind == "object":
        return {name: answer_for(sub, counter) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        items = schema.get("items", {})
        if "enum" in items and items.get("type") == "string":  # names (aisles): a different one each time,
            names = items["enum"]                                   # so planned themes differ in intent
            return [names[next(counter) % len(names)]][: schema.get("maxItems", 1)]
        if "enum" in items:
            return items["enum"][: schema.get("maxItems", len(items["enum"]))]
        n = max(schema.get("minItems", 0), min(schema.get("maxItems", 2), 2))
        return [answer_for(items, counter) for _ in range(n)]
    if kind == "string":
        return f"Theme {next(counter)}"[: schema.get("maxLength", 40)]
    if kind == "boolean":
        return False
    return 1


class SchemaServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: str = "me"):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner
        self.bodies: list[dict] = []
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: SchemaServer

    def _send(self, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self._send({"object": "list", "data": [{"id": "smollm2", "object": "model", "owned_by": self.server.owner}]})

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.bodies.append(body)
            fmt = body.get("response_format") or {}
            schema = fmt.get("schema") or fmt.get("json_schema", {}).get("schema") or {"type": "object"}
            content = json.dumps(answer_for(schema, self.server.counter))
        self._send({"id": "x", "object": "chat.completion", "created": 0, "model": body.get("model", "m"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}})

    def log_message(self, *args):
        pass


@pytest.fixture
def schema_server():
    server = SchemaServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
