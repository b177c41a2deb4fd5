"""The caches and shortcuts the page rules and the index keep for speed give the values they stand in for."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from themepage.page import Theme
from themepage.programs.relevance_rows import own_products
from themepage.programs.rules.duplicates import EvidenceCache
from themepage.quality import placement_scorer
from themepage.quality.evidence import PAIR_PARTS, PlacementEvidence


def _products(index, start: int, n: int) -> list[int]:
    return [int(p) for p in index.catalog.product_ids[start:start + n]]


def _same(a: PlacementEvidence, b: PlacementEvidence) -> None:
    for f in fields(PlacementEvidence):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y), f.name
        else:
            assert x == y, f.name


def test_fit_evidence_leaves_the_pair_parts_out_and_reads_them_later_as_a_full_read_would(index):
    scorer = placement_scorer(index)
    ids = _products(index, 700, 12)
    fit_only = PlacementEvidence.read(index, scorer.embed, ids, pairs=False)
    assert not fit_only.has_pair_parts
    assert fit_only.spread is None and all(len(getattr(fit_only, name)) == 0 for name in PAIR_PARTS[:-1])
    full = PlacementEvidence.read(index, scorer.embed, ids)
    assert full.has_pair_parts
    _same(fit_only.with_pair_parts(index), full)
    assert np.array_equal(scorer.product_fits("Fresh Fruit", fit_only), scorer.product_fits("Fresh Fruit", full))


def test_evidence_cache_gives_a_set_read_after_its_fits_the_evidence_of_one_read(index):
    scorer = placement_scorer(index)
    ids = _products(index, 900, 10)
    cache = EvidenceCache(scorer)
    cache.fits("Snack Time", ids[:6])  # the first six read without their pair parts
    _same(cache.evidence(ids), scorer.evidence(ids))
    assert not cache.evidence(ids[:3], pairs=False).items


@pytest.mark.parametrize("ids", [[5, 7, 5, 9], [5, 1, 2], [1, 2, 5], [5, 5]])
def test_pairs_holding_a_product_are_listed_in_row_major_order(index, ids):
    catalog = _products(index, 1200, 10)
    real = [catalog[i] for i in ids]
    wanted = real[0]
    cache = EvidenceCache(placement_scorer(index))
    brute = [(i, j) for i in range(len(real)) for j in range(i + 1, len(real)) if wanted in (real[i], real[j])]
    _, chances = cache.scorer.duplicate_chances(cache.evidence(real), brute)
    flagged = [(real[i], real[j]) for (i, j), c in zip(brute, chances, strict=True) if c >= 0.0]
    assert cache.near_duplicates_of(wanted, real, 0.0) == flagged


def test_own_products_of_an_aisle_theme_are_the_shoppers_in_its_aisles_or_retrieved(index):
    history = index.histories.get(index.histories.user_ids[0])
    ranked = history.top_products()
    aisle = index.catalog.aisle(ranked[0])
    theme = Theme(title="Shelf", aisles=[aisle])
    elsewhere = next(p for p in ranked if index.catalog.aisle(p) != aisle)
    expected = [p for p in ranked if index.catalog.aisle(p) == aisle or p == elsewhere]
    assert own_products(theme, [elsewhere], history, index) == expected


def test_index_memos_answer_as_fresh_reads(index):
    first, second = (index.histories.get(u) for u in index.histories.user_ids[:2])
    for history in (first, second, first):
        assert np.array_equal(index._profile_of(history), index.profile(history))
        assert index.candidates_for_user(history, 20) == index.candidates_for_user(history, 20)
    hits = index.search("organic milk", k=5)
    hits.append(-1)  # a caller may change its list: the next answer is not
    assert index.search("organic milk", k=5) == hits[:-1]


def test_reserve_for_a_themed_row_is_the_reserve_of_its_aisles_read_again_for_a_new_reserve(index):
    from themepage.programs.rules.apply import _PageBuilder
    from themepage.programs.rules.shape import PageRules, RowDraft

    history = index.histories.get(index.histories.user_ids[0])
    builder = _PageBuilder(PageRules(2, 5), index, history)
    catalog = index.catalog

    def plain(r: int) -> list[int]:
        aisles = {catalog.aisle_id(p) for p in builder.rows[r]}
        return [p for p in builder.reserve if p in catalog and catalog.aisle_id(p) in aisles]

    builder.titles, builder.rows = ["Fresh Fruit"], [history.top_products()[:2]]
    builder.kept = [RowDraft("Fresh Fruit", "Fruit.", builder.rows[0])]  # no query bound (`RowDraft.found`)
    for reserve in ([*index.popular(60), *history.top_products()[:10]], [*history.top_products()[5:], -1]):
        builder.reserve = reserve
        assert builder.reserve_for(0) == plain(0) != []
        assert builder.reserve_for(0) == plain(0)  # from the aisles read for this reserve
