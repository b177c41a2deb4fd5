"""Which library themes suit a shopper, given what the page is asked for: the themes of a page plan, ranked.

Each theme of the bank scores its fit to the shopper (the share of their items in its aisles; for a new
shopper, the aisles' popularity), its fit to what is asked (tag weights, narrow themes when asked for
cohesion, produce when asked for health), any bonus the caller adds (the offline engine's: themes its demos
planned) and, asked for discovery, its place in the shopper's neighbourhood (neighbourhood.py). Themes are
then taken best first, each losing for sharing aisles with those already taken, so rows stay distinct.
Asked mostly for regulars, history themes covering the shopper's items lead (regulars_plan.py). The bank is
a grocery store's: any other kind of store gets themes from its catalog's aisles (catalog_themes.py).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from themepage.constants import HEALTHY_AISLES
from themepage.dataset.store_kind import is_grocery
from themepage.index import CatalogIndex
from themepage.index.derived import derived
from themepage.library.asks import Asks
from themepage.library.catalog_themes import catalog_themes
from themepage.library.neighbourhood import discovery_fit, neighbourhood_shares, taste_closeness
from themepage.library.regulars_plan import asks_for_regulars, regulars_plan
from themepage.library.shopper import Shopper
from themepage.library.theme_bank import BankTheme, load_theme_bank

USER_WEIGHT, STEER_WEIGHT = 1.0, 1.5
PLACEMENT_SLOTS = 10
"""About how many own products a personal row needs (eight shown, a few spare for de-duplication)."""
OVERLAP_PENALTY = 0.6
"""How much a theme loses for sharing aisles with a theme already chosen (keeps rows distinct)."""

Bonus = Callable[[BankTheme], float]
"""What the caller adds to a theme's score (0 for every theme by default)."""


def no_bonus(theme: BankTheme) -> float:
    return 0.0


def user_fit(theme: BankTheme, shopper: Shopper, aisle_popularity: dict[str, float]) -> float:
    """Share of the shopper's items in the theme's aisles; personal themes fit anyone with a history."""
    if shopper.is_new:
        return -1.0 if "personal" in theme.tags else sum(aisle_popularity.get(a, 0.0) for a in theme.aisles)
    if not theme.aisles:
        return 0.8
    share = min(1.0, sum(shopper.aisle_shares.get(a, 0.0) for a in theme.aisles))
    if "personal" not in theme.tags:
        return share
    # a row of the shopper's own products needs enough of them to fill it
    owned = sum(shopper.aisle_products.get(a, 0) for a in theme.aisles)
    return 0.5 * share + min(1.0, owned / PLACEMENT_SLOTS)


def steer_fit(theme: BankTheme, asks: Asks) -> float:
    """Tag weights the page is asked for; asked for cohesion, narrow themes gain and catch-all themes (no
    aisles) lose, since a row about one part of the shop hangs together better."""
    tags = sum(asks.weight(tag) for tag in theme.tags) / max(1, len(theme.tags)) ** 0.5
    breadth = 1.0 if not theme.aisles else min(1.0, len(theme.aisles) / 8)
    produce = sum(a in HEALTHY_AISLES for a in theme.aisles) / max(1, len(theme.aisles))
    # "Your ..." rows group by habit, not by kind: asked for cohesion they lose, unless regulars are asked for too
    personal = 0.4 * (1 - min(1.0, 2 * asks.weight("personal"))) if "personal" in theme.tags else 0.0
    return tags - asks.strictness * (breadth + personal) + asks.health_seeking * produce


def _aisle_popularity(index: CatalogIndex) -> dict[str, float]:
    """Share of all basket items in each aisle (what a new shopper is most likely to want), once per index."""
    return derived(index, "aisle_popularity", _count_aisle_popularity)


def _count_aisle_popularity(index: CatalogIndex) -> dict[str, float]:
    counts = np.bincount(index.catalog.aisle_ids, weights=index.popularity)
    total = counts.sum() or 1.0
    return {name: counts[aid] / total for aid, name in index.catalog.aisles.items() if aid < len(counts)}


def _rationale(theme: BankTheme, shopper: Shopper, novelty: float) -> str:
    """One sentence on why this shopper gets the theme; the bank's description says what is in it."""
    if "personal" in theme.tags:
        return f"From your own orders: {theme.description[0].lower()}{theme.description[1:]}"
    if novelty > 0 and shopper.profile is not None:
        return f"New to you, next to what you buy: {theme.description[0].lower()}{theme.description[1:]}"
    return theme.description


@lru_cache(maxsize=1)
def _aisle_overlap() -> np.ndarray:
    """Jaccard overlap of every pair of the default bank's themes' aisles, computed once; two catch-all themes
    overlap fully ("Your Weekly Staples" and "Buy It Again" are one intent: the page rules keep one)."""
    bank = load_theme_bank()
    sets = [set(t.aisles) for t in bank]
    overlap = np.zeros((len(bank), len(bank)))
    for i, a in enumerate(sets):
        for j, b in enumerate(sets):
            if a and b:
                overlap[i, j] = len(a & b) / len(a | b)
            elif not a and not b:
                overlap[i, j] = 1.0
    return overlap


def library_themes(shopper: Shopper, asks: Asks, index: CatalogIndex, wanted: int,
                   bonus: Bonus = no_bonus) -> list[dict[str, object]]:
    """Up to `wanted` bank themes, best first, as a page plan's themes (title, rationale, queries, aisles,
    attributes, from_history)."""
    popularity = _aisle_popularity(index)
    bank = load_theme_bank()
    user_weight = USER_WEIGHT * (1 + asks.taste_seeking)
    novelty = asks.novelty_seeking
    shares = neighbourhood_shares(shopper, index) if novelty > 0 else {}
    closeness = taste_closeness(shopper, index) if novelty > 0 else None
    scores = np.array([user_weight * user_fit(t, shopper, popularity) + STEER_WEIGHT * steer_fit(t, asks)
                       + bonus(t) + novelty * discovery_fit(t, shares, popularity, closeness, index)
                       for t in bank])
    chosen: list[int] = []
    adjusted = scores.copy()
    overlap = _aisle_overlap()
    while len(chosen) < min(wanted, len(bank)):
        best = int(np.argmax(adjusted))
        chosen.append(best)
        adjusted -= OVERLAP_PENALTY * overlap[best]
        adjusted[chosen] = -np.inf
    return [{"title": bank[i].title, "rationale": _rationale(bank[i], shopper, novelty),
             "queries": list(bank[i].queries), "aisles": list(bank[i].aisles), "attributes": list(bank[i].diet),
             "from_history": "personal" in bank[i].tags} for i in chosen]


def themes_for(shopper: Shopper, asks: Asks, index: CatalogIndex, wanted: int,
               bonus: Bonus = no_bonus) -> list[dict[str, object]]:
    """The themes of a page plan for this shopper: the library's, ranked (history themes first when the page is
    asked mostly for regulars), or, in a store that is not a grocery store, the catalog's aisles."""
    if not is_grocery(shopper.store):
        return catalog_themes(shopper, index, shopper.store or "", wanted)
    themes = library_themes(shopper, asks, index, wanted, bonus)
    if asks_for_regulars(asks) and not shopper.is_new:  # history themes that hold their likeliest products
        themes = regulars_plan(shopper, themes, wanted)
    return themes
