"""Read a directory in the Kaggle "Instacart Market Basket Analysis" layout into a Dataset."""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

import numpy as np

from themepage.dataset.csvio import Column, line_of_row, read_columns
from themepage.dataset.errors import DataError, SkipLog
from themepage.dataset.model import EVAL_SETS, PRIOR, TRAIN, Catalog, Dataset, ItemTable, OrderTable

REQUIRED_FILES = ("products.csv", "aisles.csv", "departments.csv", "orders.csv",
                  "order_products__prior.csv", "order_products__train.csv")
OPTIONAL_FILES = ("baskets.csv",)

MAX_ID = 100_000_000
"""Largest order/product id accepted: ids index dense lookup tables, so a stray huge id must be an error,
not a multi-GB allocation (the Kaggle data's largest order_id is 3,421,083)."""
SMALL_MAX_ID = int(np.iinfo(np.int16).max)
"""aisle and department ids are stored as int16."""


def _kind(path: Path) -> str:
    """What a non-regular directory entry is, in words, for an error message."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return "a broken link" if path.is_symlink() else "unreadable"
    for test, word in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return word
    return "not a regular file"


def _present(path: Path) -> bool:
    """True for a regular file (or a link to one), False where nothing is there; anything else is an error.

    Never opens the file: a FIFO or a device would block or read forever.
    """
    if not os.path.lexists(path):
        return False
    if path.is_file():
        return True
    raise DataError(path, f"is {_kind(path)}, expected a regular CSV file")


def _own_catalog_layout(data_dir: Path) -> bool:
    """The raw layout `themepage data import` reads: its order_items.csv, none of Instacart's own files."""
    return _present(data_dir / "order_items.csv") and not any(
        os.path.lexists(data_dir / name) for name in ("aisles.csv", "departments.csv", "order_products__prior.csv"))


def data_files(data_dir: Path) -> list[Path]:
    """The files a dataset is read from (the optional ones only where present)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        what = "data directory not found" if not data_dir.exists() else f"is {_kind(data_dir)}, not a data directory"
        raise DataError(data_dir, what, whole_path=True)
    if _own_catalog_layout(data_dir):
        command = f"themepage data import {shlex.quote(str(data_dir))} --out DIR"
        raise DataError(data_dir, "holds your own catalog's files (products.csv, orders.csv, order_items.csv), not "
                                  f"the Instacart layout: run `{command}` and use --data DIR", whole_path=True)
    files = [data_dir / name for name in REQUIRED_FILES]
    for path in files:
        if not _present(path):
            raise DataError(path, f"file not found in {data_dir}")
    return files + [data_dir / name for name in OPTIONAL_FILES if _present(data_dir / name)]


def _membership(ids: np.ndarray) -> bytes:
    table = np.zeros(int(ids.max(initial=-1)) + 1, dtype=np.uint8)
    table[ids] = 1
    return table.tobytes()


def _first_duplicate(path: Path, ids: np.ndarray, column: str, what: str) -> None:
    """Raise a DataError at the first row repeating an earlier row's id (if any)."""
    unique, first = np.unique(ids, return_index=True)
    if len(unique) == len(ids):
        return
    duplicate = int(np.setdiff1d(np.arange(len(ids)), first)[0])
    value = ids[duplicate]
    earlier = int(first[np.searchsorted(unique, value)])
    raise DataError(path, f"{what} {value} appears twice (first on line {line_of_row(path, earlier)})",
                    line=line_of_row(path, duplicate), column=column)


def _names(path: Path, id_column: str, name_column: str, skips: SkipLog) -> dict[int, str]:
    cols = read_columns(path, [Column(id_column, low=0, high=SMALL_MAX_ID), Column(name_column, text=True)], skips)
    _first_duplicate(path, cols[id_column], id_column, id_column)
    return dict(zip(cols[id_column].tolist(), cols[name_column], strict=True))


def read_catalog(data_dir: Path, skips: SkipLog) -> Catalog:
    aisles = _names(data_dir / "aisles.csv", "aisle_id", "aisle", skips)
    departments = _names(data_dir / "departments.csv", "department_id", "department", skips)
    path = data_dir / "products.csv"
    cols = read_columns(path, [
        Column("product_id", low=0, high=MAX_ID), Column("product_name", text=True),
        Column("aisle_id", np.int16, known=_membership(np.array(list(aisles), dtype=np.int64)),
               unknown="aisle_id {value} is not in aisles.csv"),
        Column("department_id", np.int16, known=_membership(np.array(list(departments), dtype=np.int64)),
               unknown="department_id {value} is not in departments.csv"),
    ], skips)
    ids = cols["product_id"]
    _first_duplicate(path, ids, "product_id", "product_id")
    order = np.argsort(ids, kind="stable")
    names = [cols["product_name"][i] for i in order]
    return Catalog.build(ids[order], names, cols["aisle_id"][order], cols["department_id"][order], aisles, departments)


def read_orders(data_dir: Path, skips: SkipLog) -> OrderTable:
    path = data_dir / "orders.csv"
    cols = read_columns(path, [
        Column("order_id", low=0, high=MAX_ID), Column("user_id", low=0), Column("eval_set", choices=EVAL_SETS),
        Column("order_number", np.int16, low=0), Column("order_dow", np.int8, low=0, high=6),
        Column("order_hour_of_day", np.int8, low=0, high=23),
        Column("days_since_prior_order", np.float32, optional=True, low=0.0),
    ], skips)
    ids = cols["order_id"]
    _first_duplicate(path, ids, "order_id", "order_id")
    return OrderTable(ids, cols["user_id"], cols["eval_set"], cols["order_number"], cols["order_dow"],
                      cols["order_hour_of_day"], cols["days_since_prior_order"])


def _items(path: Path, catalog: Catalog, skips: SkipLog, known_orders: bytes | None) -> ItemTable:
    columns = [
        Column("order_id", low=0, high=MAX_ID, known=known_orders,
               unknown="order_id {value} has no row in orders.csv, so its user is unknown"),
        Column("product_id", low=0, known=(catalog.row_of >= 0).astype(np.uint8).tobytes(),
               unknown="product_id {value} is not in products.csv"),
        Column("add_to_cart_order", np.int16, low=0), Column("reordered", np.int8, low=0, high=1),
    ]
    cols = read_columns(path, columns, skips)
    return ItemTable(cols["order_id"], cols["product_id"], cols["add_to_cart_order"], cols["reordered"])


def _keep(items: ItemTable, mask: np.ndarray, path: Path, reason: str, skips: SkipLog) -> ItemTable:
    skips.add(path, reason, int((~mask).sum()))
    if mask.all():
        return items
    return ItemTable(items.order_ids[mask], items.product_ids[mask], items.add_to_cart[mask], items.reordered[mask])


def _drop_duplicates(items: ItemTable, path: Path, skips: SkipLog) -> ItemTable:
    """Keep the first row of each (order, product); the common no-duplicate case needs only one sort."""
    keys = items.order_ids.astype(np.int64) << 32 | items.product_ids.astype(np.int64)
    ordered = np.sort(keys)
    if not (ordered[1:] == ordered[:-1]).any():
        return items
    del ordered
    _, first = np.unique(keys, return_index=True)
    mask = np.zeros(len(items), dtype=bool)
    mask[first] = True
    return _keep(items, mask, path, "the same product twice in one order", skips)


def _match_eval_set(items: ItemTable, orders: OrderTable, eval_set: int, path: Path, skips: SkipLog) -> ItemTable:
    code = np.full(int(orders.order_ids.max(initial=0)) + 1, -1, dtype=np.int8)
    code[orders.order_ids] = orders.eval_sets
    mask = code[items.order_ids] == eval_set
    return _keep(items, mask, path, f"order is not in eval_set '{EVAL_SETS[eval_set]}' in orders.csv", skips)


def read_dataset(data_dir: Path) -> Dataset:
    """Read and validate a data directory; raises DataError with file, line and column on bad input."""
    data_dir = Path(data_dir)
    present = data_files(data_dir)
    skips = SkipLog()
    catalog = read_catalog(data_dir, skips)
    orders = read_orders(data_dir, skips)
    known_orders = _membership(orders.order_ids)
    tables = {}
    for name, eval_set in (("order_products__prior.csv", PRIOR), ("order_products__train.csv", TRAIN)):
        path = data_dir / name
        items = _items(path, catalog, skips, known_orders)
        items = _match_eval_set(items, orders, eval_set, path, skips)
        tables[eval_set] = _drop_duplicates(items, path, skips)
    baskets_path = data_dir / "baskets.csv"
    if baskets_path in present:
        baskets = _items(baskets_path, catalog, skips, None)
        collides = np.zeros(len(baskets), dtype=bool)
        in_range = baskets.order_ids < len(known_orders)
        collides[in_range] = np.frombuffer(known_orders, dtype=np.uint8)[baskets.order_ids[in_range]] == 1
        baskets = _keep(baskets, ~collides, baskets_path, "order_id belongs to an order in orders.csv", skips)
        baskets = _drop_duplicates(baskets, baskets_path, skips)
    else:
        empty = np.zeros(0, dtype=np.int32)
        baskets = ItemTable(empty, empty, empty.astype(np.int16), empty.astype(np.int8))
    absent = tuple(name for name in OPTIONAL_FILES if data_dir / name not in present)
    return Dataset(catalog, orders, tables[PRIOR], tables[TRAIN], baskets, tuple(skips.messages()), absent)
