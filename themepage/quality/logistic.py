"""Logistic regression small enough to read: standardised features, L2-penalised Newton fitting, JSON state.

Fitting happens offline (bench/fit_quality.py, on labeled placements); at run time only `probability`
runs, from coefficients committed in `themepage/quality/models.json`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class LogisticModel:
    """p(y=1 | x) = sigmoid(intercept + sum_k coef_k * (x_k - mean_k) / scale_k); features named in order."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float = 0.5

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """One probability in [0, 1] per row (rows hold the features in `features` order)."""
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        if rows.shape[0] == 0:
            return np.zeros(0)
        mean, scale, coef = self._arrays
        z = self.intercept + ((rows - mean) / scale) @ coef
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """mean, scale and coef as arrays (made once: `probability` runs hundreds of times a page)."""
        return np.asarray(self.mean), np.asarray(self.scale), np.asarray(self.coef)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, state: dict) -> LogisticModel:
        return cls(tuple(state["features"]), tuple(state["mean"]), tuple(state["scale"]), tuple(state["coef"]),
                   float(state["intercept"]), float(state.get("threshold", 0.5)))


def fit_logistic(rows: np.ndarray, labels: np.ndarray, features: tuple[str, ...], l2: float = 1.0,
                 iterations: int = 50) -> LogisticModel:
    """Maximum penalised likelihood by Newton's method (IRLS); the L2 penalty spares the intercept."""
    rows = np.asarray(rows, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    design = np.column_stack([np.ones(len(rows)), (rows - mean) / scale])
    weights = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ weights, -40.0, 40.0)))
        gradient = design.T @ (p - labels) + penalty * weights
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty) + 1e-9 * np.eye(len(weights))
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return LogisticModel(tuple(features), tuple(mean.tolist()), tuple(scale.tolist()), tuple(weights[1:].tolist()),
                         float(weights[0]))
