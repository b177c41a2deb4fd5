"""Balanced k-means: equal groups, every index once, obvious blobs apart, deterministic, edge sizes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from themepage.programs.clustering import balanced_kmeans


def _flat(groups: list[list[int]]) -> list[int]:
    return [i for group in groups for i in group]


@pytest.mark.parametrize(("n", "k"), [(48, 6), (12, 3), (10, 5), (8, 8), (6, 1)])
def test_groups_have_equal_size_and_cover_every_index_once(n, k):
    vectors = np.random.default_rng(n * 31 + k).normal(size=(n, 16))
    groups = balanced_kmeans(vectors, k)
    assert len(groups) == k
    assert [len(g) for g in groups] == [n // k] * k
    assert sorted(_flat(groups)) == list(range(n))


@given(n=st.integers(1, 60), k=st.integers(1, 10), seed=st.integers(0, 10_000), dim=st.integers(1, 8))
@settings(max_examples=60, deadline=None)
def test_any_shape_is_a_near_equal_partition(n, k, seed, dim):
    vectors = np.random.default_rng(seed).normal(size=(n, dim))
    groups = balanced_kmeans(vectors, k)
    assert sorted(_flat(groups)) == list(range(n))  # a partition: each index exactly once
    assert len(groups) <= min(k, n)
    assert all(groups), "no empty group"
    assert max(len(g) for g in groups) <= -(-n // min(k, n))  # no group over capacity
    assert all(g == sorted(g) for g in groups), "each group keeps input order"
    if n % min(k, n) == 0:
        assert len(groups) == min(k, n) and len({len(g) for g in groups}) == 1


def test_two_obvious_blobs_are_separated():
    rng = np.random.default_rng(3)
    left = rng.normal(loc=-10.0, scale=0.1, size=(8, 4))
    right = rng.normal(loc=+10.0, scale=0.1, size=(8, 4))
    # interleave the blobs so input order gives no hint
    vectors = np.empty((16, 4))
    vectors[0::2], vectors[1::2] = left, right
    groups = balanced_kmeans(vectors, 2)
    as_sets = sorted((set(g) for g in groups), key=min)
    assert as_sets == [set(range(0, 16, 2)), set(range(1, 16, 2))]


def test_three_blobs_of_unequal_spread_are_separated():
    rng = np.random.default_rng(11)
    centres = np.array([[0.0, 20.0], [20.0, 0.0], [-20.0, -20.0]])
    labels = np.repeat(np.arange(3), 5)
    rng.shuffle(labels)
    spread = np.array([0.5, 1.0, 2.0])[labels][:, None]
    vectors = centres[labels] + spread * rng.normal(size=(15, 2))
    groups = balanced_kmeans(vectors, 3)
    assert sorted(len(g) for g in groups) == [5, 5, 5]
    for group in groups:
        assert len({int(labels[i]) for i in group}) == 1, "a group mixes blobs"


def test_deterministic_for_the_same_input():
    vectors = np.random.default_rng(5).normal(size=(48, 64))
    first = balanced_kmeans(vectors, 6)
    assert balanced_kmeans(vectors.copy(), 6) == first
    assert balanced_kmeans(vectors, 6, seed=7) == balanced_kmeans(vectors, 6, seed=7)


def test_fewer_points_than_groups():
    vectors = np.random.default_rng(0).normal(size=(3, 5))
    groups = balanced_kmeans(vectors, 6)
    assert sorted(_flat(groups)) == [0, 1, 2]
    assert all(len(g) == 1 for g in groups)


def test_no_points():
    assert balanced_kmeans(np.zeros((0, 8)), 6) == []


def test_identical_points_still_split_evenly():
    groups = balanced_kmeans(np.ones((12, 4)), 4)
    assert sorted(_flat(groups)) == list(range(12))
    assert [len(g) for g in groups] == [3, 3, 3, 3]


def test_real_page_vectors_split_six_by_eight(index):
    """The co-purchase vectors of a real candidate pool split into the page's 6 rows of 8."""
    history = index.histories.get(index.histories.user_ids[0])
    chosen = index.candidates_for_user(history, 48)
    groups = balanced_kmeans(index.vectors[index.rows(chosen)], 6)
    assert [len(g) for g in groups] == [8] * 6
    assert sorted(_flat(groups)) == list(range(48))
