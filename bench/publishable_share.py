"""Share of placements the placement-quality scorer estimates publishable, per objective and program.

Not a test: a script (a few minutes on the offline engine). Pages are made today's way, for every
bundled user's evaluation case (`themepage.dataset.cases.evaluation_cases`), by each LLM program compiled for
each objective (`compiled/<objective>/<program>.json`), on the offline engine; each placement is scored
by `themepage.quality` and counted publishable when its estimate is at least --threshold (0.5). Also
prints the mean estimate and the mean title fit. Targets for the next phase: 80% top-down, 60% bottoms-up.

    .venv/bin/python bench/publishable_share.py [--threshold 0.5] [--uncompiled] [--programs bottoms-up]
                                                [--grouping shelves] [--objectives discovery] [--users 10]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from themepage.dataset.cases import evaluation_cases  # noqa: E402
from themepage.index import CatalogIndex  # noqa: E402
from themepage.lm.plug import make_lm  # noqa: E402
from themepage.objectives import objective_names  # noqa: E402
from themepage.optimize.compiled_files import load_compiled  # noqa: E402
from themepage.programs.bottoms_up import GROUPINGS, BottomsUpProgram  # noqa: E402
from themepage.programs.registry import LLM_PROGRAMS, make_program  # noqa: E402
from themepage.quality import placement_scorer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--uncompiled", action="store_true", help="fresh modules instead of compiled ones")
    parser.add_argument("--programs", default=",".join(LLM_PROGRAMS), help="comma-separated LLM programs")
    parser.add_argument("--grouping", choices=GROUPINGS, default=None, help="bottoms-up grouping (default: its own)")
    parser.add_argument("--objectives", default=None, help="comma-separated objectives (default: every one)")
    parser.add_argument("--users", type=int, default=None, help="only the first N evaluation cases")
    args = parser.parse_args()
    index = CatalogIndex.open()
    scorer = placement_scorer(index)
    lm = make_lm("offline", index, cache=False)
    cases = evaluation_cases(index.histories, "all")[:args.users]
    objectives = args.objectives.split(",") if args.objectives else objective_names()
    runs = [(o, p) for o in objectives for p in args.programs.split(",")]
    print(f"{len(cases)} users, offline engine, {'uncompiled' if args.uncompiled else 'compiled'} programs, "
          f"publishable = estimate >= {args.threshold}")
    print(f"{'objective':10s} {'program':11s} {'rows':>5s} {'publishable':>11s} {'mean est.':>9s} {'title fit':>9s}")
    with tqdm(total=len(runs) * len(cases), desc="pages", unit="page", file=sys.stderr) as bar:
        for objective, program in runs:
            module = None if args.uncompiled else load_compiled(program, objective, index)
            if args.grouping and program == "bottoms-up":
                module = module or BottomsUpProgram(index, objective=objective)
                module.grouping = args.grouping
            make = make_program(program, index, lm=lm, module=module)
            estimates, fits = [], []
            for case in cases:
                for placement in make(case.user_id, case.history, objective=objective).placements:
                    if placement.products:
                        quality = scorer.score(placement.title, [p.product_id for p in placement.products])
                        estimates.append(quality.publishable)
                        fits.append(quality.title_fit)
                bar.update()
            share = float(np.mean(np.array(estimates) >= args.threshold))
            tqdm.write(f"{objective:10s} {program:11s} {len(estimates):5d} {share:11.1%} {np.mean(estimates):9.3f} "
                       f"{np.mean(fits):9.3f}")


if __name__ == "__main__":
    main()
