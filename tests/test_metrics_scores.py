"""page_scores: the exact keys, values in [0, 1], and agreement with the metric modules."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quality_stub import StubQuality
from test_metrics_relevance import FAKE_PRODUCTS, FakeIndex, history_of, page_of_ids

from themepage.metrics.ranking import ndcg_at_k, recall_at_k
from themepage.metrics.scores import SCORE_KEYS, UNLABELED_KEYS, PageScorer, page_scores, scorer_for

S = 1 / math.sqrt(2)
EXPECTED_KEYS = ["recall@48", "ndcg@48", "soft_relevance", "intra_list_similarity", "title_fit", "publishable",
                 "distinctness", "duplicate_share", "cohesion", "aisle_diversity", "department_diversity", "diversity",
                 "novelty", "discovery", "healthy_share"]
FAKE = FakeIndex()
STUBBED = PageScorer(FAKE, quality=StubQuality())


def test_keys_are_exactly_the_documented_ones():
    assert list(SCORE_KEYS) == EXPECTED_KEYS
    page = page_of_ids(("Fruit", [1, 2]))
    assert list(page_scores(page, history_of([1]), FAKE)) == EXPECTED_KEYS[2:]
    assert list(page_scores(page, history_of([1]), FAKE, target=[1])) == EXPECTED_KEYS


def test_known_page_all_scores():
    # Same page as the cohesion and coverage known-value tests; history [1, 3]; basket {2, 9}.
    page = page_of_ids(("Fruit", [1, 2]), ("Pasta", [3, 4, 1]))
    scores = STUBBED(page, history_of([1, 3]), target=[2, 9])
    ils, fit = (1 + 1.4 / 3) / 2, (1 + 2 / 3) / 2
    distinct = 1 - 1.6 / math.sqrt(5.8)
    expected = {
        "recall@48": 0.5, "ndcg@48": (1 / math.log2(3)) / (1 + 1 / math.log2(3)),
        "soft_relevance": (S + S + S + 1.4 * S) / 4,  # distinct 1, 2, 3, 4 against profile (1,1)/sqrt2
        "intra_list_similarity": ils, "title_fit": fit, "publishable": fit, "distinctness": distinct,
        "duplicate_share": 0.4, "cohesion": (ils + fit + distinct) / 3 * 0.6,
        "aisle_diversity": 0.5, "department_diversity": 0.5, "diversity": 0.5, "novelty": 0.5,
        "discovery": (S + 1.4 * S) / 4, "healthy_share": 0.5,
    }
    assert scores == pytest.approx(expected)


def test_empty_page_scores_zero_everywhere():
    scores = page_scores(page_of_ids(), history_of([1]), FAKE, target=[1])
    assert scores == dict.fromkeys(EXPECTED_KEYS, 0.0)


def test_perfect_page():
    # a new product in the user's taste, alone in a well-titled placement; the basket is exactly it
    scores = STUBBED(page_of_ids(("Fruit", [2])), history_of([1]), target=[2])
    for key in ("recall@48", "ndcg@48", "soft_relevance", "title_fit", "publishable", "distinctness", "aisle_diversity",
                "department_diversity", "novelty", "discovery", "healthy_share"):
        assert scores[key] == pytest.approx(1.0), key
    assert scores["duplicate_share"] == 0.0


def test_recall_matches_the_ranking_module():
    page = page_of_ids(("a", [5, 1]), ("b", [3, 5, 2]))
    scores = page_scores(page, history_of([1]), FAKE, target=(2, 3, 7))
    assert scores["recall@48"] == recall_at_k(page.product_ids(), {2, 3, 7}, 48)
    assert scores["ndcg@48"] == ndcg_at_k(page.product_ids(), {2, 3, 7}, 48)


def test_one_scorer_per_index():
    assert scorer_for(FAKE) is scorer_for(FAKE)
    assert scorer_for(FakeIndex()) is not scorer_for(FAKE)


products = st.sampled_from(sorted(FAKE_PRODUCTS))
titles = st.sampled_from(["Fruit", "Pasta", "xyzzy", ""])


@settings(max_examples=60, deadline=None)
@given(placements=st.lists(st.tuples(titles, st.lists(products, max_size=6)), max_size=5),
       orders=st.lists(st.lists(products, min_size=1, max_size=4), max_size=3),
       target=st.lists(products, max_size=4))
def test_every_score_is_in_the_unit_interval(placements, orders, target):
    scores = page_scores(page_of_ids(*placements), history_of(*orders), FAKE, target=target)
    assert set(scores) == set(SCORE_KEYS)
    assert all(0.0 <= v <= 1.0 + 1e-9 and isinstance(v, float) for v in scores.values()), scores


def test_real_index_baseline_page(index):
    from themepage.programs.baselines import RepurchaseBaseline

    user = index.histories.user_ids[3]
    history = index.history(user)
    page = RepurchaseBaseline(index)(user, history)
    scores = page_scores(page, history, index)
    assert list(scores) == list(UNLABELED_KEYS)
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    assert scores["novelty"] == 0.0
    # no identical repeats, but a shopper's regulars hold a few near-duplicates (two milks), which now count
    assert len(set(page.product_ids())) == len(page.product_ids()) and 0.0 <= scores["duplicate_share"] < 0.2
    assert scores["soft_relevance"] > 0.2
