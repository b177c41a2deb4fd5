"""Near-duplicate checks of many small product sets at the cost of one read: per-product evidence, memoised.

The page rules ask the core scorer about hundreds of overlapping sets a page; reading a set's evidence
embeds every name again. This cache reads each product once and assembles any set from the pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import numpy as np

from themepage.quality.evidence import PlacementEvidence
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
        if len(product_ids) < 2:
            return []
        flagged, chances = self.scorer.duplicate_chances(self.evidence(product_ids))
        if threshold is None:
            return flagged
        n, ids = len(product_ids), [int(p) for p in product_ids]
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        return [(ids[i], ids[j]) for (i, j), chance in zip(pairs, chances, strict=True) if chance >= threshold]
