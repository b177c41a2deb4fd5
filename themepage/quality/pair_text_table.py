"""`features.pair_texts` of many pairs of one placement at once: the same values, read from word-by-product tables.

A page's near-duplicate checks ask about every pair of a row or of the whole page, hundreds of pairs of a few
dozen products; asked one pair at a time, the set operations of each pair cost more than the rest of its
row of features. Here each product's stems (and item stems) are a row of a boolean table, so shares, heads
found in the other name and the most specific differing or shared word are array operations over all pairs.

The values are those of `pair_texts`, bit for bit: shared-word counts are small integers, maxima are exact,
and the IDF-weighted shares, whose sums depend on the order they are added in, are left to
`WordStats.weighted_jaccard` for the few pairs that share a word (the others share nothing: 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from themepage.quality.evidence import PlacementEvidence

PAIR_TEXT_COLUMNS = 9
"""Values per pair, in `pair_texts` order."""


def word_table(sets: Sequence[frozenset[str]]) -> tuple[np.ndarray, dict[str, int]]:
    """A boolean table with one row per set and one column per word of any set, and each word's column."""
    column: dict[str, int] = {}
    for words in sets:
        for word in words:
            column.setdefault(word, len(column))
    table = np.zeros((len(sets), len(column)), dtype=bool)
    table[[i for i, words in enumerate(sets) for _ in words], [column[w] for words in sets for w in words]] = True
    return table, column


def head_in_table(heads: Sequence[str | None], table: np.ndarray, column: dict[str, int]) -> np.ndarray:
    """found[i, j]: whether product i's head is one of product j's words (False for no head)."""
    at = np.array([column.get(h, -1) if h is not None else -1 for h in heads], dtype=np.int64)
    found = np.zeros((len(heads), len(heads)), dtype=bool)
    known = at >= 0
    found[known] = table[:, at[known]].T
    return found


def head_codes(heads: Sequence[str | None]) -> np.ndarray:
    """One integer per head, equal for equal heads; -1 for no head."""
    codes: dict[str, int] = {}
    return np.array([codes.setdefault(h, len(codes)) if h is not None else -1 for h in heads], dtype=np.int64)


def shares(table: np.ndarray, first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, the number of words both rows have and `jaccard` of the two rows' words (0 for none at all)."""
    counts = table.astype(np.float64)
    both = (counts @ counts.T)[first, second]
    sizes = counts.sum(axis=1)
    return both, both / np.maximum(sizes[first] + sizes[second] - both, 1.0)


def weighted_shares(placement: PlacementEvidence, sets: Sequence[frozenset[str]], both: np.ndarray,
                    first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """`WordStats.weighted_jaccard` per pair: asked of the pairs that share a word, 0 for the others."""
    found = np.zeros(len(first))
    for k in np.flatnonzero(both):
        found[k] = placement.words.weighted_jaccard(sets[first[k]], sets[second[k]])
    return found


def pair_text_table(placement: PlacementEvidence, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """One row of `pair_texts` values per pair (first[k], second[k]) of the placement, equal to `pair_texts`."""
    out = np.zeros((len(first), PAIR_TEXT_COLUMNS))
    stems, heads = placement.stems, placement.heads
    table, column = word_table(stems)
    both, out[:, 0] = shares(table, first, second)  # shared-word counts, stem_jaccard
    codes = head_codes(heads)
    out[:, 1] = (codes[first] == codes[second]) & (codes[first] >= 0)
    found = head_in_table(heads, table, column)
    out[:, 2] = found[first, second] | found[second, first]
    out[:, 3] = weighted_shares(placement, stems, both, first, second)
    if placement.spread is None or not placement.items:
        return out
    items, item_heads, spread = placement.items, placement.item_heads, placement.spread
    table, column = word_table(items)
    both, _ = shares(table, first, second)
    out[:, 4] = weighted_shares(placement, items, both, first, second)
    codes = head_codes(item_heads)
    found = head_in_table(item_heads, table, column)
    out[:, 5] = (codes[first] >= 0) & ((codes[first] == codes[second]) | found[first, second] | found[second, first])
    if not column:  # no item stem at all: every most specific word is 0
        out[:, 8] = 1.0
        return out
    concentration = np.array([spread.of(word) for word in column])  # in column order; all positive
    most_specific = np.where(table, concentration, 0.0).max(axis=1)
    out[:, 6] = np.maximum(most_specific[first], most_specific[second])  # no shared item: every word differs
    out[:, 8] = 1.0 - np.minimum(most_specific[first], most_specific[second])
    share = np.flatnonzero(both)
    if len(share):  # the few pairs sharing an item word: over their words
        mine, theirs = table[first[share]], table[second[share]]
        out[share, 6] = np.where(mine != theirs, concentration, 0.0).max(axis=1)
        out[share, 7] = np.where(mine & theirs, concentration, 0.0).max(axis=1)
    return out
