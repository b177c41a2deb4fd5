"""Rows the code makes when the drafts run out: the shopper's top aisles, then the best-selling aisles; and the
best sellers by aisle that extend a row's pool when near-duplicates used it up (both read once per index)."""

from __future__ import annotations

import weakref

from themepage.dataset.history import UserHistory
from themepage.programs.rules.shape import RowDraft, permitted_products
from themepage.wording.aisle_labels import readable_aisle

AISLE_EXTENSION = 4000
"""Best sellers a row's pool is extended with (those of its own aisles), when near-duplicates used it up."""


def fallback_drafts(index, history: UserHistory, n: int) -> list[RowDraft]:
    """Rows of the shopper's top aisles, then of the best-selling aisles, titled with readable aisle labels."""
    own = history.top_products()
    allowed = permitted_products(index, history)
    ranked = [p for p in [*own, *index.popular(400)] if allowed(p)]
    mine = {index.catalog.aisle_id(p) for p in own}
    drafts = []
    for aisle in list(dict.fromkeys(index.catalog.aisle_id(p) for p in ranked))[:n]:
        label = readable_aisle(index.catalog.aisles[aisle])
        picks = [p for p in own if index.catalog.aisle_id(p) == aisle]
        more = [p for p in best_sellers_by_aisle(index).get(aisle, []) if p not in set(picks)]
        if aisle in mine:
            drafts.append(RowDraft(f"Your {label}", f"You often buy {label.lower()}, so here are your picks and "
                                                   "a few more.", picks, more))
        else:
            drafts.append(RowDraft(f"Popular {label}", f"Shoppers here often buy {label.lower()}.", picks, more))
    return drafts


_BEST_SELLERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_BY_AISLE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def aisle_best_sellers(index) -> list[int]:
    """The AISLE_EXTENSION best sellers, read once per index."""
    found = _BEST_SELLERS.get(index)
    if found is None:
        found = _BEST_SELLERS[index] = index.popular(AISLE_EXTENSION)
    return found


def best_sellers_by_aisle(index) -> dict[int, list[int]]:
    """`aisle_best_sellers` grouped by aisle id, best first (read once per index)."""
    found = _BY_AISLE.get(index)
    if found is None:
        found = {}
        for pid in aisle_best_sellers(index):
            found.setdefault(index.catalog.aisle_id(pid), []).append(pid)
        _BY_AISLE[index] = found
    return found
