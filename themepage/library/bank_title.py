"""Which library theme names a group of products: one whose aisles hold and whose queries name most of them.

A title promises what the row holds, so a bank theme names a group only when nearly all of it belongs
(BANK_COVERAGE, BANK_NAMED) and every product makes the theme's claims ("Organic Essentials"). The bank is
a grocery store's, so a store of another kind never gets its titles.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from themepage.library.theme_bank import BankTheme, load_theme_bank

BANK_COVERAGE = 0.75
"""Share of the products a bank theme's aisles must hold for its title to name the group: under a theme
chosen on a third of its products ("Hydration Station" over water, pistachios and paper towels) most of
the row does not belong."""
BANK_NAMED = 0.75
"""Share of the products whose names a bank theme's queries must name: aisles alone put "Fall Apple Harvest"
over bananas and pears, and "Organic Essentials" over a row of which half is organic."""
_WORD = re.compile(r"[a-z]+")


def _words(text: str) -> set[str]:
    """The runs of letters of a query or a product's name, lower-cased: what a query names of a name."""
    return set(_WORD.findall(text.lower()))


@lru_cache(maxsize=1)
def _naming_themes() -> tuple[tuple[BankTheme, frozenset[str]], ...]:
    """The default bank's themes that may name a group (not the personal ones), each with its queries' words."""
    return tuple((theme, frozenset(w for q in theme.queries for w in _words(q)))
                 for theme in load_theme_bank() if "personal" not in theme.tags)


def bank_title(products: Sequence[tuple[str, str]], grocery: bool = True) -> dict[str, object] | None:
    """The bank theme whose aisles hold and whose queries name most of the (name, lower-case aisle) products,
    and whose claims ("Organic Essentials") every product's name makes, as a title and rationale; None if
    there is none (always, for a store that is not a grocery store)."""
    aisles = Counter(aisle for _, aisle in products)
    names = [_words(name) for name, _ in products]
    best, best_score = None, 0.0
    for theme, query_words in _naming_themes() if grocery else ():
        aisle_share = sum(aisles[a] for a in theme.aisles) / max(1, len(products))
        named = sum(not query_words.isdisjoint(name) for name in names) / max(1, len(products))
        if aisle_share < BANK_COVERAGE or named < BANK_NAMED:
            continue
        if not all(theme.claims_made_by(name) for name, _ in products):  # "Organic ..." over every product
            continue
        if aisle_share + named > best_score:
            best, best_score = theme, aisle_share + named
    return None if best is None else {"title": best.title, "rationale": best.description}
