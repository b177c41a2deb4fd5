"""Coverage metrics (diversity, novelty, discovery, healthy share) on hand-computed fixtures."""

from __future__ import annotations

import math

import pytest
from test_metrics_relevance import FakeIndex, history_of, page_of_ids

from themepage.metrics.coverage import (
    HEALTHY_AISLES,
    coverage_parts,
    discovery,
    healthy_share,
    label_diversity,
    novelty,
)

S = 1 / math.sqrt(2)


@pytest.fixture
def fake():
    return FakeIndex()


def test_label_diversity():
    assert label_diversity([1, 2, 3, 4], 5) == 1.0
    assert label_diversity([], 5) == 0.0
    assert label_diversity([1, 1, 2, 2], 5) == 0.5          # 2 distinct / min(4, 5)
    assert label_diversity([1, 2, 3, 1, 2, 3], 3) == 1.0    # 3 distinct / min(6, 3): every shelf used


def test_novelty():
    assert novelty([1, 2, 3], set()) == 1.0                 # empty history: all new
    assert novelty([], {1}) == 0.0
    assert novelty([1, 2], {1, 2}) == 0.0
    assert novelty([1, 2, 3, 4, 1], {1, 3}) == 0.5          # distinct 1..4, new 2 and 4


def test_discovery():
    assert discovery([2], {1}, [1.0]) == 1.0
    assert discovery([], {1}, []) == 0.0
    assert discovery([1, 3], {1, 3}, [1.0, 1.0]) == 0.0      # nothing new
    assert discovery([2, 4, 5], set(), [0.0, 0.0, 0.0]) == 0.0  # new but unrelated to the taste
    # new 2 (fit .5) and 4 (fit .8), old 1: (0.5 + 0.8) / 3 = mean new fit 0.65 * novelty 2/3
    assert discovery([1, 2, 4], {1}, [0.9, 0.5, 0.8]) == pytest.approx(0.65 * 2 / 3)


def test_healthy_share():
    assert healthy_share(["fresh fruits", "fresh vegetables"]) == 1.0
    assert healthy_share([]) == 0.0
    assert healthy_share(["fresh fruits", "chips pretzels", "soft drinks", "fresh herbs"]) == 0.5


def test_coverage_parts_known_page(fake):
    # distinct products 1, 2, 3, 4 (1 repeated); aisles 1, 1, 2, 2 of 5; departments 1, 1, 2, 2 of 4.
    # history [1, 3] -> profile (1,1)/sqrt2; new products 2 (cos 1/sqrt2) and 4 (cos 1.4/sqrt2).
    page = page_of_ids(("a", [1, 2]), ("b", [3, 4, 1]))
    parts = coverage_parts(page, history_of([1, 3]), fake)
    assert parts["aisle_diversity"] == 0.5
    assert parts["department_diversity"] == 0.5
    assert parts["diversity"] == 0.5
    assert parts["novelty"] == 0.5
    assert parts["discovery"] == pytest.approx((S + 1.4 * S) / 4)
    assert parts["healthy_share"] == 0.5  # 1 and 2 are fresh fruits; 3 and 4 dry pasta


def test_coverage_perfect_and_empty(fake):
    history = history_of([1])
    assert coverage_parts(page_of_ids(("a", [1, 3, 5, 8])), history, fake)["diversity"] == 1.0  # 4 aisles, 4 depts
    assert coverage_parts(page_of_ids(("a", [1, 2, 7])), history, fake)["healthy_share"] == 1.0
    assert coverage_parts(page_of_ids(("a", [2])), history, fake)["discovery"] == pytest.approx(1.0)
    new_shopper = coverage_parts(page_of_ids(("a", [1, 3, 5, 8])), history_of(), fake)
    assert new_shopper["novelty"] == 1.0 and new_shopper["discovery"] == 0.0  # no taste to anchor in
    assert set(coverage_parts(page_of_ids(), history, fake).values()) == {0.0}


def test_healthy_aisles_are_real_instacart_aisles(index):
    aisles = set(index.catalog.aisles.values())
    assert set(HEALTHY_AISLES) <= aisles
    assert len(set(HEALTHY_AISLES)) == len(HEALTHY_AISLES)


def test_real_best_sellers_are_new_to_no_one_who_bought_them(index):
    from themepage.programs.baselines import PopularBaseline, RepurchaseBaseline

    user = index.histories.user_ids[0]
    history = index.history(user)
    own = coverage_parts(RepurchaseBaseline(index)(user, history), history, index)
    popular = coverage_parts(PopularBaseline(index)(user, history), history, index)
    assert own["novelty"] == 0.0 and own["discovery"] == 0.0
    assert popular["novelty"] > 0.5
    assert 0.0 < popular["discovery"] < popular["novelty"]
    assert popular["healthy_share"] > 0.5  # best sellers are mostly bananas, berries and greens
