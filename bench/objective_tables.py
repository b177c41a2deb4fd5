"""The three tables of the objectives work, on the dev split: compiling helps, retargeting, program vs program.

Not a test: a script (a few minutes on the offline engine).

    cd /work/main && .venv/bin/python bench/objective_tables.py
    cd /work/main && .venv/bin/python bench/objective_tables.py --users all --json /tmp/tables.json

Every LLM program runs for every shipped objective twice, uncompiled (the fresh module
under that objective's guidance) and compiled (`compiled/<objective>/<program>.json`),
one page per evaluation case, through the one evaluation path (`themepage.optimize.evaluation.score_pages`, on
`dspy.Evaluate`). Each page is scored once (`themepage.metrics.scores.page_scores`) and that
row is then weighted by every objective, so the retargeting table costs no extra pages.

Cases (`--users`): the evaluation rule (each user's last basket, as `themepage evaluate`)
for the dev users (10, the default), all users (33), or both. Compiling is a temporal
hold-out (`themepage.optimize.compile_sets.compile_sets`): it validates on every user's earlier orders and
never sees an evaluated basket, and its demos come from train users only, so dev users are
held out twice.

Tables:
1. compiled vs uncompiled, per objective and program, on that objective's score;
2. retargeting (top-down): rows compiled for objective A, columns scored on objective B,
   plus the novelty and healthy shares each row reaches;
3. top-down vs bottoms-up under each compiled objective: objective score, cohesion,
   recall@48, soft relevance, diversity, LM calls and tokens per page.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads: small matrix products, no BLAS threads
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from themepage.constants import BUNDLED_DATA_DIR  # noqa: E402
from themepage.dataset.cases import Case, evaluation_cases  # noqa: E402
from themepage.index import CatalogIndex  # noqa: E402
from themepage.lm.plug import make_lm  # noqa: E402
from themepage.metrics.objective_metric import Objective  # noqa: E402
from themepage.objectives import objective_names  # noqa: E402
from themepage.optimize.compiled_files import COMPILED_DIR, load_compiled  # noqa: E402
from themepage.optimize.evaluation import score_pages  # noqa: E402
from themepage.programs.registry import LLM_PROGRAMS, make_program  # noqa: E402

VARIANTS = ("uncompiled", "compiled")
SIDE_BY_SIDE = ("objective_score", "cohesion", "recall@48", "soft_relevance", "diversity", "novelty",
                "healthy_share", "lm_calls", "prompt_tokens", "completion_tokens")




def score_rows(index: CatalogIndex, cases: list[Case], objectives: list[Objective], compiled_root: Path
               ) -> dict[tuple[str, str, str], list[dict[str, float]]]:
    """(program, objective, variant) -> one score row per case (every page score and the page's cost)."""
    lm = make_lm("offline", index, cache=False)
    rows = {}
    runs = [(p, o, v) for p in LLM_PROGRAMS for o in objectives for v in VARIANTS]
    with tqdm(total=len(runs) * len(cases), desc="pages", unit="page") as bar:
        for program, objective, variant in runs:
            module = (load_compiled(program, objective.name, index, compiled_root) if variant == "compiled"
                      else LLM_PROGRAMS[program](index, objective=objective.name))
            make = make_program(program, index, lm=lm, module=module)
            rows[program, objective.name, variant] = score_pages(make, cases, objective, on_page=bar.update)
    return rows


def mean_score(rows: list[dict[str, float]], objective: Objective) -> float:
    return float(np.mean([objective.weighted(row) for row in rows]))


def mean_of(rows: list[dict[str, float]], key: str) -> float:
    return float(np.mean([row[key] for row in rows]))


def markdown(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])


def compiling_table(rows, objectives: list[Objective]) -> tuple[str, dict]:
    body, data = [], {}
    for program in LLM_PROGRAMS:
        for objective in objectives:
            before = mean_score(rows[program, objective.name, "uncompiled"], objective)
            after = mean_score(rows[program, objective.name, "compiled"], objective)
            data[f"{program}/{objective.name}"] = {"uncompiled": before, "compiled": after}
            body.append([program, objective.name, f"{before:.4f}", f"{after:.4f}", f"{after - before:+.4f}",
                         "yes" if after > before else "no"])
    return markdown(["program", "objective", "uncompiled", "compiled", "change", "helps"], body), data


def retargeting_table(rows, objectives: list[Objective], program: str = "top-down") -> tuple[str, dict]:
    grid = {a.name: {b.name: mean_score(rows[program, a.name, "compiled"], b) for b in objectives}
            for a in objectives}
    best = {b.name: max(grid, key=lambda a: grid[a][b.name]) for b in objectives}
    body = []
    for a in objectives:
        cells = [f"**{grid[a.name][b.name]:.4f}**" if best[b.name] == a.name else f"{grid[a.name][b.name]:.4f}"
                 for b in objectives]
        shares = [f"{mean_of(rows[program, a.name, 'compiled'], k):.3f}" for k in ("novelty", "healthy_share")]
        body.append([a.name, *cells, *shares])
    header = ["compiled for \\ scored on", *(o.name for o in objectives), "novelty share", "healthy share"]
    return markdown(header, body), {"scores": grid, "best_row_per_column": best}


def programs_table(rows, objectives: list[Objective]) -> tuple[str, dict]:
    body, data = [], {}
    for objective in objectives:
        for program in LLM_PROGRAMS:
            found = rows[program, objective.name, "compiled"]
            values = {k: (mean_score(found, objective) if k == "objective_score" else mean_of(found, k))
                      for k in SIDE_BY_SIDE}
            data[f"{objective.name}/{program}"] = values
            body.append([objective.name, program, *(f"{values[k]:.3f}" if values[k] < 100 else f"{values[k]:,.0f}"
                                                    for k in SIDE_BY_SIDE)])
    return markdown(["objective", "program", *SIDE_BY_SIDE], body), data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", choices=("dev", "all", "both"), default="dev")
    parser.add_argument("--compiled", type=Path, default=COMPILED_DIR, help="Root of <objective>/<program>.json.")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="Write every table's numbers here.")
    args = parser.parse_args()
    index = CatalogIndex.open(BUNDLED_DATA_DIR, cache_dir=args.cache_dir)
    objectives = [Objective.load(name, index) for name in objective_names()]
    report = {}
    for which in (("dev", "all") if args.users == "both" else (args.users,)):
        cases = evaluation_cases(index.histories, which)
        rows = score_rows(index, cases, objectives, args.compiled)
        print(f"\n## {which} users: {len(cases)} evaluation cases\n")
        report[which] = {"cases": len(cases)}
        for title, make in (("Compiling helps", compiling_table), ("Retargeting, top-down", retargeting_table),
                            ("Top-down vs bottoms-up, compiled", programs_table)):
            text, report[which][title] = make(rows, objectives)
            print(f"### {title}\n\n{text}\n")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
