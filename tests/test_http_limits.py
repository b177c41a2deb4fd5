"""The local LM server under hostile clients, on raw sockets: body limits, bad lengths, idle sockets, floods.

Every socket has a timeout and every loop a fixed bound, so a regression fails instead of hanging.
"""

from __future__ import annotations

import json
import socket
import threading

import pytest
from test_http_server import chat_messages

from themepage.offline.engine import OfflineEngine
from themepage.server import Limits, OfflineLMServer

WAIT = 30.0
"""Generous bound on any one socket read: a reply that never comes fails the test, a slow machine does not."""


@pytest.fixture
def make_server(index):
    servers = []

    def make(**limits) -> OfflineLMServer:
        server = OfflineLMServer(OfflineEngine(index), limits=Limits(**limits)).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def connect(server: OfflineLMServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)


def read_reply(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by WAIT per read)."""
    chunks = []
    for _ in range(10_000):
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else -1


def post_head(length: str | None, extra: str = "") -> bytes:
    head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    if length is not None:
        head += f"Content-Length: {length}\r\n"
    return (head + extra + "\r\n").encode()


@pytest.mark.parametrize("length", ["-1", "abc", "+5", "1e3", "５", "5, 5", ""])
def test_bad_content_length_gets_400(make_server, length):
    server = make_server()
    with connect(server) as sock:
        sock.sendall(post_head(length))
        reply = read_reply(sock)
    assert status_of(reply) == 400, reply[:200]
    assert b"Content-Length" in reply.split(b"\r\n\r\n", 1)[1]
    assert server.requests == 0


def test_two_content_lengths_get_400(make_server):
    server = make_server()
    with connect(server) as sock:
        sock.sendall(post_head("5", "Content-Length: 6\r\n") + b"{}")
        assert status_of(read_reply(sock)) == 400


def test_chunked_body_gets_411(make_server):
    server = make_server()
    with connect(server) as sock:
        sock.sendall(post_head(None, "Transfer-Encoding: chunked\r\n") + b"2\r\n{}\r\n0\r\n\r\n")
        assert status_of(read_reply(sock)) == 411


def test_body_over_the_limit_gets_413_before_any_of_it_is_sent(make_server):
    server = make_server(max_body_bytes=1000)
    with connect(server) as sock:
        sock.sendall(post_head(str(300 << 20)))  # announces 300 MB, sends none of it
        reply = read_reply(sock)
    assert status_of(reply) == 413
    assert "over the limit of 1,000" in json.loads(reply.split(b"\r\n\r\n", 1)[1])["error"]["message"]


def test_body_at_the_limit_is_read(make_server):
    body = json.dumps({"model": "m", "messages": chat_messages()}).encode()
    server = make_server(max_body_bytes=len(body))
    with connect(server) as sock:
        sock.sendall(post_head(str(len(body)), "Connection: close\r\n") + body)
        reply = read_reply(sock)
    assert status_of(reply) == 200 and server.requests == 1
    with connect(server) as sock:
        sock.sendall(post_head(str(len(body) + 1), "Connection: close\r\n") + body + b" ")
        assert status_of(read_reply(sock)) == 413


def test_idle_socket_is_closed(make_server):
    server = make_server(idle_timeout=0.3)
    with connect(server) as sock:
        assert read_reply(sock) == b"", "the server closes a silent connection without a reply"
    with connect(server) as sock:
        sock.sendall(post_head("100") + b'{"model"')  # a body that stalls halfway
        assert read_reply(sock) == b""
    assert server.requests == 0


def test_stalled_connections_hold_a_bounded_number_of_threads(make_server):
    server = make_server(idle_timeout=2.0, max_connections=4, slot_wait=0.2)
    before = threading.active_count()
    socks = [connect(server) for _ in range(40)]
    try:
        peak = before
        for _ in range(20):
            peak = max(peak, threading.active_count())
            threading.Event().wait(0.02)
        assert peak - before <= 4, f"{peak - before} handler threads for 40 stalled connections"
        refused = 0
        for sock in socks[-10:]:  # the last ones in line waited past slot_wait: 503, or a reset
            reply = read_reply(sock)
            refused += status_of(reply) == 503 or reply == b""
        assert refused == 10
    finally:
        for sock in socks:
            sock.close()
    body = json.dumps({"model": "m", "messages": chat_messages()}).encode()
    for _ in range(100):  # once the stalled ones time out, the server answers again
        with connect(server) as sock:
            sock.sendall(post_head(str(len(body)), "Connection: close\r\n") + body)
            if status_of(read_reply(sock)) == 200:
                break
    assert server.requests >= 1


def test_invalid_limits_are_refused():
    with pytest.raises(ValueError, match="invalid server limits"):
        Limits(max_connections=0)


def test_a_hung_request_frees_its_slot_when_the_client_gives_up(make_server):
    """With one slot: a `hang` fault whose client hung up must not keep the next client out (503)."""
    server = make_server(max_connections=1, slot_wait=20.0)
    server.faults.always("hang", seconds=600)
    body = json.dumps({"model": "m", "messages": chat_messages()}).encode()
    with connect(server) as sock:
        sock.sendall(post_head(str(len(body))) + body)
        for _ in range(400):  # until the server has taken the request (and is hanging on it)
            if server.requests:
                break
            threading.Event().wait(0.05)
    assert server.requests == 1
    server.faults.clear()
    with connect(server) as sock:
        sock.sendall(post_head(str(len(body)), "Connection: close\r\n") + body)
        assert status_of(read_reply(sock)) == 200
    assert server.requests == 2
