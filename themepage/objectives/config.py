"""Business objectives as typed, validated config files: guidance, metric weights, constraints, gate.

Swapping the objective is a config change: the planner reads the guidance, the
metric reads the weights, the program reads the constraints, CI reads the gate.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from themepage.constants import OBJECTIVES_DIR, PLACEMENTS_PER_PAGE, PRODUCTS_PER_PLACEMENT

ADVICE = {
    "recall@48": "the page missed products the shopper bought next: keep their regular staples on the page",
    "ndcg@48": "the products the shopper bought next sat low on the page: put their regulars first",
    "soft_relevance": "products sit far from the shopper's tastes: stay close to the aisles they love",
    "cohesion": "placements do not hang together: keep every placement cohesive, focused and distinct",
    "intra_list_similarity": "products within a placement are rarely bought together: keep placements focused",
    "title_fit": "products do not match their titles: keep every placement on-theme and consistent",
    "publishable": "rows a merchandiser would not publish: every product must belong under its title, no two alike",
    "distinctness": "placements repeat each other: make every placement distinct",
    "novelty": "too few products are new to the shopper: help them discover new products to try",
    "discovery": "new products miss the shopper's tastes: explore new products close to their favourites",
    "diversity": "the page covers few aisles: add variety across the shop",
    "healthy_share": "too few healthy choices: feature fresh fruit, vegetables and wholesome produce",
}
"""What to change when a page score is low, in words an instruction proposer can act on, per score name.

Part of the objectives' config: the metric's feedback (metrics/objective_metric.py) says it, and an offline GEPA
compile hands it to the offline proposer (optimize/optimizers.py). The offline engine itself never reads it."""


REGULARS_METRICS = ("recall@48", "ndcg@48")
"""Scores that reward the shopper's next basket: an objective weighing one of them most opens with their regulars."""
HEALTHY_METRICS = ("healthy_share",)
"""Scores that reward fruit and vegetables: an objective weighing one of them most opens with a healthy row."""

Opening = Literal["regulars", "healthy"]


class Constraints(BaseModel):
    """The page's shape: `placements` rows of usually `products_per_placement` products.

    A row about one part of the shop may come up short (never below the minimum); a
    catch-all row (a theme with no aisles) then grows, up to the maximum, so the page
    keeps `page_size` products.
    """

    model_config = ConfigDict(extra="forbid")

    placements: int = Field(default=PLACEMENTS_PER_PAGE, ge=1, le=20)
    products_per_placement: int = Field(default=PRODUCTS_PER_PLACEMENT, ge=1, le=40)
    min_products_per_placement: int = Field(default=4, ge=1)
    max_products_per_placement: int = Field(default=2 * PRODUCTS_PER_PLACEMENT, ge=1, le=80)

    @property
    def page_size(self) -> int:
        return self.placements * self.products_per_placement


class Gate(BaseModel):
    """The CI gate: a compiled program must score at least `min_score` on the dev cases."""

    model_config = ConfigDict(extra="forbid")

    min_score: float = Field(ge=0, le=1)


class ObjectiveConfig(BaseModel):
    """One business objective, as written in `themepage/objectives/<name>.toml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    guidance: str = Field(min_length=10)
    weights: dict[str, float]
    constraints: Constraints = Field(default_factory=Constraints)
    gate: Gate
    pass_threshold: float = Field(0.5, ge=0, le=1, description="score at which a bootstrapped trace counts as good")

    @field_validator("weights")
    @classmethod
    def _positive_weights(cls, weights: dict[str, float]) -> dict[str, float]:
        if not weights:
            raise ValueError("at least one metric weight is required")
        bad = [k for k, v in weights.items() if v < 0]
        if bad:
            raise ValueError(f"weights must be >= 0 (negative: {', '.join(bad)})")
        if sum(weights.values()) <= 0:
            raise ValueError("weights must not all be zero")
        return weights

    @property
    def heaviest_weight(self) -> str:
        """The score this objective weighs most (the first listed, on a tie)."""
        return max(self.weights, key=lambda name: self.weights[name])

    @property
    def opens_with(self) -> Opening | None:
        """What a page for this objective opens with, so programs never read metric names themselves.

        "regulars" (the shopper's own products) when the heaviest weight is a next-basket score
        (REGULARS_METRICS), "healthy" (a fruit and vegetable row) when it is HEALTHY_METRICS, else None.
        """
        lead = self.heaviest_weight
        if lead in REGULARS_METRICS:
            return "regulars"
        return "healthy" if lead in HEALTHY_METRICS else None


class ObjectiveError(ValueError):
    """A missing or invalid objective file; the message names the file and field."""


def objective_names(folder: Path = OBJECTIVES_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.toml"))


def load_objective_file(path: Path) -> ObjectiveConfig:
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ObjectiveError(f"{path.name}: not valid TOML: {exc}") from None
    data.setdefault("name", path.stem)
    try:
        return ObjectiveConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(file)"
        raise ObjectiveError(f"{path.name}: field {field}: {first['msg']}") from None


@lru_cache(maxsize=64)
def load_objective(name: str, folder: Path = OBJECTIVES_DIR) -> ObjectiveConfig:
    """The named objective from `folder` (a path to a .toml file works too)."""
    path = Path(name) if name.endswith(".toml") else folder / f"{name}.toml"
    if not path.is_file():
        raise ObjectiveError(f"unknown objective {name!r}; choose from: {', '.join(objective_names(folder))}")
    return load_objective_file(path)
