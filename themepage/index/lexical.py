"""BM25 search over product name, aisle and department, with aisle and department filters."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import cast

import bm25s
import numpy as np
import Stemmer

from themepage.dataset.model import Catalog


@lru_cache(maxsize=1)
def _stemmer():
    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lowercased, stop-word-free, Snowball-stemmed tokens (so 'tomatoes' meets 'tomato')."""
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer().stemWords, return_ids=False,
                            show_progress=False)
    return cast(list[list[str]], tokens)  # return_ids=False: lists of strings, not a Tokenized tuple


@lru_cache(maxsize=4096)
def query_tokens(query: str) -> tuple[str, ...]:
    """Tokens of one query, memoized: programs ask the same theme queries over and over."""
    return tuple(tokenize([query])[0])


TOKEN_PATTERN = re.compile(r"(?u)\b\w\w+\b")
"""bm25s's (and scikit-learn's) token pattern, as `tokenize` splits texts."""


@lru_cache(maxsize=1 << 16)
def text_tokens(text: str) -> frozenset[str]:
    """The tokens `tokenize` makes of one short text (a product's name alone, or a query), memoized, at a fraction of
    its cost per call: a query that matches only a product's aisle or department words finds the shelf, not the product
    (`programs.retrieval.query_hits` reads hundreds of names a page)."""
    words = [w for w in TOKEN_PATTERN.findall(text.lower()) if w not in _stopwords()]
    return frozenset(_stemmer().stemWords(words))


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def product_texts(catalog: Catalog) -> list[str]:
    """What each product is indexed by: its name (twice, so it outweighs the shelf), aisle and department."""
    return [f"{name} {name} {catalog.aisles[int(a)]} {catalog.departments[int(d)]}"
            for name, a, d in zip(catalog.names, catalog.aisle_ids, catalog.department_ids, strict=True)]


class LexicalIndex:
    """BM25 (Lucene variant, via bm25s) over the catalog, one document per product row."""

    def __init__(self, retriever: bm25s.BM25, catalog: Catalog):
        self._retriever = retriever
        self._vocab = retriever.vocab_dict
        self._catalog = catalog
        # theme queries repeat across shoppers and calls; callers only read the returned arrays
        self.scores = lru_cache(maxsize=128)(self._scores)
        self._search = lru_cache(maxsize=1024)(self._top)  # a page repeats its searches (a row's title, its queries)

    @classmethod
    def build(cls, catalog: Catalog) -> LexicalIndex:
        retriever = bm25s.BM25()
        retriever.index(tokenize(product_texts(catalog)), show_progress=False)
        return cls(retriever, catalog)

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, catalog: Catalog) -> LexicalIndex:
        return cls(bm25s.BM25.load(str(folder), show_progress=False), catalog)

    def check(self, n_docs: int) -> None:
        """Raise ValueError unless the loaded matrix is well formed for `n_docs` documents (a damaged cache)."""
        scores = self._retriever.scores
        data, indices, indptr = (np.asarray(scores[key]) for key in ("data", "indices", "indptr"))
        if scores.get("num_docs") != n_docs:
            raise ValueError(f"index has {scores.get('num_docs')} documents, the catalog {n_docs}")
        # one pointer per token plus the end; bm25s keeps its empty-string token last, without a column
        if data.ndim != 1 or indices.shape != data.shape or indptr.ndim != 1 or not (
                len(self._vocab) <= len(indptr) <= len(self._vocab) + 1):
            raise ValueError("index arrays have inconsistent shapes")
        if data.dtype.kind != "f" or indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
            raise ValueError("index arrays have the wrong dtypes")
        if indptr[0] != 0 or indptr[-1] != len(data) or (np.diff(indptr) < 0).any():
            raise ValueError("index pointers are not a valid sparse layout")
        if len(indices) and (indices.min() < 0 or indices.max() >= n_docs) or not np.isfinite(data).all():
            raise ValueError("index entries are out of range")

    def _scores(self, query: str) -> np.ndarray:
        """BM25 score of every catalog row for `query` (zeros where no token is known); read-only."""
        tokens = [t for t in query_tokens(query) if t in self._vocab]
        scores = (self._retriever.get_scores(tokens) if tokens
                  else np.zeros(len(self._catalog), dtype=np.float32))
        scores.setflags(write=False)
        return scores

    def search(self, query: str, k: int = 10, aisles=None, departments=None) -> list[tuple[int, float]]:
        """Top-k (product_id, score) with a positive score, optionally only within the given aisle/department ids."""
        return list(self._search(query, k, tuple(aisles) if aisles else None,
                                 tuple(departments) if departments else None))

    def _top(self, query: str, k: int, aisles: tuple | None,
             departments: tuple | None) -> tuple[tuple[int, float], ...]:
        scores = self.scores(query)
        rows = np.flatnonzero(scores > 0)
        if aisles:
            rows = rows[np.isin(self._catalog.aisle_ids[rows], list(aisles))]
        if departments:
            rows = rows[np.isin(self._catalog.department_ids[rows], list(departments))]
        if len(rows) > k:
            rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
        rows = rows[np.lexsort((rows, -scores[rows]))]
        ids = self._catalog.product_ids[rows]
        return tuple(zip(ids.tolist(), scores[rows].astype(float).tolist(), strict=True))
