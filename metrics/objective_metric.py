"""Objective glue: a business objective's weights turned into one DSPy metric.

`Objective(config, index).metric(example, pred, trace=None)` is the weighted mean of
the page scores the objective names (a float for evaluation, a bool against the
objective's pass threshold when DSPy bootstraps with a trace). Called GEPA's way,
with `pred_name`/`pred_trace`, it returns `dspy.Prediction(score, feedback,
objective_scores)`, where the feedback names the weakest parts in plain words an
instruction proposer can act on. Swapping the objective is a config change only.
"""

from __future__ import annotations

import dspy

from themepage.index.protocol import Index
from themepage.metrics.relevance import page_of
from themepage.metrics.scores import SCORE_KEYS, page_scores
from themepage.objectives import ADVICE, ObjectiveConfig, load_objective


class UnknownScore(ValueError):
    pass


class Objective:
    """One objective bound to a catalog index: scores, weighted score, feedback, and the DSPy metric."""

    def __init__(self, config: ObjectiveConfig, index: Index):
        unknown = sorted(set(config.weights) - set(SCORE_KEYS))
        if unknown:
            raise UnknownScore(f"objective {config.name!r} weights unknown scores {unknown}; known: {list(SCORE_KEYS)}")
        self.config, self.index = config, index

    @classmethod
    def load(cls, name: str, index: Index) -> Objective:
        return cls(load_objective(name), index)

    @property
    def name(self) -> str:
        return self.config.name

    def scores(self, example, pred) -> dict[str, float]:
        """Every page score of the prediction for the example's shopper (recall needs a `target`)."""
        target = example.get("target") if hasattr(example, "get") else getattr(example, "target", None)
        return page_scores(page_of(pred), example.history, self.index, target)

    def weighted(self, scores: dict[str, float]) -> float:
        """Weighted mean of the scores the objective names; weights of absent scores are left out."""
        present = {k: w for k, w in self.config.weights.items() if k in scores}
        total = sum(present.values())
        return sum(w * scores[k] for k, w in present.items()) / total if total else 0.0

    def advice(self) -> list[str]:
        """What to change for each score the objective weighs, heaviest weight first."""
        ranked = sorted(self.config.weights, key=lambda k: -self.config.weights[k])
        return [ADVICE[k] for k in ranked if k in ADVICE]

    def feedback(self, scores: dict[str, float]) -> str:
        """The weakest weighted parts first, each with what to change."""
        parts = sorted((k for k in self.config.weights if k in scores), key=lambda k: scores[k])
        lines = [f"{k} = {scores[k]:.2f}: {ADVICE.get(k, 'improve it')}" for k in parts[:3]]
        return f"{self.name} score {self.weighted(scores):.2f}. " + " ".join(lines)

    def metric(self, example, pred, trace=None, pred_name=None, pred_trace=None):
        scores = self.scores(example, pred)
        value = self.weighted(scores)
        if pred_name is not None or pred_trace is not None:
            return dspy.Prediction(score=value, feedback=self.feedback(scores), objective_scores=scores)
        if trace is not None:
            return value >= self.config.pass_threshold
        return value

    def __call__(self, example, pred, trace=None, pred_name=None, pred_trace=None):
        return self.metric(example, pred, trace, pred_name, pred_trace)
