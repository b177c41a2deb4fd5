"""The in-memory dataset: a catalog and order/item tables held as compact numpy columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

EVAL_SETS = ("prior", "train", "test")
PRIOR, TRAIN, TEST = range(3)


@dataclass(frozen=True)
class Catalog:
    """Products with their aisle and department; rows are aligned arrays, `row_of` maps id -> row."""

    product_ids: np.ndarray
    names: tuple[str, ...]
    aisle_ids: np.ndarray
    department_ids: np.ndarray
    aisles: dict[int, str]
    departments: dict[int, str]
    row_of: np.ndarray = field(repr=False)

    @classmethod
    def build(cls, product_ids, names, aisle_ids, department_ids, aisles, departments) -> Catalog:
        row_of = np.full(int(product_ids.max(initial=0)) + 1, -1, dtype=np.int32)
        row_of[product_ids] = np.arange(len(product_ids), dtype=np.int32)
        return cls(product_ids, tuple(names), aisle_ids, department_ids, aisles, departments, row_of)

    def __len__(self) -> int:
        return len(self.product_ids)

    def __contains__(self, product_id: object) -> bool:
        if type(product_id) is int:
            return product_id in self._row_by_id
        return bool(isinstance(product_id, (int, np.integer)) and 0 <= product_id < len(self.row_of)
                    and self.row_of[product_id] >= 0)

    def row(self, product_id: int) -> int:
        if type(product_id) is int:  # the page rules ask this of thousands of ids a page: a dict, not numpy
            found = self._row_by_id.get(product_id)
            if found is not None:
                return found
        if product_id not in self:
            raise KeyError(f"unknown product id {product_id}")
        return int(self.row_of[product_id])

    @cached_property
    def _row_by_id(self) -> dict[int, int]:
        """Product id -> row as Python ints (made once, on first lookup)."""
        return dict(zip(self.product_ids.tolist(), range(len(self.product_ids)), strict=True))

    @cached_property
    def _aisle_of_row(self) -> list[int]:
        return self.aisle_ids.tolist()

    @cached_property
    def department_of_aisle(self) -> dict[str, str]:
        """Aisle name (lower case) -> its department's name, read once from the products' rows."""
        pairs = set(zip(self.aisle_ids.tolist(), self.department_ids.tolist(), strict=True))
        return {self.aisles[int(a)].lower(): self.departments[int(d)] for a, d in pairs}

    def name(self, product_id: int) -> str:
        return self.names[self.row(product_id)]

    def aisle_id(self, product_id: int) -> int:
        return self._aisle_of_row[self.row(product_id)]

    def aisle(self, product_id: int) -> str:
        return self.aisles[self.aisle_id(product_id)]

    def department(self, product_id: int) -> str:
        return self.departments[int(self.department_ids[self.row(product_id)])]


@dataclass(frozen=True)
class OrderTable:
    """orders.csv as columns; `days_since_prior` is NaN for a user's first order."""

    order_ids: np.ndarray
    user_ids: np.ndarray
    eval_sets: np.ndarray
    order_numbers: np.ndarray
    dows: np.ndarray
    hours: np.ndarray
    days_since_prior: np.ndarray

    def __len__(self) -> int:
        return len(self.order_ids)


@dataclass(frozen=True)
class ItemTable:
    """One order_products file as columns: which product was in which order, and in what position."""

    order_ids: np.ndarray
    product_ids: np.ndarray
    add_to_cart: np.ndarray
    reordered: np.ndarray

    def __len__(self) -> int:
        return len(self.order_ids)


@dataclass(frozen=True)
class Dataset:
    """Everything read from one data directory, plus the messages for rows skipped on purpose
    and the names of the optional files that were absent (e.g. `("baskets.csv",)`)."""

    catalog: Catalog
    orders: OrderTable
    prior: ItemTable
    train: ItemTable
    baskets: ItemTable
    skipped: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()

    @property
    def user_ids(self) -> np.ndarray:
        return np.unique(self.orders.user_ids)
