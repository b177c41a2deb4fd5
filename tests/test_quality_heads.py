"""Heads, core phrases and catalog word statistics of the placement-quality scorer, on hand-computed names."""

from __future__ import annotations

import math

import numpy as np
import pytest

from themepage.quality.features import nearest_others, pair_margin
from themepage.quality.heads import WordStats, core_phrase, ordered_stems

NAMES = ["Kalamata Olives", "Green Olives", "Olive Oil", "Organic Kalamata Pitted"]
"""Stems held: oliv 3 names, kalamata 2, green/oil/pit 1; core-phrase last stems: oliv, oliv, oil, pit."""


@pytest.mark.parametrize(("name", "core"), [
    ("Beef Jerky, Teriyaki", "Beef Jerky"),
    ("Sardines in Water", "Sardines"),
    ("Total Greek Yogurt with Peach", "Total Greek Yogurt"),
    ("Bag of Organic Bananas", "Organic Bananas"),
    ("Kalamata Olives", "Kalamata Olives"),
])
def test_core_phrase_keeps_the_part_that_names_the_food(name, core):
    assert core_phrase(name) == core


def test_ordered_stems_drop_sizes_and_variant_words():
    assert ordered_stems("Organic Strawberries 1 Lb") == ["strawberri"]


def test_headness_and_idf_are_counted_over_the_names():
    words = WordStats.from_names(NAMES)
    assert words.headness["oliv"] == pytest.approx(2 / (3 + 2))
    assert words.headness["pit"] == pytest.approx(1 / (1 + 2))
    assert words.headness["kalamata"] == 0.0
    assert words.idf["oliv"] == pytest.approx(math.log(5 / 4))
    assert words.idf["green"] == pytest.approx(math.log(5 / 2))


def test_head_is_the_last_head_like_stem_of_the_core_phrase():
    words = WordStats.from_names(NAMES)
    assert words.head("Green Olives, Pitted") == "oliv"
    assert words.head("Kalamata Pitted") == "pit"
    assert words.head("Kalamata") == "kalamata"  # no head-like stem: the most head-like one
    assert words.head("12 oz") is None


def test_weighted_jaccard_weighs_shared_stems_by_idf():
    words = WordStats.from_names(NAMES)
    expected = math.log(5 / 4) / (math.log(5 / 3) + math.log(5 / 4) + math.log(5 / 2))
    assert words.weighted_jaccard(frozenset({"kalamata", "oliv"}), frozenset({"oliv", "green"})) == pytest.approx(
        expected)
    assert words.weighted_jaccard(frozenset(), frozenset()) == 0.0


def test_nearest_others_and_pair_margin():
    similarity = np.array([[1.0, 0.9, 0.2], [0.9, 1.0, 0.5], [0.2, 0.5, 1.0]])
    assert nearest_others(similarity).tolist() == [1, 0, 1]
    assert pair_margin(similarity, 0, 1) == pytest.approx(0.9 - 0.5)
    assert pair_margin(similarity, 0, 2) == pytest.approx(0.2 - 0.9)
    assert pair_margin(np.array([[1.0, 0.3], [0.3, 1.0]]), 0, 1) == pytest.approx(0.3)
