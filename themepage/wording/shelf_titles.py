"""A readable title for a group of products from what they have in common: the foods their names name
(their heads: "Apples", "Yogurt") and, when those differ, the department most of them come from.

Used where no model named the group (the offline engine's namer, the bottoms-up fallback): the title says
what is in the row ("Apples, Avocados & Berries") instead of dressing up a raw aisle name ("Fresh Fruits
Picks"), and stays within six words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from themepage.quality.evidence import word_stats
from themepage.quality.text import content_stems

DEPARTMENT_LABELS = {
    "produce": "Fresh Produce", "dairy eggs": "Dairy & Eggs", "snacks": "Snacks", "beverages": "Drinks",
    "frozen": "Frozen Foods", "pantry": "Pantry", "bakery": "Bakery", "deli": "Deli", "breakfast": "Breakfast",
    "meat seafood": "Meat & Seafood", "canned goods": "Canned Goods", "dry goods pasta": "Pasta & Grains",
    "household": "Household", "personal care": "Personal Care", "babies": "Baby Care", "pets": "Pet Supplies",
    "international": "World Foods", "alcohol": "Beer & Wine", "bulk": "Bulk Foods",
}
"""Shopper-facing names of the Instacart departments (others, such as "missing", have none)."""
MAX_HEADS = 3
MAX_WORDS = 6
SHARED = 0.5
"""Share of the products a title's words must cover before the department is named instead."""


def head_words(names: Sequence[str], index) -> list[tuple[str, int]]:
    """The foods the names name, most common first (ties: first seen), each as written in a name, with counts."""
    stats = word_stats(index)
    heads = [stats.head(name) for name in names]
    surface: dict[str, Counter] = {}
    for name, head in zip(names, heads, strict=True):
        if head is None:
            continue
        for word in name.replace(",", " ").split():
            if content_stems(word) == frozenset([head]):
                surface.setdefault(head, Counter())[word.strip("()").capitalize()] += 1
    counts = Counter(h for h in heads if h in surface)
    order = {h: i for i, h in reversed(list(enumerate(heads)))}
    ranked = sorted(counts, key=lambda h: (-counts[h], order[h]))
    return [(surface[h].most_common(1)[0][0], counts[h]) for h in ranked]


def join_words(words: Sequence[str]) -> str:
    """'', 'A', 'A & B', 'A, B & C'."""
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} & {words[-1]}"


def aisle_departments(index) -> dict[str, str]:
    """Aisle name (lower case) -> its department's name, read from the catalog once (`Catalog.department_of_aisle`)."""
    return index.catalog.department_of_aisle


def aisle_label(aisle: str) -> str:
    """An aisle's shopper-facing label ("nuts seeds dried fruit" -> "Nuts Seeds & Dried Fruit")."""
    words = aisle.title().split()
    return " & ".join([" ".join(words[:-1]), words[-1]]) if len(words) > 1 else (words[0] if words else "")


def shelf_phrase(aisles: Sequence[str], departments: Sequence[str], label=aisle_label) -> str | None:
    """The aisle (or two aisles, or department) most of the products come from, as a label; None if none."""
    need = SHARED * len(aisles)
    ranked = [(aisle, n) for aisle, n in Counter(aisles).most_common() if label(aisle).strip()][:2]
    if ranked and ranked[0][1] > need:
        return label(ranked[0][0])
    if len(ranked) == 2 and ranked[0][1] + ranked[1][1] > need:
        both = f"{label(ranked[0][0]).split()[0]} & {label(ranked[1][0]).split()[0]}"
        if len(both.split()) <= MAX_WORDS:
            return both
    department, count = Counter(departments).most_common(1)[0] if departments else ("", 0)
    return DEPARTMENT_LABELS.get(department) if count > need else None


def common_title(names: Sequence[str], aisles: Sequence[str], departments: Sequence[str], index,
                 label=aisle_label) -> tuple[str, str]:
    """(title, rationale) for products (names, aisles, departments): the foods most of them name, else the
    shelf most come from (`label` turns an aisle name into words), else a plain mixed-basket title."""
    heads = [(word, count) for word, count in head_words(names, index) if count > 1][:MAX_HEADS]
    listed = join_words([w.lower() for w, _ in head_words(names, index)[:MAX_HEADS]]) or "these products"
    shelf = shelf_phrase(aisles, departments, label)
    if heads and sum(count for _, count in heads) > SHARED * len(names):
        title = join_words([w for w, _ in heads])
    elif shelf:
        title = shelf
    else:
        title = ""
    return title.strip() or "A Mixed Basket", f"Grouped because they share a shelf: {listed}."
