"""`themepage evaluate`'s scoring: the one evaluation path in optimize/evaluation.py (on `dspy.Evaluate`)."""

from __future__ import annotations

from optimize.evaluation import case_scores, cost_scores, evaluate_program

__all__ = ["case_scores", "cost_scores", "evaluate_program"]
