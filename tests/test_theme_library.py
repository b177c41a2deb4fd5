"""The theme library loads, validates, and is grounded in the real Instacart catalog."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import get_args

import pytest

import themepage
from themepage.library.theme_bank import BankTheme, Claim, load_theme_bank

DATA = Path(themepage.__file__).parent / "data/instacart"

TAG_MINIMUMS = {
    "healthy": 12,
    "discovery": 12,
    "seasonal": 10,
    "staples": 10,
    "indulgent": 10,
    "quick": 10,
}
CARE_TAGS = {"household", "self-care", "baby", "pet"}


def _aisles() -> dict[str, str]:
    with (DATA / "aisles.csv").open(newline="", encoding="utf-8") as fh:
        return {row["aisle_id"]: row["aisle"] for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def bank() -> tuple[BankTheme, ...]:
    return load_theme_bank()


@pytest.fixture(scope="module")
def aisle_names() -> set[str]:
    return set(_aisles().values())


@pytest.fixture(scope="module")
def names_by_aisle() -> dict[str, list[str]]:
    """Lowercased product names grouped by aisle name, built once per module."""
    aisles = _aisles()
    grouped: dict[str, list[str]] = defaultdict(list)
    with (DATA / "products.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            grouped[aisles[row["aisle_id"]]].append(row["product_name"].lower())
    return dict(grouped)


def test_bank_loads_and_is_large(bank):
    assert all(isinstance(t, BankTheme) for t in bank)
    assert len(bank) >= 170


def test_default_load_is_cached(bank):
    assert load_theme_bank() is bank


def test_ids_and_titles_unique(bank):
    ids = Counter(t.id for t in bank)
    titles = Counter(t.title.casefold() for t in bank)
    assert [i for i, n in ids.items() if n > 1] == []
    assert [t for t, n in titles.items() if n > 1] == []


def test_ids_are_kebab_case(bank):
    bad = [t.id for t in bank if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", t.id)]
    assert bad == []


def test_every_aisle_name_exists(bank, aisle_names):
    bad = [(t.id, a) for t in bank for a in t.aisles if a not in aisle_names]
    assert bad == []


def test_every_catalog_aisle_is_covered(bank, aisle_names):
    covered = {a for t in bank for a in t.aisles}
    assert sorted(aisle_names - covered) == []


def test_aisle_counts_and_empty_aisles_only_for_personal(bank):
    # a personal theme may span a department ("Your Pantry Restock"): a regulars row holds the shopper's products of
    # all its aisles; any other theme names a few aisles
    assert all(len(t.aisles) <= (12 if "personal" in t.tags else 8) for t in bank)
    assert [t.id for t in bank if not t.aisles and "personal" not in t.tags] == []


@pytest.mark.parametrize(("tag", "minimum"), sorted(TAG_MINIMUMS.items()))
def test_tag_minimums(bank, tag, minimum):
    assert sum(tag in t.tags for t in bank) >= minimum


def test_care_and_personal_counts(bank):
    assert sum(bool(CARE_TAGS & set(t.tags)) for t in bank) >= 10
    assert 6 <= sum("personal" in t.tags for t in bank) <= 20


def test_every_query_finds_products_of_its_aisles_by_name(bank, index):
    """A theme's row holds what its queries find by name in its aisles (`query_hits`): a query that names no product
    there, or finds one only through the aisle's own name, adds nothing to the row."""
    from themepage.page import Theme
    from themepage.programs.retrieval import query_hits

    weak = [(theme.id, query) for theme in bank if theme.aisles for query in theme.queries
            if not query_hits(index, Theme(title=theme.title, queries=[query], aisles=list(theme.aisles)), 60)]
    assert weak == []


GOOD = """
[[themes]]
id = "a"
title = "A"
description = "d"
queries = ["x", "y"]
aisles = ["milk"]
tags = ["quick"]
"""


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        (GOOD.replace('tags = ["quick"]', 'tags = ["spicy"]'), ["'a'", "tags"]),
        (GOOD + GOOD.replace('title = "A"', 'title = "B"'), ["'a'", "id", "duplicate"]),
        (GOOD + GOOD.replace('id = "a"', 'id = "b"'), ["'b'", "title", "duplicate"]),
        (GOOD.replace('title = "A"\n', ""), ["'a'", "title"]),
        (GOOD.replace('queries = ["x", "y"]', 'queries = ["x"]'), ["'a'", "queries"]),
        (GOOD.replace('id = "a"', 'id = " "'), ["id"]),
        ("[[themes]\nid =", ["cannot read"]),
    ],
)
def test_malformed_bank_raises_clear_value_error(tmp_path, body, needles):
    path = tmp_path / "bad_bank.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError) as info:
        load_theme_bank(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    for needle in needles:
        assert needle in message


def test_good_tmp_bank_loads(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(GOOD, encoding="utf-8")
    (theme,) = load_theme_bank(path)
    assert theme.diet == [] and theme.tags == ["quick"]


def test_the_library_ships_in_the_wheel():
    """The TOML beside the loader is matched by the package data setuptools puts in the wheel."""
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parent.parent
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["themepage"]
    shipped = Path(load_theme_bank.__code__.co_filename).with_name("theme_bank.toml")
    relative = shipped.relative_to(Path(themepage.__file__).parent).as_posix()
    assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


def test_a_title_that_makes_a_claim_declares_it(bank):
    """"Organic Essentials" claims organic of every product: the theme says so, and a name must say it too."""
    claiming = {t.id: t.claims for t in bank if t.claims}
    assert claiming["organic-essentials"] == ["organic"] and claiming["gluten-free-pantry"] == ["gluten free"]
    for theme in bank:
        title = theme.title.lower().replace("-", "").replace(" ", "")
        said = [claim for claim in get_args(Claim) if claim.replace(" ", "") in title]
        assert sorted(theme.claims) == sorted(said), theme.id
    organic = next(t for t in bank if t.id == "organic-essentials")
    assert organic.claims_made_by("Organic Whole Milk") and not organic.claims_made_by("Whole Milk")
    gluten_free = next(t for t in bank if t.id == "gluten-free-pantry")
    assert gluten_free.claims_made_by("Gluten-Free Penne") and not gluten_free.claims_made_by("Penne Rigate")
