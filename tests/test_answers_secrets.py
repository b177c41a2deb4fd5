"""The provider's key never reaches a written page, whatever case or encoding an LM writes it in (issue 20, probe 3).

An LM whose titles and rationales start with the key: `readable_rationale` used to capitalise it (`Sk-...`)
before the case-sensitive redaction ran on the page's JSON, so the key was written out.
"""

from __future__ import annotations

import base64

import pytest
from answers_server import RewritingEngine, prefix_texts
from cli_runner import run_cli

from themepage.lm.redact import REDACTED, redact, redact_data
from themepage.offline.engine import OfflineEngine
from themepage.programs.row_text import readable_rationale, readable_title
from themepage.server import OfflineLMServer

KEY = "sk-verysecret123"
FORMS = (KEY, KEY.upper(), KEY.capitalize(), base64.b64encode(KEY.encode()).decode(),
         base64.b64encode(f"user:{KEY}".encode()).decode())
"""The key as an LM or a provider's echo may carry it: any letter case, base64 alone or in a Basic auth value."""


def leaked(text: str) -> list[str]:
    forms = {*FORMS, "verysecret", base64.b64encode(KEY.encode()).decode()[4:16]}
    return [form for form in forms if form.lower() in text.lower()]


@pytest.mark.parametrize("text", [f"{KEY.capitalize()} rejected", f"KEY {KEY.upper()}!", f"auth {FORMS[3]}",
                                  f"Basic {FORMS[4]}", f"header {base64.urlsafe_b64encode(b'xy' + KEY.encode())}"])
def test_the_key_is_redacted_in_any_case_and_in_base64(monkeypatch, text):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert not leaked(redact(text)) and REDACTED in redact(text)


def test_a_non_sk_key_is_redacted_in_any_case(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "anthropic-key-0001")
    assert redact("echo Anthropic-KEY-0001 back") == f"echo {REDACTED} back"


def test_redact_data_reaches_into_models_and_tuples(monkeypatch):
    from themepage.page import Theme

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    theme, words = redact_data([Theme(title=KEY, rationale=KEY.upper()), (KEY,)])
    assert (theme.title, theme.rationale, words) == (REDACTED, REDACTED, (REDACTED,))


def test_row_text_redacts_before_it_capitalises_or_cuts(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    rationale = readable_rationale(f"{KEY} | because you buy these every week", "fallback")
    assert not leaked(rationale) and rationale.startswith(REDACTED)
    assert readable_title(f"{KEY} Snacks", fallback="Snacks") == "Snacks"  # a title that held a key is no title
    assert not leaked(readable_title("Pasta " + "x" * 40 + KEY.upper() + "y" * 40, fallback="Pasta"))


@pytest.fixture
def leaking_server(monkeypatch, index):
    """The offline engine's answers, every title and rationale starting with the key in each of its forms."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    for variable in ("OPENAI_API_BASE", "OPENAI_BASE_URL", "THEMEPAGE_LM", "THEMEPAGE_API_BASE", "THEMEPAGE_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    rewrite = prefix_texts(list(FORMS), " ".join(FORMS) + " | ")
    with OfflineLMServer(RewritingEngine(OfflineEngine(index), rewrite)) as server:
        yield server


@pytest.mark.parametrize("fmt", ["json", "text", "html"])
@pytest.mark.parametrize("program", ["top-down", "bottoms-up"])
def test_a_key_an_lm_writes_never_reaches_the_page(monkeypatch, capsys, leaking_server, program, fmt):
    code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--program", program, "--format", fmt,
                             "--lm", "openai/gpt-4o-mini", "--api-base", leaking_server.url, "--no-compiled")
    assert code == 0, err
    assert leaking_server.requests > 0
    assert not leaked(out) and not leaked(err), (leaked(out), leaked(err))
