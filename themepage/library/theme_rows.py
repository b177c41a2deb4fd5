"""What the catalog shows under each library theme: the row its queries find in its aisles.

A discovery page is worth more when each row's products plainly are what its title says, and a theme whose
queries find too little in its aisles cannot give a full row. Suiting themes to a shopper (neighbourhood.py)
weighs the row's size, and how near the shopper's taste its products lie. Read from retrieval alone (the
theme's queries, BM25, in its aisles), never from the placement scorer the metrics grade pages with.
"""

from __future__ import annotations

from themepage.constants import PRODUCTS_PER_PLACEMENT
from themepage.index import CatalogIndex
from themepage.index.derived import derived
from themepage.index.lexical import text_tokens
from themepage.library.theme_bank import BankTheme, load_theme_bank

HITS_PER_QUERY = 40
"""Catalog products each of a theme's queries reads (within the theme's aisles)."""


def row_share(theme: BankTheme, index: CatalogIndex) -> float:
    """In [0, 1]: the share of a full row (PRODUCTS_PER_PLACEMENT) the theme's queries find (1.0 for a theme not
    in the default library: nothing to judge it by)."""
    row = theme_rows(index).get(theme.id)
    return 1.0 if row is None else len(row) / PRODUCTS_PER_PLACEMENT


def theme_rows(index: CatalogIndex) -> dict[str, list[int]]:
    """Every default library theme's `theme_row`, computed once per index."""
    return derived(index, "theme_rows", _all_theme_rows)


def _all_theme_rows(index: CatalogIndex) -> dict[str, list[int]]:
    return {theme.id: theme_row(theme, index) for theme in load_theme_bank()}


def theme_row(theme: BankTheme, index: CatalogIndex) -> list[int]:
    """Up to PRODUCTS_PER_PLACEMENT products the theme's queries find by name in its aisles (as a row may hold:
    `programs.retrieval.query_hits`), taken in turn from each query's hits (best first) so every query has its
    say, each product once."""
    aisles = index.aisle_ids(theme.aisles) or None
    name = index.catalog.name
    hits = [[p for p in index.search(q, k=HITS_PER_QUERY, aisles=aisles) if words & text_tokens(name(p))]
            for q in theme.queries for words in [text_tokens(q)]]
    row: list[int] = []
    for rank in range(HITS_PER_QUERY):
        for found in hits:
            if rank < len(found) and found[rank] not in row:
                row.append(found[rank])
                if len(row) == PRODUCTS_PER_PLACEMENT:
                    return row
    return row
