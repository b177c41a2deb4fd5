"""Usage errors through the real entry point: one line, exit 2, no traceback; --version; no import cycle."""

import os
import subprocess
import sys
from importlib.metadata import version

import pytest
from cli_runner import run_cli


@pytest.mark.parametrize("args, expected", [
    (["generate", "--usr", "1"], "No such option: --usr"),
    (["generate"], "Missing option '--user'"),
    (["generate", "--user", "abc"], "Invalid value for '--user'"),
    (["nosuch"], "No such command 'nosuch'"),
    (["genrate", "--user", "1"], "No such command 'genrate'"),
    ([], "missing command; choose one of: "),
    (["data"], "missing command; choose one of: check"),
])
def test_usage_errors_are_one_line_and_exit_2(monkeypatch, capsys, args, expected):
    code, out, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2, err
    assert err.startswith("error: ") and expected in err
    assert err.strip().count("\n") == 0 and "Traceback" not in err and out == ""


def test_usage_errors_name_the_alternatives(monkeypatch, capsys):
    """click's suggestion for a mistyped option (its wording differs by version) and the command list."""
    _, _, err = run_cli(monkeypatch, capsys, "generate", "--usr", "1")
    assert "--user" in err.split("(see:")[0]
    _, _, err = run_cli(monkeypatch, capsys)
    assert all(name in err for name in ("generate", "batch", "evaluate", "compile", "users", "data"))


def test_usage_error_through_the_installed_script():
    """The console script as a user runs it, in a fresh interpreter."""
    result = subprocess.run([sys.executable, "-c", "from themepage.cli.app import main; main()", "generate", "--usr",
                             "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "No such option: --usr" in result.stderr
    assert "Traceback" not in result.stderr


def test_version(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "--version")
    assert code == 0 and out.strip() == f"themepage {version('themepage')}"


def test_command_modules_do_not_import_the_app():
    """app.py registers the commands; a command module imported alone must not pull it in (no cycle)."""
    probe = ("import sys, themepage.cli.compile, themepage.cli.serve, themepage.cli.batch, themepage.cli.generate; "
             "print('themepage.cli.app' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_library_leaves_blas_threads_alone_and_the_cli_sets_them():
    probe = ("import os, sys; import themepage, themepage.page; a = os.environ.get('OPENBLAS_NUM_THREADS'); "
             "import themepage.cli.app; print(a, os.environ.get('OPENBLAS_NUM_THREADS'))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "1"]


def test_users_lists_order_counts(monkeypatch, capsys, tiny_data_dir):
    """The tiny data: user 1 has four prior orders and a train order, user 2 three prior orders (and a test one)."""
    code, out, _ = run_cli(monkeypatch, capsys, "users", "--data", str(tiny_data_dir))
    rows = [line.split() for line in out.strip().splitlines()]
    assert code == 0 and rows[:3] == [["user", "orders"], ["1", "5"], ["2", "3"]]
    assert rows[-1] == "2 users with a history, 8 orders with items".split()


# ----- help as a person reads it ------------------------------------------------------------------------------

def _command_paths():
    from themepage.cli.app import COMMANDS

    return [[], ["data"], ["data", "check"], ["data", "import"], *[[entry.name] for entry in COMMANDS]]


def _help(monkeypatch, capsys, *command: str) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run_cli(monkeypatch, capsys, *command, "--help")
    assert code == 0, err
    return out


@pytest.mark.parametrize("command", _command_paths(), ids=lambda command: " ".join(command) or "themepage")
def test_help_fits_80_columns_without_type_noise(monkeypatch, capsys, command):
    out = _help(monkeypatch, capsys, *command)
    assert "Usage: themepage" in out
    assert "…" not in out, out  # a default or a help text cut short
    assert "<bool>" not in out, out  # a flag takes no value
    usage = next(line for line in out.splitlines() if "Usage:" in line)
    assert "{" not in usage, usage  # `{source}` reads as a set of choices


def test_usage_line_names_arguments_as_click_does(monkeypatch, capsys):
    assert "Usage: themepage data import [OPTIONS] SOURCE" in _help(monkeypatch, capsys, "data", "import")
    assert "Usage: themepage score-placements [OPTIONS] FILE" in _help(monkeypatch, capsys, "score-placements")


@pytest.mark.parametrize("command", ["generate", "batch", "evaluate", "compile"])
def test_objective_help_lists_the_objectives(monkeypatch, capsys, command):
    from themepage.objectives import objective_names

    out = " ".join(_help(monkeypatch, capsys, command).replace("│", " ").split())
    assert f"Business objective: {', '.join(objective_names())}." in out, out


def test_command_list_shows_each_commands_own_help():
    """The listing reads each command's docstring from its source; it must be what the command itself shows."""
    from themepage.cli.app import COMMANDS
    from themepage.cli.lazy_group import CommandSummary, load_command

    for entry in COMMANDS:
        assert CommandSummary(entry).help, entry
        assert CommandSummary(entry).help == load_command(entry).help, entry


HEAVY_MODULES = ("dspy", "litellm", "numpy", "pydantic", "scipy")


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_no_heavy_module(flag):
    """`themepage --help` and `--version` import the command modules (and their numpy, DSPy, ...) not at all."""
    probe = (f"import sys\nsys.argv = ['themepage', '{flag}']\nfrom themepage.cli.app import main\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             f"print('imported:', *sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY_MODULES!r})), "
             "file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "imported:", result.stderr
    assert "Usage: themepage" in result.stdout or result.stdout.startswith("themepage ")
