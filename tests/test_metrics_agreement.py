"""ROC AUC and F1 on hand-computed fixtures."""

from __future__ import annotations

import pytest

from themepage.metrics.agreement import f1, pair_f1, pairs_of_groups, roc_auc


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


def test_pairs_of_groups_implies_every_pair_inside_each_group():
    assert pairs_of_groups([[1, 2, 3], [7, 8]]) == {frozenset(p) for p in [(1, 2), (1, 3), (2, 3), (7, 8)]}
    assert pairs_of_groups([[4], []]) == set()  # a lone item or an empty group implies no pair
    assert pairs_of_groups([[5, 5, 6]]) == {frozenset((5, 6))}  # a repeated member is one member
    assert len(pairs_of_groups([list(range(8))])) == 28  # 8 * 7 / 2


def test_pair_f1_pools_rows_and_reads_groups_as_their_pairs():
    labeled = [[[1, 2, 3]], [[1, 2]], []]  # row 0: pairs 12 13 23; row 1: pair 12; row 2: none
    assert pair_f1([[[1, 2, 3]], [[2, 1]], []], labeled) == 1.0
    # predicted: row 0 pair (1, 2) only; row 1 nothing; row 2 a false pair (1, 2)
    # hits 1; predicted 2; labeled 4 -> F1 = 2 * 1 / (2 + 4)
    assert pair_f1([[(1, 2)], [], [(1, 2)]], labeled) == pytest.approx(2 / 6)
    # a pair labeled in row 1 does not count when predicted in row 0
    assert pair_f1([[(5, 6)], []], [[], [[5, 6]]]) == 0.0
    assert pair_f1([[], []], [[], [[4]]]) == 1.0  # no pair on either side
    with pytest.raises(ValueError, match="2 predicted rows for 1 labeled"):
        pair_f1([[], []], [[]])
