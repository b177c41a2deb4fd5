"""Ranking metrics on hand-computed fixtures."""

import math

import pytest

from themepage.metrics.ranking import first_occurrences, ndcg_at_k, recall_at_k


def test_perfect_page():
    assert recall_at_k([1, 2, 3], {1, 2, 3}, 3) == 1.0
    assert ndcg_at_k([1, 2, 3, 9], {1, 2, 3}, 4) == pytest.approx(1.0)


def test_empty_cases():
    assert recall_at_k([], {1}, 10) == 0.0
    assert ndcg_at_k([], {1}, 10) == 0.0
    assert recall_at_k([1], set(), 10) == 0.0
    assert ndcg_at_k([1], set(), 10) == 0.0


def test_known_values():
    # basket {1, 2}; page [9, 1, 8, 2]: hits at ranks 1 and 3 (0-based)
    assert recall_at_k([9, 1, 8, 2], {1, 2}, 2) == 0.5
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3)
    assert ndcg_at_k([9, 1, 8, 2], {1, 2}, 4) == pytest.approx(dcg / idcg)


def test_repeats_count_once_at_first_position():
    assert first_occurrences([5, 1, 5, 2]) == [5, 1, 2]
    assert recall_at_k([5, 5, 5, 1], {1}, 2) == 1.0
