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
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_kaggle import ROOT, generate  # noqa: E402

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
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
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
