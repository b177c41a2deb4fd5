"""What the local LM server will put up with: body size, idle sockets, concurrent connections.

The stdlib's ThreadingHTTPServer starts a thread per connection and waits forever on a silent
socket, and BaseHTTPRequestHandler trusts Content-Length (a 300 MB POST is read into memory;
`-1` reads until the client hangs up; `abc` raises). These limits bound all three.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
from dataclasses import dataclass
from email.message import Message
from http.server import ThreadingHTTPServer
from typing import cast

_BUSY = json.dumps({"error": {"message": "server busy: too many connections", "type": "server_error", "param": None,
                              "code": "unavailable"}}).encode()
REFUSED = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
           b"Connection: close\r\nContent-Length: " + str(len(_BUSY)).encode() + b"\r\n\r\n" + _BUSY)
"""What a connection beyond the limit gets (written directly: no handler thread is started for it)."""


@dataclass(frozen=True)
class Limits:
    """Bounds on one server: request body bytes, seconds a socket may sit idle, connections served at once.

    A connection beyond `max_connections` waits up to `slot_wait` seconds for a slot, then gets a 503.
    """

    max_body_bytes: int = 8 << 20
    idle_timeout: float = 60.0
    max_connections: int = 64
    slot_wait: float = 5.0

    def __post_init__(self):
        if self.max_body_bytes < 0 or self.idle_timeout <= 0 or self.max_connections < 1 or self.slot_wait < 0:
            raise ValueError(f"invalid server limits: {self}")


def client_gone(connection) -> bool:
    """True once the peer has closed the connection (readable, and a peek reads end of stream)."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


class BodyRejected(Exception):
    """A request whose body the server will not read: `status` 400, 411 or 413, and why."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


def body_length(headers: Message, max_bytes: int) -> int:
    """The declared body length, checked before a byte of the body is read.

    No Content-Length means no body. Anything but one plain decimal number is a 400 (a negative
    length would read until the client hangs up); a chunked body is a 411; over `max_bytes`, a 413.
    """
    if headers.get("Transfer-Encoding"):
        raise BodyRejected(411, "chunked request bodies are not supported; send Content-Length")
    values = headers.get_all("Content-Length") or []
    if not values:
        return 0
    text = values[0].strip()
    if len(values) > 1 or not (text.isascii() and text.isdigit()):
        raise BodyRejected(400, f"invalid Content-Length {', '.join(values)!r}")
    length = int(text)
    if length > max_bytes:
        raise BodyRejected(413, f"request body of {length:,} bytes is over the limit of {max_bytes:,}")
    return length


class BoundedThreadingHTTPServer(ThreadingHTTPServer):
    """A thread per connection, at most `limits.max_connections` at once; the rest wait, then get a 503."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, limits: Limits, stopping: threading.Event):
        self.limits = limits
        self._stopping = stopping
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        if not self._wait_for_slot():
            self._refuse(cast(socket.socket, request))  # TCP: a socket (typeshed's type also allows UDP's tuple)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address):
        """A client that hung up or went silent is routine, not a traceback on stderr."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def _wait_for_slot(self) -> bool:
        """Wait (in the accepting thread) for a free slot, giving up at `slot_wait` or on shutdown."""
        waited, step = 0.0, 0.05
        while not self._slots.acquire(timeout=step):
            waited += step
            if waited >= self.limits.slot_wait or self._stopping.is_set():
                return False
        return True

    def _refuse(self, request) -> None:
        """Answer 503 straight on the socket (a short timeout: this runs in the accepting thread) and close it."""
        try:
            request.settimeout(1.0)
            request.sendall(REFUSED)
        except OSError:
            pass
        finally:
            self.shutdown_request(request)
