"""Near-duplicates by what a product is (rule 2 of the labels): synonyms, claims, flavours and forms, on hand-made
names and on the bundled catalog; and the page rule's exception for pairs the shopper buys both of."""

from __future__ import annotations

import json

import pytest

from themepage.constants import HELDOUT_LABELS_FILE, LABELS_FILE, OWN_LABELS_FILE
from themepage.programs.rules.duplicates import EvidenceCache, bought_both
from themepage.quality import placement_scorer
from themepage.quality.sameness import Spread, item_stems, item_text


@pytest.mark.parametrize(("a", "b"), [
    ("Chick Peas", "Garbanzo Beans"),
    ("Organic Chicken Broth", "Chicken Stock"),
    ("Classic Original Hommus", "Hummus"),
    ("Lime Seltzer", "Lime Sparkling Water"),
    ("Unsweetened Almondmilk", "Almond Milk"),
    ("Sliced Salame", "Sliced Salami"),
    ("Totopos", "Tortilla Chips"),
    ("Tortilla Crisps", "Tortilla Chips"),
    ("Party Tumblers", "Party Cups"),
    ("Steel Cut Oatmeal", "Steel Cut Oats"),
    ("Hazelnut K-Cups", "Hazelnut K Cups"),
])
def test_synonyms_and_claims_read_as_one_item(a, b):
    assert item_stems(a) == item_stems(b)


@pytest.mark.parametrize(("a", "b"), [
    ("Sharp Cheddar", "Mozzarella"),
    ("Almond Milk", "Oat Milk"),
    ("Chicken Broth", "Vegetable Broth"),
])
def test_different_foods_stay_different(a, b):
    assert item_stems(a) != item_stems(b)


def test_item_text_writes_whole_words_only():
    assert item_text("Stockyard Jerky") == "stockyard jerky"  # "stock" inside a word is not broth
    assert item_text("Garbanzo Beans, Organic") == "chickpeas, organic"


def test_spread_tells_a_flavour_from_a_food():
    # "lime" sits in three aisles (one name each), "yogurt" and "cheddar" in one aisle each
    names = ["Lime Yogurt", "Lime Chips", "Lime Sparkling Water", "Vanilla Yogurt", "Plain Yogurt", "Cheddar",
             "Sharp Cheddar", "Mild Cheddar"]
    aisles = [1, 2, 3, 1, 1, 4, 4, 4]
    spread = Spread.from_catalog(names, aisles, prior=0.0)
    assert spread.of("lime") == pytest.approx(1 / 3)
    assert spread.of("yogurt") == 1.0 and spread.of("cheddar") == 1.0
    assert spread.of("unseen") == 0.5
    # two yogurts differing by a flavour: the differing words are a spread one (lime) and vanilla (one aisle,
    # one name), the shared one is the food
    assert spread.specific_shared(item_stems("Lime Yogurt"), item_stems("Vanilla Yogurt")) == 1.0
    assert spread.most_specific_difference(item_stems("Lime Yogurt"), item_stems("Lime Chips")) == 1.0
    assert spread.most_specific_difference(item_stems("Cheddar"), item_stems("Organic Cheddar")) == 0.0  # a claim
    assert spread.most_specific_difference(item_stems("Cheddar"), item_stems("Sharp Cheddar")) == 1.0
    smoothed = Spread.from_catalog(["Lime Yogurt"], [1], prior=2.0)  # one name: (1 + 1) / (1 + 2)
    assert smoothed.of("lime") == pytest.approx(2 / 3)


def _named(index, *names):
    found = {index.catalog.name(p): int(p) for p in index.catalog.product_ids if index.catalog.name(p) in names}
    return [found[n] for n in names]


def test_the_committed_pair_model_sees_synonyms_and_forms(index):
    scorer = placement_scorer(index)
    ids = _named(index, "Chick Peas", "Garbanzo Beans", "Organic Chicken Broth", "Chicken Stock",
                 "Shredded Parmesan", "Grated Parmesan", "Sharp Cheddar", "Mozzarella")
    flagged = {frozenset(p) for p in scorer.near_duplicates(scorer.evidence(ids))}
    assert frozenset(ids[0:2]) in flagged  # a synonym
    assert frozenset(ids[2:4]) in flagged  # broth / stock
    assert frozenset(ids[4:6]) in flagged  # a form of one food
    assert frozenset(ids[6:8]) not in flagged  # two cheeses
    assert frozenset((ids[0], ids[2])) not in flagged


def test_pairs_the_shopper_bought_both_of_are_kept_by_the_page_rule(index):
    scorer = placement_scorer(index)
    broth, stock, peas = _named(index, "Organic Chicken Broth", "Chicken Stock", "Chick Peas")
    assert (broth, stock) in EvidenceCache(scorer).near_duplicates([broth, stock, peas])
    assert EvidenceCache(scorer, frozenset({broth, stock})).near_duplicates([broth, stock, peas]) == []
    # bought one of the two: still a near-duplicate
    assert (broth, stock) in EvidenceCache(scorer, frozenset({broth})).near_duplicates([broth, stock, peas])
    assert EvidenceCache(scorer, frozenset({broth, stock})).near_duplicates([broth, broth]) == [(broth, broth)]
    assert bought_both((1, 2), frozenset({1, 2})) and not bought_both((1, 3), frozenset({1, 2}))


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("path", [HELDOUT_LABELS_FILE, OWN_LABELS_FILE])
def test_rows_labeled_here_are_in_the_labels_format(path):
    rows, fitted = _rows(path), _rows(LABELS_FILE)
    assert len(rows) >= 80
    fields = set(fitted[0])
    for row in rows:
        assert set(row) == fields
        assert row["origin"]["labeled_by"] == "labeled by a model reading the names, rubric of DATA.md"
        assert all(p["fit"] in (0, 1, 2) for p in row["products"])
        ids = {p["product_id"] for p in row["products"]}
        members = [p for group in row["near_duplicate_groups"] for p in group]
        assert set(members) <= ids and len(members) == len(set(members))  # a product is in at most one group


def test_the_held_out_rows_are_none_of_the_rows_fitted_on():
    held = _rows(HELDOUT_LABELS_FILE)
    fitted = [*_rows(LABELS_FILE), *_rows(OWN_LABELS_FILE)]
    assert not {r["placement_id"] for r in held} & {r["placement_id"] for r in fitted}

    def row_key(row):
        return " ".join(row["title"].lower().split()), frozenset(p["product_id"] for p in row["products"])

    assert not {row_key(r) for r in held} & {row_key(r) for r in fitted}
