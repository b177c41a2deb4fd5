"""Every page score in one dict: what objectives weight and what evaluation tables show.

All values are floats in [0, 1]. Keys (SCORE_KEYS order): recall@48 and ndcg@48 (only with a
target basket), soft_relevance, intra_list_similarity, title_fit, publishable (the mean over placements
of the placement-quality scorer's estimate), distinctness, duplicate_share (repeats and near-duplicates),
cohesion, aisle_diversity, department_diversity, diversity, novelty, discovery, healthy_share.
Note duplicate_share is the one score where lower is better. Definitions live in
`themepage.metrics.relevance`, `themepage.metrics.cohesion` and `themepage.metrics.coverage`.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

from themepage.constants import PAGE_SIZE
from themepage.dataset.history import UserHistory
from themepage.index.protocol import Index
from themepage.metrics.cohesion import cohesion_parts
from themepage.metrics.coverage import coverage_parts
from themepage.metrics.ranking import ndcg_at_k, recall_at_k
from themepage.metrics.relevance import page_soft_relevance, taste_profile
from themepage.page import Page
from themepage.quality import placement_scorer

RECALL_KEY = f"recall@{PAGE_SIZE}"
NDCG_KEY = f"ndcg@{PAGE_SIZE}"
LABELED_KEYS = (RECALL_KEY, NDCG_KEY)
UNLABELED_KEYS = ("soft_relevance", "intra_list_similarity", "title_fit", "publishable", "distinctness",
                  "duplicate_share", "cohesion", "aisle_diversity", "department_diversity", "diversity", "novelty",
                  "discovery", "healthy_share")
SCORE_KEYS = LABELED_KEYS + UNLABELED_KEYS


class PageScorer:
    """Scores pages against one index, with the index's shared placement-quality scorer unless given one."""

    def __init__(self, index: Index, quality=None):
        self.index = index
        self.quality = placement_scorer(index) if quality is None else quality

    def __call__(self, page: Page, history: UserHistory, target: Iterable[int] | None = None) -> dict[str, float]:
        scores: dict[str, float] = {}
        if target is not None:
            ranked, target = page.product_ids(), list(target)
            scores[RECALL_KEY] = recall_at_k(ranked, target, PAGE_SIZE)
            scores[NDCG_KEY] = ndcg_at_k(ranked, target, PAGE_SIZE)
        profile = taste_profile(history, self.index)
        scores["soft_relevance"] = page_soft_relevance(page, history, self.index, profile)
        scores.update(cohesion_parts(page, self.index, self.quality))
        scores.update(coverage_parts(page, history, self.index, profile))
        return {key: float(scores[key]) for key in SCORE_KEYS if key in scores}


_SCORERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def scorer_for(index: Index) -> PageScorer:
    """The shared PageScorer of this index (one per index)."""
    scorer = _SCORERS.get(index)
    if scorer is None:
        scorer = _SCORERS[index] = PageScorer(index)
    return scorer


def page_scores(page: Page, history: UserHistory, index: Index,
                target: Iterable[int] | None = None) -> dict[str, float]:
    """Every score of the page for this shopper (and their real next basket, when given); floats in [0, 1]."""
    return scorer_for(index)(page, history, target)

