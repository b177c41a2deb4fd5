"""Cost and latency of a page through a real HTTP LM path, and what the RAG pruning saves.

Not a test: a script. It serves the offline engine as an OpenAI-compatible API on
127.0.0.1 (themepage.server), points `dspy.LM("openai/gpt-4o-mini", api_base=...)` at
it with DSPy's cache off, makes one page per bundled user with each program, and
prints medians per page: LM calls, prompt and completion tokens, cost (gpt-4o-mini
list prices, as DSPy reports them) and wall time. The `aisle-wide` row is top-down
with every product of each theme's aisles in the FillTheme prompt instead of the
top 30 retrieved candidates: the prompt tokens the pruning saves.

    LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/http_bench.py
    LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/http_bench.py --users 10 --engine litellm
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads; a value the user exported wins

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dspy  # noqa: E402

import themepage.programs.top_down as top_down  # noqa: E402
from themepage.constants import BUNDLED_DATA_DIR, CANDIDATES_PER_THEME  # noqa: E402
from themepage.offline.engine import OfflineEngine  # noqa: E402
from themepage.programs.registry import make_program  # noqa: E402
from themepage.programs.top_down import TopDownProgram  # noqa: E402
from themepage.server import OfflineLMServer  # noqa: E402

EVERYTHING = 1_000_000
"""A candidates_per_theme no aisle reaches: the prompt gets the whole pool."""


@contextmanager
def aisle_wide_retrieval() -> Iterator[None]:
    """Top-down's retrieval returning every product of a theme's aisles (retrieved ones first), for the bench only."""
    original = top_down.retrieve_for_theme

    def every_product(index, theme, history, n):
        pool = original(index, theme, history, CANDIDATES_PER_THEME)
        aisles = list(index.aisle_ids(theme.aisles))
        if not aisles:
            return pool
        catalog = index.catalog
        rows = np.flatnonzero(np.isin(catalog.aisle_ids, aisles))
        ranked = rows[np.lexsort((catalog.product_ids[rows], -index.popularity[rows]))]
        taken = set(pool)
        return pool + [int(p) for p in catalog.product_ids[ranked] if int(p) not in taken]

    top_down.retrieve_for_theme = every_product
    try:
        yield
    finally:
        top_down.retrieve_for_theme = original


def measure(make, index, users: list[int]) -> dict[str, float]:
    """Medians per page over `users`, and how many pages needed a fallback."""
    rows = []
    for user in users:
        started = time.perf_counter()
        page = make(user, index.histories.get(user))
        elapsed = (time.perf_counter() - started) * 1000
        s = page.stats
        rows.append((s.lm_calls, s.prompt_tokens, s.completion_tokens, s.cost_usd or 0.0, elapsed, bool(s.fallbacks)))
    columns = list(zip(*rows))
    medians = [statistics.median(column) for column in columns[:5]]
    return dict(zip(("calls", "prompt", "completion", "cost", "ms"), medians), fallbacks=sum(columns[5]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=None, help="first N bundled users (default: all)")
    parser.add_argument("--engine", choices=("auto", "litellm"), default="auto", help="DSPy's HTTP client")
    args = parser.parse_args()

    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    engine = OfflineEngine.open(BUNDLED_DATA_DIR)
    index = engine.index
    users = [int(u) for u in index.histories.user_ids][: args.users]
    with OfflineLMServer(engine) as server:
        lm = dspy.LM("openai/gpt-4o-mini", api_base=server.url, api_key="local-bench", timeout=60, num_retries=0,
                     cache=False, engine=args.engine)
        make_program("top-down", index, lm=lm)(users[0], index.histories.get(users[0]))  # warm up the client
        results = {
            f"top-down (top {CANDIDATES_PER_THEME})": measure(make_program("top-down", index, lm=lm), index, users),
            "bottoms-up": measure(make_program("bottoms-up", index, lm=lm), index, users),
        }
        with aisle_wide_retrieval():
            wide = TopDownProgram(index, candidates_per_theme=EVERYTHING)
            results["top-down (aisle-wide)"] = measure(make_program("top-down", index, lm=lm, module=wide), index,
                                                       users)
        requests = server.requests
    print(f"{len(users)} bundled users, one page each, through {server.url} ({args.engine} client, "
          f"{requests} HTTP requests); medians per page\n")
    print(f"{'program':<26}{'LM calls':>9}{'prompt tok':>12}{'compl. tok':>12}{'cost $':>10}{'wall ms':>9}"
          f"{'fallbacks':>11}")
    for name, r in results.items():
        print(f"{name:<26}{r['calls']:>9g}{r['prompt']:>12,.0f}{r['completion']:>12,.0f}{r['cost']:>10.5f}"
              f"{r['ms']:>9.0f}{r['fallbacks']:>11}")
    pruned, wide = results[f"top-down (top {CANDIDATES_PER_THEME})"], results["top-down (aisle-wide)"]
    print(f"\nRAG pruning (top {CANDIDATES_PER_THEME} candidates per theme instead of every product of its "
          f"aisles): {pruned['prompt']:,.0f} vs {wide['prompt']:,.0f} prompt tokens per page, "
          f"{wide['prompt'] / pruned['prompt']:.1f}x fewer")


if __name__ == "__main__":
    main()
