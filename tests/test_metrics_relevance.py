"""Relevance metrics on a hand-built 2-D index (and the fake index the other metric tests import)."""

from __future__ import annotations

import math

import dspy
import numpy as np
import pytest

from themepage.dataset.history import Order, UserHistory
from themepage.dataset.model import Catalog
from themepage.index.catalog_index import RECENCY_DECAY
from themepage.metrics.relevance import metric_vectors, page_of, page_soft_relevance, soft_relevance, taste_profile
from themepage.page import Page, Placement, ProductRef
from themepage.quality.evidence import vector_center

S = 1 / math.sqrt(2)

# product id: (vector, aisle id, department id). The vectors sum to zero, so centring is a no-op
# and every cosine below can be read off the unit circle.
FAKE_PRODUCTS = {
    1: ((1.0, 0.0), 1, 1),     # fresh fruits / produce
    2: ((1.0, 0.0), 1, 1),     # fresh fruits / produce (same direction as 1)
    3: ((0.0, 1.0), 2, 2),     # dry pasta / dry goods pasta
    4: ((0.6, 0.8), 2, 2),     # dry pasta / dry goods pasta
    5: ((-1.0, 0.0), 3, 3),    # chips pretzels / snacks
    6: ((0.0, -1.0), 3, 3),    # chips pretzels / snacks
    7: ((-0.6, -0.8), 4, 1),   # fresh vegetables / produce
    8: ((-1.0, 0.0), 5, 4),    # soft drinks / beverages
}
FAKE_AISLES = {1: "fresh fruits", 2: "dry pasta", 3: "chips pretzels", 4: "fresh vegetables", 5: "soft drinks"}
FAKE_DEPARTMENTS = {1: "produce", 2: "dry goods pasta", 3: "snacks", 4: "beverages"}
FAKE_SEARCH = {"fruit": [1, 2], "pasta": [3, 4]}


class FakeIndex:
    """What the metrics use of CatalogIndex: a real Catalog, aligned vectors and a canned lexical search."""

    def __init__(self):
        ids = np.array(sorted(FAKE_PRODUCTS), dtype=np.int64)
        self.catalog = Catalog.build(ids, [f"Product {i}" for i in ids],
                                     np.array([FAKE_PRODUCTS[i][1] for i in ids]),
                                     np.array([FAKE_PRODUCTS[i][2] for i in ids]), FAKE_AISLES, FAKE_DEPARTMENTS)
        self.vectors = np.array([FAKE_PRODUCTS[i][0] for i in ids], dtype=np.float32)
        self.well_seen = np.ones(len(ids), dtype=bool)  # every fake product has a vector of its own

    def search(self, query: str, k: int = 10, aisles=None, departments=None) -> list[int]:
        return FAKE_SEARCH.get(query.lower(), [])[:k]


def history_of(*orders: list[int], user_id: int = 1) -> UserHistory:
    return UserHistory(user_id=user_id, orders=tuple(Order(order_id=i + 1, order_number=i + 1, dow=0, hour=9,
                                                           products=tuple(o)) for i, o in enumerate(orders)))


def page_of_ids(*placements: tuple[str, list[int]]) -> Page:
    return Page(user_id=1, program="test", placements=[
        Placement(title=title, products=[ProductRef(product_id=p, name=f"Product {p}") for p in ids])
        for title, ids in placements])


@pytest.fixture
def fake():
    return FakeIndex()


def test_fake_vectors_are_centred_so_metric_vectors_are_the_raw_ones(fake):
    assert vector_center(fake) == pytest.approx([0, 0], abs=1e-6)
    assert metric_vectors(fake, [4, 1]) == pytest.approx(np.array([[0.6, 0.8], [1, 0]]), abs=1e-6)


def test_metric_vectors_centre_on_the_catalog_mean():
    fake = FakeIndex()
    fake.vectors = fake.vectors + np.float32(1.0)  # shift every vector by (1, 1): centring must undo it
    assert metric_vectors(fake, [3]) == pytest.approx(np.array([[0, 1]]), abs=1e-6)


def test_taste_profile_weighs_recent_orders_more(fake):
    # orders [1] then [3]: product 1 weighs 0.85 (one order ago), product 3 weighs 1
    expected = np.array([RECENCY_DECAY, 1.0]) / math.hypot(RECENCY_DECAY, 1.0)
    assert taste_profile(history_of([1], [3]), fake) == pytest.approx(expected, abs=1e-6)
    assert np.all(taste_profile(history_of(), fake) == 0)


def test_soft_relevance_perfect_empty_and_known(fake):
    profile = np.array([1.0, 0.0])
    assert soft_relevance(metric_vectors(fake, [1, 2]), profile) == pytest.approx(1.0)
    assert soft_relevance(np.zeros((0, 2)), profile) == 0.0
    assert soft_relevance(metric_vectors(fake, [1, 2]), np.zeros(2)) == 0.0
    # profile (1,1)/sqrt2; cos to 1, 3 = 1/sqrt2, to 4 = 1.4/sqrt2, to 5 = -1/sqrt2 -> 0
    known = soft_relevance(metric_vectors(fake, [1, 3, 4, 5]), np.array([S, S]))
    assert known == pytest.approx((S + S + 1.4 * S + 0) / 4)


def test_page_soft_relevance_reads_distinct_page_products(fake):
    history = history_of([1, 3])
    page = page_of_ids(("a", [1, 3, 4]), ("b", [4]))  # 4 repeated: counted once
    assert page_soft_relevance(page, history, fake) == pytest.approx((S + S + 1.4 * S) / 3)
    assert page_soft_relevance(page_of_ids(), history, fake) == 0.0
    assert page_soft_relevance(page, history_of(), fake) == 0.0  # new shopper: no taste to match


def test_page_of_accepts_a_page_or_a_prediction():
    page = page_of_ids(("a", [1]))
    assert page_of(page) is page
    assert page_of(dspy.Prediction(page=page)) is page


def test_real_index_repurchase_page_is_more_relevant_than_best_sellers(index):
    from themepage.programs.baselines import PopularBaseline, RepurchaseBaseline

    users = index.histories.user_ids[:20]
    own, popular = [], []
    for user in users:
        history = index.history(user)
        own.append(page_soft_relevance(RepurchaseBaseline(index)(user, history), history, index))
        popular.append(page_soft_relevance(PopularBaseline(index)(user, history), history, index))
    assert all(0.0 <= s <= 1.0 for s in own + popular)
    assert np.mean(own) > np.mean(popular) + 0.05
