"""The shopper as an LM reads them: a compact, readable summary built in code, never raw ids.

The one definition of the user-context text: `describe_user` writes it and `parse_user_context`
reads it back (the offline engine's shopper and judge use the reader). Five lines, each with a
fixed prefix:

    Store: grocery store.
    Orders: 11, about every 20 days, usually Thursday mornings.
    Favourite aisles (share of items, products): soft drinks 21% 2, popcorn jerky 19% 2, ...
    Frequent products: Soda 11/11*; Pistachios 10/11*; Original Beef Jerky 10/11; ...
    Last basket: the products marked *, plus Organic Whole Milk; ...

The first line names the store's kind (`themepage.dataset.store_kind`): the instructions are store-neutral, so this
is how the LM learns what the shop sells, at a few tokens a call. A new shopper gets the store line and
NEW_SHOPPER. Frequent products carry in how many orders they were; the last basket names only the products
the frequent list does not (so each name appears once).

Names pass through `prompt_text.inline`, so none holds a separator, a newline or a field marker.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from themepage.dataset.history import UserHistory
from themepage.dataset.store_kind import check_kind, store_of
from themepage.index import CatalogIndex
from themepage.wording.prompt_text import LIST, inline

DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
FAVOURITE_AISLES = 20
"""Aisles the favourite-aisles line lists at most (each costs prompt tokens): a planner asked for the shopper's
regulars needs to see the aisles beyond the first few (bread, cereal, dips) to plan rows that hold them; a
shorter list held less of the next basket (docs/results.md)."""
ALWAYS_LISTED_AISLES = 8
"""The favourite aisles listed whatever their share."""
MIN_LISTED_SHARE = 0.015
"""Beyond the first ALWAYS_LISTED_AISLES, an aisle is listed only if it holds this share of the shopper's items
(it prints as at least 2%): a smaller one rarely fills part of a row, and each costs the planner's prompt tokens."""
FREQUENT_PRODUCTS = 12
RECENT_PRODUCTS = 12

NEW_SHOPPER = "New shopper: no orders yet."
PREFIX_STORE = "Store: "
PREFIX_ORDERS = "Orders: "
PREFIX_AISLES = "Favourite aisles (share of items, products): "
PREFIX_FREQUENT = "Frequent products: "
PREFIX_RECENT = "Last basket: "
RECENT_MARK = "*"
MARKED = "the products marked *"
PLUS = ", plus "

_ORDERS = re.compile(r"^Orders: (\d+)")
_AISLE = re.compile(r"^(.+) (\d+)% (\d+)$")
_FREQUENT = re.compile(r"^(.+) (\d+)/(\d+)(\*?)$")


@dataclass
class UserContext:
    """What a user-context text says: order count, favourite aisles, frequent and last-basket products."""

    store: str | None = None
    """The store's kind ("hardware store"); None when the text does not say."""
    orders: int = 0
    aisles: list[tuple[str, float, int]] = field(default_factory=list)
    """(aisle name, share of the shopper's items, distinct products bought there)"""
    frequent: list[tuple[str, int]] = field(default_factory=list)
    """(product name, orders it was in)"""
    recent: list[str] = field(default_factory=list)
    """Names of the last basket's products (frequent ones included)."""


def _part_of_day(hour: int) -> str:
    return "mornings" if hour < 12 else "afternoons" if hour < 17 else "evenings"


def rhythm(history: UserHistory) -> str:
    orders = history.orders
    gaps = [o.days_since_prior for o in orders if o.days_since_prior is not None]
    day = Counter(o.dow for o in orders).most_common(1)[0][0]
    hour = int(np.median([o.hour for o in orders]))
    cadence = f"about every {np.median(gaps):.0f} days" if gaps else "once so far"
    return f"{PREFIX_ORDERS}{len(orders)}, {cadence}, usually {DAYS[day]} {_part_of_day(hour)}."


def describe_user(history: UserHistory, index: CatalogIndex) -> str:
    """A few readable lines about the store and the shopper's tastes and habits (format: the module docstring)."""
    store = f"{PREFIX_STORE}{store_of(index).kind}."
    if history.is_empty():
        return f"{store}\n{NEW_SHOPPER}"
    catalog = index.catalog
    items = [p for order in history.orders for p in order.products]
    aisles = Counter(catalog.aisle(p) for p in items)
    distinct = Counter(catalog.aisle(p) for p in history.product_counts)
    listed = [(a, n) for k, (a, n) in enumerate(aisles.most_common(FAVOURITE_AISLES))
              if k < ALWAYS_LISTED_AISLES or n / len(items) >= MIN_LISTED_SHARE]
    favourite = ", ".join(f"{inline(a)} {n / len(items):.0%} {distinct[a]}" for a, n in listed)
    n_orders = len(history.orders)
    counts = history.product_counts
    last = history.orders[-1].products[:RECENT_PRODUCTS]
    frequent = history.top_products(FREQUENT_PRODUCTS)
    listed = LIST.join(f"{inline(catalog.name(p))} {counts[p]}/{n_orders}{RECENT_MARK if p in last else ''}"
                       for p in frequent)
    others = LIST.join(inline(catalog.name(p)) for p in last if p not in set(frequent))
    marked = any(p in last for p in frequent)
    recent = (MARKED + PLUS + others if others else MARKED) if marked else others
    return "\n".join([store, rhythm(history), PREFIX_AISLES + favourite, PREFIX_FREQUENT + listed,
                      PREFIX_RECENT + recent])


def first_favourite_aisles(text: str, most: int) -> str:
    """The context with its favourite-aisles line cut to its first `most` entries, every other line as it was
    (for a model that may name only those: the rest would cost prompt tokens it cannot use)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.strip().startswith(PREFIX_AISLES):
            entries = line.strip()[len(PREFIX_AISLES):].split(", ")
            lines[i] = PREFIX_AISLES + ", ".join(entries[:most])
    return "\n".join(lines)


def parse_user_context(text: str) -> UserContext:
    """Read a `describe_user` text back; lines and entries that do not follow the format are skipped."""
    found = UserContext()
    recent_frequent: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(PREFIX_STORE) and found.store is None:
            found.store = _store_kind(line[len(PREFIX_STORE):])
        elif match := _ORDERS.match(line):
            found.orders = int(match.group(1)[:9])
        elif line.startswith(PREFIX_AISLES):
            for part in line[len(PREFIX_AISLES):].split(", "):
                if entry := _AISLE.match(part.strip()):
                    found.aisles.append((entry.group(1).lower(), int(entry.group(2)[:4]) / 100,
                                         int(entry.group(3)[:9])))
        elif line.startswith(PREFIX_FREQUENT):
            for part in line[len(PREFIX_FREQUENT):].split(LIST):
                if entry := _FREQUENT.match(part.strip()):
                    found.frequent.append((entry.group(1), int(entry.group(2)[:9])))
                    found.orders = found.orders or int(entry.group(3)[:9])
                    if entry.group(4):
                        recent_frequent.append(entry.group(1))
        elif line.startswith(PREFIX_RECENT):
            listed = line[len(PREFIX_RECENT):].removeprefix(MARKED).removeprefix(PLUS)
            found.recent += [p.strip() for p in listed.split(LIST) if p.strip()]
    found.recent = recent_frequent + found.recent
    return found


def _store_kind(text: str) -> str | None:
    """The kind a `Store:` line names, or None when it is not a valid kind."""
    try:
        return check_kind(text.strip().removesuffix("."))
    except ValueError:
        return None
