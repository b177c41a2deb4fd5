"""An evaluation report as one self-contained HTML file: tables and inline SVG plots.

It takes plain data, per program a list of per-user records (ranked product ids, target ids, the
page's scores, the page's stats), so it does not care which loop produced them: the CLI's
evaluation today, `dspy.Evaluate` tomorrow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

from themepage.constants import PAGE_SIZE
from themepage.page import PageStats
from themepage.report.html_text import data_credit, document, esc
from themepage.report.stats import bootstrap_interval, mean_recall_curve, percentile
from themepage.report.svg import interval_chart, line_chart

OBJECTIVE_KEY = "objective_score"
SIDE_BY_SIDE = ("cohesion", "diversity", "novelty")
RECALL_TABLE_KS = (1, 5, 10, 20, 48)

CSS = """
body { margin: 0 auto; max-width: 1100px; padding: 12px 24px 40px; color: #1f2933; background: #fff;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 26px; margin: 12px 0 4px; } h2 { font-size: 19px; margin: 28px 0 8px; }
table { border-collapse: collapse; margin: 8px 0 12px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e4e7eb; text-align: right; font-variant-numeric: tabular-nums; }
th:first-child, td:first-child { text-align: left; } thead th { background: #f5f7fa; }
.meta { color: #52606d; margin: 0; } .plots { display: flex; flex-wrap: wrap; gap: 12px; }
.note { color: #52606d; font-size: 12px; max-width: 820px; } figure { margin: 0; }
"""


class UserRecord(BaseModel):
    """One user's page under one program: what it ranked, what the shopper bought next, its scores and stats."""

    user_id: int
    ranked: list[int] = Field(default_factory=list, description="product ids in page reading order")
    target: list[int] = Field(default_factory=list, description="the real next basket")
    scores: dict[str, float] = Field(default_factory=dict, description="page scores, objective_score included")
    stats: PageStats = Field(default_factory=PageStats)


Results = Mapping[str, Sequence[UserRecord | Mapping]]


def as_records(results: Results) -> dict[str, list[UserRecord]]:
    """Validate plain dicts (or records) into UserRecords, keeping the programs' order."""
    return {name: [r if isinstance(r, UserRecord) else UserRecord.model_validate(r) for r in rows]
            for name, rows in results.items()}


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    header = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _interval_text(row: tuple[float, float, float] | None, digits: int = 3) -> tuple[str, str]:
    if row is None:
        return "-", "-"
    mean, low, high = row
    return f"{mean:.{digits}f}", f"[{low:.{digits}f}, {high:.{digits}f}]"


def score_intervals(records: dict[str, list[UserRecord]], key: str) -> dict[str, tuple[float, float, float] | None]:
    """Per program: the mean of `key` over users that have it, with its bootstrap 95% interval."""
    return {name: bootstrap_interval([r.scores[key] for r in rows if key in r.scores])
            for name, rows in records.items()}


def _recall_section(records: dict[str, list[UserRecord]], max_k: int) -> str:
    curves = {name: mean_recall_curve(((r.ranked, r.target) for r in rows), max_k) for name, rows in records.items()}
    ks = [k for k in RECALL_TABLE_KS if k <= max_k]
    rows = [[name, *(f"{curve[k - 1]:.3f}" for k in ks)] for name, curve in curves.items()]
    return (f"<h2>Recall@K, K = 1..{max_k}</h2><figure>{line_chart(curves, 'K (products read)', 'mean recall@K')}"
            f"</figure>{_table(['program', *(f'recall@{k}' for k in ks)], rows)}"
            '<p class="note">Share of each shopper\'s next basket found in the first K distinct products of the '
            "page (read row by row), averaged over users.</p>")


def _score_section(records: dict[str, list[UserRecord]]) -> str:
    objective = score_intervals(records, OBJECTIVE_KEY)
    rows = [[name, str(len(records[name])), *_interval_text(row)] for name, row in objective.items()]
    parts = ["<h2>Objective score, bootstrap 95% intervals over users</h2>",
             f'<div class="plots">{interval_chart(objective, "objective score", x_max=1.0, width=460)}</div>',
             _table(["program", "users", "mean", "95% interval"], rows),
             "<h2>Cohesion, diversity and novelty</h2>"]
    side = {key: score_intervals(records, key) for key in SIDE_BY_SIDE}
    parts.append('<div class="plots">' + "".join(interval_chart(side[k], k, x_max=1.0, width=340) for k in side)
                 + "</div>")
    table_rows = [[name, *(" ".join(_interval_text(side[k][name])) for k in SIDE_BY_SIDE)] for name in records]
    parts.append(_table(["program", *(f"{k} (mean [95%])" for k in SIDE_BY_SIDE)], table_rows))
    return "".join(parts)


def _cost_section(records: dict[str, list[UserRecord]]) -> str:
    rows, latency = [], {}
    for name, recs in records.items():
        n = max(len(recs), 1)
        ms = [r.stats.total_ms for r in recs]
        cost = sum(r.stats.cost_usd or 0.0 for r in recs) / n
        rows.append([name, str(len(recs)), f"{sum(r.stats.lm_calls for r in recs) / n:.1f}",
                     f"{sum(r.stats.prompt_tokens for r in recs) / n:,.0f}",
                     f"{sum(r.stats.completion_tokens for r in recs) / n:,.0f}",
                     f"${cost:.4f}" if cost else "-", f"{sum(ms) / n:,.0f}", f"{percentile(ms, 50):,.0f}",
                     f"{percentile(ms, 95):,.0f}", f"{sum(len(r.stats.fallbacks) for r in recs) / n:.2f}"])
        latency[name] = bootstrap_interval(ms)
    head = ["program", "pages", "LM calls", "prompt tokens", "completion tokens", "cost", "latency ms (mean)",
            "p50", "p95", "fallbacks"]
    return ("<h2>Cost and latency per page</h2>"
            f'<div class="plots">{interval_chart(latency, "latency per page (ms)", width=460)}</div>'
            + _table(head, rows) + '<p class="note">Per page means; cost only where the LM reported one.</p>')


def report_html(results: Results, title: str = "Evaluation report", meta: Mapping[str, str] | None = None,
                max_k: int = PAGE_SIZE, store=None) -> str:
    """The whole report as one self-contained HTML document; `store` (None: Instacart's) decides the credit."""
    records = as_records(results)
    facts = " · ".join(f"{esc(k)}: {esc(v)}" for k, v in (meta or {}).items())
    body = (f"<h1>{esc(title)}</h1>" + (f'<p class="meta">{facts}</p>' if facts else "")
            + _recall_section(records, max_k) + _score_section(records) + _cost_section(records)
            + '<p class="note">Intervals: percentile bootstrap over users, 2,000 resamples, fixed seed. '
            f"{data_credit(store)}</p>")
    return document(title, CSS, body)
