"""How much of a page the LM made: placements not replaced by a retrieval fallback, and fallbacks by phase and cause.

Reads only the page (`stats.fallbacks`, titles and rationales), so benches and tests agree on one definition:
- top-down: a placement is the LM's when the LM planned its theme and chose its products: not when its theme
  is one the code added (a retrieval row of `themepage.programs.rules.fallback_rows.fallback_drafts`, added for a
  short plan or for rows the page rules dropped, or the regulars row `themepage.programs.top_down.REGULARS_THEME`
  that a next-basket objective opens with when the planner planned none: both recognised by their fixed
  rationales), and not
  when its fill fell back ("fallback in fill '<title>'"). A filter fallback keeps the filler's picks, so the
  placement stays the LM's. A row the LM planned from the shopper's history lists their regulars first
  (`themepage.programs.top_down.regulars_first`) whatever the filler picked; it counts as the LM's (it chose the theme).
- bottoms-up: no placement is the LM's when GenerateItems fell back (the products are retrieval's order),
  else every placement whose name did not fall back.
"""

from __future__ import annotations

import re
from collections import Counter

from themepage.page import Page

REGULARS_RATIONALE = "The products you buy most often, the likeliest first."
"""The rationale of the regulars row the code adds (programs.top_down.REGULARS_THEME reads it from here)."""
CODE_RATIONALES = re.compile(r"^(?:You often buy .+, so here are your picks and a few more\.|"
                             r"Shoppers here often buy .+\.|" + re.escape(REGULARS_RATIONALE) + r")$")
"""Rationales of rows the code made: programs.rules.fallback_rows.fallback_drafts' two sentences, and the regulars
row."""
_FALLBACK = re.compile(r"^fallback in (?P<phase>[a-z_]+)(?: '(?P<title>.*)')?: (?P<cause>.*)$")


def made_by_code(rationale: str) -> bool:
    """Whether a top-down row with this rationale is one the code made (CODE_RATIONALES), not the planner."""
    return bool(CODE_RATIONALES.match(rationale))


def parse_fallback(entry: str) -> tuple[str, str | None, str]:
    """(phase, placement title or None, cause) of one `stats.fallbacks` entry."""
    match = _FALLBACK.match(entry)
    if not match:
        return "other", None, entry
    return match["phase"], match["title"], match["cause"]


def cause_kind(cause: str) -> str:
    """A short class of a fallback's cause: the exception name, or the guard's words up to ';' with numbers as N."""
    head = cause.split(":", 1)[0].strip()
    if re.fullmatch(r"[A-Za-z_.]+(Error|Exception|Exceeded|Overflow|Timeout)", head):
        return head
    return re.sub(r"[0-9]+", "N", cause.split(";", 1)[0]).strip()


def fallbacks_by_phase_and_cause(page: Page) -> Counter:
    """Counter of (phase, cause kind) over the page's fallbacks."""
    counts: Counter = Counter()
    for entry in page.stats.fallbacks:
        phase, _, cause = parse_fallback(entry)
        counts[(phase, cause_kind(cause))] += 1
    return counts


def lm_made(page: Page) -> int:
    """Placements of the page the LM made (see the module docstring)."""
    parsed = [parse_fallback(entry) for entry in page.stats.fallbacks]
    if page.program == "bottoms-up":
        if any(phase == "generate" for phase, _, _ in parsed):
            return 0
        return max(0, len(page.placements) - sum(phase == "name" for phase, _, _ in parsed))
    failed_fills = {title for phase, title, _ in parsed if phase == "fill"}
    return sum(not made_by_code(p.rationale) and p.title not in failed_fills for p in page.placements)


def lm_made_share(page: Page) -> float:
    """lm_made / placements, in [0, 1]; 0 for a page without placements."""
    return lm_made(page) / len(page.placements) if page.placements else 0.0
