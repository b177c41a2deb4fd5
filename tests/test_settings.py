"""LM settings: command line over environment over config file, and errors that say where a bad value came from."""

import pytest

from themepage.constants import LM_NUM_RETRIES, LM_TIMEOUT_SECONDS, LOCAL_PLACEHOLDER_KEY, PAGE_DEADLINE_SECONDS
from themepage.lm.plug import lm_from_settings, make_lm
from themepage.lm.settings import (
    ENV,
    LMSettings,
    SettingsError,
    describe_lm,
    is_loopback_url,
    resolve_lm_settings,
    resolve_lm_settings_sourced,
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No THEMEPAGE_* variables, no key, and a working directory without themepage.toml."""
    for variable in [*ENV.values(), "THEMEPAGE_CONFIG", "OPENAI_API_KEY", "OPENAI_API_BASE"]:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)


def write_config(path, text):
    path.write_text("[lm]\n" + text)
    return path


def test_defaults_without_any_source():
    settings = resolve_lm_settings()
    assert settings == LMSettings(model="offline", api_base=None, timeout=LM_TIMEOUT_SECONDS,
                                  retries=LM_NUM_RETRIES, engine="auto", page_deadline=PAGE_DEADLINE_SECONDS)
    assert settings.timeout == 30 and settings.offline


def test_file_then_environment_then_command_line(monkeypatch, tmp_path):
    write_config(tmp_path / "themepage.toml", 'model = "openai/from-file"\napi_base = "http://127.0.0.1:1/v1"\n'
                                              'timeout = 5\nretries = 1\nengine = "litellm"\n')
    from_file = resolve_lm_settings()
    assert (from_file.model, from_file.api_base, from_file.timeout, from_file.retries, from_file.engine) == (
        "openai/from-file", "http://127.0.0.1:1/v1", 5.0, 1, "litellm")

    monkeypatch.setenv("THEMEPAGE_LM", "openai/from-env")
    monkeypatch.setenv("THEMEPAGE_LM_TIMEOUT", "7.5")
    from_env = resolve_lm_settings(model=None, timeout=None)
    assert (from_env.model, from_env.timeout, from_env.retries) == ("openai/from-env", 7.5, 1)

    given = resolve_lm_settings(model="openai/from-cli", timeout=2, retries=0, api_base=None)
    assert (given.model, given.timeout, given.retries, given.api_base) == (
        "openai/from-cli", 2.0, 0, "http://127.0.0.1:1/v1")


def test_config_file_named_by_environment(monkeypatch, tmp_path):
    path = write_config(tmp_path / "elsewhere.toml", 'model = "openai/gpt-4o-mini"\n')
    monkeypatch.setenv("THEMEPAGE_CONFIG", str(path))
    assert resolve_lm_settings().model == "openai/gpt-4o-mini"
    monkeypatch.setenv("THEMEPAGE_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError, match="THEMEPAGE_CONFIG names .*missing.toml"):
        resolve_lm_settings()


@pytest.mark.parametrize("source, value, given, message", [
    ("env", ("THEMEPAGE_LM_TIMEOUT", "soon"), {},
     "LM setting timeout (from THEMEPAGE_LM_TIMEOUT): Input should be a valid number"),
    ("env", ("THEMEPAGE_LM_RETRIES", "-1"), {},
     "LM setting retries (from THEMEPAGE_LM_RETRIES): Input should be greater than or equal to 0"),
    ("env", ("THEMEPAGE_LM_ENGINE", "curl"), {},
     "LM setting engine (from THEMEPAGE_LM_ENGINE): Input should be 'auto', 'lm15' or 'litellm'"),
    ("cli", None, {"retries": 11},
     "LM setting retries (from --lm-retries): Input should be less than or equal to 10"),
    ("cli", None, {"timeout": 0},
     "LM setting timeout (from --lm-timeout): Input should be greater than 0"),
    ("cli", None, {"model": "gpt-4o-mini"},
     "LM setting model (from --lm): 'gpt-4o-mini' must be 'offline' or 'provider/model'"),
    ("cli", None, {"model": "openai/x", "api_base": "127.0.0.1:8000"},
     "LM setting api_base (from --api-base): '127.0.0.1:8000' is not an http(s) URL"),
    ("cli", None, {"api_base": "http://127.0.0.1:8000/v1"},
     "LM setting api_base (from --api-base): the offline LM makes no HTTP calls"),
    ("file", "timeout = -3\n", {},
     "LM setting timeout (from {file} [lm] timeout): Input should be greater than 0"),
    ("file", "colour = 'red'\n", {},
     "LM setting colour (from {file} [lm] colour): Extra inputs are not permitted"),
    ("file", "api_key = 'sk-123'\n", {},
     "{file} [lm]: API keys belong in the provider's environment variable"),
    ("file", "timeout = \n", {}, "{file}: not valid TOML"),
    ("file", "page_deadline = 0\n", {},
     "LM setting page_deadline (from {file} [lm] page_deadline): Input should be greater than 0"),
    ("file", "model = 'openai/x'\n[lmm]\ntimeout = 3\n", {}, "{file}: unknown table or key 'lmm'"),
    ("env", ("THEMEPAGE_PAGE_DEADLINE", "soon"), {},
     "LM setting page_deadline (from THEMEPAGE_PAGE_DEADLINE): Input should be a valid number"),
    ("cli", None, {"model": "openai/x", "api_base": "http://[::1:18801/v1"},
     "LM setting api_base (from --api-base): 'http://[::1:18801/v1' is not a valid URL: Invalid IPv6 URL"),
    ("env", ("THEMEPAGE_API_BASE", "http://127.0.0.1:80x/v1"), {"model": "openai/x"},
     "LM setting api_base (from THEMEPAGE_API_BASE): 'http://127.0.0.1:80x/v1' is not a valid URL: Port could not"),
    ("file", "model = 'openai/x'\napi_base = 'http://127.0.0.1:99999/v1'\n", {},
     "LM setting api_base (from {file} [lm] api_base): 'http://127.0.0.1:99999/v1' is not a valid URL: Port out"),
    ("cli", None, {"model": "openai/x", "api_base": "http://:8000/v1"},
     "LM setting api_base (from --api-base): 'http://:8000/v1' names no host"),
    ("cli", None, {"model": "openai/x", "api_base": "http://127.0.0.1:8000/v1 x"},
     "LM setting api_base (from --api-base): 'http://127.0.0.1:8000/v1 x' is not a valid URL: it holds whitespace"),
])
def test_errors_name_the_setting_and_its_source(monkeypatch, tmp_path, source, value, given, message):
    if source == "env":
        monkeypatch.setenv(*value)
    elif source == "file":
        write_config(tmp_path / "themepage.toml", value)
    with pytest.raises(SettingsError) as caught:
        resolve_lm_settings(**given)
    assert message.format(file=tmp_path / "themepage.toml") in str(caught.value)


def test_make_lm_carries_timeout_retries_base_and_engine(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "local-test")
    settings = resolve_lm_settings(model="openai/gpt-4o-mini", api_base="http://127.0.0.1:9/v1", timeout=3,
                                   retries=1)
    lm = lm_from_settings(settings)
    assert (lm.model, lm.kwargs["timeout"], lm.num_retries, lm.kwargs["api_base"], lm.engine) == (
        "openai/gpt-4o-mini", 3.0, 1, "http://127.0.0.1:9/v1", "auto")
    assert "api_key" not in lm.kwargs  # the key stays in the environment, read by the client


def test_make_lm_requires_the_provider_key_up_front():
    with pytest.raises(ValueError, match="no API key for openai: set OPENAI_API_KEY .*accepts any value"):
        make_lm("openai/gpt-4o-mini", api_base="https://llm.example.com/v1")
    with pytest.raises(ValueError, match="no API key for openai: set OPENAI_API_KEY$"):
        make_lm("openai/gpt-4o-mini")
    with pytest.raises(ValueError, match="must be 'offline' or 'provider/model'"):
        make_lm("gpt-4o-mini")


def test_cli_reports_bad_settings_as_one_line(monkeypatch, capsys):
    from http_server import run_cli

    monkeypatch.setenv("THEMEPAGE_LM_TIMEOUT", "-1")
    code, _, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--program", "top-down")
    assert code == 2 and "THEMEPAGE_LM_TIMEOUT" in err and "Traceback" not in err
    monkeypatch.delenv("THEMEPAGE_LM_TIMEOUT")
    code, _, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--lm", "openai/gpt-4o-mini",
                           "--api-base", "https://llm.example.com/v1")
    assert code == 2 and "OPENAI_API_KEY" in err


@pytest.mark.parametrize("command", ["generate", "batch"])
def test_a_malformed_api_base_is_a_usage_error(monkeypatch, capsys, tmp_path, command):
    """Issue 20, probe 8: `http://[::1:18801/v1` was accepted and every step fell back (exit 0)."""
    from http_server import run_cli

    monkeypatch.setenv("OPENAI_API_KEY", "local-test")
    where = ["--user", "1"] if command == "generate" else ["--out", str(tmp_path / "pages.jsonl")]
    code, out, err = run_cli(monkeypatch, capsys, command, *where, "--lm", "openai/gpt-4o-mini",
                             "--api-base", "http://[::1:18801/v1")
    assert code == 2 and out == "" and "Traceback" not in err, err
    assert [line for line in err.splitlines() if line.strip()] == [
        "error: LM setting api_base (from --api-base): 'http://[::1:18801/v1' is not a valid URL: Invalid IPv6 URL "
        "(e.g. http://127.0.0.1:8000/v1)"]
    assert not (tmp_path / "pages.jsonl").exists()


def test_top_level_key_outside_a_table_is_an_error(tmp_path):
    (tmp_path / "themepage.toml").write_text('model = "openai/gpt-4o-mini"\n')
    with pytest.raises(SettingsError, match="themepage.toml: unknown table or key 'model'"):
        resolve_lm_settings()


def test_page_deadline_from_file_environment_and_flag(monkeypatch, tmp_path):
    assert resolve_lm_settings().page_deadline == PAGE_DEADLINE_SECONDS
    write_config(tmp_path / "themepage.toml", "page_deadline = 20\n")
    assert resolve_lm_settings().page_deadline == 20.0
    monkeypatch.setenv("THEMEPAGE_PAGE_DEADLINE", "12.5")
    assert resolve_lm_settings().page_deadline == 12.5
    assert resolve_lm_settings(page_deadline=3).page_deadline == 3.0


def test_describe_lm_names_each_source(monkeypatch, tmp_path):
    write_config(tmp_path / "themepage.toml", 'api_base = "http://10.0.0.5:8000/v1"\n')
    settings, sources = resolve_lm_settings_sourced(model="openai/gpt-4o-mini")
    assert describe_lm(settings, sources) == (
        f"LM openai/gpt-4o-mini (from --lm), base URL http://10.0.0.5:8000/v1 "
        f"(from {tmp_path / 'themepage.toml'} [lm] api_base)")
    monkeypatch.setenv("THEMEPAGE_LM", "anthropic/claude")
    (tmp_path / "themepage.toml").unlink()
    settings, sources = resolve_lm_settings_sourced()
    assert describe_lm(settings, sources) == "LM anthropic/claude (from THEMEPAGE_LM), the provider's own base URL"
    monkeypatch.delenv("THEMEPAGE_LM")
    assert describe_lm(*resolve_lm_settings_sourced()) is None


@pytest.mark.parametrize("url, loopback", [
    ("http://127.0.0.1:8000/v1", True), ("http://127.8.9.10/v1", True), ("http://[::1]:8000/v1", True),
    ("http://localhost:8000/v1", True), ("https://api.openai.com/v1", False), ("http://10.0.0.5/v1", False),
    ("http://127.0.0.1.evil.example/v1", False), (None, False),
])
def test_is_loopback_url(url, loopback):
    assert is_loopback_url(url) is loopback


def test_loopback_server_without_a_key_gets_a_placeholder():
    lm = make_lm("openai/gpt-4o-mini", api_base="http://127.0.0.1:9/v1")
    assert lm.kwargs["api_key"] == LOCAL_PLACEHOLDER_KEY
    with pytest.raises(ValueError, match="no API key for openai"):
        make_lm("openai/gpt-4o-mini", api_base="http://192.168.1.20:9/v1")
