"""LLM-as-judge scoring: the page as the JudgePage rubric reads it, and the rubric's grades as a score in [0, 1].

The page text format is shared with the offline engine's judge (themepage.offline.judge), which parses
it back; a test round-trips them. No product path runs a judge metric today (the `JudgeMetric` wrapper
was removed as unused); these pure functions are what a judge-based metric would build on.
"""

from __future__ import annotations

from collections.abc import Sequence

from signatures.judge import PlacementVerdict
from themepage.page import Page

# The page text format; themepage.offline.judge parses it back (keep both in step, a test round-trips them).
PLACEMENT_HEADER = "Placement {number}: {title}"
RATIONALE_LINE = "Why: {rationale}"
PRODUCT_LINE = "- {name} ({aisle})"


def render_page_for_judge(page: Page, index) -> str:
    """The page as the judge reads it: numbered placements, each title, rationale and product lines with aisles."""
    blocks = []
    for number, placement in enumerate(page.placements, start=1):
        lines = [PLACEMENT_HEADER.format(number=number, title=" ".join(placement.title.split()))]
        if placement.rationale.strip():
            lines.append(RATIONALE_LINE.format(rationale=" ".join(placement.rationale.split())))
        for product in placement.products:
            name = index.catalog.name(product.product_id) if product.product_id in index.catalog else product.name
            aisle = index.catalog.aisle(product.product_id) if product.product_id in index.catalog else "unknown aisle"
            lines.append(PRODUCT_LINE.format(name=name, aisle=aisle))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def rubric_unit(grade: int) -> float:
    """A 1-5 grade on [0, 1]: (grade - 1) / 4, after clamping to the scale."""
    return (min(5, max(1, int(grade))) - 1) / 4.0


def placement_score(product_names: Sequence[str], verdict: PlacementVerdict) -> float:
    """Mean of the three normalized grades and the on-topic share of the placement's products, in [0, 1].

    Only names that are really in the placement count as off-topic (case-insensitive), at most once each.
    """
    names = {" ".join(n.lower().split()) for n in product_names}
    flagged = {" ".join(n.lower().split()) for n in verdict.off_topic_products} & names
    on_topic = 1.0 - len(flagged) / len(names) if names else 0.0
    grades = (verdict.cohesion, verdict.title_quality, verdict.user_fit)
    return (sum(rubric_unit(g) for g in grades) + on_topic) / 4.0


def judge_score(placements: Sequence[Sequence[str]], verdicts: Sequence[PlacementVerdict]) -> float:
    """Mean `placement_score` over the page's placements (given as product names), in [0, 1].

    Verdicts pair with placements by position; a placement left without a verdict scores 0, extra
    verdicts are ignored. The judge's own `overall` number is not used: the rubric grades are steadier.
    0 for a page without placements.
    """
    if not placements:
        return 0.0
    scores = [placement_score(names, verdicts[i]) if i < len(verdicts) else 0.0 for i, names in enumerate(placements)]
    return sum(scores) / len(placements)
