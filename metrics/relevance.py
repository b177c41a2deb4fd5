"""Relevance of a page to its shopper, and the plumbing every metric module shares.

Labeled examples: recall@K and NDCG@K of the real next basket (K = PAGE_SIZE), computed by
`metrics.ranking`. Unlabeled examples: `soft_relevance`, how close the page's products sit to
the shopper's taste profile in co-purchase space.

The metric vector space. The index's co-purchase vectors (PPMI + SVD) share a strong common
direction (their mean has norm ~0.7 on the bundled data), so the raw cosine of two unrelated
products is ~0.5 and a random placement looks as "cohesive" as a pasta aisle. Metrics therefore
use the vectors centred on the catalog mean and renormalised ("all-but-the-top", Mu &
Viswanath, ICLR 2018): unrelated products then score ~0. If the index itself ever centres its
vectors, the mean is ~0 and this is a no-op.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np

from metrics.ranking import first_occurrences, ndcg_at_k, recall_at_k
from themepage.constants import PAGE_SIZE
from themepage.dataset.history import UserHistory
from themepage.index.catalog_index import RECENCY_DECAY
from themepage.page import Page

# ----- shared plumbing ------------------------------------------------------------------------

def page_of(pred) -> Page:
    """The Page of a DSPy prediction (`pred.page`) or the Page itself."""
    return pred if isinstance(pred, Page) else pred.page


def metric_result(score: float, trace, threshold: float) -> float | bool:
    """DSPy's convention: the score for evaluation, `score >= threshold` when bootstrapping (trace given)."""
    return float(score) if trace is None else bool(score >= threshold)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; all-zero rows stay zero."""
    matrix = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


_CENTERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def vector_center(index) -> np.ndarray:
    """The mean of the index's co-purchase vectors over all catalog rows (computed once per index)."""
    center = _CENTERS.get(index)
    if center is None:
        center = _CENTERS[index] = np.asarray(index.vectors, dtype=np.float64).mean(axis=0)
    return center


def metric_vectors(index, product_ids: Sequence[int]) -> np.ndarray:
    """Centred unit co-purchase vectors of the products, one row each (see the module docstring)."""
    rows = index.catalog.row_of[np.asarray(list(product_ids), dtype=np.int64)]
    return unit_rows(np.asarray(index.vectors[rows], dtype=np.float64) - vector_center(index))


def taste_profile(history: UserHistory, index) -> np.ndarray:
    """Unit taste vector: the user's products' metric vectors weighted by frequency and recency.

    Same weights as `CatalogIndex.profile` (an order n orders ago weighs RECENCY_DECAY**n), in the
    centred space; the zero vector for an empty history.
    """
    weights: dict[int, float] = {}
    n = len(history.orders)
    for i, order in enumerate(history.orders):
        for p in order.products:
            weights[p] = weights.get(p, 0.0) + RECENCY_DECAY ** (n - 1 - i)
    if not weights:
        return np.zeros(np.shape(index.vectors)[1])
    vector = np.fromiter(weights.values(), dtype=np.float64) @ metric_vectors(index, weights)
    return unit_rows(vector)[0]


def fits(vectors: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """max(0, cos) of each row to the anchor direction, in [0, 1]; all zeros if the anchor is zero."""
    return np.clip(unit_rows(vectors) @ unit_rows(anchor)[0], 0.0, 1.0) if len(vectors) else np.zeros(0)


# ----- relevance ------------------------------------------------------------------------------

def soft_relevance(product_vectors: np.ndarray, profile: np.ndarray) -> float:
    """Mean over the page's products of max(0, cos(product, profile)); in [0, 1].

    0 for an empty page or an empty profile (a new shopper has no taste to match).
    """
    return float(fits(product_vectors, profile).mean()) if len(product_vectors) else 0.0


def page_soft_relevance(page: Page, history: UserHistory, index, profile: np.ndarray | None = None) -> float:
    """`soft_relevance` of the page's distinct products to the shopper's taste profile."""
    products = first_occurrences(page.product_ids())
    if not products:
        return 0.0
    profile = taste_profile(history, index) if profile is None else profile
    return soft_relevance(metric_vectors(index, products), profile)


class BasketRecall:
    """Metric: recall@k (default K = PAGE_SIZE) of the example's real next basket (`example.target`); in [0, 1]."""

    def __init__(self, k: int = PAGE_SIZE, threshold: float = 0.2):
        self.k, self.threshold = k, threshold

    def score(self, example, pred) -> float:
        return recall_at_k(page_of(pred).product_ids(), example.target, self.k)

    def __call__(self, example, pred, trace=None) -> float | bool:
        return metric_result(self.score(example, pred), trace, self.threshold)


class BasketNDCG(BasketRecall):
    """Metric: NDCG@k (Jarvelin & Kekalainen, 2002) of the example's real next basket; in [0, 1]."""

    def __init__(self, k: int = PAGE_SIZE, threshold: float = 0.15):
        super().__init__(k, threshold)

    def score(self, example, pred) -> float:
        return ndcg_at_k(page_of(pred).product_ids(), example.target, self.k)


class SoftRelevance:
    """Metric for unlabeled examples: `soft_relevance` of the page to `example.history`; in [0, 1]."""

    def __init__(self, index, threshold: float = 0.2):
        self.index, self.threshold = index, threshold

    def __call__(self, example, pred, trace=None) -> float | bool:
        score = page_soft_relevance(page_of(pred), example.history, self.index)
        return metric_result(score, trace, self.threshold)


recall_metric = BasketRecall()
ndcg_metric = BasketNDCG()
