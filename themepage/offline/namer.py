"""The offline answer to NamePlacement: a bank theme only when its aisles hold most of the products, else a
title from what the products have in common (`themepage.shelf_title`). The bank is a grocery store's, so a
store of another kind (`themepage.store.store_of`) never gets its titles."""

from __future__ import annotations

from collections import Counter

from themepage.index import CatalogIndex
from themepage.offline.prompt import Prompt
from themepage.offline.reading import read_named_products, words
from themepage.offline.theme_bank import load_theme_bank
from themepage.shelf_title import aisle_departments, common_title
from themepage.store import store_of

BANK_COVERAGE = 0.75
"""Share of the products a bank theme's aisles must hold for its title to name the group: under a theme
chosen on a third of its products ("Hydration Station" over water, pistachios and paper towels) most of
the row does not belong."""


def name(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    products = [(n, aisle.lower()) for n, aisle in read_named_products(prompt.inputs["products"])]
    aisles = Counter(aisle for _, aisle in products)
    name_words = Counter(w for product, _ in products for w in words(product))
    best, best_score = None, 0.0
    bank = load_theme_bank() if store_of(index).grocery else ()
    for theme in bank:
        if "personal" in theme.tags:
            continue
        aisle_share = sum(aisles[a] for a in theme.aisles) / max(1, len(products))
        if aisle_share < BANK_COVERAGE:
            continue
        query_hits = sum(name_words[w] for q in theme.queries for w in words(q)) / max(1, len(products))
        score = aisle_share + 0.5 * min(1.0, query_hits)
        if score > best_score:
            best, best_score = theme, score
    if best is not None:
        return {"title": best.title, "rationale": best.description}
    shelf = aisle_departments(index)
    title, rationale = common_title([n for n, _ in products], [a for _, a in products],
                                   [shelf.get(a, "") for _, a in products], index)
    return {"title": title, "rationale": rationale}
