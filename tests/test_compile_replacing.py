"""`themepage compile` keeps an existing compiled file unless the new program scores higher on the same validation
examples or --force is given; a file that no longer loads counts as no file."""

import json
import re
import shutil

import pytest
from cli_runner import run_cli

from themepage.optimize.compiled_files import COMPILED_DIR
from themepage.optimize.replacing import existing_file, replaces

FAST_COMPILE = ("compile", "--objective", "relevance", "--program", "bottoms-up", "--train-size", "1",
                "--val-size", "1", "--optimizer", "bootstrap")
COMMITTED = COMPILED_DIR / "relevance" / "bottoms-up.json"
SAVED = re.compile(r"^saved (\S+): relevance / bottoms-up / bootstrap; score on 1 validation examples "
                   r"\d\.\d{3} -> \d\.\d{3}(, better than the replaced file's \d\.\d{3})?; \d+\.\d min$")
KEPT = re.compile(r"^kept (\S+): relevance / bottoms-up / bootstrap; score on 1 validation examples "
                  r"\d\.\d{3} -> (\d\.\d{3}), not better than the kept file's (\d\.\d{3}) \(use --force to replace\); "
                  r"\d+\.\d min$")


def _closing_line(stdout: str) -> str:
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, stdout
    return lines[0]


def _stale_copy(path):
    """The committed file with one predictor's fingerprint changed, as after an edit of its signature."""
    state = json.loads(COMMITTED.read_text())
    fingerprints = state["metadata"]["themepage"]["fingerprints"]
    fingerprints[next(iter(fingerprints))] = "0" * 64
    path.write_text(json.dumps(state))
    return path


def test_recompiling_to_no_gain_keeps_the_file_and_force_replaces_it(monkeypatch, capsys, tmp_path):
    out = tmp_path / "bottoms-up.json"
    code, stdout, stderr = run_cli(monkeypatch, capsys, *FAST_COMPILE, "--out", str(out))
    assert code == 0, stderr
    assert SAVED.match(_closing_line(stdout)) and out.is_file()
    first, first_inode = out.read_bytes(), out.stat().st_ino

    code, stdout, stderr = run_cli(monkeypatch, capsys, *FAST_COMPILE, "--out", str(out))
    assert code == 0, stderr
    kept = KEPT.match(_closing_line(stdout))
    assert kept is not None, stdout
    assert kept.group(1) == str(out) and kept.group(2) == kept.group(3)  # the same program scores the same
    assert out.read_bytes() == first and out.stat().st_ino == first_inode  # the file was not rewritten
    assert [p.name for p in tmp_path.iterdir()] == ["bottoms-up.json"]

    code, stdout, stderr = run_cli(monkeypatch, capsys, *FAST_COMPILE, "--out", str(out), "--force")
    assert code == 0, stderr
    assert SAVED.match(_closing_line(stdout)) and out.stat().st_ino != first_inode
    assert "scoring the existing compiled file" not in stderr  # --force does not score the file it replaces


def test_a_higher_score_replaces_the_existing_file(monkeypatch, capsys, tmp_path):
    import themepage.cli.compile as compile_command

    out = tmp_path / "bottoms-up.json"
    shutil.copy(COMMITTED, out)
    scores = {"scoring the existing compiled file": 0.25}
    monkeypatch.setattr(compile_command, "_score",
                        lambda phases, job, description, module: scores.get(description, 0.5))
    code, stdout, stderr = run_cli(monkeypatch, capsys, *FAST_COMPILE, "--out", str(out))
    assert code == 0, stderr
    line = _closing_line(stdout)
    assert SAVED.match(line) and line.endswith(", better than the replaced file's 0.250" + line[line.rindex(";"):])
    assert json.loads(out.read_text())["metadata"]["themepage"]["optimizer"] == "bootstrap"


def test_an_equal_or_lower_score_keeps_the_existing_file(monkeypatch, capsys, tmp_path):
    import themepage.cli.compile as compile_command

    out = tmp_path / "bottoms-up.json"
    shutil.copy(COMMITTED, out)
    monkeypatch.setattr(compile_command, "_score", lambda phases, job, description, module:
                        0.6 if description == "scoring the existing compiled file" else 0.5)
    code, stdout, stderr = run_cli(monkeypatch, capsys, *FAST_COMPILE, "--out", str(out))
    assert code == 0, stderr
    assert KEPT.match(_closing_line(stdout)) and "not better than the kept file's 0.600" in stdout
    assert out.read_bytes() == COMMITTED.read_bytes()


def test_a_file_that_no_longer_loads_is_replaced_like_a_missing_one(monkeypatch, capsys, tmp_path):
    out = _stale_copy(tmp_path / "bottoms-up.json")
    code, stdout, stderr = run_cli(monkeypatch, capsys, *FAST_COMPILE, "--out", str(out))
    assert code == 0, stderr
    assert SAVED.match(_closing_line(stdout)) and "better than" not in stdout
    assert "replacing a compiled file that no longer loads" in stderr and "signatures of" in stderr
    assert json.loads(out.read_text())["metadata"]["themepage"]["optimizer"] == "bootstrap"


def test_existing_file_loads_a_current_file_and_names_the_problem_of_any_other(index, tmp_path):
    where = {"program": "bottoms-up", "objective": "relevance", "index": index, "lm": "offline"}
    assert existing_file(tmp_path / "none.json", **where).module is None
    assert existing_file(tmp_path / "none.json", **where).problem is None
    assert existing_file(COMMITTED, **where).module is not None
    (tmp_path / "garbage.json").write_text("not json")
    (tmp_path / "other.json").write_text(COMMITTED.read_text())
    problems = {
        "garbage": existing_file(tmp_path / "garbage.json", **where).problem,
        "stale": existing_file(_stale_copy(tmp_path / "stale.json"), **where).problem,
        "other objective": existing_file(tmp_path / "other.json", **{**where, "objective": "discovery"}).problem,
    }
    assert "not JSON" in problems["garbage"]
    assert "signatures of" in problems["stale"]
    assert "compiled for bottoms-up / relevance" in problems["other objective"]


@pytest.mark.parametrize("new, existing, expected", [
    (0.5, None, True), (0.565, 0.564, True), (0.564, 0.564, False), (0.564 + 1e-12, 0.564, False),
    (0.3, 0.564, False),
])
def test_only_a_higher_score_replaces(new, existing, expected):
    assert replaces(new, existing) is expected
