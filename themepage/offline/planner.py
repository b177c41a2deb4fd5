"""The offline answer to PlanThemes: rank the theme library's themes for this shopper, objective, instruction and demos.

The library is a grocery store's: for any other kind of store (the `Store:` line of the user context) the themes
come from the catalog's own aisles instead (catalog_planner.py)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from themepage.constants import HEALTHY_AISLES
from themepage.dataset.store_kind import is_grocery
from themepage.index import CatalogIndex
from themepage.library.theme_bank import BankTheme, load_theme_bank
from themepage.offline.catalog_planner import catalog_plan
from themepage.offline.memo import derived
from themepage.offline.prompt import Prompt
from themepage.offline.reading import Shopper, read_shopper, words
from themepage.offline.regulars_plan import asks_for_regulars, regulars_plan
from themepage.offline.steering import Steering, steer
from themepage.offline.theme_rows import row_share, theme_rows

USER_WEIGHT, STEER_WEIGHT, DEMO_WEIGHT = 1.0, 1.5, 0.8
PLACEMENT_SLOTS = 10
"""About how many own products a personal row needs (eight shown, a few spare for de-duplication)."""
NEIGHBOUR_WEIGHT = 8.0
"""Asked for discovery, how much a theme gains for lying in the shopper's own neighbourhood of the catalog."""
NEIGHBOURS = 150
"""Products nearest the shopper's taste vector (co-purchase) that stand for their neighbourhood."""
LIFT_CAP = 3.0
OWN_SHARE = 0.25
"""In a shopper's neighbourhood, the weight of their own aisles; their co-purchase neighbours' aisles get the rest."""
UNFILLED_WEIGHT = 1.5
"""Asked for discovery, how much a theme loses when its queries find less than FILLED_SHARE of a row in its
aisles (theme_rows.py): a theme the catalog cannot fill is not one a person publishes."""
FILLED_SHARE = 0.5
"""The share of a row a theme needs to lose nothing (half a row); themes above it are not ranked by it, so the
shopper's neighbourhood, not the catalog, sets the page."""
TASTE_WEIGHT = 8.0
"""Asked for discovery, how much a theme gains when the products its queries find (its row) lie near the
shopper's taste (co-purchase): "Berry Patch" and "Tropical Fruit Finds" share aisles; a berry buyer is nearer
one of them."""
OVERLAP_PENALTY = 0.6
"""How much a theme loses for sharing aisles with a theme already chosen (keeps rows distinct)."""


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


def steer_fit(theme: BankTheme, steering: Steering) -> float:
    """Tag weights the instruction and guidance ask for; asked for cohesion, narrow themes gain and
    catch-all themes (no aisles) lose, since a row about one part of the shop hangs together better."""
    tags = sum(steering.weight(tag) for tag in theme.tags) / max(1, len(theme.tags)) ** 0.5
    breadth = 1.0 if not theme.aisles else min(1.0, len(theme.aisles) / 8)
    produce = sum(a in HEALTHY_AISLES for a in theme.aisles) / max(1, len(theme.aisles))
    # "Your ..." rows group by habit, not by kind: asked for cohesion they lose, unless regulars are asked for too
    personal = 0.4 * (1 - min(1.0, 2 * steering.weight("personal"))) if "personal" in theme.tags else 0.0
    return tags - steering.strictness * (breadth + personal) + steering.health_seeking * produce


def neighbourhood_shares(shopper: Shopper, index: CatalogIndex) -> dict[str, float]:
    """Aisle shares of the shopper's own products and of their co-purchase neighbours, mixed by OWN_SHARE.

    The neighbours are the NEIGHBOURS products (not bought yet) nearest the shopper's taste vector: the
    parts of the shop next to what they buy, where a new product still suits them. Empty for a new shopper.
    """
    if shopper.profile is None:
        return dict(shopper.aisle_shares)
    closeness = index.vectors @ shopper.profile
    owned = index.rows(list(shopper.product_share)) if shopper.product_share else []
    closeness[owned] = -np.inf
    nearest = np.argpartition(-closeness, NEIGHBOURS)[:NEIGHBOURS]
    aisles = np.asarray(index.catalog.aisle_ids)[nearest]
    shares = dict.fromkeys(shopper.aisle_shares, 0.0)
    for aisle, share in shopper.aisle_shares.items():
        shares[aisle] = OWN_SHARE * share
    for aisle_id, count in zip(*np.unique(aisles, return_counts=True), strict=True):
        name = index.catalog.aisles[int(aisle_id)]
        shares[name] = shares.get(name, 0.0) + (1 - OWN_SHARE) * count / NEIGHBOURS
    return shares


def neighbourhood_fit(theme: BankTheme, shares: dict[str, float], popularity: dict[str, float]) -> float:
    """In [0, 1]: how much of the shopper's neighbourhood the theme's aisles hold, times how much more than
    for shoppers at large (lift, capped at LIFT_CAP): produce is near everyone, pickles near some (catch-all: 0)."""
    mine = sum(shares.get(a, 0.0) for a in theme.aisles)
    usual = sum(popularity.get(a, 0.0) for a in theme.aisles)
    return float(np.sqrt(min(1.0, mine))) * min(1.0, mine / (usual + 0.01) / LIFT_CAP)


def taste_closeness(shopper: Shopper, index: CatalogIndex) -> np.ndarray | None:
    """Every catalog product's closeness to the shopper's taste vector as a percentile in [0, 1] (1: nearest);
    None for a shopper without a profile (a new one)."""
    return None if shopper.profile is None else _percentiles(index.vectors @ shopper.profile)


def _percentiles(values: np.ndarray) -> np.ndarray:
    ranked = np.empty(len(values))
    ranked[np.argsort(values, kind="stable")] = np.linspace(0.0, 1.0, len(values))
    return ranked


def _usual_closeness(index: CatalogIndex) -> np.ndarray:
    """`taste_closeness` of shoppers at large (the popularity-weighted taste vector), once per index."""
    return derived(index, "usual_taste_closeness", lambda ix: _percentiles(ix.vectors @ (ix.popularity @ ix.vectors)))


def taste_fit(theme: BankTheme, closeness: np.ndarray | None, index: CatalogIndex) -> float:
    """In [-1, 1]: how much nearer the shopper's taste than shoppers' at large (`taste_closeness` percentiles) the
    theme's row lies (theme_rows.py: the products its queries find), as the aisle lift of
    `neighbourhood_fit`: produce is near everyone, sprouts near some. 0 without a profile or a row."""
    row = theme_rows(index).get(theme.id)
    if closeness is None or not row:
        return 0.0
    rows = index.rows(row)
    return float(np.mean(closeness[rows]) - np.mean(_usual_closeness(index)[rows]))


def discovery_fit(theme: BankTheme, shares: dict[str, float], popularity: dict[str, float],
                  closeness: np.ndarray | None, index: CatalogIndex) -> float:
    """What a theme gains asked for discovery: lying in the shopper's neighbourhood, by aisle and by the products
    it would show; what it loses: being a row of their own products, or a theme its queries cannot fill."""
    if "personal" in theme.tags:
        return NEIGHBOUR_WEIGHT * (neighbourhood_fit(theme, shares, popularity) - 1)
    return (NEIGHBOUR_WEIGHT * neighbourhood_fit(theme, shares, popularity) + TASTE_WEIGHT * taste_fit(
        theme, closeness, index) - UNFILLED_WEIGHT * max(0.0, 1 - row_share(theme, index) / FILLED_SHARE))


def demo_fit(theme: BankTheme, prompt: Prompt) -> float:
    """Themes that demos of similar shoppers planned move up, in proportion to the similarity."""
    if not prompt.demos:
        return 0.0
    mine = words(prompt.inputs["user_context"])
    total = 0.0
    for demo_inputs, demo_outputs in prompt.demos:
        theirs = words(demo_inputs.get("user_context", ""))
        similarity = len(mine & theirs) / max(1, len(mine | theirs))
        planned = demo_outputs.get("themes")
        titles = {str(t.get("title", "")).lower() for t in planned if isinstance(t, dict)} if isinstance(
            planned, list) else set()
        if theme.title.lower() in titles:
            total += 0.3 + similarity
    return total / len(prompt.demos) ** 0.5


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


def plan(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    shopper = read_shopper(prompt.inputs["user_context"], index)
    wanted = prompt.count("num_themes", 6)
    if not is_grocery(shopper.store):
        return catalog_plan(shopper, index, shopper.store or "", wanted)
    steering = steer(prompt.instruction, prompt.inputs["objective_guidance"])
    popularity = _aisle_popularity(index)
    bank = load_theme_bank()
    user_weight = USER_WEIGHT * (1 + steering.taste_seeking)
    novelty = steering.novelty_seeking
    shares = neighbourhood_shares(shopper, index) if novelty > 0 else {}
    closeness = taste_closeness(shopper, index) if novelty > 0 else None
    scores = np.array([user_weight * user_fit(t, shopper, popularity) + STEER_WEIGHT * steer_fit(t, steering)
                       + DEMO_WEIGHT * demo_fit(t, prompt)
                       + novelty * discovery_fit(t, shares, popularity, closeness, index)
                       for t in bank])
    chosen: list[int] = []
    adjusted = scores.copy()
    overlap = _aisle_overlap()
    while len(chosen) < min(wanted, len(bank)):
        best = int(np.argmax(adjusted))
        chosen.append(best)
        adjusted -= OVERLAP_PENALTY * overlap[best]
        adjusted[chosen] = -np.inf
    themes = [{"title": bank[i].title, "rationale": _rationale(bank[i], shopper, novelty),
               "queries": list(bank[i].queries), "aisles": list(bank[i].aisles), "attributes": list(bank[i].diet),
               "from_history": "personal" in bank[i].tags} for i in chosen]
    if asks_for_regulars(steering) and not shopper.is_new:  # history themes that hold their likeliest products
        themes = regulars_plan(shopper, themes, wanted)
    return {"themes": themes}
