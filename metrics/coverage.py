"""Coverage of a page: diversity of shelves, novelty, discovery anchored in taste, and healthy share.

Every score here reads the page's distinct products (first occurrences in reading order);
repeats are penalised by cohesion's duplicate share, not rewarded or punished twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from themepage.constants import HEALTHY_AISLES
from themepage.dataset.history import UserHistory
from themepage.index.protocol import Index
from themepage.metrics.ranking import first_occurrences
from themepage.metrics.relevance import fits, metric_vectors, taste_profile
from themepage.page import Page


def label_diversity(labels: Sequence[int], labels_in_catalog: int) -> float:
    """Distinct labels / min(number of products, labels in the catalog), in [0, 1]; 0 for no product.

    `labels` holds one label (aisle or department id) per distinct product; 1.0 means no two products
    share a shelf unless the catalog has fewer shelves than the page has products.
    """
    if not labels or labels_in_catalog <= 0:
        return 0.0
    return len(set(labels)) / min(len(labels), labels_in_catalog)


def novelty(product_ids: Sequence[int], bought: Collection[int]) -> float:
    """Share of the distinct page products the user has never bought, in [0, 1].

    1.0 for an empty history (everything is new); 0 for an empty page.
    """
    products = first_occurrences(product_ids)
    return sum(p not in bought for p in products) / len(products) if products else 0.0


def discovery(product_ids: Sequence[int], bought: Collection[int],
              taste_fits: Sequence[float] | np.ndarray) -> float:
    """Novelty anchored in taste, in [0, 1]: (mean over NEW products of their taste fit) * novelty.

    `taste_fits[i]` = max(0, cos(product i, user profile)) for the distinct `product_ids` in order. Equals
    sum over new products of their fit / number of distinct products, so random new products (fit ~0)
    score low, and so does a page of old favourites (novelty 0). 0 for an empty page or empty profile.
    """
    products = first_occurrences(product_ids)
    if not products:
        return 0.0
    return float(sum(f for p, f in zip(products, taste_fits, strict=True) if p not in bought) / len(products))


def healthy_share(aisle_names: Sequence[str]) -> float:
    """Share of products (one aisle name each) in HEALTHY_AISLES, in [0, 1]; 0 for no product."""
    return sum(name in HEALTHY_AISLES for name in aisle_names) / len(aisle_names) if aisle_names else 0.0


def coverage_parts(page: Page, history: UserHistory, index: Index,
                   profile: np.ndarray | None = None) -> dict[str, float]:
    """aisle/department diversity, their mean `diversity`, novelty, discovery and healthy share of a page."""
    products = first_occurrences(page.product_ids())
    catalog = index.catalog
    if not products:
        return dict.fromkeys(("aisle_diversity", "department_diversity", "diversity", "novelty", "discovery",
                              "healthy_share"), 0.0)
    rows = catalog.row_of[np.asarray(products, dtype=np.int64)]
    aisle_ids = catalog.aisle_ids[rows].tolist()
    aisles = label_diversity(aisle_ids, len(catalog.aisles))
    departments = label_diversity(catalog.department_ids[rows].tolist(), len(catalog.departments))
    bought = history.product_counts
    profile = taste_profile(history, index) if profile is None else profile
    return {"aisle_diversity": aisles, "department_diversity": departments,
            "diversity": (aisles + departments) / 2.0, "novelty": novelty(products, bought),
            "discovery": discovery(products, bought, fits(metric_vectors(index, products), profile)),
            "healthy_share": healthy_share([catalog.aisles[a] for a in aisle_ids])}
