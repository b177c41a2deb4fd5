"""Your own catalog: three plain CSV files read with the same checks, turned into the Instacart layout.

The layout (a folder; extra columns are ignored, header names must match):

* `products.csv`: `product_id` (integer), `product_name`, `category`, `top_category` (names:
  categories become aisles, top categories departments, numbered by name);
* `orders.csv`: `order_id`, `user_id` (integers) and `order_number` (1, 2, ... per user) or
  `ordered_at` (ISO 8601, e.g. `2024-03-01T14:05:00` or `2024-03-01`), or both (the number decides
  the order). With `ordered_at` the day of week, hour and days since the prior order come from it;
  without it they are unknown and written as day 0, hour 0 and no gap;
* `order_items.csv`: `order_id`, `product_id` and optionally `position` (place in the cart; by
  default the order of the rows).

Every error names the file, line and column. A product twice in one order is skipped and counted,
as in the Instacart reader. All orders become `prior` orders, so each user's latest order with items
is the one evaluation holds out. `read_own_catalog` returns the `Dataset` the rest of the code reads;
`write_instacart_layout` writes it as a Kaggle-layout folder that `read_dataset` and `--data` accept.
Parquet input is not read (pyarrow is not a dependency): convert to CSV first.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from themepage.dataset.csvio import Column, line_of_row, read_columns
from themepage.dataset.errors import DataError, SkipLog
from themepage.dataset.model import EVAL_SETS, PRIOR, Catalog, Dataset, ItemTable, OrderTable
from themepage.dataset.reader import MAX_ID, SMALL_MAX_ID, _drop_duplicates, _first_duplicate, _membership, _present

FILES = ("products.csv", "orders.csv", "order_items.csv")
SECONDS_PER_DAY = 86_400


def _require(folder: Path) -> None:
    if not folder.is_dir():
        raise DataError(folder, "data directory not found", whole_path=True)
    for name in FILES:
        if not _present(folder / name):
            raise DataError(folder / name, f"file not found in {folder}")
    for path in folder.glob("*.parquet"):
        raise DataError(path, "Parquet needs pyarrow, which is not installed; write the file as CSV")


def _numbered(path: Path, names: list[str], column: str) -> tuple[np.ndarray, dict[int, str]]:
    """Ids 1..n for the distinct names (sorted), and each row's id; a blank name is an error."""
    for row, name in enumerate(names):
        if not name:
            raise DataError(path, f"{column} is empty", line=line_of_row(path, row), column=column)
    distinct = sorted(set(names))
    if len(distinct) > SMALL_MAX_ID:
        raise DataError(path, f"{len(distinct):,} distinct values; at most {SMALL_MAX_ID:,}", column=column)
    ids = {name: i for i, name in enumerate(distinct, start=1)}
    return np.array([ids[n] for n in names], dtype=np.int16), {i: n for n, i in ids.items()}


def read_products(folder: Path, skips: SkipLog) -> Catalog:
    path = folder / "products.csv"
    cols = read_columns(path, [Column("product_id", low=0, high=MAX_ID), Column("product_name", text=True),
                               Column("category", text=True), Column("top_category", text=True)], skips)
    ids = cols["product_id"]
    _first_duplicate(path, ids, "product_id", "product_id")
    aisle_ids, aisles = _numbered(path, cols["category"], "category")
    department_ids, departments = _numbered(path, cols["top_category"], "top_category")
    order = np.argsort(ids, kind="stable")
    return Catalog.build(ids[order], [cols["product_name"][i] for i in order], aisle_ids[order],
                         department_ids[order], aisles, departments)


def _timestamps(path: Path, texts: list[str]) -> np.ndarray:
    """Seconds since 1970 of ISO 8601 texts; a DataError at the first one that is not a date or date-time."""
    try:
        stamps = np.array(texts, dtype="datetime64[s]")
    except ValueError:
        stamps = None
    bad = np.flatnonzero(np.isnat(stamps)) if stamps is not None else [
        row for row, text in enumerate(texts) if not _is_timestamp(text)]
    if stamps is None or len(bad):
        row = int(bad[0])
        raise DataError(path, f"{texts[row]!r} is not an ISO 8601 date or date-time", line=line_of_row(path, row),
                        column="ordered_at")
    return stamps.astype(np.int64)


def _is_timestamp(text: str) -> bool:
    try:
        return not np.isnat(np.datetime64(text, "s"))
    except ValueError:
        return False


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return [name.strip().lstrip("\ufeff").strip() for name in next(csv.reader(handle), [])]


def read_orders(folder: Path, skips: SkipLog) -> OrderTable:
    path = folder / "orders.csv"
    header = _header(path)
    has_number, has_time = "order_number" in header, "ordered_at" in header
    if not (has_number or has_time):
        raise DataError(path, "needs an order_number or an ordered_at column", line=1)
    columns = [Column("order_id", low=0, high=MAX_ID), Column("user_id", low=0)]
    columns += [Column("order_number", np.int16, low=1)] if has_number else []
    columns += [Column("ordered_at", text=True)] if has_time else []
    cols = read_columns(path, columns, skips)
    ids, users = cols["order_id"], cols["user_id"]
    _first_duplicate(path, ids, "order_id", "order_id")
    seconds = _timestamps(path, cols["ordered_at"]) if has_time else np.zeros(len(ids), dtype=np.int64)
    numbers = cols["order_number"] if has_number else np.zeros(len(ids), dtype=np.int16)
    by_user = np.lexsort((ids, seconds, numbers, users))  # within a user: number, then time, then id
    if has_number:
        _same_number_twice(path, users[by_user], numbers[by_user], by_user)
    else:
        first = np.r_[True, users[by_user][1:] != users[by_user][:-1]]
        starts = np.maximum.accumulate(np.where(first, np.arange(len(ids)), 0))
        numbers = np.empty(len(ids), dtype=np.int16)
        numbers[by_user] = (np.arange(len(ids)) - starts + 1).astype(np.int16)
    days = np.full(len(ids), np.nan, dtype=np.float32)
    if has_time:
        earlier = np.r_[False, users[by_user][1:] == users[by_user][:-1]]
        gaps = np.diff(seconds[by_user], prepend=0) / SECONDS_PER_DAY
        days[by_user[earlier]] = gaps[earlier].astype(np.float32)
        if (days < 0).any():
            row = int(np.flatnonzero(days < 0)[0])
            raise DataError(path, f"ordered_at is earlier than that of user {users[row]}'s previous order_number",
                            line=line_of_row(path, row), column="ordered_at")
    dows = ((seconds // SECONDS_PER_DAY + 4) % 7).astype(np.int8)  # 1970-01-01 was a Thursday; Sunday is 0
    hours = (seconds % SECONDS_PER_DAY // 3600).astype(np.int8)
    return OrderTable(ids, users, np.full(len(ids), PRIOR, dtype=np.int8), numbers, dows, hours, days)


def _same_number_twice(path: Path, users: np.ndarray, numbers: np.ndarray, rows: np.ndarray) -> None:
    """A DataError where a user has two orders with one order_number (arrays sorted by user, then number)."""
    twice = np.flatnonzero((users[1:] == users[:-1]) & (numbers[1:] == numbers[:-1]))
    if len(twice):
        first, second = sorted((int(rows[twice[0]]), int(rows[twice[0] + 1])))
        raise DataError(path, f"user {users[twice[0]]} has order_number {numbers[twice[0]]} twice (first on line "
                              f"{line_of_row(path, first)})", line=line_of_row(path, second), column="order_number")


def read_items(folder: Path, orders: OrderTable, catalog: Catalog, skips: SkipLog) -> ItemTable:
    path = folder / "order_items.csv"
    has_position = "position" in _header(path)
    columns = [Column("order_id", low=0, high=MAX_ID, known=_membership(orders.order_ids),
                      unknown="order_id {value} has no row in orders.csv"),
               Column("product_id", low=0, known=(catalog.row_of >= 0).astype(np.uint8).tobytes(),
                      unknown="product_id {value} is not in products.csv")]
    columns += [Column("position", np.int16, low=1)] if has_position else []
    cols = read_columns(path, columns, skips)
    order_ids, product_ids = cols["order_id"], cols["product_id"]
    if has_position:
        positions = cols["position"]
    else:  # the rows' order within each order
        by_order = np.argsort(order_ids, kind="stable")
        first = np.r_[True, order_ids[by_order][1:] != order_ids[by_order][:-1]]
        starts = np.maximum.accumulate(np.where(first, np.arange(len(by_order)), 0))
        positions = np.empty(len(order_ids), dtype=np.int16)
        positions[by_order] = np.minimum(np.arange(len(by_order)) - starts + 1, SMALL_MAX_ID).astype(np.int16)
    items = ItemTable(order_ids, product_ids, positions, np.zeros(len(order_ids), dtype=np.int8))
    items = _drop_duplicates(items, path, skips)
    return ItemTable(items.order_ids, items.product_ids, items.add_to_cart, _reordered(items, orders))


def _reordered(items: ItemTable, orders: OrderTable) -> np.ndarray:
    """1 where the user bought the product in an earlier order, as Instacart's `reordered` column."""
    row = np.full(int(orders.order_ids.max(initial=0)) + 1, -1, dtype=np.int64)
    row[orders.order_ids] = np.arange(len(orders))
    rows = row[items.order_ids]
    users, numbers = orders.user_ids[rows].astype(np.int64), orders.order_numbers[rows]
    by_time = np.lexsort((numbers, items.product_ids, users))
    key = users[by_time] << 32 | items.product_ids[by_time].astype(np.int64)
    seen_before = np.r_[False, key[1:] == key[:-1]]
    reordered = np.zeros(len(items), dtype=np.int8)
    reordered[by_time] = seen_before
    return reordered


def read_own_catalog(folder: Path) -> Dataset:
    """Read and check a folder in the own-catalog layout; DataError with file, line and column on bad input."""
    folder = Path(folder)
    _require(folder)
    skips = SkipLog()
    catalog = read_products(folder, skips)
    orders = read_orders(folder, skips)
    prior = read_items(folder, orders, catalog, skips)
    empty = np.zeros(0, dtype=np.int32)
    none = ItemTable(empty, empty, empty.astype(np.int16), empty.astype(np.int8))
    return Dataset(catalog, orders, prior, none, none, tuple(skips.messages()), ("baskets.csv",))


def _write_rows(path: Path, header: list[str], rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_instacart_layout(dataset: Dataset, out: Path) -> None:
    """Write `dataset` as a Kaggle-layout folder (`read_dataset(out)` reads the same data back)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    c, o = dataset.catalog, dataset.orders
    _write_rows(out / "aisles.csv", ["aisle_id", "aisle"], sorted(c.aisles.items()))
    _write_rows(out / "departments.csv", ["department_id", "department"], sorted(c.departments.items()))
    _write_rows(out / "products.csv", ["product_id", "product_name", "aisle_id", "department_id"],
                zip(c.product_ids.tolist(), c.names, c.aisle_ids.tolist(), c.department_ids.tolist(), strict=True))
    days = ["" if np.isnan(d) else repr(d) for d in o.days_since_prior.astype(float).tolist()]
    _write_rows(out / "orders.csv", ["order_id", "user_id", "eval_set", "order_number", "order_dow",
                                     "order_hour_of_day", "days_since_prior_order"],
                zip(o.order_ids.tolist(), o.user_ids.tolist(), [EVAL_SETS[e] for e in o.eval_sets.tolist()],
                    o.order_numbers.tolist(), o.dows.tolist(), o.hours.tolist(), days, strict=True))
    for name, table in (("order_products__prior.csv", dataset.prior), ("order_products__train.csv", dataset.train)):
        _write_rows(out / name, ["order_id", "product_id", "add_to_cart_order", "reordered"],
                    zip(table.order_ids.tolist(), table.product_ids.tolist(), table.add_to_cart.tolist(),
                        table.reordered.tolist(), strict=True))
