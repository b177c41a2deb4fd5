"""What the local LM server will put up with: body size, idle sockets, concurrent connections.

The stdlib's ThreadingHTTPServer starts a thread per connection and waits forever on a silent
socket, and BaseHTTPRequestHandler trusts Content-Length (a huge POST is read into memory;
`-1` reads until the client hangs up; `abc` raises). These limits bound all three; `admission.py`
applies the connection limits.
"""

from __future__ import annotations

import select
import socket
from dataclasses import dataclass
from email.message import Message


@dataclass(frozen=True)
class Limits:
    """Bounds on one server: request body bytes, seconds a socket may sit idle, connections served at once.

    A connection beyond `max_connections` waits (at most `max_waiting` of them) up to `slot_wait` seconds for a
    slot, then gets a 503 with Retry-After; while some wait, connections idle for `evict_idle_after` seconds
    (no request in progress) are closed to free their slots (see `admission.py`).
    """

    max_body_bytes: int = 8 << 20
    idle_timeout: float = 10.0
    max_connections: int = 64
    slot_wait: float = 5.0
    max_waiting: int = 1024
    evict_idle_after: float = 0.5

    def __post_init__(self):
        if (self.max_body_bytes < 0 or self.idle_timeout <= 0 or self.max_connections < 1 or self.slot_wait < 0
                or self.max_waiting < 0 or self.evict_idle_after < 0):
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
