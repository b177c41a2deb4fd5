"""One page as a self-contained HTML file: rows of product cards, titles, rationales, objective and stats.

A placement is marked as a fallback when the page's `stats.fallbacks` names its title (`fill 'T'`,
`filter 'T'`) or a page-level step fell back (the top-down plan, the bottoms-up generate step), as
`themepage.lm.runtime.RunRecord.fallback` records them. Fallbacks that name no row are listed with the stats.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from themepage.page import Page, Placement
from themepage.report.html_text import data_credit, document, esc

PAGE_LEVEL_PHASES = ("plan", "generate")
"""Fallback phases after which no row on the page comes from the LM's own plan."""
FALLBACK_PREFIX = "fallback in "

CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --warn:#b44d12; --warn-bg:#fff4e5; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       background: #f5f7fa; }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 16px 24px; }
header h1 { margin: 8px 0 4px; font-size: 26px; }
.chips span { display: inline-block; margin: 2px 6px 2px 0; padding: 2px 10px; border-radius: 999px;
              background: #e3ecfa; color: #1d4ed8; font-size: 13px; }
.objective { color: var(--muted); margin: 6px 0 0; }
section.row { background: #fff; border: 1px solid var(--line); border-radius: 12px; margin: 0 0 18px;
              padding: 14px 16px; }
section.row.fallback { border-color: #f0b37e; background: var(--warn-bg); }
.row h2 { margin: 0; font-size: 19px; overflow-wrap: anywhere; }
.row .rationale { margin: 2px 0 10px; color: var(--muted); overflow-wrap: anywhere; }
.badge { display: inline-block; margin-left: 8px; padding: 1px 8px; border-radius: 6px; font-size: 12px;
         font-weight: 600; vertical-align: middle; background: var(--warn); color: #fff; }
.why { margin: 0 0 8px; font-size: 13px; color: var(--warn); overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px;
         list-style: none; margin: 0; padding: 0; }
.card { border: 1px solid var(--line); border-radius: 10px; background: #fff; overflow: hidden; }
.card .swatch { height: 54px; display: flex; align-items: center; justify-content: center; color: #fff;
                font-size: 24px; font-weight: 700; }
.card .body { padding: 8px 10px 10px; }
.card .name { font-weight: 600; font-size: 14px; overflow-wrap: anywhere; }
.card .aisle, .card .dept { font-size: 12px; color: var(--muted); overflow-wrap: anywhere; }
footer table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
footer td, footer th { padding: 4px 12px; border-bottom: 1px solid var(--line); text-align: left; }
footer td.num { text-align: right; font-variant-numeric: tabular-nums; }
footer ul { color: var(--warn); overflow-wrap: anywhere; }
.note { color: var(--muted); font-size: 12px; }
"""


@dataclass(frozen=True)
class RowFallbacks:
    """Which rows fell back and why: causes per title, and the page-level causes that touch every row."""

    by_title: dict[str, list[str]]
    page_level: list[str]
    unattributed: list[str]

    def causes(self, title: str) -> list[str]:
        return self.page_level + self.by_title.get(title, [])


def row_fallbacks(page: Page) -> RowFallbacks:
    """Sort the page's fallback messages into page-level, per-row (by quoted title) and unattributed."""
    titles = [p.title for p in page.placements]
    by_title: dict[str, list[str]] = {}
    page_level: list[str] = []
    unattributed: list[str] = []
    for message in page.stats.fallbacks:
        phase, _, rest = message.removeprefix(FALLBACK_PREFIX).partition(" ")
        phase = phase.rstrip(":")
        named = [t for t in titles if rest.startswith(f"'{t}': ")]
        if named:
            by_title.setdefault(max(named, key=len), []).append(message)
        elif phase in PAGE_LEVEL_PHASES:
            page_level.append(message)
        else:
            unattributed.append(message)
    return RowFallbacks(by_title, page_level, unattributed)


def swatch_color(department: str) -> str:
    """A stable, readable colour per department (white text on it stays legible)."""
    hue = int(hashlib.blake2b(department.encode("utf-8", "replace"), digest_size=2).hexdigest(), 16) % 360
    return f"hsl({hue}, 55%, 42%)"


def _card(product_id: int, name: str, catalog) -> str:
    aisle = _lookup(catalog, "aisle", product_id)
    department = _lookup(catalog, "department", product_id)
    initial = esc(name.strip()[:1].upper() or "?")
    return (f'<li class="card" data-product-id="{int(product_id)}"><div class="swatch" '
            f'style="background:{swatch_color(department)}">{initial}</div><div class="body">'
            f'<div class="name">{esc(name)}</div><div class="aisle">{esc(aisle)}</div>'
            f'<div class="dept">{esc(department)}</div></div></li>')


def _lookup(catalog, what: str, product_id: int) -> str:
    """The product's aisle or department name; 'unknown' for an id the catalog does not hold."""
    if catalog is None or product_id not in catalog:
        return f"unknown {what}"
    return str(getattr(catalog, what)(product_id))


def _row(number: int, placement: Placement, causes: list[str], catalog) -> str:
    marked = " fallback" if causes else ""
    badge = '<span class="badge">fallback</span>' if causes else ""
    why = "".join(f'<p class="why">{esc(c)}</p>' for c in causes)
    cards = "".join(_card(p.product_id, p.name, catalog) for p in placement.products)
    rationale = f'<p class="rationale">{esc(placement.rationale)}</p>' if placement.rationale else ""
    return (f'<section class="row{marked}" data-row="{number}"><h2>{esc(placement.title)}{badge}</h2>'
            f'{rationale}{why}<ul class="cards">{cards}</ul></section>')


def _stats(page: Page, unattributed: list[str]) -> str:
    s = page.stats
    rows = [("LM calls", f"{s.lm_calls:,}"), ("prompt tokens", f"{s.prompt_tokens:,}"),
            ("completion tokens", f"{s.completion_tokens:,}"), ("latency", f"{s.total_ms:,.0f} ms")]
    rows += [(f"phase: {phase}", f"{ms:,.0f} ms") for phase, ms in s.timings_ms.items() if phase != "total"]
    if s.cost_usd:
        rows.append(("cost", f"${s.cost_usd:.4f}"))
    rows.append(("fallbacks", str(len(s.fallbacks))))
    rows.append(("program", f"compiled: {s.compiled}" if s.compiled else "bare (uncompiled)"))
    table = "".join(f'<tr><th>{esc(k)}</th><td class="num">{esc(v)}</td></tr>' for k, v in rows)
    other = "".join(f"<li>{esc(m)}</li>" for m in unattributed)
    return (f'<h2>How this page was made</h2><table class="stats">{table}</table>'
            + (f'<p>Fallbacks not tied to one row:</p><ul class="fallbacks">{other}</ul>' if other else ""))


def objective_description(name: str) -> str:
    """The objective's one-line description from its config, or '' when no such objective is bundled."""
    from themepage.objectives import ObjectiveError, load_objective

    try:
        return load_objective(name).description
    except (ObjectiveError, OSError):
        return ""


def page_html(page: Page, catalog=None, store=None, objective_note: str | None = None) -> str:
    """The page as one self-contained HTML document; `catalog` supplies aisles and departments, `store` (a
    `themepage.dataset.store_kind.Store`; None: Instacart's) the footer's credit."""
    fallbacks = row_fallbacks(page)
    note = objective_description(page.objective) if objective_note is None else objective_note
    rows = "".join(_row(n, placement, fallbacks.causes(placement.title), catalog)
                   for n, placement in enumerate(page.placements, 1))
    header = (f"<header><h1>Picked for shopper {int(page.user_id)}</h1><div class=\"chips\">"
              f"<span>program: {esc(page.program)}</span><span>objective: {esc(page.objective)}</span>"
              f"<span>{len(page.placements)} placements</span><span>{len(page.product_ids())} products</span></div>"
              + (f'<p class="objective">Objective: {esc(note)}</p>' if note else "") + "</header>")
    footer = f"<footer>{_stats(page, fallbacks.unattributed)}<p class=\"note\">{data_credit(store)}</p></footer>"
    return document(f"Page for shopper {page.user_id}", CSS, f"{header}\n<main>{rows}</main>\n{footer}")
