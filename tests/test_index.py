"""The catalog index on the real bundled catalog: search, filters, co-purchase sense, candidates, cache."""

import numpy as np
import pytest

from themepage.constants import BUNDLED_DATA_DIR
from themepage.index import CatalogIndex


def test_spaghetti_finds_dry_pasta(index):
    top = index.search("spaghetti", k=10)
    aisles = [index.catalog.aisle(p) for p in top]
    assert aisles.count("dry pasta") >= 3
    assert all("spaghetti" in index.catalog.name(p).lower() for p in top[:5])


def test_stemming_matches_plurals(index):
    names = [index.catalog.name(p).lower() for p in index.search("tomatoes", k=20)]
    assert any("tomato" in n and "tomatoes" not in n for n in names)


def test_aisle_and_department_filters(index):
    in_aisle = index.search("spaghetti", k=10, aisles=["dry pasta"])
    assert in_aisle and all(index.catalog.aisle(p) == "dry pasta" for p in in_aisle)
    frozen = index.search("spaghetti", k=10, departments=["frozen"])
    assert frozen and all(index.catalog.department(p) == "frozen" for p in frozen)
    assert index.search("spaghetti", k=10, aisles=["no such aisle"]) == index.search("spaghetti", k=10)


def test_unknown_words_give_no_results(index):
    assert index.search("qwertyzzz", k=5) == []


def _pid(index, name):
    return int(index.catalog.product_ids[index.catalog.names.index(name)])


def test_copurchase_neighbors_make_sense(index):
    """Produce staples are bought with produce; a produce item is closer to produce than to a cat food."""
    limes = _pid(index, "Limes")
    neighbors = index.neighbors(limes, k=10)
    produce = sum(index.catalog.department(p) == "produce" for p in neighbors)
    assert produce >= 6, [index.catalog.name(p) for p in neighbors]
    lemon, cat_food = _pid(index, "Large Lemon"), index.search("cat food", k=1, aisles=["cat food care"])[0]
    assert index.similarity(limes, lemon) > index.similarity(limes, cat_food)


def test_similarity_is_symmetric_and_bounded(index):
    a, b = _pid(index, "Banana"), _pid(index, "Organic Whole Milk")
    assert index.similarity(a, b) == pytest.approx(index.similarity(b, a))
    assert -1.0001 <= index.similarity(a, b) <= 1.0001
    assert index.similarity(a, a) == pytest.approx(1.0, abs=1e-5)


def test_every_product_has_a_vector_with_aisle_backoff(index):
    norms = np.linalg.norm(index.vectors, axis=1)
    assert (norms > 0.99).mean() > 0.99
    never_seen = np.flatnonzero(index.popularity == 0)
    assert len(never_seen) > 0
    row = never_seen[0]
    same_aisle = np.flatnonzero(index.catalog.aisle_ids == index.catalog.aisle_ids[row])
    other = [r for r in never_seen if r != row and index.catalog.aisle_ids[r] == index.catalog.aisle_ids[row]]
    if other:  # two never-seen products of one aisle share the aisle's vector
        assert index.vectors[row] @ index.vectors[other[0]] == pytest.approx(1.0, abs=1e-5)
    assert len(same_aisle) > 1


def test_candidates_for_user_mix_repurchase_and_neighbors(index):
    history = index.histories.get(1)
    candidates = index.candidates_for_user(1, 30)
    assert len(candidates) == len(set(candidates)) == 30
    own = set(history.product_counts)
    assert candidates[:5] == history.top_products(5)
    assert any(p not in own for p in candidates), "co-purchase neighbours should add new products"
    profile = index.profile(history)
    assert np.linalg.norm(profile) == pytest.approx(1.0, abs=1e-5)


def test_empty_history_gets_popular_candidates(index):
    from themepage.dataset import UserHistory

    assert index.candidates_for_user(UserHistory(user_id=0), 5) == index.popular(5)


def test_evaluation_targets_are_held_out_of_statistics(index):
    """The held-out baskets are not counted: popularity equals counts over the remaining baskets."""
    from themepage.dataset.cases import held_out_order_ids

    held = held_out_order_ids(index.histories)
    ds = index.dataset
    order_ids = np.concatenate([ds.baskets.order_ids, ds.prior.order_ids, ds.train.order_ids])
    product_ids = np.concatenate([ds.baskets.product_ids, ds.prior.product_ids, ds.train.product_ids])
    keep = ~np.isin(order_ids, list(held))
    banana = _pid(index, "Banana")
    assert index.popularity[index.catalog.row(banana)] == int((product_ids[keep] == banana).sum())


def test_cached_open_returns_the_same_index(index, isolated_cache_dir):
    again = CatalogIndex.open(BUNDLED_DATA_DIR, isolated_cache_dir)
    assert again.build_seconds is None, "second open should load from the cache, not rebuild"
    np.testing.assert_allclose(again.vectors, index.vectors)
    assert again.search("greek yogurt", k=5) == index.search("greek yogurt", k=5)


def test_deep_copies_of_programs_share_the_read_only_index(index):
    import copy

    from themepage.programs.top_down import TopDownProgram

    program = TopDownProgram(index)
    copied = program.deepcopy()
    assert copy.deepcopy(index) is index
    assert copied.index is index and copied.planner is not program.planner


def test_popular_in_lists_an_aisles_best_sellers_beyond_the_stores_top(index):
    """A small aisle's best sellers lie far down the store's list: popular_in finds them all, in store order."""
    order = index.popular(len(index.catalog.product_ids))
    aisle = index.catalog.aisle_id(order[-1])  # an aisle of a product near the bottom of the list
    expected = [p for p in order if index.catalog.aisle_id(p) == aisle]
    assert index.popular_in([aisle], 5) == expected[:5]
    assert index.popular_in([aisle], 5, exclude={expected[0]}) == expected[1:6]
    assert index.popular_in([], 5) == []
