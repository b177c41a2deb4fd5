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
    rows = product_features("Fresh Fruits Picks", found, _placement(["Lemon", "Green Beans"], [24, 83]), ["", ""])
    outside = rows[:, PRODUCT_FEATURES.index("outside_named_aisle")]
    assert outside.tolist() == [0.0, 1.0]


def test_a_title_naming_no_aisle_marks_no_product_outside():
    found = TitleEvidence(np.array([1.0, 0.0]), None, np.zeros(0), np.zeros(0))
    rows = product_features("Organic Pasta Night", found, _placement(["Organic Penne", "Tomato"], [24, 83]), ["", ""])
    assert rows[:, PRODUCT_FEATURES.index("outside_named_aisle")].tolist() == [0.0, 0.0]
    assert rows[:, PRODUCT_FEATURES.index("claims_missing")].tolist() == [0.0, 1.0]
