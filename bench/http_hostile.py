"""`serve-offline-lm` under hostile clients: RSS after a 300 MB POST, threads held by 200 stalled sockets.

    LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/http_hostile.py

Starts the real command in a subprocess, reads its VmRSS and thread count from /proc, then
(1) sends one POST announcing and streaming 300 MB, (2) opens 200 connections that send nothing,
and (3) sends `Content-Length: -1` and `abc`, printing what the server answered (or that it did not).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BODY_MB = 300
STALLED = 200


def proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: v.strip() for k, v in (line.split(":", 1) for line in lines)}


def post(port: int, length: str, body_mb: int = 0) -> str:
    """Send a POST head (and `body_mb` MB of body); the status line of the reply, or what went wrong."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode())
            chunk = b" " * (1 << 20)
            for _ in range(body_mb):
                sock.sendall(chunk)
        except OSError as error:
            return f"(sending stopped: {type(error).__name__})"
        try:
            reply = sock.recv(4096)
        except OSError as error:
            return f"(no reply: {type(error).__name__})"
    return reply.split(b"\r\n", 1)[0].decode() if reply else "(closed without a reply)"


def main() -> None:
    env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True")
    server = subprocess.Popen([sys.executable, "-c", "from themepage.cli.app import main; main()",
                               "serve-offline-lm", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True, env=env, cwd=ROOT)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split(" at ")[1].split()[0].rsplit(":", 1)[1].split("/")[0])
        before = proc_status(server.pid)
        print(f"idle:                    VmRSS {before['VmRSS']:>12}, threads {before['Threads']}")
        print(f"POST of {BODY_MB} MB:           {post(port, str(BODY_MB << 20), BODY_MB)}")
        after = proc_status(server.pid)
        print(f"after it:                VmRSS {after['VmRSS']:>12}, VmHWM {after['VmHWM']}")
        socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(STALLED)]
        time.sleep(1.0)
        held = proc_status(server.pid)
        print(f"{STALLED} stalled connections: threads {held['Threads']}")
        for sock in socks:
            sock.close()
        for length in ("-1", "abc"):
            print(f"Content-Length: {length:<8} {post(port, length)}")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
