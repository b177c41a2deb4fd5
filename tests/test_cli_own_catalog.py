"""`themepage data import` turns a made-up hardware store into a data directory that generate and evaluate run on."""

from __future__ import annotations

import json

from cli_runner import run_cli
from test_own_catalog import STORE


def _store(folder):
    folder.mkdir()
    for name, text in STORE.items():
        (folder / name).write_text(text)
    return folder


def test_import_then_generate_and_evaluate(monkeypatch, capsys, tmp_path):
    source, data = _store(tmp_path / "store"), tmp_path / "data"
    code, out, err = run_cli(monkeypatch, capsys, "data", "import", str(source), "--out", str(data))
    assert code == 0, err
    assert "6 products" in out and (data / "products.csv").is_file()

    code, out, err = run_cli(monkeypatch, capsys, "data", "check", "--data", str(data))
    assert code == 0 and "valid" in out and "baskets.csv" in out and "absent" in out, out + err

    for program in ("top-down", "bottoms-up"):
        code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "7", "--data", str(data),
                                 "--program", program, "--format", "json", "--no-compiled")
        assert code == 0, err
        page = json.loads(out)
        hardware = {10, 11, 12, 13, 14, 15}
        assert page["placements"] and {p["product_id"] for row in page["placements"]
                                        for p in row["products"]} <= hardware

    code, out, err = run_cli(monkeypatch, capsys, "evaluate", "--data", str(data), "--programs",
                             "top-down,repurchase", "--json", str(tmp_path / "scores.json"))
    assert code == 0, err
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert set(scores["programs"]) == {"top-down", "repurchase"} and scores["users"] >= 1


def test_import_refuses_a_folder_that_is_not_empty(monkeypatch, capsys, tmp_path):
    source, data = _store(tmp_path / "store"), tmp_path / "data"
    data.mkdir()
    (data / "keep.txt").write_text("mine")
    code, _, err = run_cli(monkeypatch, capsys, "data", "import", str(source), "--out", str(data))
    assert code == 2 and "not empty" in err


def test_import_names_file_and_line_of_bad_input(monkeypatch, capsys, tmp_path):
    source = _store(tmp_path / "store")
    (source / "order_items.csv").write_text("order_id,product_id\n101,abc\n")
    code, _, err = run_cli(monkeypatch, capsys, "data", "import", str(source), "--out", str(tmp_path / "d"))
    assert code == 2 and "order_items.csv line 2, column product_id" in err
