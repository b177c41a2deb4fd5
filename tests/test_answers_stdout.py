"""stdout carries the page and nothing else, whatever a library logs (issue 20, probe 10).

`generate --format json` with a real LM wrote LiteLLM's `LiteLLM completion() model= ...` INFO lines into stdout
(LiteLLM's handler sends records below WARNING there), and the JSON page no longer parsed.
"""

from __future__ import annotations

import json
import logging
import sys

import pytest
from cli_runner import run_cli
from http_server import lm_server, provider_env  # noqa: F401  (fixtures)

from themepage.cli.quiet import logs_off_stdout
from themepage.page import Page


@pytest.fixture
def litellm_logging(monkeypatch):
    """LiteLLM imported (its handler on its loggers) and a level that lets the factory's INFO records through."""
    from dspy.clients._litellm import get_litellm

    get_litellm(feature="tests")

    def at(level: int) -> None:
        for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
            logger = logging.getLogger(name)
            monkeypatch.setattr(logger, "level", level)
        logging.getLogger().manager._clear_cache()

    yield at
    logging.getLogger().manager._clear_cache()


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
def test_generate_json_stdout_parses_with_litellm_logging(monkeypatch, capsys, index, lm_server, provider_env,  # noqa: F811
                                                          litellm_logging, level):
    litellm_logging(level)
    monkeypatch.setenv("THEMEPAGE_LM_ENGINE", "litellm")
    code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--format", "json", "--no-compiled",
                             *provider_env)
    assert code == 0, err
    page = Page.model_validate(json.loads(out))
    assert page.placements and lm_server.requests > 0
    assert "LiteLLM completion()" in err  # routed to stderr, not lost


def test_a_handler_on_stdout_writes_to_stderr_during_a_command(capsys):
    """A plain handler on stdout, as `logging.basicConfig(stream=sys.stdout)` or a library's setup makes one."""
    logger = logging.getLogger("themepage-tests.library")
    handler = logging.StreamHandler(sys.stdout)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        logger.debug("before the command")
        with logs_off_stdout():
            logger.debug("during the command")
        logger.debug("after the command")
    finally:
        logger.removeHandler(handler)
    captured = capsys.readouterr()
    assert captured.out == "before the command\nafter the command\n"
    assert captured.err == "during the command\n"
