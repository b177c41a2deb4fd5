"""Measure `read_dataset` on a synthetic dataset at full Kaggle scale: wall time and peak RSS.

Not a test: a script. It writes a synthetic "Instacart Market Basket Analysis"
layout (the real products/aisles/departments copied from the bundled data;
synthetic orders and order_products files of the Kaggle sizes) into a temporary
directory, then runs `read_dataset` on it in a child process and reports the
child's wall time, peak RSS (getrusage(RUSAGE_CHILDREN).ru_maxrss, taken in a
small intermediate process so the generator's memory is not inherited) and the
sizes of the arrays it produced. `--cache` also times `load_dataset` cold and warm.

    LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/dataset_memory.py            # full scale
    LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/dataset_memory.py --scale 0.1

The CSVs are rendered with numpy (digits placed into a byte buffer column by
column), never with a Python loop per row, so generating 32M rows takes well
under a minute.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
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
                  rows, lambda lo, hi: [IntField(item_order[lo:hi]), IntField(product[lo:hi]),
                                        IntField(position[lo:hi] + 1), IntField(reordered[lo:hi])])
        counts[name] = rows
        del item_order, position, offset, product, reordered
    return {"users": n_users, "orders": n_orders, **counts}


# ----------------------------------------------------------------------------- measuring


def child(data_dir: str) -> None:
    """Run in the child process: read the dataset and print the sizes of what came out, as JSON."""
    from themepage.dataset import read_dataset

    started = time.perf_counter()
    dataset = read_dataset(Path(data_dir))
    seconds = time.perf_counter() - started
    arrays = {"catalog": dataset.catalog.product_ids.nbytes + dataset.catalog.aisle_ids.nbytes
              + dataset.catalog.department_ids.nbytes + dataset.catalog.row_of.nbytes}
    rows = {"products": len(dataset.catalog)}
    for name in ("orders", "prior", "train", "baskets"):
        table = getattr(dataset, name)
        arrays[name] = sum(getattr(table, f).nbytes for f in table.__dataclass_fields__)
        rows[name] = len(table)
    summary = {"seconds": seconds, "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               "vm_hwm_kib": _vm_hwm_kib(),
               "rows": rows, "bytes": arrays, "skipped": list(dataset.skipped), "users": int(len(dataset.user_ids)),
               "cache": {}}
    del dataset
    if os.environ.get("BENCH_CACHE_DIR"):
        from themepage.dataset import load_dataset

        for run in ("cold", "warm"):
            started = time.perf_counter()
            loaded = load_dataset(Path(data_dir), cache_dir=Path(os.environ["BENCH_CACHE_DIR"]))
            summary["cache"][run] = time.perf_counter() - started
            del loaded
    print(json.dumps(summary))


def measure(data_dir: str) -> None:
    """Run in a small intermediate process: start the reading child, then report its wall time and peak RSS."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", data_dir], capture_output=True, text=True)
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(proc.returncode)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps({**result, "wall": wall, "ru_maxrss_kib": peak_kib}))


def _vm_hwm_kib() -> int | None:
    """This process's own high-water RSS (Linux), as a cross-check of ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the Kaggle sizes (default 1.0)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, help="reuse (or create) this directory instead of a temp dir")
    parser.add_argument("--keep", action="store_true", help="keep the generated temp dir")
    parser.add_argument("--cache", action="store_true",
                        help="afterwards also time load_dataset: a cold build and a warm reload (temp cache dir)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if args.measure:
        measure(args.measure)
        return

    folder = args.data_dir or Path(tempfile.mkdtemp(prefix="themepage-bench-"))
    cache_dir = None
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if (folder / "order_products__prior.csv").is_file():
            print(f"reusing {folder}")
        else:
            started = time.perf_counter()
            generate(folder, args.scale, args.seed)
            print(f"generated {folder} in {time.perf_counter() - started:.1f} s (scale {args.scale})")
        sizes = {p.name: p.stat().st_size for p in sorted(folder.glob("*.csv"))}

        env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        cache_dir = Path(tempfile.mkdtemp(prefix="themepage-bench-cache-")) if args.cache else None
        if cache_dir is not None:
            env["BENCH_CACHE_DIR"] = str(cache_dir)
        # Measured through a small intermediate process: a child started from this (big, after generating)
        # process would inherit its high-water RSS into ru_maxrss (vfork/exec keeps the old mm's maximum).
        proc = subprocess.run([sys.executable, __file__, "--measure", str(folder)], env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit(f"read_dataset failed (exit {proc.returncode})")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        wall, peak_kib = result["wall"], result["ru_maxrss_kib"]
    finally:
        if cache_dir is not None:
            shutil.rmtree(cache_dir, ignore_errors=True)
        if args.data_dir is None and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    mib = 1 << 20
    print()
    print(f"{'file':<28}{'size MiB':>12}")
    for name, size in sizes.items():
        print(f"{name:<28}{size / mib:>12,.1f}")
    print()
    print(f"{'table':<12}{'rows':>14}{'array MiB':>12}")
    for name, rows in result["rows"].items():
        key = "catalog" if name == "products" else name
        print(f"{name:<12}{rows:>14,}{result['bytes'][key] / mib:>12,.1f}")
    print(f"{'users':<12}{result['users']:>14,}")
    print()
    print(f"{'read_dataset (child)':<28}{result['seconds']:>10.1f} s")
    print(f"{'child wall incl. start-up':<28}{wall:>10.1f} s")
    print(f"{'peak RSS (ru_maxrss)':<28}{peak_kib / 1024:>10,.0f} MiB")
    if result.get("vm_hwm_kib"):
        print(f"{'VmHWM after read_dataset':<28}{result['vm_hwm_kib'] / 1024:>10,.0f} MiB")
    if result["cache"]:
        print(f"{'load_dataset, cold cache':<28}{result['cache']['cold']:>10.1f} s")
        print(f"{'load_dataset, warm cache':<28}{result['cache']['warm']:>10.1f} s")
    for message in result["skipped"]:
        print(f"skipped: {message}")


if __name__ == "__main__":
    main()
