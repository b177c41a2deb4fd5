"""Which library theme names a group of products (`themepage.library.bank_title`), against its rule read plainly."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from themepage.library.bank_title import BANK_COVERAGE, BANK_NAMED, bank_title
from themepage.library.theme_bank import load_theme_bank


def plain_rule(products: list[tuple[str, str]]) -> str | None:
    """The rule as the module docstring states it, one theme and one product at a time: the non-personal theme
    whose aisles hold and whose queries name (a word in common) at least BANK_COVERAGE and BANK_NAMED of the
    products, whose claims every name makes, and whose two shares sum highest (the first such theme on ties)."""
    def words(text: str) -> set[str]:
        return set(re.findall(r"[a-z]+", text.lower()))

    best, best_score = None, 0.0
    aisles = Counter(a for _, a in products)
    for theme in load_theme_bank():
        if "personal" in theme.tags:
            continue
        held = sum(aisles[a] for a in theme.aisles) / len(products)
        named = sum(any(words(q) & words(n) for q in theme.queries) for n, _ in products) / len(products)
        if held >= BANK_COVERAGE and named >= BANK_NAMED and all(theme.claims_made_by(n) for n, _ in products) \
                and held + named > best_score:
            best, best_score = theme.title, held + named
    return best


GROUPS = {
    "pasta night": [("Spaghetti", "dry pasta"), ("Penne Rigate", "dry pasta"), ("Marinara Sauce", "pasta sauce"),
                    ("Basil Pesto", "pasta sauce")],
    "organic basics": [("Organic Whole Milk", "milk"), ("Organic Large Brown Eggs", "eggs"),
                       ("Organic Baby Spinach", "packaged vegetables fruits"), ("Organic Bananas", "fresh fruits")],
    "one not organic": [("Organic Whole Milk", "milk"), ("Large White Eggs", "eggs"),
                        ("Organic Baby Spinach", "packaged vegetables fruits"), ("Organic Bananas", "fresh fruits")],
    "a mixed basket": [("Paper Towels", "paper goods"), ("Spaghetti", "dry pasta"), ("Cat Food", "cat food care"),
                       ("Sparkling Water", "water seltzer sparkling water")],
}


@pytest.mark.parametrize("group", GROUPS)
def test_bank_title_follows_its_rule(group):
    found = bank_title(GROUPS[group])
    assert (found or {}).get("title") == plain_rule(GROUPS[group])


def test_some_groups_are_named_and_claims_hold():
    assert bank_title(GROUPS["pasta night"]) is not None
    assert bank_title(GROUPS["a mixed basket"]) is None
    one_not_organic = bank_title(GROUPS["one not organic"])
    assert one_not_organic is None or "organic" not in str(one_not_organic["title"]).lower()


def test_a_store_that_is_not_a_grocery_store_gets_no_bank_title():
    assert bank_title(GROUPS["pasta night"], grocery=False) is None
