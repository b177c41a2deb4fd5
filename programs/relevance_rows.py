"""Rows of a next-basket page (an objective weighing recall@48 or ndcg@48 most, such as relevance): each row
holds as much of the shopper's likely buying as its theme allows, and the page as a whole holds what a plain
list of their most bought products (P-TopFreq) would.

The planned themes are ordered by how much of the shopper's buying their rows could hold (`by_own_mass`), so a
row about aisles they rarely buy ("Your Household Refills" for a shopper of yogurt and cereal) is a last
resort, and each row leads with the shopper's own products of its theme (`relevance_draft`). Whether each
product fits the row's title, and near-duplicates among the shopper's regulars, stay the page rules' call.

A themed row stops at the shopper's own products of its theme (never fewer than the objective's fewest per
row) rather than padding with products they never bought, and the catch-all row grows by the slots it leaves
(up to the most per row), so the page keeps its size and the slots go to their regulars (`with_row_sizes`).
The catch-all regulars row opens the page but is filled last (`catch_all_last`, `catch_all_first`): it is the
one row that may hold any product, so it takes the shopper's likeliest products that no themed row holds,
whether no planned theme is about their aisle, a themed row was full, or the page rules passed one over in its
themed row. It keeps the shopper's LEAD_RESERVED likeliest products whatever the themed rows could hold
(`reserve_for_lead`): the top of the page, which ndcg@48 weighs most, is their likeliest buying. Filled first
and whole, it took their likeliest products whatever the themed rows would hold, and every regular of an aisle
without a row beyond those was lost to the page; filled last with nothing kept, the likeliest products sank
into themed rows further down the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

import numpy as np

from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex
from themepage.objectives.config import Constraints
from themepage.page import Placement, Theme
from themepage.page.lm_share import made_by_code
from themepage.programs.row_text import readable_title
from themepage.programs.rules.shape import RowDraft

LEAD_RESERVED = 4
"""The shopper's likeliest products the catch-all lead keeps whatever the themed rows could hold: the top of the
page, which ndcg@48 weighs most. The rest of the lead is what the themed rows leave (`catch_all_last`)."""


def own_products(theme: Theme, pool: list[int], history: UserHistory, index: CatalogIndex) -> list[int]:
    """The shopper's products a row about this theme may hold, likeliest first (P-TopFreq).

    A catch-all theme may hold any of them; a theme about some aisles, all of theirs in those aisles (not only
    the retrieved ones: a shopper with thirty dairy regulars keeps them) and any retrieval found elsewhere.
    Whether each fits the row's title is the page rules' call.
    """
    ranked = history.top_products()
    if not theme.aisles:
        return ranked
    reach = set(pool)
    return [p for p, inside in zip(ranked, _in_aisles(ranked, theme, index), strict=True) if inside or p in reach]


def _in_aisles(products: list[int], theme: Theme, index: CatalogIndex) -> list[bool]:
    """Whether each product sits in one of the theme's aisles, read from the catalog's columns at once (the
    themes of a page ask this of every product the shopper bought, several times over)."""
    if not products:
        return []
    ids = np.asarray(products, dtype=np.int64)
    row_of = index.catalog.row_of
    rows = row_of[np.clip(ids, 0, len(row_of) - 1)]
    unknown = (ids < 0) | (ids >= len(row_of)) | (rows < 0)
    if unknown.any():
        raise KeyError(f"unknown product id {products[int(np.argmax(unknown))]}")
    aisles = np.asarray(index.aisle_ids(theme.aisles), dtype=np.int64)
    return np.isin(np.asarray(index.catalog.aisle_ids)[rows], aisles).tolist()


def own_mass(own: list[int], history: UserHistory, covered: set[int], size: int) -> int:
    """How much of the shopper's buying a row could show: the purchase counts of the `size` likeliest of its own
    products (`own_products`) that no earlier row covers."""
    return sum(history.product_counts[p] for p in _uncovered(own, covered)[:size])


def _uncovered(own: list[int], covered: set[int]) -> list[int]:
    return [p for p in own if p not in covered]


def by_own_mass(themes: list[Theme], history: UserHistory, index: CatalogIndex, size: int) -> list[Theme]:
    """The themes of a next-basket page, reordered so the rows shown hold the most of the shopper's buying.

    The catch-all lead keeps its place and its LEAD_RESERVED likeliest products (`reserve_for_lead`); then,
    greedily, the theme whose row would hold the most purchases not yet covered, each covering its `size`
    likeliest; themes holding none of them follow in their planned order (a row about aisles they never buy is
    a last resort). The planner's themes all come before the retrieval themes the code adds to a short plan
    (`made_by_code`), ordered the same way among themselves: the page shows the LM's themes first.
    """
    lead = [t for t in themes[:1] if not t.aisles]
    covered = set(history.top_products(LEAD_RESERVED)) if lead else set()
    ordered, others = list(lead), [t for t in themes if t not in lead]
    owned = {id(t): own_products(t, [], history, index) if t.aisles else [] for t in others}

    def mass(theme: Theme) -> int:  # 0 for a catch-all: it leads anyway
        return own_mass(owned[id(theme)], history, covered, size) if theme.aisles else 0

    for code_made in (False, True):
        rest = [t for t in others if made_by_code(t.rationale) == code_made]
        while rest:
            best = max(rest, key=mass)
            if mass(best) == 0:
                break
            ordered.append(best)
            rest.remove(best)
            covered |= set(_uncovered(owned[id(best)], covered)[:size])
        ordered += rest
    return ordered


def relevance_draft(draft: RowDraft, theme: Theme, history: UserHistory, index: CatalogIndex) -> RowDraft:
    """A row of a next-basket objective: the shopper's own products of its theme first, then the LM's picks."""
    own = own_products(theme, draft.pool, history, index)
    return RowDraft(draft.title, draft.rationale, list(dict.fromkeys([*own, *draft.picks])),
                    list(dict.fromkeys([*own, *draft.pool])))


def reserve_for_lead(themes: list[Theme], drafts: list[RowDraft], history: UserHistory,
                     size: int) -> tuple[list[RowDraft], frozenset[int]]:
    """The drafts with the shopper's likeliest products kept for the catch-all lead (`themes[0]` about no aisle),
    and the `size` products the lead will open with (held).

    The kept products are taken out of every themed row's picks and pool, so the lead, filled last, still opens
    with them: at least LEAD_RESERVED, more when the shopper's products no themed row could take are fewer than
    the lead's `size`, so the lead never pads with products they never bought. The page rules are told all the
    held products (`apply_page_rules(held=)`), so no themed row takes one from its reserve, nor a near-duplicate
    of one that would cost the lead its slot."""
    if not (themes[:1] and not themes[0].aisles and drafts):
        return drafts, frozenset()
    claimed = {p for d in drafts[1:] for p in (*d.picks, *d.pool)}
    ranked = history.top_products()
    free = sum(p not in claimed for p in ranked)
    kept: set[int] = set()
    for product in ranked:
        if len(kept) >= LEAD_RESERVED and len(kept) + free >= size:
            break
        if product in claimed:
            kept.add(product)
        elif len(kept) < LEAD_RESERVED:
            kept.add(product)
            free -= 1
    themed = [replace(d, picks=[p for p in d.picks if p not in kept], pool=[p for p in d.pool if p not in kept])
              for d in drafts[1:]]
    rest = [p for p in ranked if p not in claimed and p not in kept][:max(0, size - len(kept))]
    return [drafts[0], *themed], frozenset(kept) | frozenset(rest)


def catch_all_last(themes: list[Theme], drafts: list[RowDraft], spares: Iterable[RowDraft]) -> Iterator[RowDraft]:
    """The drafts in the order the page rules fill them on a next-basket page: the themed rows, then the
    catch-all lead (`themes[0]` about no aisle), then the spares. The lead then holds the shopper's likeliest
    products the themed rows do not; `catch_all_first` puts it back at the top of the page."""
    lead = drafts[:1] if themes[:1] and not themes[0].aisles else []
    yield from drafts[len(lead):]
    yield from lead
    yield from spares


def catch_all_first(placements: list[Placement], themes: list[Theme], drafts: list[RowDraft]) -> list[Placement]:
    """The placements with the catch-all lead's row (when `themes[0]` is one and it was kept) first again."""
    if not (themes[:1] and not themes[0].aisles and drafts):
        return placements
    title = readable_title(drafts[0].title)
    lead = [p for p in placements if p.title == title]
    return [*lead, *[p for p in placements if p.title != title]]


def with_row_sizes(themes: list[Theme], drafts: list[RowDraft], history: UserHistory,
                   shape: Constraints) -> list[RowDraft]:
    """The drafts of a next-basket page with their rows' lengths (`RowDraft.size`).

    Each themed row is as long as the shopper's own products it leads with that no earlier themed row does
    (between the fewest per row and the usual length); the catch-all lead (`themes[0]` about no aisle) grows by
    the slots they leave, up to the most per row and to as many of the shopper's products as they leave for it
    (beyond those it would pad with products they never bought, as the themed rows would). Slots it cannot take
    go back to the themed rows, last first. A page without a catch-all lead keeps the usual lengths.
    """
    usual = shape.products_per_placement
    if not (themes[:1] and not themes[0].aisles and drafts):
        return drafts
    taken: set[int] = set()
    sizes = []
    for draft in drafts[1:]:
        own = [p for p in draft.picks if p in history.product_counts and p not in taken][:usual]
        taken.update(own)
        sizes.append(max(shape.min_products_per_placement, min(usual, len(own))))
    left = sum(usual - size for size in sizes)
    room = max(usual, min(shape.max_products_per_placement, sum(p not in taken for p in history.product_counts)))
    lead = min(room, usual + left)
    left -= lead - usual
    for i in reversed(range(len(sizes))):
        back = min(left, usual - sizes[i])
        sizes[i] += back
        left -= back
    return [replace(drafts[0], size=lead), *[replace(d, size=n) for d, n in zip(drafts[1:], sizes, strict=True)]]
