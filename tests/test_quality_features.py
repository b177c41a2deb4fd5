"""Title-versus-product features the fit model reads, on hand-made titles and names."""

from __future__ import annotations

import numpy as np
import pytest

from themepage.quality.evidence import PlacementEvidence, TitleEvidence
from themepage.quality.features import PRODUCT_FEATURES, claims_missing, product_features
from themepage.quality.heads import WordStats


@pytest.mark.parametrize(("title", "name", "share"), [
    ("Organic Essentials", "Organic Whole Milk", 0.0),
    ("Organic Essentials", "Red Vine Tomato", 1.0),
    ("More Organic Essentials (3)", "Parmesan, organic", 0.0),
    ("Organic Gluten-Free Pantry", "Organic Elbow Pasta", 0.5),  # makes organic, not gluten free
    ("Easy Pasta Night", "Red Vine Tomato", 0.0),  # the title claims nothing
    ("Vegan Bites", "Veganaise", 1.0),  # a word that only starts with the claim does not make it
])
def test_claims_missing_is_the_share_of_title_claims_the_name_lacks(title, name, share):
    assert claims_missing(title, name) == share


def _placement(names: list[str], aisles: list[int]) -> PlacementEvidence:
    n, zeros = len(names), np.zeros((len(names), 2))
    return PlacementEvidence(list(range(1, n + 1)), names, np.array(aisles), np.zeros(n), zeros, zeros, zeros, zeros,
                             [None] * n, [frozenset()] * n, zeros, WordStats.from_names(names))


def test_products_outside_the_aisle_a_title_names_are_marked():
    found = TitleEvidence(np.array([1.0, 0.0]), None, np.zeros(0), np.zeros(0), names_an_aisle=True, named_aisle=24)
    rows = product_features("Fresh Fruits Picks", found, _placement(["Lemon", "Green Beans"], [24, 83]))
    outside = rows[:, PRODUCT_FEATURES.index("outside_named_aisle")]
    assert outside.tolist() == [0.0, 1.0]


def test_a_title_naming_no_aisle_marks_no_product_outside():
    found = TitleEvidence(np.array([1.0, 0.0]), None, np.zeros(0), np.zeros(0))
    rows = product_features("Organic Pasta Night", found, _placement(["Organic Penne", "Tomato"], [24, 83]))
    assert rows[:, PRODUCT_FEATURES.index("outside_named_aisle")].tolist() == [0.0, 0.0]
    assert rows[:, PRODUCT_FEATURES.index("claims_missing")].tolist() == [0.0, 1.0]


def _named(names: list[str], aisles: list[int], cores: np.ndarray | None = None) -> PlacementEvidence:
    """A placement whose heads and stems are read from the names as the scorer reads them."""
    from themepage.quality.heads import ordered_stems

    n, zeros = len(names), np.zeros((len(names), 2))
    words = WordStats.from_names(["Dried Figs", "Ground Turkey", "Turkey Breast", "Cocktail Sauce", "Tartar Sauce"])
    return PlacementEvidence(list(range(1, n + 1)), names, np.array(aisles), np.zeros(n), zeros, zeros, zeros, zeros,
                             [words.head(name) for name in names], [frozenset(ordered_stems(name)) for name in names],
                             zeros if cores is None else cores, words)


def _column(rows: np.ndarray, name: str) -> list[float]:
    return rows[:, PRODUCT_FEATURES.index(name)].tolist()


def test_a_title_word_that_is_the_names_head_names_the_product_and_a_modifier_does_not():
    """"Turkey Figs" are figs (their head), "Ground Turkey" is turkey, "Cocktail Sauce" a sauce."""
    found = TitleEvidence(np.array([1.0, 0.0]), None, np.zeros(0), np.zeros(0),
                          stems=frozenset({"fresh", "chicken", "turkey", "cocktail"}))
    rows = product_features("Fresh Chicken & Turkey", found,
                            _named(["Turkey Figs", "Ground Turkey", "Cocktail Sauce", "Dried Figs"], [1, 2, 3, 1]))
    assert _column(rows, "head_in_title") == [0.0, 1.0, 0.0, 0.0]
    assert _column(rows, "title_word_modifier") == [1.0, 0.0, 1.0, 0.0]


def test_log_aisle_choice_is_the_titles_share_of_the_products_aisle_and_core_words_take_the_closest_title_word():
    choice = np.array([0.0, 0.7, 0.2, 0.1])
    words = np.array([[1.0, 0.0], [0.0, 1.0]])
    found = TitleEvidence(np.array([0.6, 0.8]), None, np.zeros(0), np.zeros(0), aisle_choice=choice,
                          word_embeddings=words)
    cores = np.array([[0.6, 0.8], [1.0, 0.0], [0.0, 1.0]])
    rows = product_features("Any Title", found, _named(["Dried Figs", "Tartar Sauce", "Ground Turkey"], [1, 3, 9],
                                                       cores))
    # aisle 9 is beyond the choice: no share, so only the floor (1e-4) is left
    assert _column(rows, "log_aisle_choice") == pytest.approx([np.log(0.7001), np.log(0.1001), np.log(0.0001)])
    assert _column(rows, "core_title") == pytest.approx([1.0, 0.6, 0.8])
    assert _column(rows, "core_title_word") == pytest.approx([0.8, 1.0, 1.0])
