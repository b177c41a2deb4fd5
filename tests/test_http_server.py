"""The offline engine's OpenAI-compatible server, on the wire: routes, answers, usage, every fault, the CLI."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import dspy
import http_server
import pytest

from themepage.offline.engine import OfflineEngine
from themepage.server import KINDS, OfflineLMServer
from themepage.signatures.bottoms_up import NamePlacement

lm_server = http_server.lm_server  # the fixture, by name

NAMING_INPUTS = {"products": "Spaghetti | dry pasta\nMarinara Sauce | pasta sauce\nParmesan | specialty cheeses"}


def chat_messages(adapter=None) -> list[dict]:
    """A real DSPy prompt (NamePlacement) as the adapter writes it."""
    return (adapter or dspy.ChatAdapter()).format(NamePlacement, demos=[], inputs=NAMING_INPUTS)


def post(server, body: dict | bytes, path="/v1/chat/completions", timeout=5.0, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(server.url.removesuffix("/v1") + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def chat(server, adapter=None, **extra):
    return post(server, {"model": "gpt-4o-mini", "messages": chat_messages(adapter), **extra})


def test_models_route(lm_server):
    with urllib.request.urlopen(lm_server.url + "/models", timeout=5) as response:
        listing = json.loads(response.read())
    assert [m["id"] for m in listing["data"]] == ["gpt-4o-mini", "offline"]


def test_chat_answer_in_chat_format_with_usage(lm_server):
    status, _, body = chat(lm_server)
    answer = json.loads(body)
    text = answer["choices"][0]["message"]["content"]
    assert status == 200 and answer["object"] == "chat.completion" and answer["model"] == "gpt-4o-mini"
    assert "[[ ## title ## ]]" in text and "[[ ## completed ## ]]" in text
    usage = answer["usage"]
    assert usage["prompt_tokens"] > 50 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert lm_server.requests == 1 and lm_server.log[0].fault is None


def test_json_mode_prompt_gets_json(lm_server):
    status, _, body = chat(lm_server, dspy.JSONAdapter(), response_format={"type": "json_object"})
    fields = json.loads(json.loads(body)["choices"][0]["message"]["content"])
    assert status == 200 and set(fields) == {"title", "rationale"} and fields["title"]
    assert lm_server.log[0].json_mode


@pytest.mark.parametrize("body, path, status, words", [
    (b"{not json", "/v1/chat/completions", 400, "not JSON"),
    ({"model": "m", "messages": []}, "/v1/chat/completions", 400, "non-empty list"),
    ({"model": "m", "messages": [{"role": "user", "content": "hi"}]}, "/v1/chat/completions", 400,
     "cannot answer a signature"),
    ({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}, "/v1/chat/completions", 400,
     "streaming"),
    ({"model": "m"}, "/v1/embeddings", 404, "no route"),
])
def test_bad_requests_get_openai_errors(lm_server, body, path, status, words):
    got, _, raw = post(lm_server, body, path)
    assert got == status and words in json.loads(raw)["error"]["message"]


def test_api_key_is_checked_when_set(index):
    with OfflineLMServer(OfflineEngine(index), api_key="sekrit") as server:
        assert chat(server)[0] == 401
        assert chat(server)[0] == 401
        status, _, _ = post(server, {"model": "m", "messages": chat_messages()},
                            headers={"Authorization": "Bearer sekrit"})
        assert status == 200 and server.requests == 1  # refused requests never reach the engine


@pytest.mark.parametrize("kind", sorted(set(KINDS) - {"hang"}))
def test_each_fault_once_then_clean(lm_server, kind):
    lm_server.faults.add(kind, seconds=3)
    status, headers, body = chat(lm_server)
    if kind == "rate_limit":
        assert status == 429 and headers["Retry-After"] == "3"
    elif kind in ("server_error", "unavailable"):
        assert status == (500 if kind == "server_error" else 503) and json.loads(body)["error"]["code"] == kind
    else:
        assert status == 200
        if kind in ("garbage", "truncated_json"):
            with pytest.raises(ValueError):
                json.loads(body)
        else:
            choice = json.loads(body)["choices"][0]
            assert "[[ ## completed ## ]]" not in choice["message"]["content"]
            assert choice["finish_reason"] == ("length" if kind == "truncated" else "stop")
    assert chat(lm_server)[0] == 200  # the fault was used up
    assert lm_server.requests == 2 and lm_server.faults.counts == {kind: 1, "ok": 1}


def test_hang_outlasts_the_client_and_stop_is_prompt(index):
    server = OfflineLMServer(OfflineEngine(index)).start()
    hang = 600
    server.faults.always("hang", seconds=hang)
    started = time.monotonic()
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        post(server, {"model": "m", "messages": chat_messages()}, timeout=0.3)
    # generous bounds, far below the hang: the client gave up at its timeout, stop did not wait the hang out
    assert time.monotonic() - started < hang / 20
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < hang / 20 and server.requests == 1


def test_refuses_non_loopback_hosts(index):
    with pytest.raises(ValueError, match="non-loopback"):
        OfflineLMServer(OfflineEngine(index), host="0.0.0.0")


def test_unknown_fault_kind_is_refused(lm_server):
    with pytest.raises(ValueError, match="unknown fault 'flaky'"):
        lm_server.faults.add("flaky")


READY_BOUND = 300.0
"""Generous bound on the subprocess reaching readiness or exiting: it waits on an event, not a tight timer."""


def readline_within(stream, seconds: float) -> str:
    """The next line of `stream`, read in a helper thread; '' if none came within `seconds`."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(seconds)
    return lines[0] if lines else ""


def _ctrl_c_stops() -> None:
    """In the child: SIGINT as a terminal's Ctrl-C delivers it. A shell starts background jobs (`cmd &`, as CI
    launchers may) with SIGINT ignored, children inherit that, and the server then never saw the test's SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_serve_command_runs_until_interrupted(tmp_path, isolated_cache_dir):
    env = {**os.environ, "THEMEPAGE_CACHE_DIR": str(isolated_cache_dir)}
    process = subprocess.Popen([sys.executable, "-c", "from themepage.cli.app import main; main()",
                                "serve-offline-lm", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, preexec_fn=_ctrl_c_stops)
    try:
        assert process.stdout is not None
        line = readline_within(process.stdout, READY_BOUND)  # ready: the server printed its URL
        assert " at " in line, f"no readiness line within {READY_BOUND:g} s (got {line!r})"
        url = line.split(" at ")[1].split()[0]
        with urllib.request.urlopen(url + "/models", timeout=READY_BOUND) as response:
            assert response.status == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=READY_BOUND) == 0
        assert process.stderr is not None and "stopped after 0 requests" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
