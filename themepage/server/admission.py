"""Which connections the local LM server serves now, which wait, and how the rest are turned away.

The stdlib's ThreadingHTTPServer accepts from a small backlog and starts a thread per connection. Blocking
the accepting thread until a slot frees would leave later clients unanswered in the kernel's queue, and
connections that never send a byte would hold every slot. Here:

* the accepting thread never waits: a connection gets a slot (a handler thread), or joins a bounded waiting
  line, or (line full) an immediate 503 with Retry-After;
* a handler thread that finishes takes the next waiting connection itself; one that waited `slot_wait`
  seconds gets the 503;
* while connections wait, handlers idle on an empty keep-alive or fresh connection for `evict_idle_after`
  seconds are closed to make room (they have no request to lose);
* a 503 is followed by a lingering close (the client's unread request is drained, not answered with a
  reset that would discard the 503), swept from the serving loop without a thread of its own.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
import time
from collections import deque
from http.server import ThreadingHTTPServer
from typing import NamedTuple, cast

from themepage.server.limits import Limits

_BUSY = json.dumps({"error": {"message": "server busy: too many connections; retry later", "type": "server_error",
                              "param": None, "code": "unavailable"}}).encode()
REFUSED = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
           b"Connection: close\r\nContent-Length: " + str(len(_BUSY)).encode() + b"\r\n\r\n" + _BUSY)
"""What a connection the server cannot take gets (written directly on the socket)."""
LINGER_SECONDS = 2.0
"""How long a refused connection is drained before it is closed."""
DRAIN_BYTES = 1 << 20
"""Bytes read from one refused connection per turn of the serving loop."""
MAX_LINGERING = 4096
"""Refused connections drained at once; beyond this they are closed at once."""
BACKLOG = 1024
"""The listen queue (the kernel may cap it): connections are taken from it at once, never left there."""


def _readable(connection: socket.socket) -> bool:
    """True when bytes (or the end of stream) wait on the socket; poll, so any descriptor number works."""
    poller = select.poll()
    poller.register(connection, select.POLLIN)
    return bool(poller.poll(0))


def _drained(request: socket.socket) -> bool:
    """Read (and drop) what a refused client sent, up to DRAIN_BYTES a turn; True once it has closed."""
    for _ in range(DRAIN_BYTES // 65536):
        try:
            if request.recv(65536) == b"":
                return True
        except BlockingIOError:
            return False
        except OSError:
            return True
    return False


class _Waiting(NamedTuple):
    request: socket.socket
    address: tuple
    deadline: float


class AdmittingHTTPServer(ThreadingHTTPServer):
    """At most `limits.max_connections` handler threads; a bounded waiting line; 503s that arrive."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = BACKLOG

    def __init__(self, address, handler, limits: Limits, stopping: threading.Event):
        self.limits = limits
        self._stopping = stopping
        self._lock = threading.Lock()
        self._active = 0
        self._waiting: deque[_Waiting] = deque()
        self._idle: dict[socket.socket, float] = {}
        self._lingering: list[tuple[socket.socket, float]] = []
        super().__init__(address, handler)

    # ----- admission -------------------------------------------------------------------------------------

    def process_request(self, request, client_address):
        """Serve at once, queue, or refuse; never blocks the accepting thread."""
        connection = cast(socket.socket, request)  # a stream server's request is its connection
        with self._lock:
            serve = self._active < self.limits.max_connections and not self._stopping.is_set()
            queued = not serve and len(self._waiting) < self.limits.max_waiting
            if serve:
                self._active += 1
            elif queued:
                self._waiting.append(_Waiting(connection, client_address, time.monotonic() + self.limits.slot_wait))
        if serve:
            threading.Thread(target=self.process_request_thread, args=(request, client_address),
                             name="offline-lm-handler", daemon=True).start()
        elif queued:
            self._evict_idle()
        else:
            self.refuse(connection)

    def process_request_thread(self, request, client_address):
        """Serve this connection, then whichever connections are waiting, then give the slot back."""
        while request is not None:
            super().process_request_thread(request, client_address)
            request, client_address = self._next_waiting()

    def _next_waiting(self) -> tuple[socket.socket | None, tuple | None]:
        """The next waiting connection still in time (its slot passes on), or (None, None) and the slot freed."""
        late = []
        with self._lock:
            now, found = time.monotonic(), None
            while self._waiting and found is None:
                entry = self._waiting.popleft()
                if entry.deadline < now or self._stopping.is_set():
                    late.append(entry.request)
                else:
                    found = entry
            if found is None:
                self._active -= 1
        for request in late:
            self.refuse(request)
        return (found.request, found.address) if found else (None, None)

    # ----- idle connections ------------------------------------------------------------------------------

    def mark_idle(self, connection: socket.socket) -> None:
        """The handler waits for a request line on `connection` (a fresh or keep-alive connection)."""
        with self._lock:
            self._idle[connection] = time.monotonic()

    def mark_busy(self, connection: socket.socket) -> None:
        """A request line arrived (or the handler is done): the connection is not idle."""
        with self._lock:
            self._idle.pop(connection, None)

    def _evict_idle(self) -> None:
        """Close idle connections (longest idle first), one per waiting connection, to free their slots."""
        with self._lock:
            wanted = len(self._waiting)
            cutoff = time.monotonic() - self.limits.evict_idle_after
            chosen = sorted((since, id(c), c) for c, since in self._idle.items() if since <= cutoff)[:wanted]
            for _, _, connection in chosen:
                del self._idle[connection]
        for _, _, connection in chosen:
            try:
                if _readable(connection):
                    continue  # a request is arriving after all (or the client left): leave it to its handler
                connection.shutdown(socket.SHUT_RD)  # the handler's read ends; it can still write
            except (OSError, ValueError):
                pass

    # ----- refusing --------------------------------------------------------------------------------------

    def refuse(self, request: socket.socket) -> None:
        """Send the 503 without blocking, stop writing, and drain the socket until the client closes it."""
        try:
            request.setblocking(False)
            request.send(REFUSED)  # a fresh socket's send buffer takes it whole
            request.shutdown(socket.SHUT_WR)
        except OSError:
            request.close()
            return
        with self._lock:
            if len(self._lingering) < MAX_LINGERING:
                self._lingering.append((request, time.monotonic() + LINGER_SECONDS))
                return
        request.close()

    def _drain_lingering(self) -> None:
        with self._lock:
            lingering, self._lingering = self._lingering, []
        now, keep = time.monotonic(), []
        for request, deadline in lingering:
            done = deadline < now or _drained(request)
            if done:
                request.close()
            else:
                keep.append((request, deadline))
        with self._lock:
            self._lingering.extend(keep)

    def service_actions(self):
        """Each turn of the serving loop: 503 for connections that waited too long, evictions, lingering closes."""
        late = []
        with self._lock:
            now = time.monotonic()
            while self._waiting and (self._waiting[0].deadline < now or self._stopping.is_set()):
                late.append(self._waiting.popleft().request)
            waiting = bool(self._waiting)
        for request in late:
            self.refuse(request)
        if waiting:
            self._evict_idle()
        self._drain_lingering()

    def handle_error(self, request, client_address):
        """A client that hung up or went silent is routine, not a traceback on stderr."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def server_close(self):
        super().server_close()
        with self._lock:
            waiting, self._waiting = list(self._waiting), deque()
            lingering, self._lingering = self._lingering, []
        for entry in waiting:
            entry.request.close()
        for request, _ in lingering:
            request.close()
