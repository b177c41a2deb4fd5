"""Retrieval for a catalog theme: the candidates that clearly belong under its title come first."""

from __future__ import annotations

import numpy as np

from themepage.constants import CANDIDATES_PER_THEME, CLEAR_FIT
from themepage.dataset.history import UserHistory
from themepage.library.theme_bank import load_theme_bank
from themepage.page import Theme
from themepage.programs import retrieval
from themepage.programs.retrieval import (
    FIT_DEPTH,
    clear_fits_first,
    gather,
    query_hits,
    retrieve_for_theme,
    row_bound,
)
from themepage.programs.rules.duplicates import EvidenceCache
from themepage.programs.rules.row_lengths import MIN_TITLE_FIT
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
    """Found clear fits lead; a product neither found and fitting nor a clear fit keeps retrieval's order after."""
    history = index.histories.get(index.histories.user_ids[0])
    theme = _bank_theme("mocktail-hour")
    found = query_hits(index, theme, FIT_DEPTH * CANDIDATES_PER_THEME)
    pool = retrieve_for_theme(index, theme, history, CANDIDATES_PER_THEME)
    fits = _fits(index, theme.title, pool)
    lead = [f >= CLEAR_FIT and p in found for p, f in zip(pool, fits, strict=True)]
    assert any(lead) and lead == sorted(lead, reverse=True)
    gathered = gather(index, theme, history, FIT_DEPTH * CANDIDATES_PER_THEME)
    rest = [p for p, f in zip(pool, fits, strict=True) if f < CLEAR_FIT and not (p in found and f >= MIN_TITLE_FIT)]
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
    """Among the products a title clearly promises and its queries find, the shopper's taste decides the order (the
    discovery objective asks new products to suit their tastes); two shoppers see them in different orders."""
    theme = _bank_theme("avocado-everything")
    found = query_hits(index, theme, FIT_DEPTH * CANDIDATES_PER_THEME)
    assert found
    orders = []
    for user in index.histories.user_ids[:2]:
        history = index.histories.get(user)
        pool = retrieve_for_theme(index, theme, history, CANDIDATES_PER_THEME)
        clear = [p for p, f in zip(pool, _fits(index, theme.title, pool), strict=True) if f >= CLEAR_FIT and p in found]
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


class _Fits:
    """A stand-in for the fit model: fixed fits per product (hand-set), whatever the title."""

    def __init__(self, fits: dict[int, float]):
        self.table = fits

    def __call__(self, scorer):
        return self

    def fits(self, title: str, ids: list[int]) -> list[float]:
        return [self.table[p] for p in ids]


def test_what_the_queries_find_and_fits_comes_before_aisle_mates_rated_clear(index, monkeypatch):
    """Tiers, by hand: found and clear (3), found and fitting (2), clear but not found (1, 5), the rest in pool
    order (4 found but a misfit, 6). Without `found` the clear fits lead and the rest keep pool order."""
    fits = {1: 0.90, 2: 0.70, 3: 0.95, 4: 0.30, 5: 0.85, 6: 0.60}
    monkeypatch.setattr(retrieval, "EvidenceCache", _Fits(fits))
    pool = [1, 2, 3, 4, 5, 6]
    assert clear_fits_first(index, "Any Title", pool, found={2, 3, 4}) == [3, 2, 1, 5, 4, 6]
    assert clear_fits_first(index, "Any Title", pool) == [1, 3, 5, 2, 4, 6]


def test_a_theme_from_history_or_without_queries_has_no_bound(index):
    theme = _bank_theme("avocado-everything")
    assert row_bound(index, theme.model_copy(update={"from_history": True}), CANDIDATES_PER_THEME) is None
    assert row_bound(index, theme.model_copy(update={"queries": []}), CANDIDATES_PER_THEME) is None


def test_only_a_library_theme_as_the_library_wrote_it_is_bound(index):
    """The library's queries name its row's items: its row holds what they find by name. A model's few queries
    name examples (its own title, or the library's title with other queries): no bound."""
    theme = _bank_theme("avocado-everything")
    found = row_bound(index, theme, CANDIDATES_PER_THEME)
    hits = {p for q in theme.queries for p in index.search(q, k=FIT_DEPTH * CANDIDATES_PER_THEME, aisles=theme.aisles)}
    assert found and found <= hits
    assert row_bound(index, theme.model_copy(update={"queries": theme.queries[:2]}), CANDIDATES_PER_THEME)
    assert row_bound(index, theme.model_copy(update={"title": "Avocado Toast Morning"}), CANDIDATES_PER_THEME) is None
    assert row_bound(index, theme.model_copy(update={"queries": ["guacamole", "zzzqx"]}), CANDIDATES_PER_THEME) is None


def test_a_query_matching_only_the_aisles_name_finds_nothing(index):
    """BM25 reads a product's aisle too: "pancake" reaches every product of the "hot cereal pancake mixes" aisle. Only
    a product whose own name says "pancake" is found; the aisle's oats are not."""
    theme = Theme(title="Pancake Sunday", queries=["pancake"], aisles=["hot cereal pancake mixes"])
    oats = next(p for p in index.catalog.product_ids if index.catalog.name(p) == "Organic Old Fashioned Rolled Oats")
    n = 200
    assert oats in index.search("pancake", k=FIT_DEPTH * n, aisles=theme.aisles)
    found = query_hits(index, theme, FIT_DEPTH * n)
    assert found and oats not in found
    assert all("pancake" in index.catalog.name(p).lower() for p in found)


def test_a_names_tokens_are_the_searchs_tokens(index):
    """`text_tokens` (what query_hits reads of every hit) splits, drops stop words and stems as the BM25 index does."""
    from themepage.index.lexical import text_tokens, tokenize

    texts = [index.catalog.name(p) for p in index.catalog.product_ids[:3000]]
    texts += ["The Best Pancakes & Waffles", "cocktail sauce", "Jalapeño Chips", "It's a 2-Pack!"]
    assert all(text_tokens(t) == frozenset(tokenize([t])[0]) for t in texts)
