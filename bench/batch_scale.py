"""A batch of N users (default 10,000) on the Kaggle-scale synthetic data: threaded, then on a local Ray cluster.

    LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/batch_scale.py --data-dir /tmp/kaggle \\
        [--users 10000] [--engines thread,ray] [--out-dir /tmp/kaggle-batch] [--cpus 2]

Not a test: a script. Generates the synthetic dataset of `synthetic_kaggle.py` into `--data-dir` when it is
missing (206,209 users, 3.4M orders, 32M prior rows at --scale 1; keep it outside the repository), opens its
index (built and cached in `--cache-dir` on first use, see bench/index_scale.py), picks N users (seeded),
and makes their pages with the offline LM through the engines `themepage batch` uses: its threaded runner
(`_run`, `--concurrency` users at once) and `distributed.ray_pages` (one actor per CPU of a local cluster
of `--cpus`), with DSPy's cache off so every call reaches the engine. Pages go to
`--out-dir/<engine>.jsonl` as they come; a rerun resumes each file where it stopped (figures then cover
the new pages only). Reports per engine: pages, wall seconds, CPU seconds (this process for threads; the
Ray actors' own, index opening apart), pages per CPU-second (= pages/s per fully used core), pages/s per
core over the wall clock, and peak RSS (this process; each Ray actor); then whether both files hold the same
pages (timings aside). The machine's cores are shared with other work: wall figures are noisy, CPU
figures less so.

Measured 2026-11-27, top-down / relevance, 10,000 users of the scale-1 dataset (seed 7), concurrency 4,
on 2 cores shared with other engineers' jobs (load average 3 to 70 during the run: wall figures are
mostly other people's work; read the CPU columns):
    python bench/batch_scale.py --data-dir /tmp/kaggle --cache-dir /tmp/kaggle_cache \
        --out-dir /tmp/kaggle-batch-10000 --users 10000
    thread 10000 pages  wall 2662.1 s  CPU 1908.8 s                  5.24 pages/CPU-s  1.88 pages/s/core  RSS 1.46 GiB
    ray    10000 pages  wall 3497.0 s  CPU 1366.5 s (+18.2 opening)  7.32 pages/CPU-s  1.43 pages/s/core  RSS 1.50, 1.50
    9,983 pages identical; the 17 others took the 60 s page deadline's fallback on Ray (DeadlineExceeded in a
    filter step) while the load average was 60-70 (the threaded run had none). `--page-deadline 600` keeps
    a wall clock out of the comparison. The two CPU figures count different things: threads, all of this
    process (pages, writing them, the progress bar); Ray, the actors only (not the driver reading and
    writing their pages). The driver opened the index in 68.6 s wall; each actor in 18.2 / 2 s CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_kaggle import generate  # noqa: E402


@dataclass
class EngineRun:
    """What one engine did in this run: new pages, seconds and memory."""

    engine: str
    pages: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    open_cpu: float = 0.0
    peak_rss_mib: list[float] = field(default_factory=list)
    kept: int = 0

    def line(self, cores: int) -> str:
        if not self.pages:
            return f"{self.engine:<7} no new pages ({self.kept} kept from an earlier run)"
        per_cpu = self.pages / self.cpu if self.cpu else float("nan")
        per_core = self.pages / self.wall / cores
        rss = ", ".join(f"{m / 1024:.2f}" for m in self.peak_rss_mib)
        return (f"{self.engine:<7} {self.pages:>6} pages  wall {self.wall:8.1f} s  CPU {self.cpu:8.1f} s"
                f" (+{self.open_cpu:.1f} s opening)  {per_cpu:6.2f} pages/CPU-s  {per_core:6.2f} pages/s/core"
                f" ({cores} cores)  peak RSS GiB {rss}" + (f"  ({self.kept} kept)" if self.kept else ""))


def pick_users(user_ids, n: int, seed: int) -> list[int]:
    """n users drawn without replacement (seeded), in ascending order; all of them when n covers them."""
    ids = sorted(int(u) for u in user_ids)
    return ids if n >= len(ids) else sorted(random.Random(seed).sample(ids, n))


def finished_count(path: Path, users: list[int]) -> int:
    """How many of `users`, from the first, `path` already holds pages for (in order); a torn last line is cut."""
    if not path.exists():
        return 0
    done, good_bytes = 0, 0
    with path.open("rb") as handle:
        for raw in handle:
            try:
                user = json.loads(raw)["user_id"]
            except (ValueError, KeyError):
                break
            if done >= len(users) or user != users[done] or not raw.endswith(b"\n"):
                break
            done, good_bytes = done + 1, good_bytes + len(raw)
    with path.open("r+b") as handle:
        handle.truncate(good_bytes)
    return done


def _progress(total: int, engine: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=f"{engine} pages", unit="page", file=sys.stderr, smoothing=0.05)


def run_threaded(make, users: list[int], concurrency: int, out: Path) -> EngineRun:
    """Pages on `themepage batch`'s threaded runner, appended to `out`; CPU and RSS of this process."""
    from themepage.cli.batch import _run
    from themepage.cli.output import page_json

    run = EngineRun("thread", kept=finished_count(out, users))
    todo = users[run.kept:]
    with _progress(len(todo), "thread") as bar, out.open("a") as sink:
        cpu, wall = time.process_time(), time.perf_counter()
        for outcome in _run(make, todo, concurrency, lambda: bar.update(1)):
            if outcome is None or outcome.page is None:
                raise SystemExit(f"user {outcome.user if outcome else '?'} failed: "
                                 f"{outcome.error or outcome.unreachable if outcome else 'stopped'}")
            sink.write(page_json(outcome.page) + "\n")
            run.pages += 1
        run.wall, run.cpu = time.perf_counter() - wall, time.process_time() - cpu
    run.peak_rss_mib = [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]
    return run


def run_ray(job, users: list[int], concurrency: int, cpus: int, out: Path) -> EngineRun:
    """Pages on `distributed.ray_pages` (a local cluster of `cpus` CPUs), appended to `out`; the actors' CPU and RSS."""
    from themepage.cli.batch_ray import ray_pages
    from themepage.cli.output import page_json

    run = EngineRun("ray", kept=finished_count(out, users))
    todo = users[run.kept:]
    usage: list[dict[str, float]] = []
    with _progress(len(todo), "ray") as bar, out.open("a") as sink:

        def advance() -> None:
            bar.update(1)

        wall = time.perf_counter()
        for page in ray_pages(job, todo, concurrency, on_page=advance, on_usage=usage.extend, num_cpus=cpus):
            sink.write(page_json(page) + "\n")
            run.pages += 1
        run.wall = time.perf_counter() - wall
    run.cpu = sum(u["pages_cpu"] for u in usage)
    run.open_cpu = sum(u["open_cpu"] for u in usage)
    run.peak_rss_mib = [u["peak_rss_mib"] for u in usage]
    return run


def differing_pages(a: Path, b: Path) -> tuple[int, int]:
    """How many pages of two page files differ (timings aside; a missing page counts), and how many of those
    took a fallback in one file only (e.g. the page deadline, a wall clock, reached on an overloaded machine)."""
    from itertools import zip_longest

    def pages(path: Path):
        with path.open() as handle:
            for line in handle:
                page = json.loads(line)
                page.get("stats", {}).pop("timings_ms", None)
                yield page

    differ = fallback_only = 0
    for x, y in zip_longest(pages(a), pages(b)):
        if x != y:
            differ += 1
            fell = [bool((page or {}).get("stats", {}).get("fallbacks")) for page in (x, y)]
            fallback_only += x is not None and y is not None and fell[0] != fell[1]
    return differ, fallback_only


def same_pages(a: Path, b: Path) -> bool:
    """Whether two page files hold the same pages in the same order, per-step timings aside."""
    return differing_pages(a, b)[0] == 0


def ensure_data(folder: Path, scale: float, seed: int) -> None:
    if (folder / "order_products__prior.csv").is_file():
        return
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"generating the synthetic dataset (scale {scale}) into {folder} ...", file=sys.stderr)
    generate(folder, scale, seed)
    print(f"generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def measure(data_dir: Path, cache_dir: Path, out_dir: Path, n_users: int, engines: list[str], seed: int = 7,
            program: str = "top-down", objective: str = "relevance", concurrency: int = 4,
            cpus: int = 2, page_deadline: float | None = None) -> tuple[list[EngineRun], tuple[int, int] | None]:
    """Run the engines on the same N users; their runs and, for two engines, `differing_pages` of their files."""
    import dspy

    from themepage.cli.page_job import PageJob

    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    job = PageJob(data_dir, cache_dir, program, objective, page_deadline=page_deadline)
    started = time.perf_counter()
    make = job()
    print(f"index and program opened in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    users = pick_users(make.index.histories.user_ids, n_users, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "users.txt").write_text("".join(f"{u}\n" for u in users))
    runs = []
    for engine in engines:
        out = out_dir / f"{engine}.jsonl"
        runs.append(run_threaded(make, users, concurrency, out) if engine == "thread"
                    else run_ray(job, users, concurrency, cpus, out))
    files = [out_dir / f"{engine}.jsonl" for engine in engines]
    return runs, (differing_pages(*files) if len(files) == 2 else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/kaggle"))
    parser.add_argument("--cache-dir", type=Path, help="derived state (default: <data-dir>-cache)")
    parser.add_argument("--out-dir", type=Path, help="page files (default: <data-dir>-batch-<users>)")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--engines", default="thread,ray")
    parser.add_argument("--program", default="top-down")
    parser.add_argument("--objective", default="relevance")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster (one actor each)")
    parser.add_argument("--page-deadline", type=float, help="seconds a page may take (the batch's default: 60)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0, help="dataset size when generating it (Kaggle = 1)")
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not engines or set(engines) - {"thread", "ray"}:
        parser.error("--engines: thread, ray or thread,ray")
    data_dir = args.data_dir
    ensure_data(data_dir, args.scale, args.seed)
    cache_dir = args.cache_dir or data_dir.with_name(data_dir.name + "-cache")
    out_dir = args.out_dir or data_dir.with_name(f"{data_dir.name}-batch-{args.users}")
    runs, differ = measure(data_dir, cache_dir, out_dir, args.users, engines, args.seed, args.program,
                           args.objective, args.concurrency, args.cpus, args.page_deadline)
    print(f"{args.program} / {args.objective}, {args.users:,} users of {data_dir}, concurrency {args.concurrency}")
    for run in runs:
        print(run.line(args.cpus if run.engine == "ray" else os.cpu_count() or 1))
    if differ is not None:
        print(f"same pages on both engines: {differ[0] == 0}" + (
            f" ({differ[0]} of {args.users:,} differ; {differ[1]} of them took a fallback on one engine only,"
            " e.g. the page deadline on an overloaded machine)" if differ[0] else ""))


if __name__ == "__main__":
    main()
