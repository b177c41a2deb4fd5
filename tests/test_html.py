"""HTML pages and reports: every untrusted text escaped, fallback rows marked, numbers hand-checked."""

import json

import pytest
from cli_runner import run_cli
from hostile import CLOSING_TITLE, HOSTILE_NAME, SCRIPT_TITLE, SURROGATE_TITLE, hostile_page, texts_of

from themepage.metrics.ranking import recall_at_k
from themepage.page import PageStats
from themepage.report import UserRecord, page_html, report_html
from themepage.report.html_text import REPLACEMENT, clean, esc
from themepage.report.page_html import row_fallbacks
from themepage.report.stats import mean_recall_curve, recall_curve


def test_escape_cleans_surrogates_controls_and_markup():
    assert esc("<a href='x'>\"&") == "&lt;a href=&#x27;x&#x27;&gt;&quot;&amp;"
    assert clean("a\ud800b\x00c\td") == f"a{REPLACEMENT}b{REPLACEMENT}c\td"


def test_page_html_escapes_every_untrusted_text(index):
    document = page_html(hostile_page(), index.catalog)
    document.encode("utf-8")  # a lone surrogate left in would raise here
    assert "<script" not in document and "<img" not in document and "<b>" not in document
    titles, starts = texts_of(document, "h2")
    assert titles[:3] == [SCRIPT_TITLE, CLOSING_TITLE, SURROGATE_TITLE.replace("\ud800", REPLACEMENT)]
    assert starts["section"] == 3 and starts["li"] == 4  # no injected section or element
    names, _ = texts_of(document, "li")
    assert names[0].startswith(HOSTILE_NAME[:1].upper()) and HOSTILE_NAME in names[0]


def test_cards_show_aisle_and_department(index):
    document = page_html(hostile_page(), index.catalog)
    cards, _ = texts_of(document, "li")
    assert index.catalog.aisle(24852) in cards[0] and index.catalog.department(24852) in cards[0]
    assert "unknown aisle" in cards[3] and "unknown department" in cards[3]


def test_stats_are_shown(index):
    cells, _ = texts_of(page_html(hostile_page(), index.catalog), "td")
    assert cells[:4] == ["7", "4,321", "210", "1,234 ms"]


def test_rows_named_by_a_fallback_are_marked(index):
    page = hostile_page([f"fallback in fill '{CLOSING_TITLE}': no valid candidate ids",
                         "fallback in name: empty title; titled after the main aisle"])
    sorted_ = row_fallbacks(page)
    assert list(sorted_.by_title) == [CLOSING_TITLE] and sorted_.page_level == []
    assert sorted_.unattributed == ["fallback in name: empty title; titled after the main aisle"]
    document = page_html(page, index.catalog)
    assert document.count('class="row fallback"') == 1
    assert document.index('class="row fallback"') > document.index('data-row="1"')
    assert "titled after the main aisle" in document


def test_a_plan_fallback_marks_every_row(index):
    page = hostile_page(["fallback in plan: TimeoutError: no answer"])
    document = page_html(page, index.catalog)
    assert document.count('class="row fallback"') == 3 and document.count(">fallback</span>") == 3


def test_no_fallback_no_mark(index):
    assert 'class="row fallback"' not in page_html(hostile_page(), index.catalog)


def test_recall_curve_by_hand():
    # distinct reading order 1, 2, 3, 4; basket {1, 3, 9}
    assert recall_curve([1, 2, 1, 3, 4], [1, 3, 9], 5) == pytest.approx([1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3])
    assert recall_curve([1, 2], [], 3) == [0.0, 0.0, 0.0]
    assert mean_recall_curve([([1], [1]), ([2], [1])], 2) == [0.5, 0.5]


@pytest.mark.parametrize("ranked, target", [([5, 1, 5, 2, 9, 8], [1, 8, 7]), ([], [1]), ([3, 3, 3], [3])])
def test_recall_curve_agrees_with_the_metric(ranked, target):
    curve = recall_curve(ranked, target, 6)
    assert curve == pytest.approx([recall_at_k(ranked, target, k) for k in range(1, 7)])


def _records():
    stats = {"timings_ms": {"total": 100.0}, "lm_calls": 3, "prompt_tokens": 1000, "completion_tokens": 50}
    return {
        "top-down": [UserRecord(user_id=1, ranked=[1, 2, 3], target=[1, 3], stats=PageStats(**stats),
                                scores={"objective_score": 0.6, "cohesion": 0.5, "diversity": 0.2, "novelty": 0.1}),
                     {"user_id": 2, "ranked": [4], "target": [5], "stats": stats,
                      "scores": {"objective_score": 0.2, "cohesion": 0.3, "diversity": 0.4, "novelty": 0.3}}],
        "<b>popular</b>": [{"user_id": 1, "ranked": [3, 1], "target": [1, 3],
                            "scores": {"objective_score": 0.9, "cohesion": 0.1, "diversity": 0.9, "novelty": 0.0}}],
    }


def test_report_tables_by_hand():
    document = report_html(_records(), meta={"objective": "relevance"}, max_k=5)
    assert "<b>popular" not in document and "&lt;b&gt;popular&lt;/b&gt;" in document
    rows, starts = texts_of(document, "tr")
    # top-down: user 1 finds 1 at K=1 and 3 at K=3 (of 2), user 2 nothing -> recall@1 = 0.25, @5 = 0.5
    assert "top-down 0.250 0.500" in rows
    assert "<b>popular</b> 0.500 1.000" in rows
    assert "top-down 2 0.400 [0.200, 0.600]" in rows  # objective: mean of 0.6 and 0.2; bootstrap spans both
    assert any(r.startswith("top-down 0.400 [0.300, 0.500] 0.300 [0.200, 0.400]") for r in rows)
    assert any(r.startswith("top-down 2 3.0 1,000 50 - 100 100 100 0.00") for r in rows)
    assert starts["svg"] == 6 and starts["polyline"] == 2  # recall, objective, 3 side by side, latency


def test_cli_generate_html(monkeypatch, capsys, tmp_path, index):
    out = tmp_path / "page.html"
    code, _, _ = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--format", "html", "--out", str(out))
    page_json = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--format", "json")[1]
    titles, _ = texts_of(out.read_text(encoding="utf-8"), "h2")
    assert code == 0 and titles[:-1] == [p["title"] for p in json.loads(page_json)["placements"]]


def test_cli_generate_out_needs_a_file_format(monkeypatch, capsys, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--out", str(tmp_path / "x"))
    assert code == 2 and "--format json or --format html" in err


def test_cli_evaluate_report(monkeypatch, capsys, tmp_path):
    report, out = tmp_path / "report.html", tmp_path / "eval.json"
    code, _, err = run_cli(monkeypatch, capsys, "evaluate", "--programs", "repurchase,popular",
                           "--report", str(report), "--json", str(out))
    rows, starts = texts_of(report.read_text(encoding="utf-8"), "tr")
    means = json.loads(out.read_text())["programs"]
    assert code == 0 and "wrote the report" in err and starts["svg"] == 6
    assert f"repurchase 33 {means['repurchase']['objective_score']:.3f}" in " | ".join(rows)
    assert any(r.startswith("repurchase ") and f" {means['repurchase']['recall@10']:.3f} " in r for r in rows)


def test_cli_batch_html(monkeypatch, capsys, tmp_path):
    folder = tmp_path / "html"
    code, _, err = run_cli(monkeypatch, capsys, "batch", "--program", "repurchase", "--out",
                           str(tmp_path / "p.jsonl"), "--html", str(folder))
    assert code == 0 and len(list(folder.glob("user-*.html"))) == 33 and str(folder) in err
