"""A planned theme's aisles read from its queries, for a theme whose declared aisles repeat an earlier theme's.

A real model writing free themes often declares one aisle list for every theme of its plan ("Soft Drinks for
Afternoon Snacks", "Frozen Foods" and "Energy Bars" all in specialty cheeses, crackers and fruit vegetable snacks)
while its queries say what each theme is about ("soft drinks", "frozen meals", "energy bars"). Read from the
aisles alone, every such theme repeats the first one's intent and gives way, and the code fills the page. Here a
theme whose declared intent repeats a kept one is given the aisles its queries' catalog matches mostly live in;
it stays a repeat, and gives way, when those say the same. Where the queries find products is the catalog's
answer, not a word in a product's name: an aisle counts only when it holds most of one query's best matches.
"""

from __future__ import annotations

from collections import Counter

from themepage.index import CatalogIndex
from themepage.page import Theme

QUERY_MATCHES = 10
"""Best catalog matches read per query."""
MOST_MATCHES = 0.5
"""An aisle is a query's aisle when it holds more than this share of the query's matches."""
GROUNDED_AISLES = 3
"""Aisles a theme grounded on its queries keeps, as a free theme declares at most."""


def query_aisles(theme: Theme, index: CatalogIndex) -> list[str]:
    """The aisles holding most of each query's best catalog matches, in query order, each once."""
    aisles: list[str] = []
    for query in theme.queries:
        hits = index.search(query, k=QUERY_MATCHES)
        if not hits:
            continue
        aisle, count = Counter(index.catalog.aisle(p) for p in hits).most_common(1)[0]
        if count / len(hits) > MOST_MATCHES and aisle not in aisles:
            aisles.append(aisle)
    return aisles[:GROUNDED_AISLES]


def grounded_on_queries(theme: Theme, index: CatalogIndex) -> Theme | None:
    """The theme about the aisles its queries find, or None when they find none or the ones it declares."""
    aisles = query_aisles(theme, index)
    if not aisles or set(aisles) == set(theme.aisles):
        return None
    return theme.model_copy(update={"aisles": aisles})
