"""Build the catalog index at full Kaggle scale: time per phase and peak RSS. Targets: <= 5 min, <= 8 GB.

    LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/index_scale.py                 # full scale
    LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/index_scale.py --scale 0.1
    LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/index_scale.py --data-dir /tmp/kaggle  # reuse

Not a test: a script. Writes the synthetic dataset of `synthetic_kaggle.py` (206,209 users,
3.4M orders, 32M prior rows at scale 1) into a temporary folder outside the repository
(or `--data-dir`), then, in a child process started from a small intermediate one (so the
generator's memory is not inherited into ru_maxrss), runs the steps of `CatalogIndex.build`
one by one and saves the index as `CatalogIndex.open` does, printing each step's seconds and
the high-water RSS after it.
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

TARGET_SECONDS = 300
TARGET_GIB = 8.0


def _vm_hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(data_dir: str, cache_dir: str) -> None:
    """The steps of CatalogIndex.build (then save), each timed, as JSON on stdout."""
    from themepage.dataset import Histories, read_dataset
    from themepage.dataset.cases import held_out_order_ids
    from themepage.index.catalog_index import CatalogIndex, _training_baskets
    from themepage.index.copurchase import learn_vectors
    from themepage.index.lexical import LexicalIndex

    steps, state = [], {}

    def step(name, run):
        started = time.perf_counter()
        result = run()
        steps.append((name, time.perf_counter() - started, _vm_hwm_mib()))
        return result

    dataset = step("read_dataset (parse the CSVs)", lambda: read_dataset(Path(data_dir)))
    build_started = time.perf_counter()
    histories = step("Histories (group orders by user)", lambda: Histories(dataset))
    held = step("held_out_order_ids", lambda: held_out_order_ids(histories))
    state["baskets"] = step("training baskets (drop held-out)", lambda: _training_baskets(dataset, held))
    vectors = step("learn_vectors (co-occurrence, PPMI, SVD)",
                   lambda: learn_vectors(dataset.catalog, *state.pop("baskets")))
    lexical = step("LexicalIndex.build (BM25)", lambda: LexicalIndex.build(dataset.catalog))
    index = CatalogIndex(dataset, lexical, vectors, build_seconds=time.perf_counter() - build_started,
                         histories=histories)
    step("save", lambda: index.save(Path(cache_dir) / "index"))
    print(json.dumps({"steps": steps, "build": index.build_seconds, "held_out": len(held),
                      "users": len(histories.user_ids), "prior_rows": len(dataset.prior)}))


def measure(data_dir: str, cache_dir: str) -> None:
    """In a small intermediate process: run the child, add its wall time and ru_maxrss."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", data_dir, cache_dir], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(proc.returncode)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.update(wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_mib=usage.ru_maxrss / 1024)
    print(json.dumps(result))


def report(result: dict) -> None:
    print(f"{'step':<44}{'seconds':>10}{'VmHWM MiB':>12}")
    for name, seconds, hwm in result["steps"]:
        print(f"{name:<44}{seconds:>10.1f}{hwm:>12,.0f}")
    print()
    print(f"users {result['users']:,}, prior rows {result['prior_rows']:,}, held-out orders {result['held_out']:,}")
    ok_time = "ok" if result["build"] <= TARGET_SECONDS else "OVER"
    ok_mem = "ok" if result["peak_mib"] / 1024 <= TARGET_GIB else "OVER"
    print(f"index build (after parsing)    {result['build']:>8.1f} s   target <= {TARGET_SECONDS} s  {ok_time}")
    print(f"child wall incl. parse + save  {result['wall']:>8.1f} s   (CPU time {result['cpu']:.1f} s: wall above CPU "
          "means other work shared the cores)")
    print(f"peak RSS (ru_maxrss)           {result['peak_mib'] / 1024:>8.2f} GiB target <= {TARGET_GIB:g} GiB {ok_mem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the Kaggle sizes (default 1.0)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, help="reuse (or create) this directory instead of a temp dir")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    if args.measure:
        return measure(*args.measure)
    folder = args.data_dir or Path(tempfile.mkdtemp(prefix="themepage-index-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(tempfile.mkdtemp(prefix="themepage-index-bench-cache-"))
    try:
        if (folder / "order_products__prior.csv").is_file():
            print(f"reusing {folder}")
        else:
            started = time.perf_counter()
            generate(folder, args.scale, args.seed)
            print(f"generated {folder} in {time.perf_counter() - started:.1f} s (scale {args.scale})")
        env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        proc = subprocess.run([sys.executable, __file__, "--measure", str(folder), str(cache_dir)], env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit(f"index build failed (exit {proc.returncode})")
        report(json.loads(proc.stdout.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
        if args.data_dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
