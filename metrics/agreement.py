"""Agreement of a score with labels: ROC AUC and F1, for checking metrics against merchandisers' labels."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

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


def pairs_of_groups(groups: Iterable[Iterable]) -> set[frozenset]:
    """Every unordered pair of distinct items inside each group (a group of k items implies k(k-1)/2 pairs)."""
    pairs: set[frozenset] = set()
    for group in groups:
        members = list(dict.fromkeys(group))
        pairs.update(frozenset((a, b)) for i, a in enumerate(members) for b in members[i + 1:])
    return pairs


def pair_f1(predicted: Sequence[Iterable[Iterable]], groups: Sequence[Iterable[Iterable]]) -> float:
    """F1 of predicted near-duplicate pairs against the pairs the labeled groups imply, pooled over rows.

    `predicted[r]` holds row r's predicted pairs (or groups: any collection of items is read as all its pairs),
    `groups[r]` its labeled groups; pairs of different rows never match. 1.0 when neither side has a pair.
    """
    if len(predicted) != len(groups):
        raise ValueError(f"{len(predicted)} predicted rows for {len(groups)} labeled rows")
    found = {(r, pair) for r, row in enumerate(predicted) for pair in pairs_of_groups(row)}
    wanted = {(r, pair) for r, row in enumerate(groups) for pair in pairs_of_groups(row)}
    return f1(found, wanted)
