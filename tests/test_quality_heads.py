"""Heads, core phrases and catalog word statistics of the placement-quality scorer, on hand-computed names."""

from __future__ import annotations

import math

import numpy as np
import pytest

from themepage.quality.evidence import TitleEvidence, aisle_words
from themepage.quality.features import (
    LOWEST_LOG_CHANCE,
    PLACEMENT_FEATURES,
    at_most_chance,
    log_chance,
    nearest_others,
    pair_margin,
    placement_features,
)
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


def test_aisle_words_strip_the_dressing_of_a_raw_aisle_title():
    assert aisle_words("More Fresh Vegetables Picks (2)") == "fresh vegetables"
    assert aisle_words("Popcorn & Jerky Aisle") == "popcorn jerky"


def test_placement_features_read_the_rubric_from_fits_duplicate_chances_and_title_shape():
    """Misfit chances 0.1, 0.8, 0.6: P(none) = 0.9 * 0.2 * 0.4 = 0.072, P(exactly one) = 0.1 * 0.2 * 0.4 +
    0.9 * 0.8 * 0.4 + 0.9 * 0.2 * 0.6 = 0.404; no pair a near-duplicate: 0.3 * 0.9 * 0.7 = 0.189."""
    found = TitleEvidence(np.array([1.0, 0.0]), None, np.zeros(0), np.zeros(0), names_an_aisle=True)
    row = dict(zip(PLACEMENT_FEATURES, placement_features("Fresh Fruits Picks (2)", np.array([0.9, 0.2, 0.4]),
                                                          np.array([0.7, 0.1, 0.3]), found), strict=True))
    assert row["fits_pass_chance"] == pytest.approx(np.log(0.072 + 0.404))
    assert row["no_duplicate_chance"] == pytest.approx(np.log(0.189))
    assert (row["title_names_an_aisle"], row["title_numbered"]) == (1.0, 1.0)
    plain = TitleEvidence(np.array([1.0, 0.0]), None, np.zeros(0), np.zeros(0), names_an_aisle=False)
    clean = placement_features("Fresh Fruit", np.ones(3), np.zeros(3), plain)
    assert clean.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_at_most_chance_is_the_poisson_binomial_tail():
    assert at_most_chance(np.array([0.5, 0.5]), 0) == pytest.approx(0.25)
    assert at_most_chance(np.array([0.5, 0.5]), 1) == pytest.approx(0.75)
    assert at_most_chance(np.array([1.0, 1.0, 0.0]), 1) == pytest.approx(0.0)
    assert at_most_chance(np.zeros(0), 1) == 1.0
    assert log_chance(0.0) == LOWEST_LOG_CHANCE
