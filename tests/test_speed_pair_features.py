"""The shortcuts of the pair and product features give the values of the plain formulas, on bundled products."""

from __future__ import annotations

import numpy as np

from themepage.quality import placement_scorer
from themepage.quality.evidence import PlacementEvidence
from themepage.quality.features import (
    PAIR_FEATURES,
    PRODUCT_FEATURES,
    TABLE_PAIRS,
    all_pairs,
    claims_missing,
    nearest_others,
    pair_features,
    pair_margin,
    pair_texts,
    product_features,
    title_claims,
)
from themepage.quality.pair_text_table import pair_text_table
from themepage.quality.text import jaccard


def _plain_pair_texts(placement: PlacementEvidence, i: int, j: int) -> tuple[float, ...]:
    """`pair_texts` as the formulas read, every set operation done (the reference of the shortcuts)."""
    stems, heads, words = placement.stems, placement.heads, placement.words
    items, item_heads, spread = placement.items, placement.item_heads, placement.spread
    assert spread is not None
    same_item_head = item_heads[i] is not None and (item_heads[i] == item_heads[j] or item_heads[i] in items[j]
                                                    or item_heads[j] in items[i])
    return (jaccard(stems[i], stems[j]), float(heads[i] is not None and heads[i] == heads[j]),
            float(heads[i] in stems[j] or heads[j] in stems[i]), words.weighted_jaccard(stems[i], stems[j]),
            words.weighted_jaccard(items[i], items[j]), float(same_item_head),
            spread.most_specific_difference(items[i], items[j]), spread.specific_shared(items[i], items[j]),
            1.0 - min(spread.most_specific(items[i]), spread.most_specific(items[j])))


def _overlapping_products(index) -> list[int]:
    """Products whose names share words (broths, yogurts, waters) and some that share none."""
    found: list[int] = []
    for query in ("chicken broth", "greek yogurt", "sparkling water", "cheddar cheese", "bananas"):
        found += [int(p) for p in index.search(query, 6)]
    return list(dict.fromkeys(found))


def test_pair_texts_equal_the_plain_formulas_on_sharing_and_disjoint_names(index):
    scorer = placement_scorer(index)
    placement = scorer.evidence(_overlapping_products(index))
    pairs = all_pairs(len(placement.product_ids))
    disjoint = sum(placement.stems[i].isdisjoint(placement.stems[j]) for i, j in pairs)
    assert 0 < disjoint < len(pairs)  # both paths are taken
    for i, j in pairs:
        assert pair_texts(placement, i, j) == _plain_pair_texts(placement, i, j), (i, j)


def test_pair_features_rows_are_the_same_with_a_memo_for_a_subset_and_for_all_pairs(index):
    scorer = placement_scorer(index)
    placement = scorer.evidence(_overlapping_products(index))
    pairs, rows = pair_features(placement)
    memo: dict = {}
    assert np.array_equal(pair_features(placement, memo=memo)[1], rows)
    assert np.array_equal(pair_features(placement, memo=memo)[1], rows)  # from the memo
    some = pairs[3:40:3]
    assert np.array_equal(pair_features(placement, some, memo)[1], rows[3:40:3])


def test_pair_text_table_equals_pair_texts_pair_by_pair(index):
    scorer = placement_scorer(index)
    placement = scorer.evidence(_overlapping_products(index))
    pairs = all_pairs(len(placement.product_ids))
    first, second = np.array(pairs, dtype=np.int64).T
    expected = np.array([pair_texts(placement, i, j) for i, j in pairs])
    assert np.array_equal(pair_text_table(placement, first, second), expected)
    shuffled = np.random.default_rng(0).permutation(len(pairs))  # any pairs, in any order
    assert np.array_equal(pair_text_table(placement, first[shuffled], second[shuffled]), expected[shuffled])
    fit_only = scorer.evidence(placement.product_ids[:12])
    fit_only = PlacementEvidence(**{**fit_only.__dict__, "items": [], "spread": None})
    few = all_pairs(12)
    first, second = np.array(few, dtype=np.int64).T
    assert np.array_equal(pair_text_table(fit_only, first, second),
                          np.array([pair_texts(fit_only, i, j) for i, j in few]))


def test_pair_features_read_many_pairs_from_the_table_and_few_through_the_memo(index):
    scorer = placement_scorer(index)
    placement = scorer.evidence(_overlapping_products(index))
    pairs = all_pairs(len(placement.product_ids))
    assert len(pairs) >= TABLE_PAIRS > 3
    memo: dict = {}
    _, rows = pair_features(placement, memo=memo)
    assert not memo  # all pairs at once: the table
    _, few = pair_features(placement, pairs[:3], memo)
    assert len(memo) == 3 and np.array_equal(few, rows[:3])


def _plain_pair_features(placement: PlacementEvidence) -> np.ndarray:
    """PAIR_FEATURES of all pairs as the formulas read, column by column (the reference of `pair_features`)."""
    pairs = all_pairs(len(placement.product_ids))
    first, second = (np.array(side) for side in zip(*pairs, strict=True))
    names = placement.name_embeddings @ placement.name_embeddings.T
    cores = placement.core_embeddings @ placement.core_embeddings.T
    nearest = nearest_others(cores)
    texts = np.array([_plain_pair_texts(placement, i, j) for i, j in pairs])
    aisles, departments = np.asarray(placement.aisle_ids), np.asarray(placement.department_ids)
    same_aisle = (aisles[first] == aisles[second]).astype(np.float64)
    columns = {"name_similarity": names[first, second], "same_aisle": same_aisle,
               "copurchase": (placement.vectors @ placement.vectors.T)[first, second],
               "name_margin": np.array([pair_margin(names, i, j) for i, j in pairs]),
               "core_nearest": (nearest[first] == second).astype(np.float64) + (nearest[second] == first),
               "same_department": (departments[first] == departments[second]).astype(np.float64),
               "vague_same_aisle": texts[:, 8] * same_aisle}
    text_names = ("stem_jaccard", "same_head", "head_in_other", "weighted_jaccard", "item_jaccard", "item_same_head",
                  "specific_difference", "specific_shared")
    columns.update({name: texts[:, k] for k, name in enumerate(text_names)})
    return np.column_stack([columns[name] for name in PAIR_FEATURES])


def test_pair_features_equal_the_plain_formulas_column_by_column(index):
    scorer = placement_scorer(index)
    ids = _overlapping_products(index)
    for placement in (scorer.evidence(ids), scorer.evidence(ids[:7])):  # the table, then pair by pair
        assert np.array_equal(pair_features(placement)[1], _plain_pair_features(placement))


def test_product_features_read_claims_per_name_only_under_a_title_making_one(index):
    scorer = placement_scorer(index)
    placement = scorer.evidence(_overlapping_products(index))
    column = PRODUCT_FEATURES.index("claims_missing")
    for title in ("Organic Dairy Aisle", "Weekday Breakfast"):
        rows = product_features(title, scorer.titles(title), placement)
        assert rows[:, column].tolist() == [claims_missing(title, name) for name in placement.names]
    assert 0 < rows.shape[0] and not title_claims("Weekday Breakfast") and title_claims("Organic Dairy Aisle")
