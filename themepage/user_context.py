"""The shopper as an LM reads them: a compact, readable summary built in code, never raw ids.

The summary names favourite aisles (share of items), frequent products (in how many
orders), the last basket, and the order rhythm. Every line has a fixed prefix so
any reader, the offline engine included, can find its parts again.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex

DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
FAVOURITE_AISLES = 12
FREQUENT_PRODUCTS = 24
RECENT_PRODUCTS = 12

NEW_SHOPPER = "New shopper: no orders yet."
PREFIX_AISLES = "Favourite aisles: "
PREFIX_FREQUENT = "Frequent products: "
PREFIX_RECENT = "Last basket: "


def _part_of_day(hour: int) -> str:
    return "mornings" if hour < 12 else "afternoons" if hour < 17 else "evenings"


def rhythm(history: UserHistory) -> str:
    orders = history.orders
    gaps = [o.days_since_prior for o in orders if o.days_since_prior is not None]
    day = Counter(o.dow for o in orders).most_common(1)[0][0]
    hour = int(np.median([o.hour for o in orders]))
    cadence = f"about every {np.median(gaps):.0f} days" if gaps else "once so far"
    return (f"Orders: {len(orders)}, {cadence}, usually {DAYS[day]} {_part_of_day(hour)}.")


def describe_user(history: UserHistory, index: CatalogIndex) -> str:
    """A few readable lines about the shopper's tastes and habits."""
    if history.is_empty():
        return NEW_SHOPPER
    catalog = index.catalog
    items = [p for order in history.orders for p in order.products]
    aisles = Counter(catalog.aisle(p) for p in items)
    distinct = Counter(catalog.aisle(p) for p in history.product_counts)
    favourite = ", ".join(f"{a} ({n / len(items):.0%}, {distinct[a]} products)"
                          for a, n in aisles.most_common(FAVOURITE_AISLES))
    n_orders = len(history.orders)
    counts = history.product_counts
    frequent = "; ".join(f"{catalog.name(p)} ({counts[p]}/{n_orders})"
                         for p in history.top_products(FREQUENT_PRODUCTS))
    recent = "; ".join(catalog.name(p) for p in history.orders[-1].products[:RECENT_PRODUCTS])
    return "\n".join([rhythm(history), PREFIX_AISLES + favourite, PREFIX_FREQUENT + frequent, PREFIX_RECENT + recent])
