"""Helpers for the HTTP tests: the offline engine served on 127.0.0.1, LMs that call it, page checks.

Test modules import the fixtures by name (`from http_server import lm_server, http_engine`).
"""

from __future__ import annotations

import dspy
import pytest

from themepage.offline.engine import OfflineEngine
from themepage.page import Page
from themepage.server import OfflineLMServer
from themepage.server.limits import Limits

MODEL = "openai/gpt-4o-mini"
"""A model name litellm and DSPy price, so cost accounting has something to report."""
USER_AGENTS = {"auto": "lm15", "litellm": "DSPy/"}
"""How each client announces itself: DSPy's native lm15 client, or LiteLLM's OpenAI SDK."""


@pytest.fixture
def lm_server(index):
    """A fresh server (no faults, zero counts) on an ephemeral loopback port, stopped after the test.

    The `hang` fault holds every connection it gets for its whole sleep, long after the client gave up,
    so the fixture serves more connections at once than the production default: otherwise the count of
    requests that reach the server would depend on how many earlier hung sockets still hold a slot.
    """
    with OfflineLMServer(OfflineEngine(index), limits=Limits(max_connections=256)) as server:
        yield server


@pytest.fixture(params=["auto", "litellm"])
def http_engine(request) -> str:
    """Both HTTP clients DSPy can pick: 'auto' (native lm15 here) and 'litellm'."""
    if request.param == "litellm":
        from dspy.clients._litellm import get_litellm

        get_litellm(feature="tests")  # its ~5 s import must not count against a short timeout
    return request.param


def http_lm(server: OfflineLMServer, engine: str = "auto", timeout: float = 10.0, retries: int = 0,
            cache: bool = False) -> dspy.LM:
    return dspy.LM(MODEL, api_base=server.url, api_key="local-test", timeout=timeout, num_retries=retries,
                   engine=engine, cache=cache)


def assert_valid_page(page: Page, index, size: int = 48) -> None:
    ids = page.product_ids()
    assert len(ids) == size, f"{len(ids)} products"
    assert len(set(ids)) == len(ids), "a product appears twice"
    assert all(p in index.catalog for p in ids), "an id is not in the catalog"


from cli_runner import run_cli  # noqa: E402,F401  (re-exported for the HTTP tests)


@pytest.fixture
def provider_env(monkeypatch, lm_server):
    """The key in the environment, as for a real provider; no ambient base URL that would change the route.

    Returns the CLI arguments that point a command at the local server.
    """
    monkeypatch.setenv("OPENAI_API_KEY", "local-test")
    for variable in ("OPENAI_API_BASE", "OPENAI_BASE_URL", "THEMEPAGE_LM", "THEMEPAGE_API_BASE", "THEMEPAGE_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    return ["--lm", "openai/gpt-4o-mini", "--api-base", lm_server.url]
