"""The page rules as a check: every rule a finished page breaks, one line each (tests and audits use it)."""

from __future__ import annotations

from collections.abc import Sequence

from themepage.dataset.history import UserHistory
from themepage.page import Placement
from themepage.programs.row_text import MAX_TITLE_WORDS, has_raw_aisle, is_sentence
from themepage.programs.rules.apply import MIN_TITLE_FIT
from themepage.programs.rules.duplicates import bought_both
from themepage.programs.rules.row_lengths import clearly_fits_half
from themepage.programs.rules.shape import Intent, PageRules, intent_of, permitted_products
from themepage.quality import placement_scorer


def page_violations(placements: Sequence[Placement], rules: PageRules, index, history: UserHistory,
                    allow_short: bool = False) -> list[str]:
    """Every page rule each placement breaks, one line each (empty: the page keeps every rule)."""
    scorer = placement_scorer(index)
    allowed = permitted_products(index, history)
    bought = frozenset(history.product_counts)

    def near_duplicates(product_ids: list[int], across_rows: bool = True) -> list[tuple[int, int]]:
        """Flagged pairs; across rows, pairs of two products the shopper bought are left out (`rules.duplicates`)."""
        pairs = scorer.near_duplicates(scorer.evidence(product_ids))
        return [pair for pair in pairs if not across_rows or pair[0] == pair[1] or not bought_both(pair, bought)]

    problems = []
    if len(placements) > rules.placements:
        problems.append(f"{len(placements)} rows, more than {rules.placements}")
    ids = [p.product_id for placement in placements for p in placement.products]
    if len(ids) > rules.page_size:
        problems.append(f"{len(ids)} products, more than {rules.page_size}")
    if len(ids) != len(set(ids)):
        problems.append("a product appears twice on the page")
    if len(ids) > 1 and (page_pairs := near_duplicates(ids)):
        problems.append(f"near-duplicates across the page: {page_pairs}")
    intents: list[tuple[str, Intent]] = []
    for placement in placements:
        row = [p.product_id for p in placement.products]
        name = placement.title
        fewest = rules.fewest_products or rules.products_per_placement
        most = rules.most_products or rules.products_per_placement
        if len(row) > most or (len(row) < fewest and not allow_short):
            problems.append(f"{name!r}: {len(row)} products, not {rules.products_per_placement} "
                            f"(at least {fewest}, at most {most})")
        if len(row) > 1 and near_duplicates(row, across_rows=rules.bought_twins_share_a_row):
            problems.append(f"{name!r}: near-duplicates in the row")
        fits = list(scorer.product_fits(name, scorer.evidence(row))) if row else []
        misfits = [p for p, fit in zip(row, fits, strict=True) if fit < MIN_TITLE_FIT]
        if misfits:
            problems.append(f"{name!r}: products that do not belong under the title: {misfits}")
        if row and not clearly_fits_half(name, fits, rules.products_per_placement):
            problems.append(f"{name!r}: fewer than half a row clearly belongs under the title")
        barred = [p for p in row if not allowed(p)]
        if barred:
            problems.append(f"{name!r}: restricted products {barred} for a shopper who never bought there")
        if len(name.split()) > MAX_TITLE_WORDS or has_raw_aisle(name):
            problems.append(f"{name!r}: title too long or a raw aisle name")
        if not is_sentence(placement.rationale):
            problems.append(f"{name!r}: rationale is not a sentence: {placement.rationale!r}")
        intent = intent_of(name, row, index)
        if any(intent.same_as(other) or name.casefold() == title.casefold() for title, other in intents):
            problems.append(f"{name!r}: same intent (or title) as an earlier row")
        intents.append((name, intent))
    return problems
