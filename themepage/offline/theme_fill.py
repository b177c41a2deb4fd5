"""How full a row of products that clearly belong under its title the catalog can give each bank theme.

A discovery page is only worth publishing when each row's products plainly are what its title says:
"Kombucha & Kefir" fills with kombucha and kefir, while "January Reset" or "Mocktail Hour" fill only with
products a merchandiser would call arguable (fit 0.5-0.8), and "Mushroom Lovers" with one mushroom (the page
rules keep near-duplicates apart). The planner weighs this, so that such themes give way to ones that fill.
Computed once per index from the catalog and the core placement scorer (no shopper, no labels).
"""

from __future__ import annotations

import numpy as np

from themepage.constants import CLEAR_FIT, PRODUCTS_PER_PLACEMENT, ROW_DUPLICATE_CHANCE
from themepage.index import CatalogIndex
from themepage.offline.memo import derived
from themepage.library.theme_bank import BankTheme, load_theme_bank
from themepage.quality import placement_scorer

HITS_PER_QUERY = 40
"""Catalog products each of a theme's queries reads (within the theme's aisles)."""
MOST_CLEAR = 30
"""The best-fitting clear fits a theme's distinct row is chosen from (bounds the pair work)."""


def clear_row_share(theme: BankTheme, index: CatalogIndex) -> float:
    """In [0, 1]: the share of a full row (PRODUCTS_PER_PLACEMENT) of distinct, clearly fitting products the catalog
    gives this bank theme (1.0 for a theme not in the default bank: nothing to judge it by)."""
    row = clear_rows(index).get(theme.id)
    return 1.0 if row is None else len(row) / PRODUCTS_PER_PLACEMENT


def clear_rows(index: CatalogIndex) -> dict[str, list[int]]:
    """Every default bank theme's `clear_row`, computed once per index."""
    return derived(index, "theme_clear_rows", _all_clear_rows)


def _all_clear_rows(index: CatalogIndex) -> dict[str, list[int]]:
    return {theme.id: clear_row(theme, index) for theme in load_theme_bank()}


def clear_row(theme: BankTheme, index: CatalogIndex) -> list[int]:
    """Up to PRODUCTS_PER_PLACEMENT distinct products (no pair at ROW_DUPLICATE_CHANCE, as the page rules), best fit
    first, that clearly fit the theme's title, among its queries' hits in its aisles: what the catalog shows under
    this title at its best."""
    aisles = index.aisle_ids(theme.aisles) or None
    hits = list(dict.fromkeys(p for q in theme.queries for p in index.search(q, k=HITS_PER_QUERY, aisles=aisles)))
    if not hits:
        return []
    scorer = placement_scorer(index)
    fits = scorer.product_fits(theme.title, scorer.evidence(hits))
    order = np.argsort(-fits, kind="stable")
    clear = [hits[i] for i in order[:MOST_CLEAR] if fits[i] >= CLEAR_FIT]
    if len(clear) < 2:
        return clear
    chances = _pair_chances(scorer, clear)
    row: list[int] = []
    for i in range(len(clear)):
        if all(chances[j, i] < ROW_DUPLICATE_CHANCE for j in row):
            row.append(i)
            if len(row) == PRODUCTS_PER_PLACEMENT:
                break
    return [clear[i] for i in row]


def _pair_chances(scorer, product_ids: list[int]) -> np.ndarray:
    """Upper-triangular matrix of the pair model's near-duplicate chance of every pair (i < j)."""
    _, chances = scorer.duplicate_chances(scorer.evidence(product_ids))
    n = len(product_ids)
    matrix = np.zeros((n, n))
    matrix[np.triu_indices(n, k=1)] = chances
    return matrix
