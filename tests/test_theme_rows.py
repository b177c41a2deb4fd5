"""What the catalog shows under each library theme (themepage/library/theme_rows.py: its queries' hits in its
aisles) and how suiting themes to a shopper asked for discovery weighs it: among themes that fill, the one whose
products lie nearer the shopper's taste than shoppers' at large gains (neighbourhood.taste_fit)."""

from __future__ import annotations

import numpy as np
import pytest

from themepage.constants import PRODUCTS_PER_PLACEMENT
from themepage.index.lexical import query_tokens, text_tokens
from themepage.library.neighbourhood import _percentiles, _usual_closeness, taste_fit
from themepage.library.theme_bank import BankTheme, load_theme_bank
from themepage.library.theme_rows import HITS_PER_QUERY, row_share, theme_row, theme_rows


def _theme(theme_id: str) -> BankTheme:
    return next(t for t in load_theme_bank() if t.id == theme_id)


def test_a_themes_row_is_its_queries_hits_in_its_aisles_each_query_in_turn(index):
    """Each query's first hit that its name holds a query word of, in turn (a query matching only the aisle's name
    finds the shelf, not the product)."""
    theme = _theme("frozen-fruit-smoothies")
    row = theme_row(theme, index)
    assert len(row) == len(set(row)) == PRODUCTS_PER_PLACEMENT
    aisles = set(index.aisle_ids(theme.aisles))
    assert all(index.catalog.aisle_ids[index.catalog.row(p)] in aisles for p in row)
    name = index.catalog.name
    firsts = [next(p for p in index.search(q, k=HITS_PER_QUERY, aisles=list(aisles))
                   if text_tokens(name(p)) & set(query_tokens(q))) for q in theme.queries]
    assert row[:len(firsts)] == list(dict.fromkeys(firsts))[:len(row)]
    assert theme_rows(index)[theme.id] == row and row_share(theme, index) == 1.0


def test_a_theme_its_queries_cannot_fill_has_a_short_row(index):
    theme = _theme("frozen-fruit-smoothies")
    assert theme_row(theme.model_copy(update={"queries": ["zzzqx", "qqzzx"]}), index) == []
    one = theme.model_copy(update={"queries": [theme.queries[0], "zzzqx"]})
    assert 0 < len(theme_row(one, index)) <= PRODUCTS_PER_PLACEMENT


def test_a_theme_outside_the_default_bank_is_not_judged(index):
    stranger = _theme("frozen-fruit-smoothies").model_copy(update={"id": "not-in-the-bank"})
    assert row_share(stranger, index) == 1.0


def test_percentiles_rank_from_zero_to_one():
    assert _percentiles(np.array([3.0, 1.0, 2.0])).tolist() == [1.0, 0.0, 0.5]


def test_taste_fit_is_the_theme_rows_lift_over_shoppers_at_large(index):
    theme = _theme("frozen-fruit-smoothies")
    rows = index.rows(theme_rows(index)[theme.id])
    usual = _usual_closeness(index)
    nearer = usual.copy()
    nearer[rows] = np.minimum(1.0, usual[rows] + 0.1)
    expected = float(np.mean(nearer[rows] - usual[rows]))
    assert expected > 0.05
    assert taste_fit(theme, nearer, index) == pytest.approx(expected)
    assert taste_fit(theme, usual, index) == pytest.approx(0.0)
    assert taste_fit(theme, None, index) == 0.0
