"""Near-duplicate checks of many small product sets at the cost of one read: per-product evidence, memoised.

The page rules ask the core scorer about hundreds of overlapping sets a page; reading a set's evidence
embeds every name again. This cache reads each product once and assembles any set from the pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import numpy as np

from themepage.quality.evidence import PlacementEvidence
from themepage.quality.features import all_pairs
from themepage.quality.scorer import PlacementScorer


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


class EvidenceCache:
    """Evidence of any product set for one scorer, each product read once."""

    def __init__(self, scorer: PlacementScorer):
        self.scorer = scorer
        self.pieces: dict[int, PlacementEvidence] = {}

    def read(self, product_ids: Sequence[int]) -> None:
        """Read (in one batch) the products not read yet."""
        missing = list(dict.fromkeys(int(p) for p in product_ids if int(p) not in self.pieces))
        if missing:
            evidence = self.scorer.evidence(missing)
            for i, pid in enumerate(missing):
                self.pieces[pid] = _piece(evidence, i)

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
        flagged, chances = self.scorer.duplicate_chances(self.evidence(product_ids), pairs)
        if threshold is None:
            return flagged
        ids = [int(p) for p in product_ids]
        pairs = all_pairs(len(ids)) if pairs is None else pairs
        return [(ids[i], ids[j]) for (i, j), chance in zip(pairs, chances, strict=True) if chance >= threshold]
