"""The offline answer to NamePlacement: a bank theme only when its aisles hold most of the products and its
queries name most of them, else the foods most of the products are, else the shelf (aisle label, then
department) most of them come from, in the shopper-facing words of `themepage.wording.aisle_labels`. The bank is a
grocery store's, so a store of another kind (`themepage.dataset.store_kind.store_of`) never gets its titles."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from themepage.dataset.store_kind import store_of
from themepage.index import CatalogIndex
from themepage.library.theme_bank import load_theme_bank
from themepage.offline.prompt import Prompt
from themepage.offline.reading import read_named_products, words
from themepage.wording.aisle_labels import readable_aisle
from themepage.wording.shelf_titles import DEPARTMENT_LABELS, MAX_HEADS, aisle_departments, head_words, join_words

BANK_COVERAGE = 0.75
"""Share of the products a bank theme's aisles must hold for its title to name the group: under a theme
chosen on a third of its products ("Hydration Station" over water, pistachios and paper towels) most of
the row does not belong."""
BANK_NAMED = 0.75
"""Share of the products whose names a bank theme's queries must name: aisles alone put "Fall Apple Harvest"
over bananas and pears, and "Organic Essentials" over a row of which half is organic."""
SHARED = 0.5
"""Share of the products the foods a title names, or the department it names, must cover."""
ONE_AISLE = 0.75
"""Share of the products an aisle must hold for its label to name the row: "Salty Chips & Pretzels" over
five chips and three crackers promises what three of them are not (the department, "Snacks", covers all)."""


def bank_title(products: Sequence[tuple[str, str]], grocery: bool = True) -> dict[str, object] | None:
    """The bank theme whose aisles hold and whose queries name most of the products, and whose claims
    ("Organic Essentials") every product's name makes, if any (none for a store that is not a grocery store)."""
    aisles = Counter(aisle for _, aisle in products)
    best, best_score = None, 0.0
    for theme in load_theme_bank() if grocery else ():
        if "personal" in theme.tags:
            continue
        aisle_share = sum(aisles[a] for a in theme.aisles) / max(1, len(products))
        query_words = {w for q in theme.queries for w in words(q)}
        named = sum(bool(query_words & set(words(name))) for name, _ in products) / max(1, len(products))
        if aisle_share < BANK_COVERAGE or named < BANK_NAMED:
            continue
        if not all(theme.claims_made_by(name) for name, _ in products):  # "Organic ..." over every product
            continue
        if aisle_share + named > best_score:
            best, best_score = theme, aisle_share + named
    return None if best is None else {"title": best.title, "rationale": best.description}


def shelf_name(names: Sequence[str], aisles: Sequence[str], departments: Sequence[str], index) -> str:
    """The foods most of the products are ("Apples & Pears"), else the aisle or department most come from."""
    need = SHARED * len(names)
    heads = [(word, count) for word, count in head_words(names, index) if count > 1][:MAX_HEADS]
    if heads and sum(count for _, count in heads) > need:
        return join_words([w for w, _ in heads])
    aisle, count = Counter(aisles).most_common(1)[0] if aisles else ("", 0)
    if count >= ONE_AISLE * len(names):
        return readable_aisle(aisle)
    department, count = Counter(departments).most_common(1)[0] if departments else ("", 0)
    label = DEPARTMENT_LABELS.get(department) or (department.title() if not index_is_grocery(index) else "")
    if count > need and label:
        return label
    return "A Mixed Basket"


def index_is_grocery(index: CatalogIndex) -> bool:
    return store_of(index).grocery


def name(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    products = [(n, aisle.lower()) for n, aisle in read_named_products(prompt.inputs["products"])]
    found = bank_title(products, grocery=index_is_grocery(index))
    if found is not None:
        return found
    shelf = aisle_departments(index)
    names, aisles = [n for n, _ in products], [a for _, a in products]
    title = shelf_name(names, aisles, [shelf.get(a, "") for a in aisles], index)
    listed = join_words([w.lower() for w, _ in head_words(names, index)[:MAX_HEADS]]) or "these products"
    return {"title": title, "rationale": f"Grouped because they share a shelf: {listed}."}
