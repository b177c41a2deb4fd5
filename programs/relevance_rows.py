"""Rows of a next-basket page (an objective weighing recall@48 or ndcg@48 most, such as relevance): each row
holds as much of the shopper's likely buying as its theme allows.

The planned themes are ordered by how much of the shopper's buying their rows could hold (`by_own_mass`), so a
row about aisles they rarely buy ("Your Household Refills" for a shopper of yogurt and cereal) is a last
resort, and each row leads with the shopper's own products of its theme (`relevance_draft`). Whether each
product fits the row's title, and near-duplicates among the shopper's regulars, stay the page rules' call.
"""

from __future__ import annotations

from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex
from themepage.page import Theme
from themepage.programs.rules.shape import RowDraft


def own_products(theme: Theme, pool: list[int], history: UserHistory, index: CatalogIndex) -> list[int]:
    """The shopper's products a row about this theme may hold, likeliest first (P-TopFreq).

    A catch-all theme may hold any of them; a theme about some aisles, all of theirs in those aisles (not only
    the retrieved ones: a shopper with thirty dairy regulars keeps them) and any retrieval found elsewhere.
    Whether each fits the row's title is the page rules' call.
    """
    ranked = history.top_products()
    if not theme.aisles:
        return ranked
    aisles = set(index.aisle_ids(theme.aisles))
    reach = set(pool)
    return [p for p in ranked if p in reach or index.catalog.aisle_id(p) in aisles]


def own_mass(theme: Theme, history: UserHistory, index: CatalogIndex, covered: set[int], size: int) -> int:
    """How much of the shopper's buying a row of this theme could show: the purchase counts of their `size`
    likeliest products in its aisles that no earlier row covers (0 for a catch-all: it leads anyway)."""
    if not theme.aisles:
        return 0
    return sum(history.product_counts[p] for p in _uncovered(theme, history, index, covered)[:size])


def _uncovered(theme: Theme, history: UserHistory, index: CatalogIndex, covered: set[int]) -> list[int]:
    return [p for p in own_products(theme, [], history, index) if p not in covered]


def by_own_mass(themes: list[Theme], history: UserHistory, index: CatalogIndex, size: int) -> list[Theme]:
    """The themes of a next-basket page, reordered so the rows shown hold the most of the shopper's buying.

    The catch-all lead keeps its place and covers the shopper's `size` likeliest products; then, greedily, the
    theme whose row would hold the most purchases not yet covered, each covering its `size` likeliest; themes
    holding none of them follow in their planned order (a row about aisles they never buy is a last resort).
    """
    lead = [t for t in themes[:1] if not t.aisles]
    covered = set(history.top_products(size)) if lead else set()
    rest, ordered = [t for t in themes if t not in lead], list(lead)
    while rest:
        best = max(rest, key=lambda t: own_mass(t, history, index, covered, size))
        if own_mass(best, history, index, covered, size) == 0:
            break
        ordered.append(best)
        rest.remove(best)
        covered |= set(_uncovered(best, history, index, covered)[:size])
    return ordered + rest


def relevance_draft(draft: RowDraft, theme: Theme, history: UserHistory, index: CatalogIndex) -> RowDraft:
    """A row of a next-basket objective: the shopper's own products of its theme first, then the LM's picks."""
    own = own_products(theme, draft.pool, history, index)
    return RowDraft(draft.title, draft.rationale, list(dict.fromkeys([*own, *draft.picks])),
                    list(dict.fromkeys([*own, *draft.pool])))
