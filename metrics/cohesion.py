"""Cohesion of a page: each placement hangs together, fits its title, and differs from the others.

Similarities between products are cosines of the centred co-purchase vectors (see `themepage.metrics.relevance`).
Title fit, near-duplicates and the publishable estimate come from the placement-quality scorer in the
core (`themepage.quality`), fitted to merchandisers' labels. Within a placement a product counts once;
repeats and near-duplicates anywhere on the page are the duplicate penalty.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np

from themepage.index.protocol import Index
from themepage.metrics.ranking import first_occurrences
from themepage.metrics.relevance import metric_vectors, unit_rows
from themepage.page import Page
from themepage.quality import PlacementScorer
from themepage.quality.scorer import duplicate_slots

COHESION_KEYS = ("intra_list_similarity", "title_fit", "publishable", "distinctness", "duplicate_share", "cohesion")


def mean_pairwise_cosine(vectors: np.ndarray) -> float | None:
    """Mean cosine over the n(n-1)/2 distinct pairs of rows, in [-1, 1]; None for fewer than 2 rows.

    Uses sum_{i<j} u_i.u_j = (|sum u|^2 - sum |u_i|^2) / 2 on the unit rows u.
    """
    n = len(vectors)
    if n < 2:
        return None
    units = unit_rows(vectors)
    total = units.sum(axis=0)
    return float((total @ total - (units * units).sum()) / (n * (n - 1)))


def intra_list_similarity(per_placement: Sequence[float | None]) -> float:
    """Intra-list similarity (Ziegler et al., WWW 2005: the mean similarity over a list's item pairs), in [0, 1].

    `per_placement` holds each placement's mean pairwise product similarity (None for fewer than 2
    products); each is clipped to [0, 1], then averaged over placements. 0 when no placement has 2 products.
    """
    kept = [v for v in per_placement if v is not None]
    return float(np.mean(np.clip(kept, 0.0, 1.0))) if kept else 0.0


def evidence_pairwise_cosine(vectors: np.ndarray, aisles: np.ndarray, borrowed: np.ndarray,
                             aisle_baseline: dict[int, float]) -> float | None:
    """Mean pairwise cosine like `mean_pairwise_cosine`, but a pair of two products of one aisle that both
    borrow that aisle's vector (too few baskets for their own) counts as the aisle's typical pair.

    Two borrowed vectors of one aisle are (nearly) identical, so their cosine near 1 says nothing about the
    products; without this, pages of rarely bought products look perfectly cohesive.
    """
    n = len(vectors)
    if n < 2:
        return None
    units = unit_rows(vectors)
    pairs = units @ units.T
    same = borrowed[:, None] & borrowed[None, :] & (aisles[:, None] == aisles[None, :])
    typical = np.array([aisle_baseline.get(int(a), 0.0) for a in aisles])
    pairs = np.where(same, typical[:, None], pairs)
    upper = np.triu_indices(n, k=1)
    return float(pairs[upper].mean())


def title_fit(placement_fits: Sequence[float]) -> float:
    """Mean over placements of their title fit (each the mean product fit under the title), in [0, 1]; 0 if none."""
    return float(np.mean(placement_fits)) if len(placement_fits) else 0.0


def distinctness(centroids: Sequence[np.ndarray] | np.ndarray) -> float:
    """1 - mean pairwise cosine of the placements' centroids, clipped to [0, 1]; 1.0 for a single placement.

    0 when there is no placement at all (an empty page is not distinct, it is empty).
    """
    if len(centroids) == 0:
        return 0.0
    similarity = mean_pairwise_cosine(np.asarray(centroids))
    return 1.0 if similarity is None else float(np.clip(1.0 - similarity, 0.0, 1.0))


def duplicate_share(duplicate_slots: int, slots: int) -> float:
    """Share of page slots that repeat, or nearly repeat, a product shown earlier, in [0, 1]; 0 for an empty page."""
    return duplicate_slots / slots if slots else 0.0


def cohesion_score(ils: float, fit: float, distinct: float, duplicates: float) -> float:
    """The composite: mean(ILS, title fit, distinctness) * (1 - duplicate share), in [0, 1]."""
    return (ils + fit + distinct) / 3.0 * (1.0 - duplicates)


class VectorEvidence:
    """Which products borrow their aisle's vector, and each aisle's typical pairwise cosine (one per index).

    The index blends a product's own co-purchase vector with its aisle's by how many baskets it is in
    (see `themepage.index.copurchase`); for products not `well_seen` the aisle's part dominates, and two
    such products of one aisle look alike whatever they are. An aisle's typical cosine is the mean over
    pairs of its products that have enough baskets for their own vectors.
    """

    _BY_INDEX: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __init__(self, index: Index):
        self.index = index
        self.borrowed = ~np.asarray(index.well_seen)
        self.aisle_baseline = self._aisle_baseline()

    @classmethod
    def of(cls, index: Index) -> VectorEvidence:
        found = cls._BY_INDEX.get(index)
        if found is None:
            found = cls._BY_INDEX[index] = cls(index)
        return found

    def _aisle_baseline(self) -> dict[int, float]:
        units = metric_vectors(self.index, self.index.catalog.product_ids)
        aisles = np.asarray(self.index.catalog.aisle_ids)
        baseline = {}
        for aisle in np.unique(aisles[self.borrowed]):
            own = units[(aisles == aisle) & ~self.borrowed]
            baseline[int(aisle)] = mean_pairwise_cosine(own) if len(own) >= 2 else 0.0
        return baseline

    def placement_similarity(self, product_ids: Sequence[int], vectors: np.ndarray) -> float | None:
        rows = self.index.catalog.row_of[np.asarray(list(product_ids), dtype=np.int64)]
        return evidence_pairwise_cosine(vectors, np.asarray(self.index.catalog.aisle_ids)[rows], self.borrowed[rows],
                                        self.aisle_baseline)


def cohesion_parts(page: Page, index: Index, scorer: PlacementScorer) -> dict[str, float]:
    """COHESION_KEYS of a page: intra-list similarity, title fit, mean publishable estimate, distinctness,
    duplicate share (repeats and near-duplicates) and the cohesion composite.

    Empty placements are ignored; a page without products scores 0 everywhere.
    """
    placements = [p for p in page.placements if p.products]
    if not placements:
        return dict.fromkeys(COHESION_KEYS, 0.0)
    ids = [first_occurrences(p.product_id for p in placement.products) for placement in placements]
    vectors = metric_vectors(index, [p for chunk in ids for p in chunk])
    bounds = np.cumsum([0] + [len(chunk) for chunk in ids])
    groups = [vectors[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    evidence = VectorEvidence.of(index)
    similarities = [evidence.placement_similarity(chunk, group) for chunk, group in zip(ids, groups, strict=True)]
    ils = intra_list_similarity(similarities)
    quality = [scorer.score(placement.title, chunk) for placement, chunk in zip(placements, ids, strict=True)]
    fit = title_fit([q.title_fit for q in quality])
    distinct = distinctness(unit_rows(np.stack([g.mean(axis=0) for g in groups])))
    shown = page.product_ids()
    duplicates = duplicate_share(duplicate_slots(scorer, shown), len(shown))
    return {"intra_list_similarity": ils, "title_fit": fit,
            "publishable": float(np.mean([q.publishable for q in quality])), "distinctness": distinct,
            "duplicate_share": duplicates, "cohesion": cohesion_score(ils, fit, distinct, duplicates)}
