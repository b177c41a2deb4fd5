"""The placement-quality scorer: its logistic core on hand fixtures, its answers on the real index, and its
agreement with the merchandisers' labels (the committed models, checked on the labeled set)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from themepage.constants import LABELS_FILE
from themepage.metrics.agreement import pair_f1, roc_auc
from themepage.quality import placement_scorer
from themepage.quality.logistic import LogisticModel, fit_logistic
from themepage.quality.scorer import duplicate_slots
from themepage.quality.text import content_stems, jaccard


def test_logistic_probability_known_values():
    model = LogisticModel(("x",), (1.0,), (2.0,), (1.0,), 0.0)  # p = sigmoid((x - 1) / 2)
    assert model.probability(np.array([[1.0]])) == pytest.approx([0.5])
    assert model.probability(np.array([[1.0 + 2 * math.log(3)]])) == pytest.approx([0.75])
    assert len(model.probability(np.zeros((0, 1)))) == 0
    assert LogisticModel.from_json(model.to_json()) == model


def test_fit_logistic_learns_the_direction_and_the_base_rate():
    x = np.array([[0.0], [1.0], [2.0], [3.0], [1.5], [1.6]])
    y = np.array([0, 0, 1, 1, 0, 1])
    model = fit_logistic(x, y, ("x",), l2=0.1)
    assert model.coef[0] > 0
    p = model.probability(x)
    assert p[3] > 0.8 and p[0] < 0.2
    balanced = fit_logistic(np.zeros((4, 1)), np.array([0, 1, 1, 1]), ("x",))
    assert balanced.probability(np.zeros((1, 1)))[0] == pytest.approx(0.75, abs=1e-6)  # no signal: the base rate


def test_content_stems_drop_variant_words_and_sizes():
    assert content_stems("Organic Cilantro 1 oz") == content_stems("cilantro") == frozenset({"cilantro"})
    assert jaccard(content_stems("Kalamata Olives"), content_stems("Kalamata Pitted")) == pytest.approx(1 / 3)


def _ids(index, *names):
    wanted = {n.lower(): n for n in names}
    found = {name.lower(): int(pid) for name, pid in zip(index.catalog.names, index.catalog.product_ids, strict=True)
             if name.lower() in wanted}
    return [found[n.lower()] for n in names]


def test_scores_one_placement_in_input_order(index):
    scorer = placement_scorer(index)
    pasta = index.search("spaghetti penne pasta", 5, aisles=["dry pasta"])
    towel = _ids(index, "Paper Towels")
    quality = scorer.score("Easy Pasta Night", pasta + towel)
    assert len(quality.fit) == 6 and all(0.0 <= f <= 1.0 for f in quality.fit)
    assert min(quality.fit[:5]) > quality.fit[5] + 0.3  # paper towels do not belong under a pasta title
    assert quality.title_fit == pytest.approx(np.mean(quality.fit), abs=1e-5)
    assert 0.0 <= quality.publishable <= 1.0
    assert placement_scorer(index) is scorer


def test_near_duplicates_flag_repeats_and_same_items(index):
    scorer = placement_scorer(index)
    olives, cilantro = _ids(index, "Kalamata Olives", "Organic Cilantro")
    cilantro_plain = _ids(index, "Cilantro")[0]
    quality = scorer.score("Taco Night", [cilantro, olives, cilantro_plain, cilantro])
    assert (cilantro, cilantro_plain) in quality.near_duplicates
    assert (cilantro, cilantro) in quality.near_duplicates  # a repeated id is always its own near-duplicate
    assert all(olives not in pair for pair in quality.near_duplicates)
    # page slots: 3rd is a near-duplicate of the 1st, 4th repeats the 1st
    assert duplicate_slots(scorer, [cilantro, olives, cilantro_plain, cilantro]) == 2
    assert duplicate_slots(scorer, [olives]) == 0


def test_unknown_product_is_a_key_error(index):
    with pytest.raises(KeyError, match="unknown product id 999999999"):
        placement_scorer(index).score("Anything", [999999999])


def test_agrees_with_the_merchandisers_labels(index):
    """Floors for the committed models on every labeled row, the rows they were fitted on and the newer ones
    (bench/fit_quality.py reports the cross-validated figures); the old co-purchase title fit scored far lower."""
    scorer = placement_scorer(index)
    rows = [json.loads(line) for line in LABELS_FILE.read_text().splitlines() if line.strip()]
    fits, truth, publishable, published, pairs = [], [], [], [], []
    for row in rows:
        quality = scorer.score(row["title"], [p["product_id"] for p in row["products"]])
        pairs.append(quality.near_duplicates)
        fits += quality.fit
        truth += [p["fit"] for p in row["products"]]
        publishable.append(quality.publishable)
        published.append(row["publishable"])
    fits, truth = np.array(fits), np.array(truth)
    assert roc_auc(fits[truth != 1], truth[truth != 1] == 2) > 0.88
    assert roc_auc(publishable, published) > 0.85
    assert pair_f1(pairs, [row["near_duplicate_groups"] for row in rows]) > 0.78  # pairs of rule 2's groups


FRUITS = ("Banana", "Organic Strawberries", "Honeycrisp Apple", "Seedless Red Grapes", "Organic Blueberries", "Lemons",
          "Cantaloupe", "Organic Raspberries")
CEREALS = ("Cheerios Cereal", "Honey Nut Cheerios", "Frosted Flakes", "Cinnamon Toast Crunch")


def _ids_named(index, names) -> list[int]:
    wanted = {n.lower(): n for n in names}
    found = {wanted[index.catalog.name(p).lower()]: int(p) for p in index.catalog.product_ids
             if index.catalog.name(p).lower() in wanted}
    assert len(found) == len(names), f"not in the bundled catalog: {set(names) - set(found)}"
    return [found[n] for n in names]


def test_a_specific_honest_row_is_rated_like_a_generic_one(index):
    """The publishable head reads what is in the row, not whether its title is generic: eight distinct fruits
    under "Fresh Fruit" rate about as publishable as under "Buy It Again", and well above the same title over
    a row with four cereals swapped in (the labels' publishable rows were nearly all generic titles)."""
    scorer = placement_scorer(index)
    fruits = _ids_named(index, FRUITS)
    specific = scorer.score("Fresh Fruit", fruits)
    generic = scorer.score("Buy It Again", fruits)
    mixed = scorer.score("Fresh Fruit", fruits[:4] + _ids_named(index, CEREALS))
    assert specific.near_duplicates == []
    assert specific.publishable >= generic.publishable - 0.1
    assert specific.publishable > mixed.publishable + 0.2
    assert min(specific.fit) > 0.9 and min(mixed.fit) < 0.5


def test_a_generic_word_does_not_excuse_products_outside_the_titles_kind(index):
    """"Your Produce Regulars" still asks for produce (the labels mark cereal down under it); "Buy It Again"
    asks for nothing but ordinary groceries."""
    scorer = placement_scorer(index)
    cereals = _ids_named(index, CEREALS)
    assert max(scorer.score("Your Produce Regulars", cereals).fit) < 0.5
    assert min(scorer.score("Buy It Again", cereals).fit) > 0.8
