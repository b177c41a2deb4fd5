"""Optional extras skip with their reason on a plain install and fail under CI (tests/optional_extras.py)."""

import sys

import pytest
import test_plan_slots
from optional_extras import missing_extra, require_module

ABSENT = "themepage_no_such_extra"


def test_a_missing_extra_skips_with_its_reason_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=rf"{ABSENT} is not installed \(pip install x"):
        require_module(f"{ABSENT}.sub", "pip install x")


def test_a_missing_extra_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="CI must run this test: .*pip install x"):
        require_module(ABSENT, "pip install x")
    with pytest.raises(pytest.fail.Exception, match="no model"):
        missing_extra("no model")


def test_an_installed_module_is_returned(monkeypatch):
    monkeypatch.setenv("CI", "1")
    assert require_module("json.decoder", "pip install x").JSONDecodeError


def test_the_llama_cpp_grammar_test_skips_without_the_local_extra(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    # `import llama_cpp...` fails as if it were not installed, even after another test imported it
    for name in [m for m in sys.modules if m == "llama_cpp" or m.startswith("llama_cpp.")] + ["llama_cpp"]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(pytest.skip.Exception, match=r"llama_cpp is not installed \(pip install -e '.\[local\]'"):
        test_plan_slots.test_llama_cpp_turns_the_slots_into_a_fixed_sequence()


def test_a_module_that_is_installed_but_broken_is_an_error(monkeypatch, tmp_path):
    (tmp_path / "themepage_broken_extra.py").write_text("import themepage_missing_inside\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="themepage_missing_inside"):
        require_module("themepage_broken_extra", "pip install x")
