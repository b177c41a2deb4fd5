"""How much of the shopper's buying the top-down relevance page keeps, against P-TopFreq (`repurchase`).

Not a test: a script (a few minutes on the offline engine).

    cd /work/main && .venv/bin/python bench/relevance_recall.py [--bare] [--objective relevance] [--show]

Every bundled user with a history, under the evaluation rule (each user's last basket, as `themepage evaluate`):
one page per user from top-down (the committed compiled program for the objective, or the bare program with
`--bare`) and from repurchase, scored through the evaluation path (`themepage.optimize.evaluation.case_scores`).
Prints, per program, recall@48, ndcg@48 and the objective's score, top-down's recall as a multiple of
repurchase's, and where the shopper's 48 most bought products went: on the page, missing though a row shows their
aisle, missing with no row of their aisle; how many slots hold products the shopper never bought; and how many rows
hold a pair the placement scorer flags as near-duplicates (whoever bought them: a merchandiser judging the row does
not know).
`--show` prints every top-down page's rows (title, products, how many of them are among the 48).
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
from themepage.constants import BUNDLED_DATA_DIR, PAGE_SIZE  # noqa: E402
from themepage.dataset.cases import evaluation_cases  # noqa: E402
from themepage.metrics.objective_metric import Objective  # noqa: E402
from themepage.optimize.compiled_files import COMPILED_DIR  # noqa: E402
from themepage.optimize.evaluation import case_scores  # noqa: E402
from themepage.quality.scorer import placement_scorer  # noqa: E402

SCORES = ("recall@48", "ndcg@48", "objective_score")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bare", action="store_true", help="the bare (uncompiled) top-down program")
    parser.add_argument("--objective", default="relevance")
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    index = _index(BUNDLED_DATA_DIR, None)
    target = Objective.load(args.objective, index)
    cases = evaluation_cases(index.histories, "all")
    module, compiled_from = (None, None) if args.bare else _load_compiled(COMPILED_DIR, "top-down", args.objective,
                                                                          index, "offline")
    makers = {"repurchase": _program("repurchase", index),
              "top-down": _program("top-down", index, module=module, compiled_from=compiled_from)}
    print(f"{len(cases)} users, objective {args.objective}, top-down {compiled_from or 'bare'}")
    scorer = placement_scorer(index)
    means = {}
    for name, make in makers.items():
        rows, where = [], collections.Counter()
        for case in cases:
            page = make(case.user_id, case.history, objective=args.objective)
            rows.append(case_scores(page, case, target))
            shown = page.product_ids()
            top = case.history.top_products(PAGE_SIZE)
            on, aisles = set(shown), {index.catalog.aisle_id(p) for p in shown}
            where["on the page"] += sum(p in on for p in top)
            where["missing, a row of its aisle"] += sum(p not in on and index.catalog.aisle_id(p) in aisles
                                                        for p in top)
            where["missing, no row of its aisle"] += sum(p not in on and index.catalog.aisle_id(p) not in aisles
                                                         for p in top)
            where["slots holding never-bought products"] += sum(p not in case.history.product_counts for p in shown)
            rows_ids = [[x.product_id for x in placement.products] for placement in page.placements]
            where["rows"] += len(rows_ids)
            where["rows with a near-duplicate pair"] += sum(len(r) > 1 and bool(scorer.near_duplicates(
                scorer.evidence(r))) for r in rows_ids)
            if args.show and name == "top-down":
                print(case.user_id, [(p.title, len(p.products), sum(x.product_id in set(top) for x in p.products))
                                     for p in page.placements])
        means[name] = {key: sum(r[key] for r in rows) / len(rows) for key in SCORES}
        print(name, "  ".join(f"{key} {means[name][key]:.3f}" for key in SCORES), dict(where))
    ratio = means["top-down"]["recall@48"] / means["repurchase"]["recall@48"]
    print(f"top-down recall@48 / repurchase's: {ratio:.3f}")


if __name__ == "__main__":
    main()
