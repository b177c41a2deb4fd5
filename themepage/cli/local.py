"""`themepage serve-local-lm`: a real small model (llama.cpp's OpenAI-compatible server) on 127.0.0.1.

`themepage serve-local-lm` in one shell, then
`OPENAI_API_KEY=local themepage generate --user 1 --lm openai/smollm2 --api-base http://127.0.0.1:8001/v1`.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from themepage.cli.common import CliError, err_console
from themepage.local_lm import CONTEXT_TOKENS, DEFAULT_NAME, DEFAULT_PORT


def serve_local_lm(port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                                     help="Port on 127.0.0.1 (0 picks a free one).")] = DEFAULT_PORT,
                   model: Annotated[Path | None, typer.Option("--model", help="A GGUF model file (default: the "
                                                              "packaged SmolLM2-135M-Instruct).")] = None,
                   name: Annotated[str, typer.Option("--name", help="Model name clients ask for "
                                                     "(--lm openai/NAME).")] = DEFAULT_NAME,
                   threads: Annotated[int | None, typer.Option("--threads", min=1,
                                                               help="CPU threads (default: every core).")] = None,
                   context: Annotated[int, typer.Option("--context", min=512,
                                                        help="Context size in tokens.")] = CONTEXT_TOKENS) -> None:
    """Serve a local GGUF model with llama.cpp's OpenAI-compatible server (Ctrl-C stops)."""
    from themepage.local_lm import LocalLMServer, LocalModelError

    try:
        server = LocalLMServer(model, name, port, threads, context)
        err_console.print(f"starting llama.cpp on {server.model.name} ({server.threads} threads, "
                          f"{context}-token context)...", soft_wrap=True)
        server.start()
    except LocalModelError as exc:
        raise CliError(str(exc)) from None
    print(f"serving {server.model.name} as '{name}' at {server.url}", flush=True)
    key = "" if os.environ.get("OPENAI_API_KEY") else "OPENAI_API_KEY=local "
    err_console.print(f"use: {key}themepage generate --user 1 --lm openai/{name} --api-base {server.url}",
                      soft_wrap=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a terminated command stops its server too
    try:
        assert server.process is not None
        server.process.wait()
    except KeyboardInterrupt:
        err_console.print("stopping")
    finally:
        server.stop()
