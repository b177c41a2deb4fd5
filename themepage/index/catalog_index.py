"""The catalog index: lexical search, co-purchase vectors and user profiles behind one object.

Built once per data directory and cached on disk beside the parsed dataset
(keyed by the input files' content); later loads are a few file reads.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from pathlib import Path

import numpy as np

from themepage.constants import BUNDLED_DATA_DIR, MIN_PRODUCT_COUNT
from themepage.dataset.cache import cache_entry, load_dataset
from themepage.dataset.cases import held_out_order_ids
from themepage.dataset.history import Histories, UserHistory
from themepage.dataset.model import Dataset
from themepage.index.copurchase import CopurchaseVectors, learn_vectors
from themepage.index.lexical import LexicalIndex
from themepage.index.store import load_index_files, save_index_files

RECENCY_DECAY = 0.85
"""A purchase n orders ago weighs RECENCY_DECAY**n in the user's profile."""
EXPLORATION_SHARE = 1 / 3
"""Share of a user's candidates reserved for co-purchase neighbours they have not bought."""
RECENT_QUERIES = 8
"""Shopper profiles, and co-purchase scores of query vectors, kept for the next calls (one page asks several times)."""


def _training_baskets(dataset: Dataset, held_out: set[int]) -> tuple[np.ndarray, np.ndarray]:
    """Every basket except the evaluation targets: anonymous orders plus users' orders."""
    order_ids = np.concatenate([dataset.baskets.order_ids, dataset.prior.order_ids, dataset.train.order_ids])
    product_ids = np.concatenate([dataset.baskets.product_ids, dataset.prior.product_ids, dataset.train.product_ids])
    keep = ~np.isin(order_ids, np.fromiter(held_out, dtype=np.int64, count=len(held_out)))
    return order_ids[keep], product_ids[keep]


def _keep_recent(kept: dict, key, value) -> None:
    """Store `value`, dropping the oldest entries beyond RECENT_QUERIES (no lock: pages on other threads may store
    at once, and at worst one entry too many or too few is dropped)."""
    kept[key] = value
    while len(kept) > RECENT_QUERIES:
        try:
            kept.pop(next(iter(kept)), None)
        except (RuntimeError, StopIteration):  # changed by another thread meanwhile
            return


class CatalogIndex:
    """Search, similarity, neighbours and personalized candidates over one dataset."""

    def __init__(self, dataset: Dataset, lexical: LexicalIndex, copurchase: CopurchaseVectors,
                 build_seconds: float | None = None, histories: Histories | None = None):
        self.dataset = dataset
        self.catalog = dataset.catalog
        self.histories = histories if histories is not None else Histories(dataset)
        self.lexical = lexical
        self.vectors = copurchase.vectors
        self.popularity = copurchase.counts
        self.build_seconds = build_seconds
        self._aisle_by_name = {name.lower(): aid for aid, name in self.catalog.aisles.items()}
        self._dept_by_name = {name.lower(): did for did, name in self.catalog.departments.items()}
        self.well_seen = self.popularity >= MIN_PRODUCT_COUNT
        """Per catalog row: in enough baskets for a co-purchase vector of its own (else mostly its aisle's)."""
        self._popular_order: np.ndarray | None = None
        self._well_seen: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._recent_scores: dict[tuple[str, bytes], np.ndarray] = {}
        self._recent_profiles: dict[int, tuple[UserHistory, np.ndarray]] = {}

    def __deepcopy__(self, memo: dict) -> CatalogIndex:
        """The index itself: it is read-only after construction, and optimizers deep-copy programs that hold it
        once per candidate (a full copy of its arrays each, otherwise)."""
        return self

    # ----- construction -------------------------------------------------------------------------
    @classmethod
    def build(cls, dataset: Dataset) -> CatalogIndex:
        start = time.perf_counter()
        histories = Histories(dataset)
        order_ids, product_ids = _training_baskets(dataset, held_out_order_ids(histories))
        vectors = learn_vectors(dataset.catalog, order_ids, product_ids)
        del order_ids, product_ids
        lexical = LexicalIndex.build(dataset.catalog)
        return cls(dataset, lexical, vectors, build_seconds=time.perf_counter() - start, histories=histories)

    def save(self, folder: Path) -> None:
        save_index_files(folder, self.lexical, CopurchaseVectors(self.vectors, self.popularity))

    @classmethod
    def open(cls, data_dir: Path | str = BUNDLED_DATA_DIR, cache_dir: Path | str | None = None) -> CatalogIndex:
        """Load the index of `data_dir` from the cache, building and caching it when missing or stale."""
        data_dir = Path(data_dir)
        dataset = load_dataset(data_dir, Path(cache_dir) if cache_dir else None)
        folder = cache_entry(data_dir, Path(cache_dir) if cache_dir else None) / "index"
        parts = load_index_files(folder, dataset.catalog)
        if parts is not None:
            return cls(dataset, *parts)
        index = cls.build(dataset)
        index.save(folder)
        return index

    # ----- catalog lookups ----------------------------------------------------------------------
    def aisle_ids(self, names) -> list[int]:
        """Aisle ids for the given aisle names (case-insensitive); names not in the catalog are ignored."""
        return [self._aisle_by_name[n.strip().lower()] for n in names or () if n.strip().lower() in self._aisle_by_name]

    def department_ids(self, names) -> list[int]:
        return [self._dept_by_name[n.strip().lower()] for n in names or () if n.strip().lower() in self._dept_by_name]

    def rows(self, product_ids) -> np.ndarray:
        return self.catalog.row_of[np.asarray(list(product_ids), dtype=np.int64)]

    def search(self, query: str, k: int = 10, aisles=None, departments=None) -> list[int]:
        """Product ids best matching `query` (BM25), optionally within aisles/departments given by id or name."""
        return [pid for pid, _ in self.search_scored(query, k, aisles, departments)]

    def search_scored(self, query: str, k: int = 10, aisles=None, departments=None) -> list[tuple[int, float]]:
        aisles = [a if isinstance(a, int) else self.aisle_ids([a])[0] for a in aisles or ()
                  if isinstance(a, int) or self.aisle_ids([a])]
        departments = [d if isinstance(d, int) else self.department_ids([d])[0] for d in departments or ()
                       if isinstance(d, int) or self.department_ids([d])]
        return self.lexical.search(query, k, aisles or None, departments or None)

    # ----- co-purchase --------------------------------------------------------------------------
    def vector(self, product_id: int) -> np.ndarray:
        return self.vectors[self.catalog.row(product_id)]

    def similarity(self, a: int, b: int) -> float:
        """Cosine similarity of two products' co-purchase vectors, in [-1, 1]."""
        return float(self.vector(a) @ self.vector(b))

    def neighbors(self, product_id: int, k: int = 10) -> list[int]:
        """The k products most often bought alongside `product_id` (by vector), among well-seen products."""
        return self._nearest(self.vector(product_id), k, exclude={product_id})

    def _nearest(self, query: np.ndarray, k: int, exclude: AbstractSet[int] = frozenset(),
                 prior: float = 0.0, aisle_ids: AbstractSet[int] = frozenset()) -> list[int]:
        """The k well-seen products (of `aisle_ids`, if given) scoring highest against `query`, best first.

        Only well-seen rows can be chosen, so after the one catalog-wide product the work is on those rows alone
        (`_well_seen_rows`); the scores are the same numbers as over the whole catalog."""
        rows, log_popularity, log_most, position = self._well_seen_rows()
        scores = self._well_seen_scores(query, rows)
        if prior:
            scores = scores + prior * log_popularity / log_most
        if aisle_ids:
            scores = np.where(np.isin(self.catalog.aisle_ids[rows], list(aisle_ids)), scores, -np.inf)
        elif exclude:
            scores = scores.copy()
        if exclude:
            at = position[self.rows(exclude)]
            scores[at[at >= 0]] = -np.inf
        k = min(k, int(np.isfinite(scores).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return self.catalog.product_ids[rows[top]].tolist()

    def _well_seen_scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """`(vectors @ query)[rows]`, read-only, kept for the last few queries: a page asks about its shopper's
        profile several times (its reserve, then rows of their aisles). The product stays catalog-wide: over the
        well-seen rows alone BLAS may round differently."""
        key = (query.dtype.str, query.tobytes())
        found = self._recent_scores.get(key)
        if found is None:
            found = (self.vectors @ query)[rows]
            found.setflags(write=False)
            _keep_recent(self._recent_scores, key, found)
        return found

    def _well_seen_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The well-seen catalog rows, their log-popularity, the catalog's highest, and each row's position among
        them (-1: not well seen); made once per index."""
        if self._well_seen is None:
            rows = np.flatnonzero(self.well_seen)
            position = np.full(len(self.well_seen), -1, dtype=np.int64)
            position[rows] = np.arange(len(rows))
            self._well_seen = (rows, np.log1p(self.popularity)[rows], np.log1p(max(self.popularity.max(), 1)),
                               position)
        return self._well_seen

    # ----- users --------------------------------------------------------------------------------
    def history(self, user: int | UserHistory) -> UserHistory:
        """A UserHistory as given, or every order with items of the user with this id."""
        return user if isinstance(user, UserHistory) else self.histories.get(int(user))

    def _profile_of(self, history: UserHistory) -> np.ndarray:
        """`profile(history)`, read-only, kept for the last few histories (by identity: a page asks about its
        shopper several times)."""
        found = self._recent_profiles.get(id(history))
        if found is not None and found[0] is history:
            return found[1]
        vector = self.profile(history)
        vector.setflags(write=False)
        _keep_recent(self._recent_profiles, id(history), (history, vector))
        return vector

    def profile(self, user: int | UserHistory) -> np.ndarray:
        """Unit vector of the user's tastes: product vectors weighted by frequency and recency."""
        history = self.history(user)
        if history.is_empty():
            return np.zeros(self.vectors.shape[1], dtype=np.float32)
        n = len(history.orders)
        weights: dict[int, float] = {}
        for i, order in enumerate(history.orders):
            for p in order.products:
                weights[p] = weights.get(p, 0.0) + RECENCY_DECAY ** (n - 1 - i)
        rows = self.rows(weights)
        vector = np.asarray(list(weights.values()), dtype=np.float32) @ self.vectors[rows]
        norm = np.linalg.norm(vector)
        return vector / norm if norm > 0 else vector

    def _popularity_order(self) -> np.ndarray:
        if self._popular_order is None:
            self._popular_order = np.lexsort((self.catalog.product_ids, -self.popularity))
        return self._popular_order

    def popular_in(self, aisle_ids: Iterable[int], k: int, exclude: AbstractSet[int] = frozenset()) -> list[int]:
        """The k best sellers of these aisles (G-TopFreq within them), however far down the store's list they are."""
        order = self._popularity_order()
        rows = order[np.isin(self.catalog.aisle_ids[order], list(aisle_ids))]
        out: list[int] = []
        for row in rows:
            if len(out) == k:
                break
            pid = int(self.catalog.product_ids[row])
            if pid not in exclude:
                out.append(pid)
        return out

    def popular(self, k: int, exclude: AbstractSet[int] = frozenset()) -> list[int]:
        """G-TopFreq: the k products in the most baskets (ties by id)."""
        order = self._popularity_order()
        out = []
        for row in order:
            pid = int(self.catalog.product_ids[row])
            if pid not in exclude:
                out.append(pid)
                if len(out) == k:
                    break
        return out

    def likely_in(self, user: int | UserHistory, aisle_ids: AbstractSet[int], k: int) -> list[int]:
        """Up to k products of these aisles the user never bought, nearest their taste profile (co-purchase
        neighbours, as `candidates_for_user` explores), popular ones slightly ahead."""
        history = self.history(user)
        if history.is_empty() or not aisle_ids:
            return []
        return self._nearest(self._profile_of(history), k, exclude=set(history.product_counts), prior=0.3,
                             aisle_ids=aisle_ids)

    def candidates_for_user(self, user: int | UserHistory, k: int) -> list[int]:
        """Repurchase candidates (P-TopFreq) followed by co-purchase neighbours of the user's profile."""
        history = self.history(user)
        if history.is_empty():
            return self.popular(k)
        explore = int(round(k * EXPLORATION_SHARE))
        own = history.top_products(k - explore)
        fresh = self._nearest(self._profile_of(history), k - len(own), exclude=set(history.product_counts), prior=0.3)
        return own + fresh
