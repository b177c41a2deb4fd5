"""Relevance of a page to its shopper, and the plumbing every metric module shares.

Labeled examples: recall@K and NDCG@K of the real next basket (K = PAGE_SIZE) live in
`themepage.metrics.ranking`. Every example: `soft_relevance`, how close the page's products sit to
the shopper's taste profile in co-purchase space.

The metric vector space. The index's co-purchase vectors (PPMI + SVD) share a strong common
direction (their mean has norm ~0.7 on the bundled data), so the raw cosine of two unrelated
products is ~0.5 and a random placement looks as "cohesive" as a pasta aisle. Metrics therefore
use the vectors centred on the catalog mean and renormalised ("all-but-the-top", Mu &
Viswanath, ICLR 2018): unrelated products then score ~0 (`themepage.quality.evidence.centred_vectors`,
shared with the placement-quality scorer, re-exported here as `metric_vectors`).
"""

from __future__ import annotations

import numpy as np

from themepage.dataset.history import UserHistory
from themepage.index.catalog_index import RECENCY_DECAY
from themepage.index.protocol import Index
from themepage.index.vectors import unit_rows
from themepage.metrics.ranking import first_occurrences
from themepage.page import Page
from themepage.quality.evidence import centred_vectors as metric_vectors

# ----- shared plumbing ------------------------------------------------------------------------

def page_of(pred) -> Page:
    """The Page of a DSPy prediction (`pred.page`) or the Page itself."""
    return pred if isinstance(pred, Page) else pred.page


def metric_result(score: float, trace, threshold: float) -> float | bool:
    """DSPy's convention: the score for evaluation, `score >= threshold` when bootstrapping (trace given)."""
    return float(score) if trace is None else bool(score >= threshold)


def taste_profile(history: UserHistory, index: Index) -> np.ndarray:
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
    vector = np.fromiter(weights.values(), dtype=np.float64) @ metric_vectors(index, list(weights))
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


def page_soft_relevance(page: Page, history: UserHistory, index: Index, profile: np.ndarray | None = None) -> float:
    """`soft_relevance` of the page's distinct products to the shopper's taste profile."""
    products = first_occurrences(page.product_ids())
    if not products:
        return 0.0
    profile = taste_profile(history, index) if profile is None else profile
    return soft_relevance(metric_vectors(index, products), profile)
