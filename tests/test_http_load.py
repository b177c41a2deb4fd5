"""The local LM server under load, on loopback raw sockets: every request gets an HTTP answer.

Of 200 concurrent requests some once got nothing at all (the accepting thread sat waiting for a slot while
the rest queued in the kernel); 72 silent sockets made a normal request wait for a 503; a deeply nested JSON
body closed the connection with a traceback. A stub engine answers at once, so the counts stay bounded and
cheap; every socket has a timeout and every loop a fixed bound.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter

import pytest
from test_http_limits import WAIT, post_head, read_reply, status_of

from themepage.server import Limits, OfflineLMServer

BODY = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hello"}]}).encode()


class StubEngine:
    """Answers every prompt at once: these tests load the server, not the engine."""

    def answer(self, system: str, turns: list) -> str:
        return "[[ ## completed ## ]]"


@pytest.fixture
def make_server():
    servers = []

    def make(**limits) -> OfflineLMServer:
        server = OfflineLMServer(StubEngine(), limits=Limits(**limits)).start()  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def request(server: OfflineLMServer, body: bytes = BODY) -> bytes:
    """One POST on a fresh connection (Connection: close); the whole reply, or b"" if none came."""
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
            sock.sendall(post_head(str(len(body)), "Connection: close\r\n") + body)
            return read_reply(sock)
    except OSError:  # refused, reset or timed out: no answer
        return b""


def head_of(reply: bytes) -> str:
    return reply.split(b"\r\n\r\n", 1)[0].decode("latin-1")


def concurrently(server: OfflineLMServer, n: int) -> list[bytes]:
    replies: list[bytes] = [b""] * n
    start = threading.Barrier(n)

    def client(i: int) -> None:
        start.wait(WAIT)
        replies[i] = request(server)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(2 * WAIT)
    return replies


def test_200_concurrent_requests_all_get_an_answer(make_server):
    server = make_server()
    replies = concurrently(server, 200)
    statuses = Counter(status_of(reply) for reply in replies)
    assert set(statuses) <= {200, 503} and sum(statuses.values()) == 200, statuses
    assert all("Retry-After: " in head_of(r) for r in replies if status_of(r) == 503)


def test_an_overloaded_server_answers_503_with_retry_after_at_once(make_server):
    """Four slots, every request held for 3 s: the other 196 get a 503 each, not silence or a reset."""
    server = make_server(max_connections=4, slot_wait=0.5)
    server.faults.always("hang", seconds=3.0)
    began = time.monotonic()
    replies = concurrently(server, 200)
    statuses = Counter(status_of(reply) for reply in replies)
    assert statuses[200] >= 4 and statuses[200] + statuses[503] == 200, statuses
    assert all("Retry-After: 1" in head_of(r) for r in replies if status_of(r) == 503)
    assert time.monotonic() - began < WAIT


def test_a_refused_client_that_sent_a_large_body_still_reads_its_503(make_server):
    """The 503 is followed by a lingering close: the unread body does not turn it into a reset."""
    server = make_server(max_connections=1, slot_wait=0.2)
    server.faults.always("hang", seconds=5.0)
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as holder:
        holder.sendall(post_head(str(len(BODY))) + BODY)
        for _ in range(400):
            if server.requests:
                break
            threading.Event().wait(0.05)
        big = json.dumps({"model": "m", "messages": [{"role": "user", "content": "x" * 6_000_000}]}).encode()
        assert status_of(request(server, big)) == 503


def test_72_idle_sockets_neither_block_a_request_nor_stay_open(make_server):
    server = make_server()
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) for _ in range(72)]
    try:
        threading.Event().wait(1.0)  # they have all been taken in and sat silent
        began = time.monotonic()
        reply = request(server)
        waited = time.monotonic() - began
        assert status_of(reply) == 200 and waited < 10.0, (head_of(reply), waited)
        assert all(read_reply(sock) == b"" for sock in idle)  # each closed by the server, well within WAIT
    finally:
        for sock in idle:
            sock.close()


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
                                  b'{"messages": [' + b"[" * 5_000 + b"]" * 5_000 + b"]}", b"9" * 5_000,
                                  b"\xff\xfe{}", b'{"messages": [{"role": "user", "content": 7}]}'],
                         ids=["deep array", "deep object", "deep message", "huge integer", "not UTF-8", "bad content"])
def test_bad_json_of_any_depth_gets_400_without_a_traceback(make_server, capfd, body):
    server = make_server()
    reply = request(server, body)
    assert status_of(reply) == 400, head_of(reply)
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["error"]["type"] == "invalid_request_error"
    assert status_of(request(server)) == 200  # and the server is fine
    assert "Traceback" not in capfd.readouterr().err
