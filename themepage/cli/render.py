"""Readable terminal output: a page as titled rows of products, and results as tables.

Text from data, an LM or an exception is printed literally (Text objects or escaped); markup is only
in our own strings. Long rationales and product names wrap under their row, indented; no line of a page
ends in a space (rich pads padded and gridded lines to the console's width).
"""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.segment import Segment, Segments
from rich.table import Table
from rich.text import Text

from themepage.index import CatalogIndex
from themepage.lm.redact import redact
from themepage.page import Page

INDENT = 3
LOWER_IS_BETTER = ("lm_calls", "prompt_tokens", "completion_tokens", "cost_usd", "latency_ms", "fallbacks",
                   "duplicate_share")
"""Per metrics.scores, duplicate_share is the one page score where lower is better; the rest are costs."""
COUNTS = ("lm_calls", "prompt_tokens", "completion_tokens", "fallbacks")


def _indented(text: Text) -> Padding:
    """Text whose every line, wrapped ones included, starts under its row's title."""
    return Padding(text, (0, 0, 0, INDENT))


def _bullet(text: Text) -> Padding:
    """'- text' with wrapped lines aligned under the text, not the dash."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    grid.add_row("-", text)
    return Padding(grid, (0, 0, 0, INDENT))


def _without_trailing_spaces(line: list[Segment]) -> list[Segment]:
    """The line's segments with the spaces at its end removed (styles kept)."""
    line = list(line)
    while line and not line[-1].control and not line[-1].text.rstrip(" "):
        line.pop()
    if line and not line[-1].control:
        line[-1] = Segment(line[-1].text.rstrip(" "), line[-1].style)
    return line


def print_trimmed(console: Console, renderable: RenderableType | str) -> None:
    """Print as console.print would (markup in a str), each line without trailing spaces."""
    shown = console.render_str(renderable) if isinstance(renderable, str) else renderable
    lines = [[*_without_trailing_spaces(line), Segment.line()] for line in console.render_lines(shown, pad=False)]
    console.print(Segments([segment for line in lines for segment in line]))


def render_page(page: Page, index: CatalogIndex, console: Console) -> None:
    compiled = f"  compiled={escape(page.stats.compiled)}" if page.stats.compiled else ""
    print_trimmed(console, f"[bold]Page for user {page.user_id}[/bold]  program={escape(page.program)}  "
                           f"objective={escape(page.objective)}{compiled}")
    for n, placement in enumerate(page.placements, 1):
        print_trimmed(console, f"\n[bold cyan]{n}. {escape(placement.title)}[/bold cyan]")
        if placement.rationale:
            print_trimmed(console, _indented(Text(placement.rationale, style="dim")))
        for product in placement.products:
            aisle = index.catalog.aisle(product.product_id)
            print_trimmed(console, _bullet(Text.assemble(product.name, " ", (f"({aisle})", "dim"))))
    s = page.stats
    line = f"\n[dim]{s.total_ms:.0f} ms"
    if s.lm_calls:
        line += f" | {s.lm_calls} LM calls, {s.prompt_tokens:,} prompt + {s.completion_tokens:,} completion tokens"
    if s.cost_usd:
        line += f" | ${s.cost_usd:.4f}"
    if s.fallbacks:
        line += f" | fallbacks: {escape(redact('; '.join(s.fallbacks)))}"
    print_trimmed(console, line + "[/dim]")


def results_table(title: str, rows: dict[str, dict[str, float]], gate: float | None = None,
                  pass_threshold: float | None = None) -> Table:
    """Metrics as rows, programs as columns (stays readable on a narrow terminal), with a legend.

    `gate` and `pass_threshold` (the objective's) are shown beside the objective score.
    """
    metrics = list(dict.fromkeys(k for values in rows.values() for k in values))
    table = Table(title=escape(title), caption="↑ higher is better, ↓ lower is better")
    table.add_column("metric")
    for program in rows:
        table.add_column(escape(program), justify="right")
    for metric in metrics:
        table.add_row(_metric_label(metric, gate, pass_threshold),
                      *[format_value(metric, values.get(metric)) for values in rows.values()])
    return table


def _metric_label(metric: str, gate: float | None, pass_threshold: float | None) -> str:
    arrow = "↓" if metric in LOWER_IS_BETTER else "↑"
    label = f"{escape(metric)} {arrow}"
    if metric == "objective_score":
        notes = [f"{name} {value:.2f}" for name, value in (("gate", gate), ("pass", pass_threshold))
                 if value is not None]
        label += f" [dim]({', '.join(notes)})[/dim]" if notes else ""
    return label


def format_value(metric: str, value) -> str:
    """Counts as integers (thousands separated), milliseconds rounded, dollars to 4 places, scores to 3."""
    if value is None:
        return "-"
    if metric in COUNTS:
        return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"
    if metric == "latency_ms":
        return f"{value:,.0f}"
    if metric == "cost_usd":
        return f"${value:.4f}"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)
