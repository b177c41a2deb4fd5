"""Near-duplicate checks of many small product sets at the cost of one read: per-product evidence, memoised.

The page rules ask the core scorer about hundreds of overlapping sets a page; reading a set's evidence
embeds every name again. This cache reads each product once and assembles any set from the pieces.
A product's evidence does not depend on the shopper, so pieces are also kept across pages (per scorer,
the SHARED_PIECES most recently used): a batch reads the popular products once, not once a page.

Near-duplicates are judged by what the products are (rule 2 of themepage/data/DATA.md: one item differing
only by brand, size, a claim, a flavour or scent of one line, a cut or form, or a synonym; the pair model
of `themepage.quality`, fitted to the labels' groups). One exception, decided for every objective: a pair
of products the shopper has both bought (`bought`, the history's products) is not a near-duplicate for
the page rules. The rule exists so that a slot is not spent on a second copy of an item; when the shopper
buys both the chicken broth and the chicken stock, or two flavours of one yogurt, each is a product they
come back for, and dropping one costs a relevance page its next-basket recall. It matters on relevance
pages, which lead with the shopper's own products; discovery rows hold few of them. A product the
shopper bought next to one they did not is still judged as any pair. The page score's duplicate share
(`metrics/cohesion.py`) still counts such pairs: it scores the page as a merchandiser would, without the
history.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import fields

import numpy as np

from themepage.quality.evidence import PlacementEvidence
from themepage.quality.features import PairTexts, all_pairs
from themepage.quality.scorer import PlacementScorer

SHARED_PIECES = 8192
"""Products whose evidence is kept across pages, per scorer (each holds four text embeddings)."""


def _piece(evidence: PlacementEvidence, i: int) -> PlacementEvidence:
    """The evidence of the i-th product alone (per-product fields sliced, shared ones kept)."""
    n = len(evidence.product_ids)
    values = {}
    for f in fields(evidence):
        value = getattr(evidence, f.name)
        sliceable = isinstance(value, (np.ndarray, list)) and len(value) == n
        values[f.name] = value[i:i + 1] if sliceable else value
    return PlacementEvidence(**values)


def _joined(pieces: Sequence[PlacementEvidence]) -> PlacementEvidence:
    values = {}
    for f in fields(pieces[0]):
        first = getattr(pieces[0], f.name)
        if isinstance(first, np.ndarray):
            values[f.name] = np.concatenate([getattr(p, f.name) for p in pieces])
        elif isinstance(first, list):
            values[f.name] = [v for p in pieces for v in getattr(p, f.name)]
        else:
            values[f.name] = first
    return PlacementEvidence(**values)


class SharedPieces:
    """Per-product evidence of one scorer kept across pages: the `limit` most recently used, thread-safe."""

    def __init__(self, scorer: PlacementScorer, limit: int = SHARED_PIECES):
        self.scorer, self.limit = scorer, limit
        self._pieces: OrderedDict[int, PlacementEvidence] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, product_ids: list[int]) -> dict[int, PlacementEvidence]:
        """The pieces of these (distinct) products, reading (in one batch) those not kept."""
        with self._lock:
            found = {p: self._pieces[p] for p in product_ids if p in self._pieces}
            for p in found:
                self._pieces.move_to_end(p)
        missing = [p for p in product_ids if p not in found]
        if missing:
            evidence = self.scorer.evidence(missing)
            read = {pid: _piece(evidence, i) for i, pid in enumerate(missing)}
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


class EvidenceCache:
    """Evidence of any product set for one scorer, each product read once (per page, then per process).

    `bought`: the shopper's products; pairs of two of them are not reported as near-duplicates (module docstring).
    """

    def __init__(self, scorer: PlacementScorer, bought: frozenset[int] = frozenset()):
        self.scorer = scorer
        self.bought = frozenset(int(p) for p in bought)
        self.shared = shared_pieces(scorer)
        self.pieces: dict[int, PlacementEvidence] = {}
        self.pair_texts: PairTexts = {}
        self.title_fits: dict[tuple[str, int], float] = {}

    def read(self, product_ids: Sequence[int]) -> None:
        """Take the products not read yet from the shared pieces (which read those they lack in one batch)."""
        missing = list(dict.fromkeys(int(p) for p in product_ids if int(p) not in self.pieces))
        if missing:
            self.pieces.update(self.shared.get(missing))

    def evidence(self, product_ids: Sequence[int]) -> PlacementEvidence:
        self.read(product_ids)
        return _joined([self.pieces[int(p)] for p in product_ids])

    def near_duplicates(self, product_ids: Sequence[int], threshold: float | None = None) -> list[tuple[int, int]]:
        """Pairs among these products (row order) the scorer flags, or whose pair chance reaches `threshold`."""
        return self._flagged(product_ids, None, threshold)

    def near_duplicates_of(self, product_id: int, product_ids: Sequence[int],
                           threshold: float | None = None) -> list[tuple[int, int]]:
        """`near_duplicates(product_ids, threshold)` restricted to the pairs holding `product_id`, at their cost only.

        A pair's chance depends on the whole set (margins, nearest neighbours), so the set is still read whole;
        only the other pairs' features are not computed.
        """
        ids = [int(p) for p in product_ids]
        n, wanted = len(ids), int(product_id)
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if ids[i] == wanted or ids[j] == wanted]
        return self._flagged(ids, pairs, threshold)

    def _flagged(self, product_ids: Sequence[int], pairs: list[tuple[int, int]] | None,
                 threshold: float | None) -> list[tuple[int, int]]:
        if len(product_ids) < 2 or pairs == []:
            return []
        flagged, chances = self.scorer.duplicate_chances(self.evidence(product_ids), pairs, self.pair_texts)
        if threshold is not None:
            ids = [int(p) for p in product_ids]
            pairs = all_pairs(len(ids)) if pairs is None else pairs
            flagged = [(ids[i], ids[j]) for (i, j), chance in zip(pairs, chances, strict=True) if chance >= threshold]
        return [pair for pair in flagged if pair[0] == pair[1] or not bought_both(pair, self.bought)]

    def fits(self, title: str, product_ids: Sequence[int]) -> list[float]:
        """The scorer's fit of each product under `title`, memoised by (title, product)."""
        missing = list(dict.fromkeys(int(p) for p in product_ids if (title, int(p)) not in self.title_fits))
        if missing:
            found = self.scorer.product_fits(title, self.evidence(missing))
            self.title_fits.update({(title, p): float(f) for p, f in zip(missing, found, strict=True)})
        return [self.title_fits[title, int(p)] for p in product_ids]
