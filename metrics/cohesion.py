"""Cohesion of a page: each placement hangs together, fits its title, and differs from the others.

All similarities are cosines of the centred co-purchase vectors (see `metrics.relevance`).
Within a placement a product counts once; across placements repeats are the duplicate penalty.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from metrics.ranking import first_occurrences
from metrics.relevance import fits, metric_result, metric_vectors, page_of, unit_rows
from themepage.page import Page

TITLE_HITS = 20
"""How many BM25 hits for a title define what the title means (their vectors' centroid)."""
NEUTRAL_TITLE_FIT = 0.5
"""Title fit of a title with no lexical hit (nothing to measure against): neither rewarded nor punished."""


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


def intra_list_similarity(placements: Sequence[np.ndarray]) -> float:
    """Intra-list similarity (Ziegler et al., WWW 2005), in [0, 1].

    Per placement: mean pairwise cosine of its products' vectors, clipped to [0, 1]; then the mean
    over placements with at least 2 products. 0 when no placement has 2 products.
    """
    return mean_of_placements(list(map(mean_pairwise_cosine, placements)))


def mean_of_placements(values: Sequence[float | None]) -> float:
    """Mean of per-placement similarities clipped to [0, 1], skipping None (fewer than 2 products); 0 if none."""
    kept = [v for v in values if v is not None]
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


def title_fit(placements: Sequence[np.ndarray], title_centroids: Sequence[np.ndarray | None]) -> float:
    """How well products fit their placement's title, in [0, 1].

    Per non-empty placement: mean over its products of max(0, cos(product, title centroid)), where the
    title centroid is the mean vector of the title's top BM25 hits; a title with no hit (centroid None)
    scores NEUTRAL_TITLE_FIT = 0.5. Then the mean over non-empty placements; 0 if there are none.
    """
    values = [NEUTRAL_TITLE_FIT if centroid is None else float(fits(vectors, centroid).mean())
              for vectors, centroid in zip(placements, title_centroids) if len(vectors)]
    return float(np.mean(values)) if values else 0.0


def distinctness(centroids: Sequence[np.ndarray]) -> float:
    """1 - mean pairwise cosine of the placements' centroids, clipped to [0, 1]; 1.0 for a single placement.

    0 when there is no placement at all (an empty page is not distinct, it is empty).
    """
    if len(centroids) == 0:
        return 0.0
    similarity = mean_pairwise_cosine(np.asarray(centroids))
    return 1.0 if similarity is None else float(np.clip(1.0 - similarity, 0.0, 1.0))


def duplicate_share(product_ids: Sequence[int]) -> float:
    """Share of page slots that repeat a product shown earlier, in [0, 1]; 0 for an empty page."""
    return (len(product_ids) - len(set(product_ids))) / len(product_ids) if product_ids else 0.0


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

    def __init__(self, index):
        self.index = index
        self.borrowed = ~np.asarray(index.well_seen)
        self.aisle_baseline = self._aisle_baseline()

    @classmethod
    def of(cls, index) -> "VectorEvidence":
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


class TitleCentroids:
    """Title -> unit centroid of the metric vectors of its top TITLE_HITS BM25 hits (None: no hit); memoised."""

    def __init__(self, index, hits: int = TITLE_HITS, max_titles: int = 4096):
        self.index, self.hits, self.max_titles = index, hits, max_titles
        self._cache: OrderedDict[str, np.ndarray | None] = OrderedDict()

    def __call__(self, title: str) -> np.ndarray | None:
        key = " ".join(title.lower().split())
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        hits = self.index.search(key, self.hits) if key else []
        centroid = unit_rows(metric_vectors(self.index, hits).mean(axis=0))[0] if hits else None
        self._cache[key] = centroid
        if len(self._cache) > self.max_titles:
            self._cache.popitem(last=False)
        return centroid


def cohesion_parts(page: Page, index, titles: TitleCentroids) -> dict[str, float]:
    """intra_list_similarity, title_fit, distinctness, duplicate_share and the cohesion composite of a page.

    Empty placements are ignored; a page without products scores 0 everywhere.
    """
    placements = [p for p in page.placements if p.products]
    if not placements:
        return dict.fromkeys(("intra_list_similarity", "title_fit", "distinctness", "duplicate_share", "cohesion"), 0.0)
    ids = [first_occurrences(p.product_id for p in placement.products) for placement in placements]
    vectors = metric_vectors(index, [p for chunk in ids for p in chunk])
    bounds = np.cumsum([0] + [len(chunk) for chunk in ids])
    groups = [vectors[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    evidence = VectorEvidence.of(index)
    ils = mean_of_placements([evidence.placement_similarity(chunk, group) for chunk, group in zip(ids, groups)])
    fit = title_fit(groups, [titles(p.title) for p in placements])
    distinct = distinctness(unit_rows(np.stack([g.mean(axis=0) for g in groups])))
    duplicates = duplicate_share(page.product_ids())
    return {"intra_list_similarity": ils, "title_fit": fit, "distinctness": distinct,
            "duplicate_share": duplicates, "cohesion": cohesion_score(ils, fit, distinct, duplicates)}


class Cohesion:
    """Metric: the `cohesion` composite of the predicted page, in [0, 1] (bool >= threshold when tracing)."""

    def __init__(self, index, threshold: float = 0.4):
        self.index, self.threshold = index, threshold
        self.titles = TitleCentroids(index)

    def __call__(self, example, pred, trace=None) -> float | bool:
        return metric_result(cohesion_parts(page_of(pred), self.index, self.titles)["cohesion"], trace, self.threshold)
