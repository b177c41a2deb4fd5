"""What the catalog can show under each bank theme (theme_fill.py) and how the discovery planner weighs it: a theme
whose title no row of distinct products clearly fits loses, and among those that fill, the one whose products lie
nearer the shopper's taste than shoppers' at large gains (planner.taste_fit)."""

from __future__ import annotations

import numpy as np
import pytest

from themepage.constants import CLEAR_FIT, PRODUCTS_PER_PLACEMENT
from themepage.offline.planner import _percentiles, _usual_closeness, taste_fit
from themepage.library.theme_bank import BankTheme, load_theme_bank
from themepage.offline.theme_fill import clear_row, clear_row_share, clear_rows
from themepage.quality import placement_scorer


def _theme(theme_id: str) -> BankTheme:
    return next(t for t in load_theme_bank() if t.id == theme_id)


def test_a_fillable_theme_shows_distinct_products_that_clearly_fit_its_title(index):
    theme = _theme("frozen-fruit-smoothies")
    row = clear_row(theme, index)
    scorer = placement_scorer(index)
    assert PRODUCTS_PER_PLACEMENT / 2 <= len(row) <= PRODUCTS_PER_PLACEMENT
    assert min(scorer.product_fits(theme.title, scorer.evidence(row))) >= CLEAR_FIT
    assert scorer.near_duplicates(scorer.evidence(row)) == []
    assert clear_rows(index)[theme.id] == row and clear_row_share(theme, index) == len(row) / PRODUCTS_PER_PLACEMENT


def test_a_concept_theme_no_row_clearly_fits_has_less_than_half_a_row(index):
    assert clear_row_share(_theme("new-year-fresh-start"), index) < 0.5


def test_a_theme_outside_the_default_bank_is_not_judged(index):
    stranger = _theme("frozen-fruit-smoothies").model_copy(update={"id": "not-in-the-bank"})
    assert clear_row_share(stranger, index) == 1.0


def test_percentiles_rank_from_zero_to_one():
    assert _percentiles(np.array([3.0, 1.0, 2.0])).tolist() == [1.0, 0.0, 0.5]


def test_taste_fit_is_the_clear_rows_lift_over_shoppers_at_large(index):
    theme = _theme("frozen-fruit-smoothies")
    rows = index.rows(clear_rows(index)[theme.id])
    usual = _usual_closeness(index)
    nearer = usual.copy()
    nearer[rows] = np.minimum(1.0, usual[rows] + 0.1)
    expected = float(np.mean(nearer[rows] - usual[rows]))
    assert expected > 0.05
    assert taste_fit(theme, nearer, index) == pytest.approx(expected)
    assert taste_fit(theme, usual, index) == pytest.approx(0.0)
    assert taste_fit(theme, None, index) == 0.0
