"""The command line end to end, through the console entry point."""

import json

import pytest
from cli_runner import run_cli


def test_data_check_summarizes(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "data", "check")
    assert code == 0
    assert "valid" in out and "49,688" in out and "evaluation cases" in out


def test_data_check_names_bad_file(monkeypatch, capsys, tiny_data_dir):
    (tiny_data_dir / "orders.csv").unlink()
    code, _, err = run_cli(monkeypatch, capsys, "data", "check", "--data", str(tiny_data_dir))
    assert code == 2 and "orders.csv" in err and "Traceback" not in err


def test_generate_text_and_json(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--program", "repurchase")
    assert code == 0 and "Buy It Again" in out and "Page for user 1" in out
    code, out, _ = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--program", "popular", "--format", "json")
    page = json.loads(out)
    assert code == 0 and page["user_id"] == 1 and page["program"] == "popular"
    assert sum(len(p["products"]) for p in page["placements"]) == 48


@pytest.mark.parametrize("args, message", [
    (["generate", "--user", "999999"], "unknown user 999999"),
    (["generate", "--user", "1", "--program", "nope"], "unknown program 'nope'"),
    (["generate", "--user", "1", "--data", "/nonexistent/dir"], "data directory not found"),
    (["evaluate", "--programs", "repurchase,nope"], "unknown program 'nope'"),
])
def test_clear_errors(monkeypatch, capsys, args, message):
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code != 0 and message in err and "Traceback" not in err


def test_batch_writes_a_page_per_user(monkeypatch, capsys, tmp_path):
    out = tmp_path / "pages.jsonl"
    code, _, err = run_cli(monkeypatch, capsys, "batch", "--program", "repurchase", "--out", str(out))
    lines = out.read_text().splitlines()
    assert code == 0 and len(lines) == 33 and "wrote 33 pages" in err
    assert len({json.loads(line)["user_id"] for line in lines}) == 33


def test_evaluate_writes_json(monkeypatch, capsys, tmp_path):
    out = tmp_path / "eval.json"
    code, stdout, _ = run_cli(monkeypatch, capsys, "evaluate", "--programs", "repurchase,popular", "--json", str(out))
    result = json.loads(out.read_text())
    assert code == 0 and result["users"] == 33
    assert set(result["programs"]) == {"repurchase", "popular"}
    for key in ("recall@10", "recall@20", "recall@48", "ndcg@48"):
        assert 0 <= result["programs"]["repurchase"][key] <= 1
    assert result["programs"]["repurchase"]["recall@48"] == pytest.approx(0.523, abs=0.0005)
    assert result["programs"]["repurchase"]["recall@48"] > result["programs"]["popular"]["recall@48"]
    assert "recall@48" in stdout


def test_evaluate_shows_its_bars_without_dspys_log_lines(monkeypatch, capfd):
    """dspy.Evaluate logs "Average Metric: ..." per run; between the progress bars those lines read as noise."""
    code, out, err = run_cli(monkeypatch, capfd, "evaluate", "--programs", "repurchase", "--users", "dev")
    assert code == 0 and "recall@48" in out
    assert "Average Metric" not in out + err
