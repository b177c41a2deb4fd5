"""History themes for a page asked mostly for the shopper's regulars (relevance): rows covering their items.

A page of regulars is worth what it holds of the shopper's likeliest products. The bank's "Your ..." themes
are fixed groups of aisles ("Your Household Refills"), and a shopper whose yogurt, cereal and cat food fill
no such group lost them. So, asked for regulars, a plan keeps the usual ranking's catch-all regulars
theme first, then picks greedily, among the bank's personal aisle themes and one theme per favourite aisle
of the shopper ("Your Yogurt Cups & Tubs"), the theme whose row would hold the most of the shopper's
items not yet covered (`row_mass`), for every slot asked for (spares included: the program orders the
planned themes by the shopper's real buying and keeps the best, `themepage.programs.relevance_rows.by_own_mass`); the
usual ranking's other themes follow once no theme would hold MIN_ROW_SHARE. Greedy picks do not depend on how
many are asked for, so a plan's first themes are the same whatever its length.
"""

from __future__ import annotations

from themepage.constants import INTENT_OVERLAP
from themepage.library.asks import Asks
from themepage.library.shopper import Shopper
from themepage.library.theme_bank import load_theme_bank
from themepage.wording.aisle_labels import readable_aisle

ROW_SLOTS = 8
"""Products a row shows: a row holds at most this many of the shopper's products."""
MIN_ROW_SHARE = 0.02
"""A history theme whose row would hold less than this share of the shopper's items is not worth a row."""

Shelves = dict[str, tuple[float, int]]
"""Per favourite aisle: the share of the shopper's items not yet covered, and how many products hold it."""


def asks_for_regulars(asks: Asks) -> bool:
    """The page is asked for the shopper's regulars above any other kind of theme, and not for new products."""
    personal = asks.weight("personal")
    others = [w for tag, w in asks.tags.items() if tag not in ("personal", "taste")]
    return personal > 0 and all(w <= personal for w in others) and asks.novelty_seeking <= 0


def shelves_of(shopper: Shopper) -> Shelves:
    """The shopper's favourite aisles, each with its share of items and its number of products."""
    return {a: (share, max(1, shopper.aisle_products.get(a, 1))) for a, share in shopper.aisle_shares.items()}


def _slots(aisles: list[str], shelves: Shelves) -> list[tuple[float, str]]:
    """The ROW_SLOTS likeliest products of these aisles, as (share of one product, aisle); an aisle's share is
    taken as spread evenly over its products (the context gives no more)."""
    per_product = [(shelves[a][0] / shelves[a][1], a) for a in aisles if a in shelves]
    return sorted(((share, a) for share, a in per_product for _ in range(shelves[a][1])), reverse=True)[:ROW_SLOTS]


def row_mass(aisles: list[str], shelves: Shelves) -> float:
    """The share of the shopper's items a row of their products from these aisles could show."""
    return sum(share for share, _ in _slots(aisles, shelves))


def cover(aisles: list[str], shelves: Shelves) -> Shelves:
    """The shelves left once a row of these aisles shows its ROW_SLOTS likeliest products."""
    left = dict(shelves)
    for share, aisle in _slots(aisles, shelves):
        total, products = left[aisle]
        left[aisle] = (max(0.0, total - share), products - 1)
    return {a: v for a, v in left.items() if v[1] > 0}


def aisle_theme(aisle: str) -> dict[str, object]:
    """A history theme of one favourite aisle, titled with its readable label."""
    label = readable_aisle(aisle)
    return {"title": f"Your {label}", "rationale": f"From your own orders: the {label.lower()} you buy most.",
            "queries": [aisle], "aisles": [aisle], "attributes": [], "from_history": True}


def personal_aisle_themes() -> list[dict[str, object]]:
    """The bank's "Your ..." themes about some aisles, as a page plan's themes."""
    return [{"title": t.title, "rationale": f"From your own orders: {t.description[0].lower()}{t.description[1:]}",
             "queries": list(t.queries), "aisles": list(t.aisles), "attributes": list(t.diet), "from_history": True}
            for t in load_theme_bank() if "personal" in t.tags and t.aisles]


def _aisles(theme: dict[str, object]) -> list[str]:
    return list(theme["aisles"])  # type: ignore[call-overload]


def repeats_intent(aisles: list[str], chosen: list[dict[str, object]], shelves: Shelves) -> bool:
    """Whether a row of the shopper's products from these aisles would be about the same part of the shop as a
    chosen theme's row (the page rules keep one of two such rows): their aisles among the shopper's favourites
    overlap by more than INTENT_OVERLAP ("Your Pet Supplies" and "Your Cat Food & Treats" for a cat owner)."""
    mine = shelves.keys() & aisles  # not set(shelves) per theme: a shopper has many favourite aisles
    for theme in chosen:
        theirs = shelves.keys() & _aisles(theme)
        union = mine | theirs
        if union and len(mine & theirs) / len(union) > INTENT_OVERLAP:
            return True
    return False


def regulars_plan(shopper: Shopper, ranked: list[dict[str, object]], wanted: int) -> list[dict[str, object]]:
    """`wanted` themes: the ranking's first catch-all, the history themes covering most of the shopper's items,
    then the ranking's other themes (spares for rows the page rules drop)."""
    catch_all = [t for t in ranked if not t["aisles"] and t["from_history"]][:1]
    candidates = personal_aisle_themes() + [aisle_theme(a) for a in shopper.aisle_shares]
    favourites = shelves = shelves_of(shopper)
    chosen = list(catch_all)
    while len(chosen) < wanted:
        fresh = [t for t in candidates if not repeats_intent(_aisles(t), chosen, favourites)]
        best = max(fresh, key=lambda t: row_mass(_aisles(t), shelves), default=None)
        if best is None or row_mass(_aisles(best), shelves) < MIN_ROW_SHARE:
            break
        chosen.append(best)
        candidates.remove(best)
        shelves = cover(_aisles(best), shelves)
    titles = {str(t["title"]).lower() for t in chosen}
    return (chosen + [t for t in ranked if str(t["title"]).lower() not in titles])[:wanted]
