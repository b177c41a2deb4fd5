"""generate through the entry point: literal brackets, fail fast, one fallback line, page deadline, LM sources."""

import io
import json
from types import SimpleNamespace

import pytest
from cli_runner import run_cli
from fake_pages import FakeRegistry, fake_page
from rich.console import Console

from themepage.cli.render import render_page
from themepage.lm.runtime import ProviderUnreachable
from themepage.lm.settings import ENV


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch, tmp_path):
    """No THEMEPAGE_* LM variables or provider key, and a working directory without themepage.toml."""
    for variable in [*ENV.values(), "THEMEPAGE_CONFIG", "OPENAI_API_KEY"]:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)


def test_text_page_prints_brackets_literally():
    page = fake_page(1, title="Snacks [/] [bold]big[/bold]", product="Chips [lm] [/]",
                     fallbacks=["fallback in fill: [openai/gpt] said [/]"])
    page.placements[0].rationale = "you liked [red]"
    index = SimpleNamespace(catalog=SimpleNamespace(aisle=lambda product_id: "chips [/] pretzels"))
    buffer = io.StringIO()
    render_page(page, index, Console(file=buffer, width=200))  # type: ignore[arg-type]
    text = buffer.getvalue()
    for literal in ("Snacks [/] [bold]big[/bold]", "Chips [lm] [/]", "(chips [/] pretzels)", "you liked [red]",
                    "[openai/gpt] said [/]"):
        assert literal in text


def test_error_keeps_brackets_and_names_the_config_file(monkeypatch, capsys, tmp_path):
    (tmp_path / "themepage.toml").write_text('[lmm]\nmodel = "openai/gpt-4o-mini"\n')
    code, _, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--program", "repurchase")
    assert code == 2 and f"{tmp_path / 'themepage.toml'}: unknown table or key 'lmm'" in err
    assert "[lm]" in err and "Traceback" not in err


def test_unreachable_provider_is_one_line_and_exit_2(monkeypatch, capsys):
    def unreachable(user):
        raise ProviderUnreachable("connection refused by http://127.0.0.1:9/v1")

    FakeRegistry(unreachable).install(monkeypatch)
    code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--program", "repurchase")
    assert code == 2 and out == ""
    assert err.strip() == "error: cannot reach the LM provider: connection refused by http://127.0.0.1:9/v1"


def test_partial_faults_give_a_page_and_one_summary_line(monkeypatch, capsys):
    fallbacks = ["fallback in fill: timeout", "fallback in fill: timeout", "fallback in plan: unparseable answer"]
    FakeRegistry(lambda user: fake_page(user, fallbacks=fallbacks)).install(monkeypatch)
    code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--program", "repurchase",
                             "--format", "json")
    assert code == 0 and json.loads(out)["stats"]["fallbacks"] == fallbacks
    assert err.strip() == "page for user 1 made with 3 fallbacks: fill: timeout (2), plan: unparseable answer (1)"


def test_json_page_with_a_lone_surrogate_and_a_key_is_written(monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "sekrit-value-0042")
    page = fake_page(1, title="Snacks \udcff", fallbacks=["fallback in plan: 401 for key sekrit-value-0042"])
    FakeRegistry(lambda user: page).install(monkeypatch)
    code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--program", "repurchase",
                             "--format", "json")
    written = json.loads(out)
    assert code == 0 and written["placements"][0]["title"] == "Snacks \ufffd"
    assert "sekrit-value-0042" not in out + err and "<redacted>" in written["stats"]["fallbacks"][0]


@pytest.mark.parametrize("environment, flags, deadline", [
    ({}, [], 60.0),
    ({"THEMEPAGE_PAGE_DEADLINE": "12"}, [], 12.0),
    ({"THEMEPAGE_PAGE_DEADLINE": "12"}, ["--page-deadline", "5"], 5.0),
])
def test_page_deadline_reaches_the_program(monkeypatch, capsys, environment, flags, deadline):
    registry = FakeRegistry(lambda user: fake_page(user)).install(monkeypatch)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    code, _, _ = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--program", "repurchase", *flags)
    assert code == 0 and registry.kwargs["page_deadline"] == deadline


def test_bad_page_deadline_is_a_usage_error(monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--page-deadline", "-1")
    assert code == 2 and "page_deadline (from --page-deadline)" in err


def test_a_provider_lm_says_where_its_settings_came_from(monkeypatch, capsys, tmp_path):
    """A themepage.toml that moves api_base is announced; on a loopback address no key is needed."""
    (tmp_path / "themepage.toml").write_text('[lm]\napi_base = "http://127.0.0.1:9/v1"\n')
    registry = FakeRegistry(lambda user: fake_page(user)).install(monkeypatch)
    code, _, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--program", "top-down",
                           "--lm", "openai/gpt-4o-mini")
    assert code == 0, err
    assert (f"LM openai/gpt-4o-mini (from --lm), base URL http://127.0.0.1:9/v1 "
            f"(from {tmp_path / 'themepage.toml'} [lm] api_base)") in err
    assert registry.kwargs["lm"].kwargs["api_key"] == "themepage-local-server"
