"""The offline guard itself: a call to any non-loopback address fails; loopback still works."""

import socket

import pytest


def test_remote_connections_fail():
    with pytest.raises(RuntimeError, match="tried to"):
        socket.create_connection(("203.0.113.5", 443), timeout=1)


def test_remote_lm_call_fails():
    import dspy

    lm = dspy.LM("openai/gpt-4o-mini", api_key="sk-test", num_retries=0, cache=False)
    with pytest.raises(Exception, match="tried to resolve 'api.openai.com'"):
        lm("hello")


def test_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=1)
    client.close()
    server.close()
