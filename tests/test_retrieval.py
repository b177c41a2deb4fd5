"""Retrieval for a catalog theme: the candidates that clearly belong under its title come first."""

from __future__ import annotations

import numpy as np

from themepage.constants import CANDIDATES_PER_THEME, CLEAR_FIT
from themepage.dataset.history import UserHistory
from themepage.library.theme_bank import load_theme_bank
from themepage.page import Theme
from themepage.programs.retrieval import FIT_DEPTH, clear_fits_first, gather, retrieve_for_theme
from themepage.programs.rules.duplicates import EvidenceCache
from themepage.quality import placement_scorer


def _bank_theme(bank_id: str) -> Theme:
    found = next(t for t in load_theme_bank() if t.id == bank_id)
    return Theme(title=found.title, queries=list(found.queries), aisles=list(found.aisles))


def _fits(index, title: str, pool: list[int]) -> list[float]:
    return EvidenceCache(placement_scorer(index)).fits(title, pool)


def test_clear_fits_fill_the_prompt_when_the_catalog_has_them(index):
    """Avocados sell less than the fruit of their aisles: retrieval order alone shows bananas and pears under
    "Avocado Everything"; ranked by fit, every shown candidate is one a merchandiser says belongs."""
    history = index.histories.get(index.histories.user_ids[0])
    theme = _bank_theme("avocado-everything")
    deeper = gather(index, theme, history, FIT_DEPTH * CANDIDATES_PER_THEME)
    assert sum(f >= CLEAR_FIT for f in _fits(index, theme.title, deeper)) >= CANDIDATES_PER_THEME
    unranked = _fits(index, theme.title, deeper[:CANDIDATES_PER_THEME])
    assert min(unranked) < CLEAR_FIT, "the fixture must show arguable products in retrieval order"
    pool = retrieve_for_theme(index, theme, history, CANDIDATES_PER_THEME)
    assert len(pool) == CANDIDATES_PER_THEME
    assert min(_fits(index, theme.title, pool)) >= CLEAR_FIT


def test_clear_fits_come_first_and_the_rest_keep_their_order(index):
    history = index.histories.get(index.histories.user_ids[0])
    theme = _bank_theme("mocktail-hour")
    pool = retrieve_for_theme(index, theme, history, CANDIDATES_PER_THEME)
    clear = [f >= CLEAR_FIT for f in _fits(index, theme.title, pool)]
    assert clear == sorted(clear, reverse=True)
    gathered = gather(index, theme, history, FIT_DEPTH * CANDIDATES_PER_THEME)
    rest = [p for p, c in zip(pool, clear, strict=True) if not c]
    assert rest == [p for p in gathered if p in set(rest)]


def test_a_theme_from_history_keeps_retrieval_order(index):
    history = index.histories.get(index.histories.user_ids[0])
    theme = _bank_theme("avocado-everything").model_copy(update={"from_history": True})
    assert retrieve_for_theme(index, theme, history, 12) == gather(index, theme, history, 12)


def test_a_one_aisle_theme_without_queries_draws_only_on_its_aisle(index):
    """A planner slot's theme (one aisle, no queries): when the shopper's own products there run short, the
    aisle's best sellers fill the pool, not the store's (milk and raspberries topped up a 'Chip Staples' row)."""
    aisle = "fresh dips tapenades"
    theme = Theme(title="Fresh Dips & Hummus", aisles=[aisle])
    pool = gather(index, theme, UserHistory(user_id=0), CANDIDATES_PER_THEME)
    assert len(pool) == CANDIDATES_PER_THEME
    assert {index.catalog.aisle(p) for p in pool} == {aisle}


def test_a_history_theme_short_of_own_products_takes_what_the_shopper_is_likely_to_want_next(index):
    """After the shopper's own products of its aisles, a history theme's pool holds the never-bought products of
    those aisles nearest their taste (`likely_in`), before query hits: a 'Your Drink Fridge' row of someone who
    buys two sodas was topped up with the store's 'Tea' and 'Sparkling lemon'."""
    history = index.histories.get(index.histories.user_ids[0])
    theme = _bank_theme("your-drinks-fridge").model_copy(update={"from_history": True})
    aisles = set(index.aisle_ids(theme.aisles))
    own = [p for p in history.top_products() if index.catalog.aisle_id(p) in aisles]
    assert len(own) < CANDIDATES_PER_THEME, "the fixture needs a shopper short of their own drinks"
    pool = gather(index, theme, history, CANDIDATES_PER_THEME)
    likely = index.likely_in(history, aisles, CANDIDATES_PER_THEME - len(own))
    assert pool[:len(own)] == own
    assert pool[len(own):] == likely[:len(pool) - len(own)]


def test_likely_in_ranks_unbought_products_of_the_aisles_by_the_shoppers_taste(index):
    history = index.histories.get(index.histories.user_ids[0])
    aisle = index.catalog.aisle_id(history.top_products(1)[0])
    found = index.likely_in(history, {aisle}, 10)
    assert len(found) == 10 and len(set(found)) == 10
    assert all(index.catalog.aisle_id(p) == aisle and p not in history.product_counts for p in found)
    profile = index.profile(history)
    taste = [float(index.vector(p) @ profile) for p in found]
    others = [p for p in index.popular_in([aisle], 200) if p not in history.product_counts and p not in found]
    # the taste part of the score (popularity only nudges): the found ten lie nearer than the aisle's typical product
    assert np.mean(taste) > np.mean([float(index.vector(p) @ profile) for p in others])
    assert index.likely_in(history, set(), 10) == []


def _taste(index, history, pool: list[int]) -> list[float]:
    """Cosine of each product's co-purchase vector with the shopper's taste profile, computed here directly."""
    profile = index.profile(history)
    out = []
    for p in pool:
        vector = index.vectors[index.rows([p])[0]]
        out.append(float(vector @ profile / np.linalg.norm(vector)))
    return out


def test_clear_fits_come_nearest_the_shoppers_taste_first(index):
    """Among the products a title clearly promises, the shopper's taste decides the order (the discovery
    objective asks new products to suit their tastes); two shoppers see the same clear fits in different orders."""
    theme = _bank_theme("avocado-everything")
    orders = []
    for user in index.histories.user_ids[:2]:
        history = index.histories.get(user)
        pool = retrieve_for_theme(index, theme, history, CANDIDATES_PER_THEME)
        clear = [p for p, f in zip(pool, _fits(index, theme.title, pool), strict=True) if f >= CLEAR_FIT]
        assert len(clear) >= 5
        taste = _taste(index, history, clear)
        assert taste == sorted(taste, reverse=True)
        orders.append(clear)
    assert orders[0] != orders[1]


def test_without_a_history_clear_fits_keep_retrieval_order(index):
    theme = _bank_theme("mocktail-hour")
    empty = UserHistory(user_id=0)
    gathered = gather(index, theme, empty, FIT_DEPTH * CANDIDATES_PER_THEME)
    ranked = clear_fits_first(index, theme.title, gathered, empty)
    clear = set(p for p, f in zip(gathered, _fits(index, theme.title, gathered), strict=True) if f >= CLEAR_FIT)
    assert ranked[:len(clear)] == [p for p in gathered if p in clear]
