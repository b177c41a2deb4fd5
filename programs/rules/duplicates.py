"""Near-duplicate checks of many small product sets at the cost of one read: per-product evidence, memoised.

The page rules ask the core scorer about hundreds of overlapping sets a page; reading a set's evidence
embeds every name again. This cache reads each product once and assembles any set from the pieces.
A product's evidence does not depend on the shopper, so pieces are also kept across pages (per scorer,
the SHARED_PIECES most recently used): a batch reads the popular products once, not once a page. So are
the name-only features of a pair and the fit of a product under a title (shelf and library titles recur).

Near-duplicates are judged by what the products are (rule 2 of themepage/data/DATA.md: one item differing
only by brand, size, a claim, a flavour or scent of one line, a cut or form, or a synonym; the pair model
of `themepage.quality`, fitted to the labels' groups). One exception: a pair of products the shopper has
both bought (`bought`, the history's products) may stand in two different rows of the page, and in one row
only on a page that leads with their regulars (`PageRules.bought_twins_share_a_row`: relevance, cohesive), and
there only until a swap with another row parts them (`programs/rules/twins.py`).
When the shopper buys both the chicken broth and the chicken stock, each is a product they come back for, and
a next-basket page that dropped one loses much of its recall (bench/relevance_recall.py, docs/results.md).
Elsewhere a row is what a merchandiser judges, and two of one item side by side waste a slot whoever bought
them (the labels' rubric, themepage/data/DATA.md: a labeler sees the row, not the history). A product the
shopper bought next to one they did not is judged as any pair. The page score's duplicate share
(`metrics/cohesion.py`) counts every such pair: it scores the page as a merchandiser would, without the
history.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import numpy as np

from themepage.quality.evidence import PAIR_PARTS, PlacementEvidence
from themepage.quality.features import PairTexts, all_pairs
from themepage.quality.scorer import PlacementScorer

SHARED_PIECES = 8192
"""Products whose evidence is kept across pages, per scorer (each holds four text embeddings)."""
SHARED_PAIRS = 100_000
"""Product pairs whose name-only features are kept across pages, per scorer (four floats each)."""
SHARED_FITS = 200_000
"""(Title, product) fits kept across pages, per scorer: shelf and library titles recur from shopper to shopper."""


_FIELD_NAMES = tuple(f.name for f in fields(PlacementEvidence))


def _pieces(evidence: PlacementEvidence) -> list[PlacementEvidence]:
    """The evidence of each product alone, in order (per-product fields sliced, shared ones kept)."""
    n = len(evidence.product_ids)
    values = [getattr(evidence, name) for name in _FIELD_NAMES]
    per_product = [isinstance(v, (np.ndarray, list)) and len(v) == n for v in values]
    return [PlacementEvidence(*(v[i:i + 1] if sliced else v for v, sliced in zip(values, per_product, strict=True)))
            for i in range(n)]


class SharedPieces:
    """Per-product evidence of one scorer kept across pages: the `limit` most recently used, thread-safe."""

    def __init__(self, scorer: PlacementScorer, limit: int = SHARED_PIECES):
        self.scorer, self.limit = scorer, limit
        self._pieces: OrderedDict[int, PlacementEvidence] = OrderedDict()
        self._lock = threading.Lock()
        self._pair_texts: PairTexts = {}
        self._title_fits: dict[tuple[str, int], float] = {}

    def pair_texts(self) -> PairTexts:
        """The name-only pair features memo (`pair_features`'s `memo`) shared by this scorer's pages: they depend on
        the two products alone. Emptied when it holds SHARED_PAIRS pairs."""
        if len(self._pair_texts) > SHARED_PAIRS:
            self._pair_texts = {}
        return self._pair_texts

    def title_fits(self) -> dict[tuple[str, int], float]:
        """The fit of each (title, product) asked about on this scorer's pages: it depends on the two alone.
        Emptied when it holds SHARED_FITS."""
        if len(self._title_fits) > SHARED_FITS:
            self._title_fits = {}
        return self._title_fits

    def get(self, product_ids: list[int], pairs: bool = True) -> dict[int, PlacementEvidence]:
        """The pieces of these (distinct) products, reading (in one batch) those not kept; with `pairs`, pieces with
        their `PAIR_PARTS` (read for kept pieces that lack them), else any piece (new ones without them)."""
        with self._lock:
            kept = {p: self._pieces[p] for p in product_ids if p in self._pieces}
            for p in kept:
                self._pieces.move_to_end(p)
        found = {p: piece for p, piece in kept.items() if not pairs or piece.has_pair_parts}
        read = {}
        new = [p for p in product_ids if p not in kept]
        if new:
            evidence = PlacementEvidence.read(self.scorer.index, self.scorer.embed, new, pairs)
            read.update(zip(new, _pieces(evidence), strict=True))
        read.update({p: kept[p].with_pair_parts(self.scorer.index) for p in kept if p not in found})
        if read:
            with self._lock:
                self._pieces.update(read)
                while len(self._pieces) > self.limit:
                    self._pieces.popitem(last=False)
            found.update(read)
        return found


_SHARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def shared_pieces(scorer: PlacementScorer) -> SharedPieces:
    """The SharedPieces of this scorer (one per scorer, so per index)."""
    with _SHARED_LOCK:
        found = _SHARED.get(scorer)
        if found is None:
            found = _SHARED[scorer] = SharedPieces(scorer)
        return found


def bought_both(pair: tuple[int, int], bought: frozenset[int]) -> bool:
    """Whether the shopper bought both products of the pair (such a pair is kept: module docstring)."""
    return int(pair[0]) in bought and int(pair[1]) in bought


class _Stacked:
    """Some fields of the per-product evidence of the products read so far, stacked row by row (capacity doubling),
    so that any set's values are one gather per field: the same values, in the same order, as joining its pieces."""

    def __init__(self, names: Sequence[str]):
        self.names = tuple(names)
        self.slot: dict[int, int] = {}
        self.arrays: dict[str, np.ndarray] = {}
        self.lists: dict[str, list] = {}
        self.shared: dict[str, object] = {}

    def add(self, product_id: int, piece: PlacementEvidence) -> None:
        at = len(self.slot)
        if not self.slot:
            for name in self.names:
                value = getattr(piece, name)
                if isinstance(value, np.ndarray):
                    self.arrays[name] = np.empty((64, *value.shape[1:]), dtype=value.dtype)
                elif isinstance(value, list):
                    self.lists[name] = []
                else:
                    self.shared[name] = value
        for name, stack in self.arrays.items():
            if at == len(stack):
                stack = self.arrays[name] = np.concatenate([stack, np.empty_like(stack)])
            stack[at:at + 1] = getattr(piece, name)
        for name, values in self.lists.items():
            values.extend(getattr(piece, name))
        self.slot[product_id] = at

    def gather(self, product_ids: Sequence[int]) -> dict[str, Any]:
        slots = [self.slot[int(p)] for p in product_ids]
        rows = np.asarray(slots, dtype=np.int64)
        values: dict[str, Any] = {name: stack.take(rows, axis=0) if stack.ndim > 1 else stack[rows]  # each the faster
                                  for name, stack in self.arrays.items()}
        values.update({name: [found[s] for s in slots] for name, found in self.lists.items()})
        values.update(self.shared)
        return values


_FIT_FIELDS = tuple(name for name in _FIELD_NAMES if name not in PAIR_PARTS)


class EvidenceCache:
    """Evidence of any product set for one scorer, each product read once (per page, then per process).

    `bought`: the shopper's products; pairs of two of them in different rows are not reported as near-duplicates,
    nor, within one row, pairs of two of `bought_in_a_row` (module docstring).
    """

    def __init__(self, scorer: PlacementScorer, bought: frozenset[int] = frozenset(),
                 bought_in_a_row: frozenset[int] = frozenset()):
        self.scorer = scorer
        self.bought = frozenset(int(p) for p in bought)
        self.bought_in_a_row = frozenset(int(p) for p in bought_in_a_row)
        self.shared = shared_pieces(scorer)
        self.fit_parts = _Stacked(_FIT_FIELDS)
        self.pair_parts = _Stacked(PAIR_PARTS)
        self.pair_texts: PairTexts = self.shared.pair_texts()
        self.title_fits: dict[tuple[str, int], float] = self.shared.title_fits()
        self.chances: dict[tuple, tuple[list[tuple[int, int]], np.ndarray]] = {}
        """`scorer.duplicate_chances` of each (product ids, index pairs) asked about."""

    def read(self, product_ids: Sequence[int], pairs: bool = True) -> None:
        """Take the products not read yet (with `pairs`: or read without their `PAIR_PARTS`) from the shared pieces
        (which read those they lack in one batch)."""
        stacked = self.pair_parts if pairs else self.fit_parts
        missing = list(dict.fromkeys(int(p) for p in product_ids if int(p) not in stacked.slot))
        if missing:
            found = self.shared.get(missing, pairs)
            for p in missing:
                if p not in self.fit_parts.slot:
                    self.fit_parts.add(p, found[p])
                if found[p].has_pair_parts and p not in self.pair_parts.slot:
                    self.pair_parts.add(p, found[p])

    def evidence(self, product_ids: Sequence[int], pairs: bool = True) -> PlacementEvidence:
        """The products' evidence; without `pairs`, only what a title's fit reads (`PAIR_PARTS` empty, as
        `PlacementEvidence.read(pairs=False)` leaves them): fits alone never read a name's pair parts."""
        if not len(product_ids):
            return PlacementEvidence.read(self.scorer.index, self.scorer.embed, [], pairs)
        self.read(product_ids, pairs)
        values = self.fit_parts.gather(product_ids)
        if pairs:
            values.update(self.pair_parts.gather(product_ids))
        else:
            values.update(items=[], spread=None)
        return PlacementEvidence(**values)

    def near_duplicates(self, product_ids: Sequence[int], threshold: float | None = None,
                        across_rows: bool = True, exempt_bought: bool = True) -> list[tuple[int, int]]:
        """Pairs among these products (row order) the scorer flags, or whose pair chance reaches `threshold`;
        `across_rows`: the products stand in different rows (pairs of two `bought` are left out); else in one row
        (pairs of two `bought_in_a_row` are). Without `exempt_bought`, no pair is left out."""
        return self._flagged(product_ids, None, threshold, across_rows, exempt_bought)

    def near_duplicates_of(self, product_id: int, product_ids: Sequence[int], threshold: float | None = None,
                           across_rows: bool = True, exempt_bought: bool = True) -> list[tuple[int, int]]:
        """`near_duplicates(product_ids, threshold)` restricted to the pairs holding `product_id`, at their cost only.

        A pair's chance depends on the whole set (margins, nearest neighbours), so the set is still read whole;
        only the other pairs' features are not computed.
        """
        ids = [int(p) for p in product_ids]
        wanted = int(product_id)
        at = [i for i, p in enumerate(ids) if p == wanted]
        if len(at) == 1:  # row-major order, as among all pairs
            pairs = [(j, at[0]) for j in range(at[0])] + [(at[0], j) for j in range(at[0] + 1, len(ids))]
        else:
            pairs = sorted({(min(i, j), max(i, j)) for i in at for j in range(len(ids)) if j != i})
        return self._flagged(ids, pairs, threshold, across_rows, exempt_bought)

    def _flagged(self, product_ids: Sequence[int], pairs: list[tuple[int, int]] | None,
                 threshold: float | None, across_rows: bool, exempt_bought: bool = True) -> list[tuple[int, int]]:
        if len(product_ids) < 2 or pairs == []:
            return []
        key = (tuple(int(p) for p in product_ids), None if pairs is None else tuple(pairs))
        found = self.chances.get(key)
        if found is None:  # the page rules ask about one set under two thresholds, and again after a no-op round
            found = self.chances[key] = self.scorer.duplicate_chances(self.evidence(product_ids), pairs,
                                                                      self.pair_texts)
        flagged, chances = found
        if threshold is not None:
            ids = [int(p) for p in product_ids]
            pairs = all_pairs(len(ids)) if pairs is None else pairs
            flagged = [(ids[i], ids[j]) for (i, j), chance in zip(pairs, chances, strict=True) if chance >= threshold]
        if not exempt_bought:
            return flagged
        exempt = self.bought if across_rows else self.bought_in_a_row
        return [pair for pair in flagged if pair[0] == pair[1] or not bought_both(pair, exempt)]

    def fits(self, title: str, product_ids: Sequence[int]) -> list[float]:
        """The scorer's fit of each product under `title`, memoised by (title, product)."""
        missing = list(dict.fromkeys(int(p) for p in product_ids if (title, int(p)) not in self.title_fits))
        if missing:
            found = self.scorer.product_fits(title, self.evidence(missing, pairs=False))
            self.title_fits.update({(title, p): float(f) for p, f in zip(missing, found, strict=True)})
        return [self.title_fits[title, int(p)] for p in product_ids]
