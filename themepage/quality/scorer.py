"""Placement quality: how well each product fits its row's title, near-duplicate pairs, and a publishable estimate.

Three logistic models (themepage/quality/models.json, fitted offline by bench/fit_quality.py on
merchandiser-labeled placements) read the features of `themepage.quality.features`:
- fit: p(a merchandiser labels the product "belongs" rather than "does not belong") per product;
- near-duplicates: pairs whose probability reaches the model's threshold (chosen for F1 when fitting);
- publishable: p(the row could be published as is), from the fits, the near-duplicate count and the title.
Title fit is the mean product fit. Products are read in input order; a product repeated in the row
is its own earlier copy's near-duplicate.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from themepage.quality.evidence import PlacementEvidence, TitleLookup
from themepage.quality.features import PairTexts, pair_features, placement_features, product_features
from themepage.quality.logistic import LogisticModel
from themepage.quality.text import shared_embedder

MODELS_FILE = Path(__file__).resolve().parent / "models.json"


@dataclass(frozen=True)
class QualityModels:
    """The three fitted models and how they were fitted (free text, kept with the coefficients)."""

    fit: LogisticModel
    duplicate: LogisticModel
    publishable: LogisticModel
    provenance: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = MODELS_FILE) -> QualityModels:
        state = json.loads(Path(path).read_text())
        return cls(LogisticModel.from_json(state["fit"]), LogisticModel.from_json(state["duplicate"]),
                   LogisticModel.from_json(state["publishable"]), state.get("provenance", {}))


@lru_cache(maxsize=1)
def default_models() -> QualityModels:
    return QualityModels.load()


@dataclass(frozen=True)
class PlacementQuality:
    """Scores of one placement: `fit` per product in input order, pairs of product ids, estimates in [0, 1]."""

    fit: list[float]
    near_duplicates: list[tuple[int, int]]
    title_fit: float
    publishable: float

    def as_json(self) -> dict:
        return {"fit": self.fit, "near_duplicates": [list(p) for p in self.near_duplicates],
                "title_fit": self.title_fit, "publishable": self.publishable}


class PlacementScorer:
    """Scores placements against one catalog index (title evidence memoised across calls; thread-safe)."""

    def __init__(self, index, models: QualityModels | None = None):
        self.index = index
        self.models = models or default_models()
        self.embed = shared_embedder()
        self.titles = TitleLookup(index, self.embed)
        self._lock = threading.Lock()

    def evidence(self, product_ids: Sequence[int]) -> PlacementEvidence:
        return PlacementEvidence.read(self.index, self.embed, product_ids)

    def score(self, title: str, product_ids: Sequence[int]) -> PlacementQuality:
        """Fit per product, near-duplicate pairs, title fit and publishable estimate of one placement.

        Raises KeyError naming the first product id not in the catalog.
        """
        unknown = [p for p in product_ids if int(p) not in self.index.catalog]
        if unknown:
            raise KeyError(f"unknown product id {unknown[0]}")
        with self._lock:
            found = self.titles(title)
        placement = self.evidence(product_ids)
        fits = self.models.fit.probability(product_features(title, found, placement))
        duplicates, chances = self.duplicate_chances(placement)
        row = placement_features(title, fits, chances, found)
        publishable = float(self.models.publishable.probability(row)[0]) if len(fits) else 0.0
        return PlacementQuality([round(float(f), 6) for f in fits], duplicates,
                                round(float(fits.mean()), 6) if len(fits) else 0.0, round(publishable, 6))

    def product_fits(self, title: str, placement: PlacementEvidence) -> np.ndarray:
        """The fit of each product of `placement` under `title` (as in `score`), without the pair work."""
        if not len(placement.product_ids):
            return np.zeros(0)
        with self._lock:
            found = self.titles(title)
        return self.models.fit.probability(product_features(title, found, placement))

    def near_duplicates(self, placement: PlacementEvidence) -> list[tuple[int, int]]:
        """Pairs of product ids (in row order) the duplicate model flags; repeats of one id always count."""
        return self.duplicate_chances(placement)[0]

    def duplicate_chances(self, placement: PlacementEvidence, pairs: list[tuple[int, int]] | None = None,
                          memo: PairTexts | None = None) -> tuple[list[tuple[int, int]], np.ndarray]:
        """The flagged pairs (see `near_duplicates`) and the pair model's chance for every index pair (i < j)
        in `pairs` (default: all), each as it would be among all pairs (`memo`: see `pair_features`)."""
        pairs, rows = pair_features(placement, pairs, memo)
        chance = self.models.duplicate.probability(rows)
        ids = placement.product_ids
        if len(set(ids)) < len(ids):  # a repeated id: its pairs are certain
            repeated = np.array([ids[i] == ids[j] for i, j in pairs], dtype=bool)
            chance = np.where(repeated, 1.0, chance) if len(pairs) else chance
        flagged = [(ids[pairs[k][0]], ids[pairs[k][1]])
                   for k in np.flatnonzero(chance >= self.models.duplicate.threshold)]
        return flagged, chance


_SCORERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SCORERS_LOCK = threading.Lock()


def placement_scorer(index) -> PlacementScorer:
    """The shared PlacementScorer of this index (one per index, so title evidence is reused)."""
    with _SCORERS_LOCK:
        found = _SCORERS.get(index)
        if found is None:
            found = _SCORERS[index] = PlacementScorer(index)
        return found


def duplicate_slots(scorer: PlacementScorer, product_ids: Sequence[int]) -> int:
    """Slots (in reading order) that repeat, or are a near-duplicate of, a product shown earlier on the page."""
    if len(product_ids) < 2:
        return 0
    pairs = scorer.near_duplicates(scorer.evidence(product_ids))
    position: dict[int, int] = {}
    for i, p in enumerate(product_ids):
        position.setdefault(int(p), i)
    later = {max(position[a], position[b]) for a, b in pairs if a != b}
    repeats = {i for i, p in enumerate(product_ids) if position[int(p)] != i}
    return len(later | repeats)
