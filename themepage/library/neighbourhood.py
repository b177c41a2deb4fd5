"""The shopper's neighbourhood of the catalog: which library themes suit them when a page is asked for discovery.

A new product suits a shopper when it lies next to what they buy: in the aisles they and their co-purchase
neighbours buy from, and near their taste vector. A theme gains for lying there more than for shoppers at
large (produce is near everyone, pickles near some), and loses for being a row of their own products or a
theme the catalog cannot fill (theme_rows.py).
"""

from __future__ import annotations

import numpy as np

from themepage.index import CatalogIndex
from themepage.index.derived import derived
from themepage.library.shopper import Shopper
from themepage.library.theme_bank import BankTheme
from themepage.library.theme_rows import row_share, theme_rows

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
