"""Answers that break the parser or outgrow the deadline still end in the retrieval fallback (issue 20, probes 2, 7).

Probe 2: an LM answering `[` x 10,000 then `]` x 10,000 in every field made json_repair raise RecursionError:
`generate` ended in a traceback, `batch` failed every user. Probe 7: a 10 MB answer held a page past its deadline,
on DSPy's native client and on LiteLLM alike.
"""

from __future__ import annotations

import json
import time

import dspy
import pytest
from answers_server import AnswerServer, chat_fields, completion
from cli_runner import run_cli
from dspy.utils.exceptions import AdapterParseError

from themepage.lm.adapter import MAX_ANSWER_CHARS, GuardedJSONAdapter, MemoChatAdapter
from themepage.lm.answer_limit import MAX_ANSWER_BYTES
from themepage.lm.structured import StructuredAdapter
from themepage.page import Page
from themepage.signatures.top_down import PlanThemes

DEEP = "[" * 10_000 + "]" * 10_000
ADAPTERS = [MemoChatAdapter, GuardedJSONAdapter, StructuredAdapter]


@pytest.fixture
def provider(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "local-test")
    for variable in ("OPENAI_API_BASE", "OPENAI_BASE_URL", "THEMEPAGE_LM", "THEMEPAGE_API_BASE", "THEMEPAGE_CONFIG",
                     "THEMEPAGE_LM_ENGINE"):
        monkeypatch.delenv(variable, raising=False)


def lm_args(server: AnswerServer) -> list[str]:
    return ["--lm", "openai/gpt-4o-mini", "--api-base", server.url, "--no-compiled", "--lm-retries", "0"]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("answer", [DEEP, '{"themes": ' + DEEP + "}", f"[[ ## themes ## ]]\n{DEEP}"])
def test_a_deeply_nested_answer_is_a_parse_error(adapter, answer):
    with pytest.raises(AdapterParseError):
        adapter().parse(PlanThemes, answer)


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("error", [RecursionError, MemoryError, OverflowError, ValueError])
def test_whatever_the_parser_raises_is_a_parse_error(monkeypatch, adapter, error):
    def blow_up(*_):
        raise error("parser blew up")

    monkeypatch.setattr(dspy.JSONAdapter if issubclass(adapter, dspy.JSONAdapter) else dspy.ChatAdapter, "parse",
                        blow_up)
    with pytest.raises(AdapterParseError, match=f"raised {error.__name__}"):
        adapter().parse(PlanThemes, '{"themes": []}')


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_answer_longer_than_any_step_needs_is_refused_unread(monkeypatch, adapter):
    parsed = []
    monkeypatch.setattr(dspy.JSONAdapter if issubclass(adapter, dspy.JSONAdapter) else dspy.ChatAdapter, "parse",
                        lambda *args: parsed.append(args) or {})
    with pytest.raises(AdapterParseError, match="longer than any step"):
        adapter().parse(PlanThemes, "a" * (MAX_ANSWER_CHARS + 1))
    assert parsed == []


@pytest.mark.parametrize("program", ["top-down", "bottoms-up"])
def test_generate_falls_back_from_a_deeply_nested_answer(monkeypatch, capsys, provider, program):
    with AnswerServer(chat_fields(DEEP)) as server:
        code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--program", program, "--format",
                                 "json", *lm_args(server))
    assert code == 0, err
    assert "Traceback" not in err
    page = Page.model_validate(json.loads(out))
    assert page.placements and any("AdapterParseError" in note for note in page.stats.fallbacks)


def test_batch_makes_every_page_from_a_deeply_nested_answer(monkeypatch, capsys, tmp_path, provider):
    users = tmp_path / "users.txt"
    users.write_text("1\n7\n")
    out = tmp_path / "pages.jsonl"
    with AnswerServer(chat_fields(DEEP)) as server:
        code, _, err = run_cli(monkeypatch, capsys, "batch", "--out", str(out), "--users", str(users),
                               "--concurrency", "2", *lm_args(server))
    assert code == 0, err
    pages = [Page.model_validate_json(line) for line in out.read_text().splitlines()]
    assert [page.user_id for page in pages] == [1, 7]
    assert all(page.stats.fallbacks for page in pages)


@pytest.mark.parametrize("engine", ["lm15", "litellm"])
@pytest.mark.parametrize("program", ["top-down", "bottoms-up"])
def test_a_huge_answer_is_cut_off_and_the_page_keeps_its_deadline(monkeypatch, capsys, provider, index, program,
                                                                   engine):
    """A 10 MB answer trickled out: either HTTP client stops reading at MAX_ANSWER_BYTES and the page meets its
    deadline. The index is built beforehand (`index`), so the time measured is the page's."""
    monkeypatch.setenv("THEMEPAGE_LM_ENGINE", engine)
    if engine == "litellm":
        from dspy.clients._litellm import get_litellm

        get_litellm(feature="test")  # its slow import is not the page's time
    themes = json.dumps([{"title": f"Snacks {i}", "queries": ["chips"]} for i in range(200_000)])
    body = completion(f"[[ ## themes ## ]]\n{themes}\n\n[[ ## completed ## ]]")
    assert len(body) > 8 * MAX_ANSWER_BYTES
    deadline = 5
    with AnswerServer(body=body, pause=0.02) as server:
        started = time.monotonic()
        code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--program", program, "--format",
                                 "json", "--page-deadline", str(deadline), *lm_args(server))
        elapsed = time.monotonic() - started
    assert code == 0, err
    page = Page.model_validate(json.loads(out))
    assert page.placements and page.stats.fallbacks
    assert any(f"longer than {MAX_ANSWER_BYTES} bytes" in note for note in page.stats.fallbacks), page.stats.fallbacks
    assert elapsed < deadline + 10, elapsed
    assert server.sent and max(server.sent) < 3 * MAX_ANSWER_BYTES, server.sent
