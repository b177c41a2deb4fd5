"""Page speed of the two DSPy programs on the bundled data: offline, and with a 300 ms LM.

Not a test: a script.

    cd /work/main && LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/page_speed.py
    cd /work/main && LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/page_speed.py --profile
    cd /work/main && OPENBLAS_NUM_THREADS=2 LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/page_speed.py

Part 1, offline: the offline LM (`make_lm("offline", index, cache=False)`, adapter
`MemoChatAdapter`), one warm-up page per program, then one page for each of the 33
bundled users. Reports the median and p90 page wall time, the median CPU time of a page
(all threads; unlike wall time it does not grow when other processes load the machine),
and per page the LM calls, prompt tokens and completion tokens (from `page.stats`).

Part 2, slow LM: the same offline engine behind a wrapper that sleeps 300 ms before
every call (a stand-in for a hosted model's latency), over the first 5 users. Reports
the median page latency and its ratio to the critical path: 3 x 300 ms for top-down
(plan, then fill and filter per theme concurrently), 2 x 300 ms for bottoms-up
(generate, then name per cluster concurrently). A ratio near 1 means the fan-out works
and the page's own work is small; 13 / 3 (top-down) or 7 / 2 (bottoms-up) would mean
the calls ran one after another. The slow LM answers as the offline engine does, alike on every try, so a
name refused for its fit is not asked for again (`themepage.lm.runtime.answers_alike`); the "bottoms-up, sampling"
row treats it as a model that samples, whose refused names are asked again (up to `NAME_ATTEMPTS`, one round
trip each).

The offline engine answers in process, so the programs run its calls one after another on
the page's thread (`themepage.lm.runtime.answers_in_process`); the slow LM below is not in
process and fans out. The offline table's first rows are the process's first pass over the
users: the page rules read each product's evidence (name embeddings, pair features) the
first time they meet it, as a process serving its first pages does. It then repeats both
programs over the same users ("again"): what a warm process (a server, a batch) spends. The
"again" rows flatter a little: the same shoppers ask again for the same (title, product) fits
and product pairs, which the page rules keep across pages (`programs/rules/duplicates.py`).

The header says how many threads OpenBLAS may use: numpy's default is one per core, and
each small matrix-vector product (co-purchase neighbours, taste vectors) then wakes them
all, which on a shared or busy machine costs more than the product itself. The script sets
OPENBLAS_NUM_THREADS=1 unless it is exported; compare a run with OPENBLAS_NUM_THREADS=2.

`--profile` adds a cProfile of the offline top-down pages (top functions by cumulative
and by own time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads; a value the user exported wins
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dspy  # noqa: E402

from themepage.constants import BUNDLED_DATA_DIR  # noqa: E402
from themepage.index import CatalogIndex  # noqa: E402
from themepage.lm.adapter import MemoChatAdapter  # noqa: E402
from themepage.lm.plug import make_lm  # noqa: E402
from themepage.programs.bottoms_up import BottomsUpProgram  # noqa: E402
from themepage.programs.top_down import TopDownProgram  # noqa: E402

PROGRAMS = {"top-down": TopDownProgram, "bottoms-up": BottomsUpProgram}
CRITICAL_PATH = {"top-down": 3, "bottoms-up": 2}
"""LM round trips on a page's critical path."""
LATENCY_S = 0.3
SLOW_USERS = 5


class LatencyEngine:
    """Adds a fixed latency to every call of another engine (sleep, then delegate). `deterministic` says whether the
    programs may count on it answering a retry as it answered the try (`themepage.lm.runtime.answers_alike`)."""

    def __init__(self, delegate, latency_s: float, deterministic: bool = True):
        self.delegate, self.latency_s, self.deterministic = delegate, latency_s, deterministic

    def complete(self, request):
        time.sleep(self.latency_s)
        return self.delegate.complete(request)

    def stream(self, request):
        from dspy.lm15 import response_to_events

        return response_to_events(self.complete(request))

    def close(self) -> None:
        pass


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in [0, 100]), as numpy's default."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def make_pages(program: dspy.Module, histories, lm: dspy.LM, cpu: list | None = None) -> list[tuple[float, object]]:
    """(wall ms, page) per history, under `lm` and the memoizing chat adapter; appends CPU ms (all threads of
    this process, so it does not grow when other processes share the machine) to `cpu` when given."""
    out = []
    with dspy.context(lm=lm, adapter=MemoChatAdapter()):
        for history in histories:
            start, start_cpu = time.perf_counter(), time.process_time()
            page = program(user_id=history.user_id, history=history).page
            out.append(((time.perf_counter() - start) * 1000, page))
            if cpu is not None:
                cpu.append((time.process_time() - start_cpu) * 1000)
    return out


def phase_medians(stats) -> str:
    phases = [k for k in stats[0].timings_ms if k != "total"]
    return ", ".join(f"{k} {statistics.median(s.timings_ms.get(k, 0.0) for s in stats):.1f}" for k in phases)


def offline_table(index: CatalogIndex, histories) -> tuple[list[str], dict[str, float]]:
    """One row per program over the users, then both programs again over the same users (warm caches)."""
    lm = make_lm("offline", index, cache=False)
    rows = [f"{'program':<27} {'pages':>5} {'median ms':>10} {'p90 ms':>8} {'CPU ms':>7} {'LM calls':>9} "
            f"{'prompt tok':>11} {'compl. tok':>11} {'fallbacks':>9}  median ms per phase"]
    medians = {}
    for again in (False, True):
        for name, cls in PROGRAMS.items():
            program = cls(index)
            label = name + (" (again, warm)" if again else "")
            make_pages(program, histories[:1], lm)  # warm-up: adapter memo, lexical caches, name maps
            cpu: list[float] = []
            timed = make_pages(program, histories, lm, cpu)
            ms = [t for t, _ in timed]
            stats = [page.stats for _, page in timed]
            medians[label] = statistics.median(ms)
            rows.append(f"{label:<27} {len(ms):>5} {statistics.median(ms):>10.1f} {percentile(ms, 90):>8.1f} "
                        f"{statistics.median(cpu):>7.1f} "
                        f"{statistics.mean(s.lm_calls for s in stats):>9.1f} "
                        f"{statistics.mean(s.prompt_tokens for s in stats):>11.0f} "
                        f"{statistics.mean(s.completion_tokens for s in stats):>11.0f} "
                        f"{sum(len(s.fallbacks) for s in stats):>9}  {phase_medians(stats)}")
    return rows, medians


def slow_table(index: CatalogIndex, histories) -> list[str]:
    base = make_lm("offline", index, cache=False)
    rows = [f"{'program':<22} {'pages':>5} {'median ms':>10} {'critical path':>14} {'ratio':>6} "
            f"{'LM calls':>9} {'if sequential':>14}"]
    for label, name, alike in (*((n, n, True) for n in PROGRAMS), ("bottoms-up, sampling", "bottoms-up", False)):
        lm = dspy.LM("themepage/offline", engine=LatencyEngine(base.engine, LATENCY_S, alike), cache=False)
        program = PROGRAMS[name](index)
        make_pages(program, histories[:1], make_lm("offline", index, cache=False))  # warm-up, no latency
        timed = make_pages(program, histories[:SLOW_USERS], lm)
        median = statistics.median(t for t, _ in timed)
        critical = CRITICAL_PATH[name] * LATENCY_S * 1000
        calls = statistics.mean(page.stats.lm_calls for _, page in timed)
        rows.append(f"{label:<22} {len(timed):>5} {median:>10.0f} {critical:>11.0f} ms {median / critical:>6.2f} "
                    f"{calls:>9.1f} {calls * LATENCY_S * 1000:>11.0f} ms")
    return rows


def profile_top_down(index: CatalogIndex, histories, top: int = 30) -> str:
    """cProfile sees only the thread it runs on; the offline engine's calls run on it (module docstring)."""
    lm = make_lm("offline", index, cache=False)
    program = TopDownProgram(index)
    make_pages(program, histories[:1], lm)
    profiler = cProfile.Profile()
    profiler.enable()
    make_pages(program, histories, lm)
    profiler.disable()
    out = io.StringIO()
    for order in ("cumulative", "tottime"):
        out.write(f"\n--- top-down, {len(histories)} pages, by {order} ---\n")
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="cProfile the offline top-down pages")
    args = parser.parse_args()

    start = time.perf_counter()
    index = CatalogIndex.open(BUNDLED_DATA_DIR)
    histories = [index.histories.get(u) for u in index.histories.user_ids]
    print(f"bundled data: {len(histories)} users, index opened in {time.perf_counter() - start:.1f} s; "
          f"{os.cpu_count()} CPUs; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset (one per CPU)')}\n")

    print("Offline LM (make_lm('offline'), MemoChatAdapter), one page per user after a warm-up page")
    rows, medians = offline_table(index, histories)
    print("\n".join(rows))

    print(f"\nEvery LM call +{LATENCY_S * 1000:.0f} ms (sleep, then the offline engine), first {SLOW_USERS} users")
    print("\n".join(slow_table(index, histories)))

    if medians["top-down"] > 50:
        print(f"\nnote: top-down offline median {medians['top-down']:.1f} ms is above 50 ms; "
              "run with --profile to see where the time goes")
    if args.profile:
        print(profile_top_down(index, histories))


if __name__ == "__main__":
    main()
