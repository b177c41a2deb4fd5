"""`themepage score-placements`: JSON Lines in, one JSON line per placement out, one-line errors."""

from __future__ import annotations

import json

from cli_runner import run_cli


def _write(tmp_path, *lines: str):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_scores_each_placement_in_order(monkeypatch, capsys, tmp_path, index):
    pasta = index.search("spaghetti penne pasta", 3, aisles=["dry pasta"])
    path = _write(tmp_path, json.dumps({"title": "Easy Pasta Night", "products": pasta, "extra": 1}), "",
                  json.dumps({"title": "Pasta", "products": [{"product_id": pasta[0], "name": "ignored"}]}))
    code, out, err = run_cli(monkeypatch, capsys, "score-placements", str(path))
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2 and len(lines[0]["fit"]) == 3 and len(lines[1]["fit"]) == 1
    for line in lines:
        assert set(line) >= {"fit", "near_duplicates", "title_fit", "publishable"}
        assert all(0.0 <= v <= 1.0 for v in line["fit"] + [line["title_fit"], line["publishable"]])


def test_bad_lines_are_one_line_errors_with_file_and_line(monkeypatch, capsys, tmp_path):
    cases = {'{"title": "x", "products": [1, "a"]}': "in.jsonl:2: a product must be an integer id",
             '{"products": [1]}': 'in.jsonl:2: expected an object with a string "title"',
             'not json': "in.jsonl:2: Expecting value",
             '{"title": "x", "products": [999999999]}': "placement 2: unknown product id 999999999"}
    for bad, message in cases.items():
        path = _write(tmp_path, '{"title": "Fruit", "products": [24852]}', bad)
        code, out, err = run_cli(monkeypatch, capsys, "score-placements", str(path))
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (bad, err)


def test_missing_file_is_a_one_line_error(monkeypatch, capsys, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "score-placements", str(tmp_path / "none.jsonl"))
    assert code == 2 and "none.jsonl: cannot read" in err
