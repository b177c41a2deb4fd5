"""Write a synthetic dataset in the Kaggle "Instacart Market Basket Analysis" layout, at any scale.

The real products, aisles and departments are copied from the bundled data; orders and
order_products rows are synthetic with the Kaggle sizes. CSVs are rendered with numpy
(digits placed into a byte buffer column by column), never a Python loop per row.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "themepage" / "data" / "instacart"

KAGGLE = {"users": 206_209, "orders": 3_421_083, "prior": 32_434_489, "train": 1_384_617, "train_users": 131_209}
CHUNK_ROWS = 2_000_000


# ----------------------------------------------------------------------------- rendering


class IntField:
    """Non-negative integers, optionally followed by a fixed suffix (e.g. b".0"); `empty` rows write nothing."""

    def __init__(self, values: np.ndarray, suffix: bytes = b"", empty: np.ndarray | None = None):
        self.values = np.asarray(values, dtype=np.int64)
        self.suffix = np.frombuffer(suffix, dtype=np.uint8)
        self.empty = empty
        digits = np.ones(len(self.values), dtype=np.int64)
        for power in range(1, 19):
            digits += self.values >= 10**power
        self.digits = digits
        lengths = digits + len(self.suffix)
        if empty is not None:
            lengths[empty] = 0
        self.lengths = lengths

    def write(self, out: np.ndarray, starts: np.ndarray) -> None:
        keep = np.ones(len(starts), dtype=bool) if self.empty is None else ~self.empty
        values, digits, starts = self.values[keep], self.digits[keep], starts[keep]
        for k in range(int(digits.max(initial=0))):
            on = k < digits
            place = 10 ** (digits[on] - 1 - k)
            out[starts[on] + k] = 48 + (values[on] // place) % 10
        for j, byte in enumerate(self.suffix):
            out[starts + digits + j] = byte


class ChoiceField:
    """One of a few fixed byte strings per row, chosen by code."""

    def __init__(self, codes: np.ndarray, options: list[bytes]):
        self.codes = np.asarray(codes)
        self.options = options
        self.lengths = np.array([len(o) for o in options], dtype=np.int64)[self.codes]

    def write(self, out: np.ndarray, starts: np.ndarray) -> None:
        for code, option in enumerate(self.options):
            at = starts[self.codes == code]
            for j, byte in enumerate(option):
                out[at + j] = byte


def render(fields: list) -> bytes:
    """CSV rows (comma-separated, CRLF like the Kaggle files) for aligned fields."""
    row_lengths = sum(f.lengths for f in fields) + len(fields) + 1  # commas, \r, \n
    ends = np.cumsum(row_lengths)
    out = np.full(int(ends[-1]) if len(ends) else 0, ord(","), dtype=np.uint8)
    out[ends - 1] = ord("\n")
    out[ends - 2] = ord("\r")
    starts = ends - row_lengths
    for field in fields:
        field.write(out, starts)
        starts = starts + field.lengths + 1
    return out.tobytes()


def write_csv(path: Path, header: str, n_rows: int, make_fields) -> None:
    """Write `n_rows` rows in chunks; `make_fields(lo, hi)` returns the fields of rows lo..hi."""
    with path.open("wb") as handle:
        handle.write(header.encode() + b"\r\n")
        for lo in range(0, n_rows, CHUNK_ROWS):
            handle.write(render(make_fields(lo, min(n_rows, lo + CHUNK_ROWS))))


# ----------------------------------------------------------------------------- synthetic data


def split(total: int, parts: int, minimum: int, rng: np.random.Generator) -> np.ndarray:
    """`parts` sizes, each >= minimum, summing to `total` (the rest spread at random)."""
    rest = total - minimum * parts
    if rest < 0:
        raise SystemExit(f"cannot split {total:,} into {parts:,} parts of at least {minimum}")
    return minimum + rng.multinomial(rest, np.full(parts, 1.0 / parts))


def generate(folder: Path, scale: float, seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    n = {key: max(1, round(value * scale)) for key, value in KAGGLE.items()}
    n_users, n_orders = n["users"], n["orders"]
    for name in ("products.csv", "aisles.csv", "departments.csv"):
        shutil.copyfile(BUNDLED / name, folder / name)
    with (BUNDLED / "products.csv").open(newline="", encoding="utf-8") as handle:
        product_ids = np.array([int(row[0]) for row in list(csv.reader(handle))[1:] if row], dtype=np.int64)
    n_products = len(product_ids)

    # orders.csv: each user has >= 4 orders; the last one is train (for n_train_users users) or test.
    per_user = split(n_orders, n_users, 4, rng)
    user_of = np.repeat(np.arange(1, n_users + 1), per_user)
    first = np.cumsum(per_user) - per_user
    number = np.arange(n_orders) - np.repeat(first, per_user) + 1
    last = np.cumsum(per_user) - 1
    eval_set = np.zeros(n_orders, dtype=np.int8)
    train_users = rng.choice(n_users, size=min(n["train_users"], n_users), replace=False)
    is_train_user = np.zeros(n_users, dtype=bool)
    is_train_user[train_users] = True
    eval_set[last] = np.where(is_train_user, 1, 2)
    order_ids = rng.permutation(n_orders) + 1
    dow = rng.integers(0, 7, n_orders)
    hour = rng.integers(0, 24, n_orders)
    days = rng.integers(0, 31, n_orders)
    first_order = number == 1
    write_csv(folder / "orders.csv",
              "order_id,user_id,eval_set,order_number,order_dow,order_hour_of_day,days_since_prior_order",
              n_orders, lambda lo, hi: [
                  IntField(order_ids[lo:hi]), IntField(user_of[lo:hi]),
                  ChoiceField(eval_set[lo:hi], [b"prior", b"train", b"test"]),
                  IntField(number[lo:hi]), IntField(dow[lo:hi]), IntField(hour[lo:hi]),
                  IntField(days[lo:hi], suffix=b".0", empty=first_order[lo:hi])])

    # order_products__{prior,train}.csv: rows grouped by order, orders by ascending order_id (as on Kaggle);
    # products within an order are distinct (an offset plus a stride coprime with the catalog size).
    counts = {}
    for name, code, rows in (("prior", 0, n["prior"]), ("train", 1, n["train"])):
        ids = np.sort(order_ids[eval_set == code])
        if len(ids) == 0:
            ids = np.sort(order_ids)[:1]
        sizes = split(rows, len(ids), 1, rng)
        item_order = np.repeat(ids, sizes)
        position = np.arange(rows) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        offset = np.repeat(rng.integers(0, n_products, len(ids)), sizes)
        product = product_ids[(offset + position * 7) % n_products]
        reordered = rng.integers(0, 2, rows)
        write_csv(folder / f"order_products__{name}.csv", "order_id,product_id,add_to_cart_order,reordered",
                  rows, lambda lo, hi, item_order=item_order, product=product, position=position,
                  reordered=reordered: [IntField(item_order[lo:hi]), IntField(product[lo:hi]),
                                        IntField(position[lo:hi] + 1), IntField(reordered[lo:hi])])
        counts[name] = rows
        del item_order, position, offset, product, reordered
    return {"users": n_users, "orders": n_orders, **counts}
