"""How often one theme recurs across shoppers' pages, and each program's objective score, on the offline engine.

Not a test: a script (a minute or two on the offline engine).

    cd /work/main && .venv/bin/python bench/theme_spread.py [--objective discovery] [--programs top-down,bottoms-up]

Every bundled user with a history, under the evaluation rule (each user's last basket, as `themepage evaluate`):
one page per user and program (the committed compiled program for the objective when there is one). Prints, per
program, the objective's mean score and the titles on the most pages (catch-all rows such as "Your Weekly Staples"
aside: they are the shopper's own products under a generic title), with the share of pages each is on. The
issue's bar: no theme on more than a quarter of pages.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from themepage.cli.common import _index, _load_compiled, _program  # noqa: E402
from themepage.constants import BUNDLED_DATA_DIR  # noqa: E402
from themepage.dataset.cases import evaluation_cases  # noqa: E402
from themepage.metrics.objective_metric import Objective  # noqa: E402
from themepage.optimize.compiled_files import COMPILED_DIR  # noqa: E402
from themepage.optimize.evaluation import case_scores  # noqa: E402
from themepage.programs.rules.shape import is_catch_all_title  # noqa: E402

SHOWN = 5
"""Titles printed per program."""
MOST_PAGES = 0.25
"""The largest share of pages one theme may be on (issue 22)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objective", default="discovery")
    parser.add_argument("--programs", default="top-down,bottoms-up")
    args = parser.parse_args()
    index = _index(BUNDLED_DATA_DIR, None)
    target = Objective.load(args.objective, index)
    cases = evaluation_cases(index.histories, "all")
    print(f"{len(cases)} users, objective {args.objective}")
    for name in (p.strip() for p in args.programs.split(",")):
        module, compiled_from = _load_compiled(COMPILED_DIR, name, args.objective, index, "offline")
        make = _program(name, index, module=module, compiled_from=compiled_from)
        titles: collections.Counter[str] = collections.Counter()
        scores = []
        for case in cases:
            page = make(case.user_id, case.history, objective=args.objective)
            scores.append(case_scores(page, case, target)["objective_score"])
            titles.update({p.title for p in page.placements if not is_catch_all_title(p.title)})
        top = titles.most_common(SHOWN)
        worst = top[0][1] / len(cases) if top else 0.0
        print(f"{name} ({compiled_from or 'bare'}): objective {sum(scores) / len(scores):.4f}, "
              f"{len(titles)} distinct titles, most pages for one title {worst:.0%} "
              f"({'within' if worst <= MOST_PAGES else 'above'} {MOST_PAGES:.0%})")
        for title, pages in top:
            print(f"    {title!r}: {pages}/{len(cases)} pages")


if __name__ == "__main__":
    main()
