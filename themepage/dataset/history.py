"""Users' order histories: oldest order first, each with its products in cart order."""

from __future__ import annotations

from collections import Counter
from functools import cached_property

import numpy as np
from pydantic import BaseModel, ConfigDict

from themepage.dataset.model import PRIOR, TRAIN, Dataset


class Order(BaseModel):
    """One order with items; `days_since_prior` is None for a user's first order."""

    model_config = ConfigDict(frozen=True)

    order_id: int
    order_number: int
    dow: int
    hour: int
    days_since_prior: float | None = None
    products: tuple[int, ...]


class UserHistory(BaseModel):
    """What a program may know of a shopper: their orders, oldest first (possibly none)."""

    model_config = ConfigDict(frozen=True)

    user_id: int
    orders: tuple[Order, ...] = ()

    @cached_property
    def product_counts(self) -> Counter:
        """How many orders contained each product."""
        return Counter(p for order in self.orders for p in order.products)

    @cached_property
    def last_seen(self) -> dict[int, tuple[int, int]]:
        """For each product, (index of the most recent order containing it, its cart position there)."""
        return {p: (i, j) for i, order in enumerate(self.orders) for j, p in enumerate(order.products)}

    @cached_property
    def ranked_products(self) -> tuple[int, ...]:
        """Every product bought, in `top_products` order (sorted once per history)."""
        counts, last = self.product_counts, self.last_seen
        return tuple(sorted(counts, key=lambda p: (-counts[p], -last[p][0], last[p][1])))

    def top_products(self, k: int | None = None) -> list[int]:
        """P-TopFreq: most frequently bought first; ties go to the most recent purchase, then the earlier cart slot."""
        ranked = self.ranked_products
        return list(ranked) if k is None else list(ranked[:k])

    def is_empty(self) -> bool:
        return not self.orders


class Histories:
    """Per-user orders with items, grouped once with numpy so lookups are slices."""

    def __init__(self, dataset: Dataset, eval_sets: tuple[int, ...] = (PRIOR, TRAIN)):
        orders = dataset.orders
        tables = [t for code, t in ((PRIOR, dataset.prior), (TRAIN, dataset.train)) if code in eval_sets]
        if not tables:  # no eval set chosen: no items, so no histories (np.concatenate needs one array)
            tables = [dataset.prior.__class__(*(np.zeros(0, getattr(dataset.prior, f).dtype)
                                                for f in dataset.prior.__dataclass_fields__))]
        item_orders = np.concatenate([t.order_ids for t in tables])
        item_products = np.concatenate([t.product_ids for t in tables])
        item_carts = np.concatenate([t.add_to_cart for t in tables])
        by_order = np.lexsort((item_carts, item_orders))
        self._item_orders = item_orders[by_order]
        self._item_products = item_products[by_order]
        has_items = np.isin(orders.order_ids, self._item_orders)
        chosen = np.flatnonzero(has_items)
        chosen = chosen[np.lexsort((orders.order_numbers[chosen], orders.user_ids[chosen]))]
        self._orders = orders
        self._rows = chosen
        self._users, self._starts = np.unique(orders.user_ids[chosen], return_index=True)

    @property
    def user_ids(self) -> list[int]:
        """Users with at least one order with items."""
        return self._users.tolist()

    def __contains__(self, user_id: int) -> bool:
        if not _fits_dtype(self._users, user_id):
            return False
        i = np.searchsorted(self._users, _key_like(self._users, user_id))
        return bool(i < len(self._users) and self._users[i] == user_id)

    def order_counts(self) -> np.ndarray:
        """Per user (aligned with `user_ids`), how many orders with items they have."""
        return np.diff(np.append(self._starts, len(self._rows)))

    def last_order_ids(self) -> np.ndarray:
        """Per user (aligned with `user_ids`), the id of their latest order with items."""
        ends = np.append(self._starts[1:], len(self._rows)) - 1
        return self._orders.order_ids[self._rows[ends]]

    def get(self, user_id: int) -> UserHistory:
        """The user's orders with items, oldest first; KeyError for a user with none."""
        if user_id not in self:
            raise KeyError(f"no orders with items for user {user_id}")
        i = int(np.searchsorted(self._users, _key_like(self._users, user_id)))
        end = self._starts[i + 1] if i + 1 < len(self._starts) else len(self._rows)
        return UserHistory(user_id=user_id, orders=tuple(self._order(r) for r in self._rows[self._starts[i]:end]))

    def _order(self, row: int) -> Order:
        o = self._orders
        order_id = int(o.order_ids[row])
        key = _key_like(self._item_orders, order_id)
        lo, hi = np.searchsorted(self._item_orders, key), np.searchsorted(self._item_orders, key, side="right")
        days = float(o.days_since_prior[row])
        return Order(order_id=order_id, order_number=int(o.order_numbers[row]), dow=int(o.dows[row]),
                     hour=int(o.hours[row]), days_since_prior=None if np.isnan(days) else days,
                     products=tuple(self._item_products[lo:hi].tolist()))



def _fits_dtype(haystack: np.ndarray, value: int) -> bool:
    """Whether `value` is representable in the haystack's dtype (else it cannot be in the haystack)."""
    if not np.issubdtype(haystack.dtype, np.integer):
        return True
    info = np.iinfo(haystack.dtype)
    return info.min <= value <= info.max


def _key_like(haystack: np.ndarray, value: int) -> np.ndarray:
    """`value` as a scalar array of the haystack's dtype (check `_fits_dtype` first).

    np.searchsorted with a key of another dtype casts the whole haystack first (an int32 column searched
    with a Python int): a copy of every item row per lookup, which at Kaggle scale dominates a shopper's time.
    """
    return np.asarray(value, dtype=haystack.dtype)
