"""Themes for a store that is not a grocery store: read from the catalog's own aisles, not the theme bank.

The grocery theme bank ("Easy Pasta Night") means nothing in a hardware store, so for any other kind of
store a plan reads the shelves: a row of the shopper's regulars, one theme per aisle they buy from
(most of their items first), then the store's best-selling aisles they have not bought from yet. Titles
are the aisles' own names, title-cased (at most six words); queries are the aisle's name and the names of
its best-selling products, so retrieval can fill each theme. Nothing here names a food.
"""

from __future__ import annotations

import numpy as np

from themepage.index import CatalogIndex
from themepage.index.derived import derived
from themepage.library.shopper import Shopper

MAX_TITLE_WORDS = 6
QUERY_PRODUCTS = 3
"""Best-selling products of an aisle whose names become its theme's queries."""
QUERY_WORDS = 3
REGULARS_TITLE = "Buy It Again"


def aisle_title(aisle: str) -> str:
    """An aisle's name as a shopper-facing title: its words title-cased, at most MAX_TITLE_WORDS."""
    return " ".join(aisle.split()[:MAX_TITLE_WORDS]).title() or "Finds"


def _aisle_queries(index: CatalogIndex) -> dict[str, list[str]]:
    """Per aisle (lower-case name): its name and the first words of its best-selling products' names."""
    return derived(index, "catalog_aisle_queries", _count_aisle_queries)


def _count_aisle_queries(index: CatalogIndex) -> dict[str, list[str]]:
    catalog = index.catalog
    aisle_ids = np.asarray(catalog.aisle_ids)
    order = np.argsort(-np.asarray(index.popularity), kind="stable")
    queries: dict[str, list[str]] = {}
    for aisle_id, name in catalog.aisles.items():
        rows = order[aisle_ids[order] == aisle_id][:QUERY_PRODUCTS]
        found = [name.lower()] + [" ".join(catalog.names[int(r)].split()[:QUERY_WORDS]).lower() for r in rows]
        unique = list(dict.fromkeys(q for q in found if q))
        if len(rows):
            queries[name.lower()] = (unique + [name.lower()] * 2)[:max(2, len(unique))]
    return queries


def _best_selling_aisles(index: CatalogIndex) -> list[str]:
    """Aisle names (lower-case), most basket items first."""
    counts = np.bincount(index.catalog.aisle_ids, weights=index.popularity)
    named = [(float(counts[aid]) if aid < len(counts) else 0.0, name.lower())
             for aid, name in index.catalog.aisles.items()]
    return [name for _, name in sorted(named, key=lambda pair: (-pair[0], pair[1]))]


def catalog_themes(shopper: Shopper, index: CatalogIndex, kind: str, wanted: int) -> list[dict[str, object]]:
    """Up to `wanted` themes: the shopper's regulars, their aisles, then the store's best-selling others."""
    queries = _aisle_queries(index)
    themes: list[dict[str, object]] = []
    if not shopper.is_new:
        themes.append({"title": REGULARS_TITLE, "rationale": "From your own orders: what you buy most often.",
                       "queries": [], "aisles": [], "attributes": [], "from_history": True})
    mine = [a for a, _ in sorted(shopper.aisle_shares.items(), key=lambda pair: -pair[1]) if a in queries]
    others = [a for a in _best_selling_aisles(index) if a in queries and a not in mine]
    for aisle in mine + others:
        if len(themes) >= wanted:
            break
        label = aisle_title(aisle)
        rationale = (f"You often shop {label}." if aisle in mine
                     else f"{label}: popular at this {kind}, new to you.")
        themes.append({"title": label, "rationale": rationale, "queries": queries[aisle], "aisles": [aisle],
                       "attributes": [], "from_history": False})
    return themes[:wanted]
