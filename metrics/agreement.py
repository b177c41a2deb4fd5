"""Agreement of a score with labels: ROC AUC and F1, for checking metrics against merchandisers' labels."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from scipy.stats import rankdata


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """ROC AUC (Mann-Whitney U / (n_pos * n_neg), ties counted half), in [0, 1]; 0.5 if a class is empty."""
    score_array, label_array = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=bool)
    positives, negatives = int(label_array.sum()), int((~label_array).sum())
    if positives == 0 or negatives == 0:
        return 0.5
    ranks = rankdata(score_array)
    return float((ranks[label_array].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def f1(predicted: Collection, actual: Collection) -> float:
    """F1 of a predicted set against the actual set, in [0, 1]; 1.0 when both are empty."""
    predicted, actual = set(predicted), set(actual)
    if not predicted and not actual:
        return 1.0
    hits = len(predicted & actual)
    return 2.0 * hits / (len(predicted) + len(actual))
