"""ROC AUC and F1 on hand-computed fixtures."""

from __future__ import annotations

import pytest

from themepage.metrics.agreement import f1, roc_auc


def test_roc_auc_perfect_reversed_known_ties_and_one_class():
    assert roc_auc([0.9, 0.8, 0.1], [True, True, False]) == 1.0
    assert roc_auc([0.1, 0.2, 0.9], [True, True, False]) == 0.0
    # positives 0.8, 0.3; negatives 0.5, 0.3: pairs won 1 + 0 + 0.5 (tie) + 1 = 2.5... of 4 -> see below
    # (0.8 vs 0.5) win, (0.8 vs 0.3) win, (0.3 vs 0.5) loss, (0.3 vs 0.3) tie: (1 + 1 + 0 + 0.5) / 4
    assert roc_auc([0.8, 0.3, 0.5, 0.3], [True, True, False, False]) == pytest.approx(2.5 / 4)
    assert roc_auc([0.4, 0.6], [True, True]) == 0.5


def test_f1_perfect_empty_and_known():
    assert f1({1, 2}, {1, 2}) == 1.0
    assert f1(set(), set()) == 1.0
    assert f1({1}, set()) == 0.0
    assert f1({1, 2, 3}, {2, 3, 4, 5}) == pytest.approx(2 * 2 / 7)  # precision 2/3, recall 2/4
