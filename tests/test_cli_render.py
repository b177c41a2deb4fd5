"""Text pages wrap under their row; the results table shows counts as integers, a legend and the gate."""

import io
from types import SimpleNamespace

import pytest
from cli_runner import run_cli
from fake_pages import fake_page
from rich.console import Console

from themepage.cli.render import format_value, render_page, results_table


def rendered(renderable_or_page, width=40) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None)
    if hasattr(renderable_or_page, "placements"):
        index = SimpleNamespace(catalog=SimpleNamespace(aisle=lambda product_id: "crackers"))
        render_page(renderable_or_page, index, console)  # type: ignore[arg-type]
    else:
        console.print(renderable_or_page)
    return buffer.getvalue()


def test_long_rationale_and_product_wrap_indented():
    page = fake_page(1, product="Whole Grain Rosemary Olive Oil Crackers Family Size")
    page.placements[0].rationale = "because you buy crackers almost every week and these go with cheese"
    lines = rendered(page).splitlines()
    start = lines.index("1. Snacks")
    rationale, products = lines[start + 1:start + 3], lines[start + 3:start + 6]
    assert all(line.startswith("   ") and line[3] != " " for line in rationale)
    assert products[0].startswith("   - Whole Grain") and products[1].startswith("     ") and products[1][5] != " "


def test_no_line_of_a_text_page_ends_in_a_space():
    """rich pads padded and gridded lines to the console's width, and keeps the spaces where it wraps."""
    page = fake_page(1, product="Whole Grain Rosemary Olive Oil Crackers Family Size",
                     title="A title long enough to wrap past forty columns")
    page.placements[0].rationale = "because you buy crackers almost every week and these go with cheese"
    page.stats.compiled = "compiled/relevance/top-down.json"
    lines = rendered(page).splitlines()
    assert "   - Whole Grain Rosemary Olive Oil" in lines  # still wrapped and indented under the row
    assert [line for line in lines if line.endswith(" ")] == []


def test_generate_text_lines_end_without_spaces(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--program", "repurchase")
    assert code == 0, err
    assert "Buy It Again" in out
    assert [line for line in out.splitlines() if line.endswith(" ")] == []


@pytest.mark.parametrize("metric, value, shown", [
    ("lm_calls", 12.0, "12"), ("lm_calls", 2.5, "2.5"), ("prompt_tokens", 123456.7, "123,457"),
    ("completion_tokens", 1500.0, "1,500"), ("latency_ms", 1234.56, "1,235"), ("latency_ms", 12.4, "12"),
    ("cost_usd", 0.00123, "$0.0012"), ("recall@48", 0.52345, "0.523"), ("fallbacks", 0.0, "0"), ("ndcg@48", None, "-"),
])
def test_format_value(metric, value, shown):
    assert format_value(metric, value) == shown


def test_table_has_a_legend_and_the_gate_beside_the_score():
    table = results_table("3 users", {"top-down": {"objective_score": 0.4, "duplicate_share": 0.1, "lm_calls": 7.0}},
                          gate=0.3, pass_threshold=0.45)
    text = rendered(table, width=80)
    assert "objective_score ↑ (gate 0.30, pass 0.45)" in text
    assert "duplicate_share ↓" in text and "lm_calls ↓" in text and "higher is better" in text
