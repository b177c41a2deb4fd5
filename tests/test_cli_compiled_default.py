"""generate and batch run the committed compiled program by default; --compiled DIR and --no-compiled choose."""

from __future__ import annotations

import json
import shutil

from cli_runner import run_cli

from themepage.optimize.compiled_files import COMPILED_DIR


def _page(out: str) -> dict:
    return json.loads(out)


def test_generate_uses_the_committed_compiled_program(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--format", "json")
    assert code == 0, err
    assert _page(out)["stats"]["compiled"] == "compiled/relevance/top-down.json"


def test_no_compiled_runs_the_bare_program(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--format", "json", "--no-compiled")
    assert code == 0, err
    assert _page(out)["stats"]["compiled"] is None


def test_compiled_and_no_compiled_contradict(monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--compiled", "compiled", "--no-compiled")
    assert code == 2 and "contradict" in err


def test_a_named_folder_must_hold_the_file(monkeypatch, capsys, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--compiled", str(tmp_path))
    assert code == 2 and "no compiled program at" in err


def test_a_named_folder_is_used_and_named(monkeypatch, capsys, tmp_path):
    shutil.copytree(COMPILED_DIR / "healthy", tmp_path / "healthy")
    code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--objective", "healthy",
                             "--program", "bottoms-up", "--format", "json", "--compiled", str(tmp_path))
    assert code == 0, err
    assert _page(out)["stats"]["compiled"].endswith("healthy/bottoms-up.json")


def test_a_stale_default_file_warns_and_runs_bare(monkeypatch, capsys, tmp_path):
    """A stale file in the default folder is reported on stderr; the page is still made, uncompiled."""
    stale = tmp_path / "relevance" / "top-down.json"
    stale.parent.mkdir(parents=True)
    state = json.loads((COMPILED_DIR / "relevance" / "top-down.json").read_text())
    first = next(iter(state["metadata"]["themepage"]["fingerprints"]))
    state["metadata"]["themepage"]["fingerprints"][first] = "0" * 64
    stale.write_text(json.dumps(state))
    monkeypatch.setattr("themepage.optimize.compiled_files.COMPILED_DIR", tmp_path)
    code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--format", "json")
    assert code == 0, err
    assert "warning:" in err and "running the bare program" in err
    assert _page(out)["stats"]["compiled"] is None


def test_batch_names_the_compiled_file_on_every_page(monkeypatch, capsys, tmp_path):
    out = tmp_path / "pages.jsonl"
    code, _, err = run_cli(monkeypatch, capsys, "batch", "--out", str(out), "--program", "bottoms-up",
                           "--objective", "discovery", "--users", str(_users(tmp_path, [1, 2])))
    assert code == 0, err
    pages = [json.loads(line) for line in out.read_text().splitlines()]
    assert [p["stats"]["compiled"] for p in pages] == ["compiled/discovery/bottoms-up.json"] * 2


def _users(folder, ids):
    path = folder / "users.txt"
    path.write_text("".join(f"{i}\n" for i in ids))
    return path
