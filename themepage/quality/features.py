"""Feature rows the fitted logistic models read: one per (title, product), per product pair, per placement.

Every feature is computed at run time from the title text, the catalog (names, aisles, departments),
BM25 hits of the title, centred co-purchase vectors and WordLlama text embeddings; no label is read.
"""

from __future__ import annotations

from itertools import chain

import numpy as np

from themepage.quality.evidence import PlacementEvidence, TitleEvidence
from themepage.quality.pair_text_table import pair_text_table
from themepage.quality.text import jaccard

GENERIC_TITLE_WORDS = frozenset("your you buy again staples regulars favorites favourites go-to usual everyday "
                                "essentials basics picks run restock weekly".split())
"""Words of titles that promise the shopper's own or everyday products rather than one kind of food:
under such a title almost any ordinary grocery product belongs (the labels' rubric says the same)."""

CLAIMS = ("organic", "gluten free", "vegan", "dairy free", "sugar free", "fat free", "low fat", "whole grain",
          "keto", "paleo", "non gmo", "plant based")
"""Claims a title can make about every product in its row ("Organic Essentials"): a product whose name does
not make the claim is at best arguable (the labels mark such rows down)."""

PRODUCT_FEATURES = ("title_name", "title_department", "generic_title", "outside_named_aisle", "claims_missing",
                    "head_in_title", "title_word_modifier", "log_aisle_choice", "core_title", "core_title_word")
"""What the product IS against what the title names, never a title word found anywhere in the name: the
embedding similarity of the name, of its core phrase (`heads.core_phrase`) and of its department's name to the
title, and of the core phrase to the title's closest word; whether the name's head (its basic food) is a title
word, or a title word is in the name only as a modifier ("turkey" in "Turkey Figs", "cocktail" in "Cocktail
Sauce"); the logarithm of the title's choice of the product's aisle among all the catalog's aisles by
embedding (`TitleEvidence.aisle_choice`, floored by AISLE_CHOICE_FLOOR); whether the title is generic, names
an aisle the product is outside of, or makes a claim the name does not.

Left out, because on the labels' cross-validation they made the model worse on the products that share a word
or an aisle with the title (the ones left once the page rules have acted): the share of title words in the
name or shelf (a word in a name is not what the product is), the aisles, departments and co-purchase centroid
of the title's BM25 hits (word matches again), the aisle name's similarity to the title (the aisle choice reads
it relative to the other aisles). Features of how well a product sits with the REST of its row (shared aisle,
similar names, co-purchase) made a coherent row of the wrong products (sodas under "Taco Tuesday") fit
perfectly, and made the publishable estimate worse."""
PAIR_FEATURES = ("name_similarity", "stem_jaccard", "same_head", "same_aisle", "copurchase", "head_in_other",
                 "weighted_jaccard", "name_margin", "core_nearest", "item_jaccard", "item_same_head",
                 "specific_difference", "specific_shared", "same_department", "vague_same_aisle")
"""How alike two products are (names, stems, catalog-derived heads, shelf, co-purchase) and, because the
labels pair each product with its closest twin in the row, how much closer the two are to each other
than to the row's other products (`name_margin`) and whether each is the other's nearest (`core_nearest`).
The item features read each name as its food (`themepage.quality.sameness`, rule 2 of the labels): the
IDF-weighted share of item stems (synonyms written one way, claim and form words left out), whether the
items' heads agree, how aisle-specific the most specific word only one name has is (a flavour or scent is
spread over aisles, another food is not), how specific the most specific shared word is, the department, and
whether two products of one aisle have a name that names no food of its own ("Cherry Lime", "Diet" in the
sparkling water and soda aisles: the shelf says what they are)."""
PLACEMENT_FEATURES = ("fits_pass_chance", "no_duplicate_chance", "title_names_an_aisle", "title_numbered")
"""The rubric's own reasons a row is not publishable (themepage/data/DATA.md: two or more products that do
not belong, near-duplicates wasting slots, a garbled or raw-category title), each read as evidence:
the log chance that at most one product is a misfit (from the products' fits), the log chance that no
pair is a near-duplicate (from the pair model's chances), and the title's shape (a raw aisle name dressed
up, a stray number such as "(2)"). No feature says whether a title is generic: in the labels nearly every
publishable row was "Buy It Again" or "Your ...", and a head that learned that rated specific, honest rows
unpublishable; the rubric composed from its parts rates a row by what is in it."""
MOST_MISFITS = 1
"""The rubric: a row is not publishable if two or more of its products do not belong."""
LOWEST_LOG_CHANCE = -5.0
"""Floor of the log-chance features: below e^-5 a row is plainly unpublishable, and a deeper tail would
set the publishable head's slope (a chance of 0 would be minus infinity)."""


TITLE_GLUE_WORDS = frozenset("a an and & it of the to for with in on".split())
"""Words that name nothing ("Buy It Again"): a title of generic and glue words alone promises no kind of food."""


def only_generic(title: str) -> float:
    """1.0 if every word of the title is generic or glue ("Buy It Again", "Your Weekly Staples"), else 0.0.

    "Your Produce Regulars" is not: its products must still be produce, and the labels mark the rest down."""
    words = "".join(c if c.isalnum() or c == "-" else " " for c in title.lower()).split()
    return float(bool(words) and all(w in GENERIC_TITLE_WORDS or w in TITLE_GLUE_WORDS for w in words))


def generic_share(title: str) -> float:
    """Share of the title's words that are generic (GENERIC_TITLE_WORDS), in [0, 1]; 0 for an empty title."""
    words = "".join(c if c.isalnum() or c == "-" else " " for c in title.lower()).split()
    return sum(w in GENERIC_TITLE_WORDS for w in words) / len(words) if words else 0.0


def spaced_words(text: str) -> str:
    """Lower-case words of a text joined by single spaces, padded by one space each side (for phrase search)."""
    return " " + " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split()) + " "


def title_claims(title: str) -> list[str]:
    """The CLAIMS a title makes, in CLAIMS order."""
    spaced_title = spaced_words(title)
    return [c for c in CLAIMS if f" {c} " in spaced_title]


def claims_missing(title: str, name: str) -> float:
    """Share of the title's CLAIMS that the product name does not make, in [0, 1]; 0 for a title making none."""
    made = title_claims(title)
    if not made:
        return 0.0
    spaced_name = spaced_words(name)
    return sum(f" {c} " not in spaced_name for c in made) / len(made)


def product_features(title: str, found: TitleEvidence, placement: PlacementEvidence) -> np.ndarray:
    """One row of PRODUCT_FEATURES per product of the placement, in order."""
    n = len(placement.product_ids)
    if n == 0:
        return np.zeros((0, len(PRODUCT_FEATURES)))
    aisles = np.asarray(placement.aisle_ids, dtype=np.int64)
    item_heads = placement.item_heads or placement.heads
    head_in = np.array([float(h in found.stems or g in found.stems)
                        for h, g in zip(placement.heads, item_heads, strict=True)])
    modifier = np.array([float(bool(found.stems & stems)) for stems in placement.stems]) * (1.0 - head_in)
    core_word = (np.max(placement.core_embeddings @ found.word_embeddings.T, axis=1)
                 if found.word_embeddings is not None else np.zeros(n))
    return np.column_stack([
        placement.name_embeddings @ found.embedding,
        placement.department_embeddings @ found.embedding,
        np.full(n, only_generic(title)),
        (aisles != found.named_aisle) if found.names_an_aisle else np.zeros(n),
        [claims_missing(title, name) for name in placement.names] if title_claims(title) else np.zeros(n),
        head_in, modifier, np.log(_at(found.aisle_choice, aisles) + AISLE_CHOICE_FLOOR),
        placement.core_embeddings @ found.embedding, core_word,
    ])


AISLE_CHOICE_FLOOR = 1e-4
"""Added to the title's share of a product's aisle before its logarithm is taken (a share of 0 would be minus
infinity). The share is a probability, and its logarithm is what tells a far aisle (1e-6) from a near one (0.05),
which are both near 0 read linearly."""


def _at(shares: np.ndarray | None, ids: np.ndarray) -> np.ndarray:
    """shares[id] per id (0 for no shares or an id beyond them)."""
    if shares is None:
        return np.zeros(len(ids))
    inside = ids < len(shares)
    return np.where(inside, shares[np.minimum(ids, len(shares) - 1)], 0.0)


def all_pairs(n: int) -> list[tuple[int, int]]:
    """Every index pair (i < j) of n items, in row-major order."""
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


PairTexts = dict[tuple[int, int], tuple[float, ...]]
"""Memo of `pair_texts` by (product id, product id), for a caller that asks about the same pairs often."""


def pair_texts(placement: PlacementEvidence, i: int, j: int) -> tuple[float, ...]:
    """The pair features read from the two names alone: stem_jaccard, same_head, head_in_other, weighted_jaccard,
    item_jaccard, item_same_head, specific_difference, specific_shared and vagueness (1 - the lower of the two
    names' most specific word; these five 0 without item evidence).

    Most pairs of a page share no stem: for them the shares are 0 and the most specific difference is the higher
    of the two names' most specific words, read without the set operations (the same values)."""
    stems, heads = placement.stems, placement.heads
    a, b, head_a, head_b = stems[i], stems[j], heads[i], heads[j]
    same_head, head_in_other = float(head_a is not None and head_a == head_b), float(head_a in b or head_b in a)
    if a.isdisjoint(b):
        names = (0.0, same_head, head_in_other, 0.0)
    else:
        names = (jaccard(a, b), same_head, head_in_other, placement.words.weighted_jaccard(a, b))
    if placement.spread is None or not placement.items:
        return (*names, 0.0, 0.0, 0.0, 0.0, 0.0)
    items, item_heads, spread = placement.items, placement.item_heads, placement.spread
    x, y, item_a, item_b = items[i], items[j], item_heads[i], item_heads[j]
    same_item_head = item_a is not None and (item_a == item_b or item_a in y or item_b in x)
    specific_x, specific_y = spread.most_specific(x), spread.most_specific(y)
    vague = 1.0 - min(specific_x, specific_y)
    if x.isdisjoint(y):  # every stem differs: the higher of the two most specific (concentrations are positive)
        return (*names, 0.0, float(same_item_head), max(specific_x, specific_y), 0.0, vague)
    return (*names, placement.words.weighted_jaccard(x, y), float(same_item_head),
            spread.most_specific_difference(x, y), spread.specific_shared(x, y), vague)


TABLE_PAIRS = 32
"""From this many pairs on, `pair_texts` values are read for all pairs at once (`pair_text_table`), not pair by pair
through the memo: the same values, at a fixed cost that few pairs do not repay."""


def pair_text_rows(placement: PlacementEvidence, pairs: list[tuple[int, int]], first: np.ndarray,
                   second: np.ndarray, memo: PairTexts | None) -> np.ndarray:
    """`pair_texts` of each pair, one row per pair (`memo`: see `pair_features`)."""
    if len(pairs) >= TABLE_PAIRS:
        return pair_text_table(placement, first, second)
    if memo is None:
        return np.array([pair_texts(placement, i, j) for i, j in pairs], dtype=np.float64)
    ids, texts = placement.product_ids, []
    for i, j in pairs:
        key = (ids[i], ids[j])
        found = memo.get(key)
        if found is None:
            found = memo[key] = pair_texts(placement, i, j)
        texts.append(found)
    return np.array(texts, dtype=np.float64)


def pair_features(placement: PlacementEvidence, pairs: list[tuple[int, int]] | None = None,
                  memo: PairTexts | None = None) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Index pairs (i < j) of the placement (default: all of them) and one row of PAIR_FEATURES per pair.

    A pair's row depends on the whole placement (margins and nearest neighbours look at the others), so
    a subset of pairs gets exactly the rows it would have among all pairs, at the cost of its own size.
    `memo` keeps the name-only features (`pair_texts`) by product ids between calls (when asked pair by pair).
    """
    n = len(placement.product_ids)
    pairs = all_pairs(n) if pairs is None else pairs
    if not pairs:
        return pairs, np.zeros((0, len(PAIR_FEATURES)))
    names = np.dot(placement.name_embeddings, placement.name_embeddings.T)  # as `@` (one BLAS call), called faster
    cores = np.dot(placement.core_embeddings, placement.core_embeddings.T)
    vectors = np.dot(placement.vectors, placement.vectors.T)
    nearest = nearest_others(cores)
    flat = np.fromiter(chain.from_iterable(pairs), dtype=np.int64, count=2 * len(pairs))
    first, second = flat[0::2], flat[1::2]
    text = pair_text_rows(placement, pairs, first, second, memo)
    aisles, departments = np.asarray(placement.aisle_ids), np.asarray(placement.department_ids)
    same_aisle = aisles[first] == aisles[second]
    rows = np.empty((len(pairs), len(PAIR_FEATURES)))
    rows[:, _TEXT_COLUMNS] = text[:, :-1]
    rows[:, _VAGUE_SAME_AISLE] = text[:, -1] * same_aisle
    rows[:, _NAME_SIMILARITY] = names[first, second]
    rows[:, _SAME_AISLE] = same_aisle
    rows[:, _COPURCHASE] = vectors[first, second]
    rows[:, _NAME_MARGIN] = pair_margins(names, first, second)
    rows[:, _CORE_NEAREST] = (nearest[first] == second).astype(np.float64) + (nearest[second] == first)
    rows[:, _SAME_DEPARTMENT] = departments[first] == departments[second]
    return pairs, rows


_TEXT_COLUMNS = [PAIR_FEATURES.index(name) for name in (
    "stem_jaccard", "same_head", "head_in_other", "weighted_jaccard", "item_jaccard", "item_same_head",
    "specific_difference", "specific_shared")]
"""Where `pair_texts`'s values but the last (vagueness, read only within one aisle) go in a row of PAIR_FEATURES."""
(_NAME_SIMILARITY, _SAME_AISLE, _COPURCHASE, _NAME_MARGIN, _CORE_NEAREST, _SAME_DEPARTMENT, _VAGUE_SAME_AISLE) = (
    PAIR_FEATURES.index(name) for name in ("name_similarity", "same_aisle", "copurchase", "name_margin",
                                           "core_nearest", "same_department", "vague_same_aisle"))


def nearest_others(similarity: np.ndarray) -> np.ndarray:
    """For each row of a square similarity matrix, the column of its most similar OTHER item (ties: first)."""
    masked = np.array(similarity, dtype=np.float64)
    np.fill_diagonal(masked, -np.inf)
    return masked.argmax(axis=1)


def pair_margin(similarity: np.ndarray, i: int, j: int) -> float:
    """similarity[i, j] minus the highest similarity of i or j to any third item (0 when there is none)."""
    return float(pair_margins(similarity, np.array([i]), np.array([j]))[0])


def pair_margins(similarity: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """`pair_margin` of the pairs (first[k], second[k]), all at once."""
    if len(similarity) <= 2:
        return similarity[first, second] - 0.0
    rivals = np.maximum(similarity[first], similarity[second])
    rows = np.arange(len(first))
    rivals[rows, first] = -np.inf
    rivals[rows, second] = -np.inf
    return similarity[first, second] - rivals.max(axis=1)


def at_most_chance(chances: np.ndarray, most: int) -> float:
    """P(at most `most` of independent events happen), event k with chance chances[k] (Poisson binomial)."""
    counts = np.zeros(len(chances) + 1)
    counts[0] = 1.0
    for chance in np.asarray(chances, dtype=np.float64):
        counts[1:] = counts[1:] * (1.0 - chance) + counts[:-1] * chance
        counts[0] *= 1.0 - chance
    return float(counts[:most + 1].sum())


def log_chance(chance: float) -> float:
    """log(chance), floored at LOWEST_LOG_CHANCE."""
    return max(float(np.log(chance)) if chance > 0 else LOWEST_LOG_CHANCE, LOWEST_LOG_CHANCE)


def placement_features(title: str, fits: np.ndarray, duplicate_chances: np.ndarray,
                       found: TitleEvidence) -> np.ndarray:
    """One row of PLACEMENT_FEATURES from the products' fits (chances each belongs) and the pair model's
    near-duplicate chances (one per pair)."""
    misfit_chances = 1.0 - np.asarray(fits, dtype=np.float64)
    no_duplicate = float(np.prod(1.0 - np.asarray(duplicate_chances, dtype=np.float64)))
    return np.array([log_chance(at_most_chance(misfit_chances, MOST_MISFITS)), log_chance(no_duplicate),
                     float(found.names_an_aisle), float(any(c.isdigit() for c in title))])
