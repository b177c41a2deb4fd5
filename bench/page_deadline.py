"""Worst-case page time with the default LM settings against a server that never answers.

Not a test: a script. It serves the offline engine on 127.0.0.1 with the `hang` fault always on
(the server sleeps far past any timeout), points `dspy.LM("openai/gpt-4o-mini", api_base=...)` at
it with the CLI's defaults (timeout 30 s, 2 retries, page deadline 60 s), and makes pages, one at a
time and then a batch at once, printing each page's wall time, the bound and the fallbacks.

    LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/page_deadline.py
    LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/page_deadline.py --deadline 10 --batch 8
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from themepage.constants import BUNDLED_DATA_DIR, LM_NUM_RETRIES, LM_TIMEOUT_SECONDS  # noqa: E402
from themepage.index import CatalogIndex  # noqa: E402
from themepage.lm.plug import make_lm  # noqa: E402
from themepage.lm.runtime import DEADLINE_GRACE, page_time_bound  # noqa: E402
from themepage.offline.engine import OfflineEngine  # noqa: E402
from themepage.programs.registry import make_program  # noqa: E402
from themepage.server import OfflineLMServer  # noqa: E402

HANG_SECONDS = 3600.0
"""How long the server sleeps before answering: never, as far as any page is concerned."""


def timed_page(make, index, user: int) -> tuple[float, int]:
    """(seconds, fallbacks) for one page."""
    started = time.monotonic()
    page = make(user, index.histories.get(user))
    return time.monotonic() - started, len(page.stats.fallbacks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadline", type=float, default=60.0, help="page deadline in seconds (CLI default 60)")
    parser.add_argument("--batch", type=int, default=8, help="pages made at once in the batch run")
    parser.add_argument("--programs", default="top-down,bottoms-up")
    args = parser.parse_args()
    index = CatalogIndex.open(BUNDLED_DATA_DIR)
    with OfflineLMServer(OfflineEngine(index)) as server:
        server.faults.always("hang", seconds=HANG_SECONDS)
        lm = make_lm("openai/gpt-4o-mini", api_base=server.url, api_key="local-bench", cache=False,
                     timeout=LM_TIMEOUT_SECONDS, num_retries=LM_NUM_RETRIES)
        print(f"timeout {LM_TIMEOUT_SECONDS:g} s, retries {LM_NUM_RETRIES}, page deadline {args.deadline:g} s, "
              f"grace {DEADLINE_GRACE:g} s")
        users = index.histories.user_ids
        for program in args.programs.split(","):
            make = make_program(program, index, lm=lm, page_deadline=args.deadline)
            bound = page_time_bound(program, LM_TIMEOUT_SECONDS, LM_NUM_RETRIES, page_deadline=args.deadline)
            seconds, fallbacks = timed_page(make, index, users[0])
            print(f"{program:>10}  one page: {seconds:6.2f} s  fallbacks {fallbacks:2d}  bound {bound:g} s")
            with ThreadPoolExecutor(args.batch) as pool:
                results = list(pool.map(lambda user, make=make: timed_page(make, index, user), users[:args.batch]))
            worst = max(seconds for seconds, _ in results)
            print(f"{program:>10}  batch of {len(results)} at once: worst page {worst:6.2f} s, "
                  f"fallbacks per page {sorted({f for _, f in results})}  requests so far {server.requests}")
        server.faults.clear()


if __name__ == "__main__":
    main()
