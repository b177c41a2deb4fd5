"""Retrieval for a catalog theme: the candidates that clearly belong under its title come first."""

from __future__ import annotations

from programs.evidence_cache import EvidenceCache
from programs.retrieval import FIT_DEPTH, gather, retrieve_for_theme
from themepage.constants import CANDIDATES_PER_THEME, CLEAR_FIT
from themepage.offline.theme_bank import load_theme_bank
from themepage.page import Theme
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
    from themepage.dataset.history import UserHistory

    aisle = "fresh dips tapenades"
    theme = Theme(title="Fresh Dips & Hummus", aisles=[aisle])
    pool = gather(index, theme, UserHistory(user_id=0), CANDIDATES_PER_THEME)
    assert len(pool) == CANDIDATES_PER_THEME
    assert {index.catalog.aisle(p) for p in pool} == {aisle}
