"""Cohesion metrics on hand-computed fixtures (the 2-D fake index) and sanity checks on the real index."""

from __future__ import annotations

import math

import numpy as np
import pytest
from quality_stub import StubQuality
from test_metrics_relevance import FakeIndex, page_of_ids

from themepage.metrics.cohesion import (
    cohesion_parts,
    cohesion_score,
    distinctness,
    duplicate_share,
    intra_list_similarity,
    mean_pairwise_cosine,
    title_fit,
)
from themepage.metrics.relevance import metric_vectors
from themepage.page import Page, Placement, ProductRef
from themepage.quality import placement_scorer


@pytest.fixture
def fake():
    return FakeIndex()


def test_mean_pairwise_cosine(fake):
    # products 1, 3, 4: cos(1,3) = 0, cos(1,4) = 0.6, cos(3,4) = 0.8 -> mean 1.4 / 3
    assert mean_pairwise_cosine(metric_vectors(fake, [1, 3, 4])) == pytest.approx(1.4 / 3)
    assert mean_pairwise_cosine(np.array([[2.0, 0.0], [0.0, 3.0]])) == pytest.approx(0.0)  # rows normalised
    assert mean_pairwise_cosine(metric_vectors(fake, [1])) is None
    assert mean_pairwise_cosine(np.zeros((0, 2))) is None


def test_intra_list_similarity_perfect_empty_known_and_clipped(fake):
    assert intra_list_similarity([mean_pairwise_cosine(metric_vectors(fake, [1, 2]))]) == pytest.approx(1.0)
    assert intra_list_similarity([]) == 0.0
    assert intra_list_similarity([None]) == 0.0  # only a 1-product placement: skipped
    # [1,3,4] -> 1.4/3; [5,6] -> 0; [1,5] -> -1 clipped to 0; [7] skipped: mean of (1.4/3, 0, 0)
    groups = [mean_pairwise_cosine(metric_vectors(fake, ids)) for ids in ([1, 3, 4], [5, 6], [1, 5], [7])]
    assert intra_list_similarity(groups) == pytest.approx((1.4 / 3) / 3)


def test_title_fit_is_the_mean_over_placements():
    assert title_fit([1.0, 0.5, 0.0]) == pytest.approx(0.5)
    assert title_fit([]) == 0.0


def test_distinctness(fake):
    assert distinctness([np.array([1.0, 0.0])]) == 1.0
    assert distinctness([]) == 0.0
    assert distinctness([np.array([1.0, 0.0]), np.array([-1.0, 0.0])]) == 1.0  # 1 - (-1) clipped to 1
    assert distinctness([np.array([1.0, 0.0]), np.array([1.0, 0.0])]) == pytest.approx(0.0)
    # centroids (1,0), (0,1), (.6,.8): pairwise cos 0, .6, .8 -> 1 - 1.4/3
    assert distinctness(list(metric_vectors(fake, [1, 3, 4]))) == pytest.approx(1 - 1.4 / 3)


def test_duplicate_share():
    assert duplicate_share(0, 0) == 0.0
    assert duplicate_share(0, 3) == 0.0
    assert duplicate_share(2, 4) == 0.5


def test_cohesion_parts_known_page(fake):
    # "Fruit" [1, 2]: ILS 1, stub fit 1.  "Pasta" [3, 4, 1]: ILS 1.4/3, stub fit 2/3 (1 is not a pasta hit).
    # Centroids: (1,0) and unit(1.6, 1.8) = (1.6, 1.8)/sqrt(5.8): cos = 1.6/sqrt(5.8).
    # Slots [1, 2, 3, 4, 1]: slot 2 is a near-duplicate of 1 (the stub says so), slot 5 repeats 1: 2 in 5.
    page = page_of_ids(("Fruit", [1, 2]), ("Pasta", [3, 4, 1]))
    parts = cohesion_parts(page, fake, StubQuality())
    ils, fit = (1 + 1.4 / 3) / 2, (1 + 2 / 3) / 2
    distinct = 1 - 1.6 / math.sqrt(5.8)
    assert parts["intra_list_similarity"] == pytest.approx(ils)
    assert parts["title_fit"] == pytest.approx(fit)
    assert parts["publishable"] == pytest.approx(fit)  # the stub's estimate is its title fit
    assert parts["distinctness"] == pytest.approx(distinct)
    assert parts["duplicate_share"] == pytest.approx(0.4)
    assert parts["cohesion"] == pytest.approx((ils + fit + distinct) / 3 * 0.6)
    assert cohesion_score(ils, fit, distinct, 0.4) == pytest.approx(parts["cohesion"])


def test_cohesion_perfect_and_empty(fake):
    perfect = page_of_ids(("Pasta", [3, 4]))
    assert cohesion_parts(perfect, fake, StubQuality())["title_fit"] == 1.0
    assert set(cohesion_parts(page_of_ids(), fake, StubQuality()).values()) == {0.0}
    assert set(cohesion_parts(page_of_ids(("Fruit", []), ("Pasta", [])), fake, StubQuality()).values()) == {0.0}
    # a repeated product costs: same placement twice -> distinctness 0; slots 2 (near-dup), 3 and 4 (repeats)
    twice = cohesion_parts(page_of_ids(("Fruit", [1, 2]), ("Fruit", [1, 2])), fake, StubQuality())
    assert twice["duplicate_share"] == pytest.approx(0.75)
    assert twice["cohesion"] == pytest.approx((1 + 1 + 0) / 3 * 0.25)


def _placement(index, title: str, ids) -> Placement:
    products = [ProductRef(product_id=int(p), name=index.catalog.name(int(p))) for p in ids]
    return Placement(title=title, products=products)


def test_real_pasta_placement_is_more_cohesive_than_random_products(index):
    pasta = index.search("spaghetti penne rigatoni pasta", 8, aisles=["dry pasta"])
    rng = np.random.default_rng(7)
    samples = [rng.choice(index.catalog.product_ids, 8, replace=False) for _ in range(20)]
    random_ils = [intra_list_similarity([mean_pairwise_cosine(metric_vectors(index, ids))]) for ids in samples]
    assert len(pasta) == 8
    assert intra_list_similarity([mean_pairwise_cosine(metric_vectors(index, pasta))]) > max(random_ils)


def test_real_title_fit_rewards_products_that_match_their_title(index):
    titles = placement_scorer(index)
    tacos = index.search("taco shells tortillas", 8)
    soda = index.search("cola soda", 8, aisles=["soft drinks"])
    on_title = cohesion_parts(Page(user_id=1, program="t", placements=[_placement(index, "Taco Tuesday", tacos)]),
                              index, titles)
    off_title = cohesion_parts(Page(user_id=1, program="t", placements=[_placement(index, "Taco Tuesday", soda)]),
                               index, titles)
    assert on_title["title_fit"] > off_title["title_fit"] + 0.3
    two = Page(user_id=1, program="t", placements=[_placement(index, "Taco Tuesday", tacos),
                                                    _placement(index, "Soda Fridge", soda)])
    same = Page(user_id=1, program="t", placements=[_placement(index, "Taco Tuesday", tacos[:4]),
                                                     _placement(index, "More Tacos", tacos[4:])])
    assert cohesion_parts(two, index, titles)["distinctness"] > cohesion_parts(same, index, titles)["distinctness"]


# ----- pairs of borrowed vectors ---------------------------------------------------------------------------------

def test_evidence_pairwise_cosine_counts_borrowed_pairs_as_the_aisles_typical_pair():
    from themepage.metrics.cohesion import evidence_pairwise_cosine

    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    aisles = np.array([5, 5, 6])
    # products 0 and 1 borrow aisle 5's vector: their pair is aisle 5's typical 0.2, not 1; the others are 0
    assert evidence_pairwise_cosine(vectors, aisles, np.array([True, True, False]), {5: 0.2}) == pytest.approx(0.2 / 3)
    assert evidence_pairwise_cosine(vectors, aisles, np.array([True, False, False]), {5: 0.2}) == pytest.approx(1 / 3)
    assert evidence_pairwise_cosine(vectors, np.array([5, 7, 6]), np.array([True, True, True]),
                                    {5: 0.2, 7: 0.9, 6: 0.4}) == pytest.approx(1 / 3), "other aisles: keep the cosine"
    assert evidence_pairwise_cosine(vectors[:1], aisles[:1], np.array([True]), {5: 0.2}) is None


def test_a_row_of_rarely_bought_products_is_not_perfectly_cohesive(index):
    from themepage.metrics.cohesion import VectorEvidence

    rare = np.flatnonzero(~index.well_seen)
    aisles = index.catalog.aisle_ids[rare]
    aisle = np.bincount(aisles).argmax()
    ids = index.catalog.product_ids[rare[aisles == aisle][:6]].tolist()
    vectors = metric_vectors(index, ids)
    evidence = VectorEvidence.of(index)
    assert mean_pairwise_cosine(vectors) > 0.9  # mostly their aisle's vector: they look alike
    assert evidence.placement_similarity(ids, vectors) == pytest.approx(evidence.aisle_baseline[int(aisle)])
    assert evidence.placement_similarity(ids, vectors) < 0.9
    assert VectorEvidence.of(index) is evidence
