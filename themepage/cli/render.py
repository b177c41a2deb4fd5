"""Readable terminal output: a page as titled rows of products, and results as tables.

Text from data, an LM or an exception is printed literally (escaped); markup is only in our own strings.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from themepage.index import CatalogIndex
from themepage.page import Page
from themepage.redact import redact


def render_page(page: Page, index: CatalogIndex, console: Console) -> None:
    console.print(f"[bold]Page for user {page.user_id}[/bold]  program={escape(page.program)}  "
                  f"objective={escape(page.objective)}")
    for n, placement in enumerate(page.placements, 1):
        console.print(f"\n[bold cyan]{n}. {escape(placement.title)}[/bold cyan]")
        if placement.rationale:
            console.print(f"   [dim]{escape(placement.rationale)}[/dim]")
        for product in placement.products:
            aisle = index.catalog.aisle(product.product_id)
            console.print(f"   - {escape(product.name)} [dim]({escape(aisle)})[/dim]")
    s = page.stats
    line = f"\n[dim]{s.total_ms:.0f} ms"
    if s.lm_calls:
        line += f" | {s.lm_calls} LM calls, {s.prompt_tokens} prompt + {s.completion_tokens} completion tokens"
    if s.cost_usd:
        line += f" | ${s.cost_usd:.4f}"
    if s.fallbacks:
        line += f" | fallbacks: {escape(redact('; '.join(s.fallbacks)))}"
    console.print(line + "[/dim]")


def results_table(title: str, rows: dict[str, dict[str, float]]) -> Table:
    """Metrics as rows, programs as columns (stays readable on a narrow terminal)."""
    metrics = list(dict.fromkeys(k for values in rows.values() for k in values))
    table = Table(title=escape(title))
    table.add_column("metric")
    for program in rows:
        table.add_column(escape(program), justify="right")
    for metric in metrics:
        table.add_row(escape(metric), *[_fmt(values.get(metric)) for values in rows.values()])
    return table


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)
