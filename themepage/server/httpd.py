"""A small OpenAI-compatible HTTP server that answers chat completions with the offline engine.

It lets the real-provider path (dspy.LM("openai/...", api_base=...), HTTP, retries,
timeouts, usage and cost accounting) run end to end on this machine, with faults
injected on demand (see `faults.py`). Stdlib only: one thread per connection, with
bounds on body size, idle sockets and connections at once (see `limits.py`), and every
connection answered, if only with a 503 (see `admission.py`).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import NamedTuple

from themepage.lm.settings import is_loopback
from themepage.offline.engine import OfflineEngine, UnknownSignature
from themepage.server import wire
from themepage.server.admission import AdmittingHTTPServer
from themepage.server.faults import Fault, FaultSchedule
from themepage.server.limits import BodyRejected, Limits, body_length, client_gone

DEFAULT_MODELS = ("gpt-4o-mini", "offline")
GARBAGE = b"<html><body><h1>502 Bad Gateway</h1>upstream hiccup</body></html>"
"""The `garbage` fault's body, sent as application/json."""
GARBLED = "Sure! Here are some great ideas for your page: pasta, snacks and more. Let me know if you need anything."
"""The `garbled` fault's answer: fluent text with none of the fields the adapter asked for."""
LOG_SIZE = 10_000
POLL_SECONDS = 0.05
"""How often the serving loop checks for shutdown."""
HANG_POLL_SECONDS = 0.05
"""How often a `hang` fault checks whether the server is stopping or the client has gone."""


class Received(NamedTuple):
    """One chat-completion request as the server saw it."""

    user_agent: str
    fault: str | None
    json_mode: bool

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self):
        super().setup()
        self.connection.settimeout(self.server.limits.idle_timeout)  # every read and write; None would wait forever

    def handle_one_request(self):
        self.server.mark_idle(self.connection)  # until a request line arrives, the server may close it for room
        super().handle_one_request()

    def parse_request(self) -> bool:
        self.server.mark_busy(self.connection)
        return super().parse_request()

    def finish(self):
        self.server.mark_busy(self.connection)
        super().finish()

    def log_message(self, format, *args):  # noqa: A002 (stdlib signature)
        if self.server.owner.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, content_type="application/json", headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: dict, headers: dict | None = None):
        self._send(status, json.dumps(payload).encode(), headers=headers)

    def do_GET(self):
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._json(200, wire.models(list(self.server.owner.models)))
        else:
            self._json(404, wire.error(f"no route {self.path}", "invalid_request_error", "not_found"))

    def _read_body(self) -> bytes | None:
        """The request body, or None once the request has been refused (400/411/413) or the client went away."""
        try:
            length = body_length(self.headers, self.server.limits.max_body_bytes)
        except BodyRejected as exc:
            self.close_connection = True  # the unread body would be taken for the next request
            self._json(exc.status, wire.error(str(exc), "invalid_request_error"), headers={"Connection": "close"})
            return None
        raw = self.rfile.read(length)  # at most the declared length; the idle timeout bounds a stalled sender
        if len(raw) < length:
            self.close_connection = True
            return None
        return raw

    def do_POST(self):
        raw = self._read_body()
        if raw is None:
            return
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            return self._json(404, wire.error(f"no route {self.path}", "invalid_request_error", "not_found"))
        owner = self.server.owner
        if owner.api_key and self.headers.get("Authorization") != f"Bearer {owner.api_key}":
            return self._json(401, wire.error("invalid API key", "invalid_request_error", "invalid_api_key"))
        fault = owner.faults.next()
        try:
            request = wire.read_request(raw)
        except wire.BadRequest as exc:
            owner.record(self.headers.get("User-Agent"), fault, False)
            return self._json(400, wire.error(str(exc), "invalid_request_error"))
        owner.record(self.headers.get("User-Agent"), fault, request.json_mode)
        try:
            self._complete(request, fault)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout); nothing to answer

    def _hang(self, seconds: float) -> bool:
        """Sit on the request for `seconds`; False as soon as the server stops or the client hangs up.

        Noticing the hang-up frees the connection's slot at once: a hung request whose client timed
        out would otherwise hold one of the server's bounded threads for the whole fault.
        """
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.server.owner.stopping.wait(min(left, HANG_POLL_SECONDS)) or client_gone(self.connection):
                return False
        return True

    def _complete(self, request: wire.ChatRequest, fault: Fault | None):
        kind, seconds = (fault.kind, fault.seconds) if fault else (None, 0.0)
        if kind == "rate_limit":
            return self._json(429, wire.error("rate limit reached; retry later", "rate_limit_error", "rate_limit"),
                              headers={"Retry-After": f"{seconds:g}"})
        if kind in ("server_error", "unavailable"):
            status = 500 if kind == "server_error" else 503
            return self._json(status, wire.error(f"injected {kind}", "server_error", kind))
        if kind == "garbage":
            return self._send(200, GARBAGE)
        if kind == "hang" and not self._hang(seconds):
            return None  # the server is stopping, or the client gave up: drop the request
        try:
            text = self.server.owner.engine.answer(request.system, request.turns)
        except UnknownSignature as exc:
            return self._json(400, wire.error(str(exc), "invalid_request_error"))
        except Exception as exc:  # an engine bug must be a 500, not a dropped connection
            return self._json(500, wire.error(f"{type(exc).__name__}: {exc}", "server_error"))
        tokens = wire.usage(request.system, request.turns, text, request.n)
        finish = "stop"
        if kind == "truncated":
            text, finish = text[: max(1, len(text) // 3)], "length"
        elif kind == "garbled":
            text = GARBLED
        body = json.dumps(wire.completion(request.model, text, tokens, request.n, finish)).encode()
        if kind == "truncated_json":
            body = body[: len(body) // 2]
        self._send(200, body)


class _Server(AdmittingHTTPServer):
    def __init__(self, address, owner: OfflineLMServer):
        self.owner = owner
        super().__init__(address, _Handler, owner.limits, owner.stopping)


class OfflineLMServer:
    """The offline engine behind `POST /v1/chat/completions` and `GET /v1/models`, with fault injection.

    `port=0` picks a free port. Use as a context manager, or `start()`/`stop()`;
    `serve_forever()` blocks (the CLI). Non-loopback hosts need `allow_remote=True`.
    `limits` bounds the body size, idle sockets and connections at once (defaults: `Limits()`).
    """

    def __init__(self, engine: OfflineEngine, host: str = "127.0.0.1", port: int = 0, *,
                 models: tuple[str, ...] = DEFAULT_MODELS, api_key: str | None = None,
                 allow_remote: bool = False, verbose: bool = False, limits: Limits | None = None):
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"refusing to serve on non-loopback host {host!r} without allow_remote")
        self.engine, self.models, self.api_key, self.verbose = engine, models, api_key, verbose
        self.limits = limits or Limits()
        self.faults = FaultSchedule()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.requests = 0
        self.log: list[Received] = []
        self._httpd = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The api_base to give an OpenAI client: http://host:port/v1."""
        host = self._httpd.server_address[0]
        return f"http://{host}:{self.port}/v1"

    def record(self, user_agent: str | None, fault: Fault | None, json_mode: bool) -> None:
        """Count a chat-completion request and keep a short note of it (client, fault, JSON mode)."""
        with self._lock:
            self.requests += 1
            if len(self.log) < LOG_SIZE:
                self.log.append(Received(user_agent or "", fault.kind if fault else None, json_mode))

    def start(self) -> OfflineLMServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(POLL_SECONDS,),
                                        name="offline-lm-server", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        try:
            self._httpd.serve_forever(POLL_SECONDS)
        finally:
            self.stopping.set()
            self._httpd.server_close()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> OfflineLMServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
