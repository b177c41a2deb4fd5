"""The offline answer to NamePlacement: the library theme that names the products, if one does
(`themepage.library.bank_title`: never in a store that is not a grocery store,
`themepage.dataset.store_kind.store_of`), else the foods most of the products are, else the shelf (aisle
label, then department) most of them come from, in the shopper-facing words of `themepage.wording.aisle_labels`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from themepage.dataset.store_kind import store_of
from themepage.index import CatalogIndex
from themepage.library.bank_title import bank_title
from themepage.offline.prompt import Prompt
from themepage.offline.reading import read_named_products
from themepage.wording.aisle_labels import readable_aisle
from themepage.wording.shelf_titles import DEPARTMENT_LABELS, MAX_HEADS, aisle_departments, head_words, join_words

SHARED = 0.5
"""Share of the products the foods a title names, or the department it names, must cover."""
ONE_AISLE = 0.75
"""Share of the products an aisle must hold for its label to name the row: "Salty Chips & Pretzels" over
five chips and three crackers promises what three of them are not (the department, "Snacks", covers all)."""


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
