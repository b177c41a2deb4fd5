"""Co-purchase product vectors: PPMI of within-basket co-occurrence, reduced by truncated SVD.

PPMI with context-distribution smoothing (alpha = 0.75) followed by SVD is the
count-based word-embedding recipe of Levy, Goldberg & Dagan (TACL 2015),
applied to baskets as "sentences". The vectors are centred on their mean
("all-but-the-top", Mu & Viswanath, ICLR 2018): raw SVD vectors share a strong
common direction that makes any two products look alike. Products seen in few baskets are shrunk
toward their aisle's mean vector, and never-seen products take it outright, so
every catalog product has a vector.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from scipy import sparse

from themepage.constants import EMBEDDING_DIM, MIN_PRODUCT_COUNT, SEED
from themepage.dataset.model import Catalog
from themepage.index.vectors import unit_rows

SMOOTHING = 0.75


@dataclass(frozen=True)
class CopurchaseVectors:
    """Unit-length vectors aligned with catalog rows, and each row's basket count."""

    vectors: np.ndarray
    counts: np.ndarray

    def save(self, path) -> None:
        np.savez(path, vectors=self.vectors, counts=self.counts)

    @classmethod
    def load(cls, path) -> CopurchaseVectors:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as npz:  # np.load(path) leaks a bad zip
            return cls(npz["vectors"], npz["counts"])


def basket_matrix(order_ids: np.ndarray, rows: np.ndarray, n_products: int) -> sparse.csr_matrix:
    """Binary baskets x products matrix from parallel (order id, catalog row) arrays."""
    _, basket = np.unique(order_ids, return_inverse=True)
    data = np.ones(len(rows), dtype=np.float32)
    matrix = sparse.csr_matrix((data, (basket, rows)), shape=(int(basket.max(initial=-1)) + 1, n_products))
    matrix.data[:] = 1.0
    return matrix


def ppmi(cooccurrence: sparse.csr_matrix) -> sparse.csr_matrix:
    """Positive PMI of a symmetric co-occurrence matrix, with smoothed context probabilities."""
    total = cooccurrence.sum()
    if total == 0:
        return sparse.csr_matrix(cooccurrence, dtype=np.float32)
    row_sums = np.asarray(cooccurrence.sum(axis=1)).ravel()
    context = row_sums**SMOOTHING
    context = context / context.sum()
    coo = cooccurrence.tocoo()
    row, col = cast(np.ndarray, coo.row), cast(np.ndarray, coo.col)  # scipy's untyped coords may read as None
    pmi = np.log(coo.data * 1.0 / total) - np.log(row_sums[row] / total) - np.log(context[col])
    keep = pmi > 0
    return sparse.csr_matrix((pmi[keep].astype(np.float32), (row[keep], col[keep])), shape=coo.shape)


def randomized_svd(matrix: sparse.csr_matrix, k: int, oversample: int = 16, power_iterations: int = 2,
                   seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Top-k left singular vectors and values by randomized range finding (Halko, Martinsson & Tropp, 2011).

    Far faster and steadier than ARPACK on a large sparse PPMI matrix; accurate for the leading components.
    """
    rng = np.random.default_rng(seed)
    n_columns = cast(tuple[int, int], matrix.shape)[1]
    sketch = matrix @ rng.standard_normal((n_columns, k + oversample))
    for _ in range(power_iterations):
        sketch, _ = np.linalg.qr(sketch)
        sketch, _ = np.linalg.qr(matrix.T @ sketch)
        sketch = matrix @ sketch
    basis, _ = np.linalg.qr(sketch)
    u_small, s, _ = np.linalg.svd((matrix.T @ basis).T, full_matrices=False)
    return (basis @ u_small)[:, :k], s[:k]


def _group_means(vectors: np.ndarray, weights: np.ndarray, groups: np.ndarray) -> np.ndarray:
    sums = np.zeros((int(groups.max(initial=0)) + 1, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, groups, vectors * weights[:, None])
    return unit_rows(sums.astype(np.float32), np.float32)


def learn_vectors(catalog: Catalog, order_ids: np.ndarray, product_ids: np.ndarray,
                  dim: int = EMBEDDING_DIM) -> CopurchaseVectors:
    """Vectors for every catalog row from baskets given as parallel (order id, product id) arrays."""
    n = len(catalog)
    rows = catalog.row_of[product_ids]
    baskets = basket_matrix(order_ids, rows, n)
    counts = np.asarray(baskets.sum(axis=0)).ravel().astype(np.int32)
    cooc = (baskets.T @ baskets).tocsr()
    cooc.setdiag(0)
    cooc.eliminate_zeros()
    seen = np.flatnonzero(np.asarray(cooc.sum(axis=1)).ravel() > 0)
    raw = np.zeros((n, dim), dtype=np.float32)
    if len(seen) > dim + 1:
        sub = ppmi(cooc[seen][:, seen])
        u, s = randomized_svd(sparse.csr_matrix(sub, dtype=np.float64), dim)
        raw[seen] = (u * np.sqrt(s)).astype(np.float32)
    raw = unit_rows(raw, np.float32)
    if len(seen):  # remove the common direction all products share, so unrelated products score ~0
        raw[seen] = unit_rows(raw[seen] - raw[seen].mean(axis=0), np.float32)
    weights = counts.astype(np.float32)
    aisle_means = _group_means(raw, weights, catalog.aisle_ids.astype(np.int64))
    dept_means = _group_means(raw, weights, catalog.department_ids.astype(np.int64))
    backoff = aisle_means[catalog.aisle_ids]
    empty_aisle = np.linalg.norm(backoff, axis=1) == 0
    backoff[empty_aisle] = dept_means[catalog.department_ids[empty_aisle]]
    own = (counts / (counts + MIN_PRODUCT_COUNT)).astype(np.float32)[:, None]
    return CopurchaseVectors(unit_rows(own * raw + (1 - own) * backoff, np.float32), counts)
