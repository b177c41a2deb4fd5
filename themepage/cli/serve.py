"""`themepage serve-offline-lm`: the offline engine behind an OpenAI-compatible HTTP endpoint.

Lets anyone try the real-provider path by hand on one machine:
`themepage serve-offline-lm --port 8000` in one shell, then
`themepage generate --user 1 --lm openai/gpt-4o-mini --api-base http://127.0.0.1:8000/v1` (a loopback
server needs no key).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from themepage.cli.common import CacheOpt, CliError, DataOpt, err_console
from themepage.constants import BUNDLED_DATA_DIR


def serve_offline_lm(port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                                       help="Port to listen on (0 picks a free one).")] = 8000,
                     host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
                     allow_remote: Annotated[bool, typer.Option("--allow-remote",
                                                                help="Allow a non-loopback --host.")] = False,
                     data: DataOpt = BUNDLED_DATA_DIR, cache_dir: CacheOpt = None,
                     verbose: Annotated[bool, typer.Option("--verbose", help="Log every request.")] = False) -> None:
    """Serve the offline engine as an OpenAI-compatible chat-completions API (Ctrl-C stops)."""
    from themepage.offline.engine import OfflineEngine
    from themepage.server import OfflineLMServer
    from themepage.server.httpd import is_loopback

    if not allow_remote and not is_loopback(host):
        raise CliError(f"--host {host} is not a loopback address; add --allow-remote to serve it anyway")
    engine = OfflineEngine.open(Path(data), cache_dir)
    try:
        server = OfflineLMServer(engine, host, port, allow_remote=allow_remote, verbose=verbose)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    print(f"serving the offline engine at {server.url} (models: {', '.join(server.models)})", flush=True)
    err_console.print(f"use: --lm openai/gpt-4o-mini --api-base {server.url}", markup=False, soft_wrap=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        err_console.print(f"stopped after {server.requests} requests")
