"""Both programs through a real local model (llama.cpp's server, SmolLM2-135M by default), uncompiled and compiled.

    python bench/real_lm.py [--users 5] [--programs top-down,bottoms-up] [--objective relevance]
                            [--compile] [--model NAME|FILE.gguf] [--name smollm2] [--themes auto|slots|free]
                            [--api-base URL [--server-log FILE]] [--offline] [--show]

Starts its own server (log in a temp file), or uses the one at `--api-base` (serving `--name`; its log, for the
cache figures, at `--server-log`), makes one page per dev user and program, and prints per page its titles and
per variant: valid pages, the titles that are not one aisle's name (`names_one_aisle`), the objective's score on
the user's real next basket (mean over users), the pages that use a title of the compiled program's demos, the
LM-made share of placements (themepage/page/lm_share.py), the share
the placement scorer estimates publishable, fallbacks by phase and cause, prompt and completion tokens a page,
prompt tokens the server reused from its cache (llama-cpp-python reports none in `usage`: its log's "N
prefix-match hit" lines are read instead), page latency median and p90, and latency over the critical path
(per step the slowest call's server time, steps in sequence). LiteLLM's per-call INFO lines are silenced.
`--offline` runs the same pages and figures on the offline engine with its committed compiled programs (no
server): the stand-in's figure a real model's is compared with on the same shoppers.

`--compile` first writes `compiled/openai-<name>/<objective>/<program>.json`: BootstrapFewShot demos with the
offline engine as teacher (a 135M model cannot reflect for GEPA), one demo a predictor that writes text (the
planner, the namer): predictors answering with ids only keep none (`themepage.optimize.grammar_demos`).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import dspy
from dspy.clients.base_lm import GLOBAL_HISTORY

from themepage.cli.quiet import QUIET_LOGGERS
from themepage.constants import BUNDLED_DATA_DIR
from themepage.index import CatalogIndex
from themepage.lm.adapter import MemoChatAdapter
from themepage.lm.local_server import DEFAULT_NAME, LocalLMServer, resolve_model
from themepage.lm.model_fetch import MODELS
from themepage.lm.planner_form import PLANNER_FORMS
from themepage.lm.plug import make_lm
from themepage.lm.structured import mark_structured
from themepage.metrics.objective_metric import Objective
from themepage.optimize.compile_sets import spread
from themepage.optimize.compiled_files import COMPILED_DIR, load_compiled, save_compiled
from themepage.optimize.fingerprint import OFFLINE_LM, compiled_path
from themepage.optimize.grammar_demos import drop_id_demos
from themepage.optimize.teacher_demos import answer_titles
from themepage.page.lm_share import fallbacks_by_phase_and_cause, lm_made_share
from themepage.programs.registry import LLM_PROGRAMS, make_program
from themepage.programs.rules.shape import is_catch_all_title
from themepage.quality import placement_scorer
from themepage.trainsets.loader import load_examples
from themepage.wording.aisle_labels import readable_aisle
from themepage.wording.aisle_titles import title_pattern

PUBLISHABLE = 0.5
"""A placement counts publishable at this estimate, as in bench/publishable_share.py."""
STEP_OF_OUTPUT = {"themes": 0, "product_ids": 1, "kept_ids": 2, "title": 1}
"""Which sequential step a call belongs to, by the first key of its answer (GenerateItems, too, is step 1 of 2)."""
_PREFIX = re.compile(r"Llama\.generate: (\d+) prefix-match hit")
_PERF = re.compile(r"(prompt eval|\beval) time =\s+([0-9.]+) ms")


def compile_for_lm(program: str, objective: str, index: CatalogIndex, root: Path, model: str) -> Path:
    """BootstrapFewShot with the offline engine as teacher; saved as compiled/<lm-slug>/<objective>/<program>.json."""
    metric = Objective.load(objective, index).metric
    teacher = {"lm": make_lm("offline", index, cache=False), "adapter": MemoChatAdapter()}
    optimizer = dspy.BootstrapFewShot(metric=metric, max_bootstrapped_demos=1, max_labeled_demos=0, max_rounds=1,
                                      teacher_settings=teacher)
    student = LLM_PROGRAMS[program](index, objective=objective)
    trainset = spread(load_examples("train"), 8)
    with dspy.context(lm=teacher["lm"], adapter=teacher["adapter"]):
        compiled = optimizer.compile(student, trainset=trainset)
    drop_id_demos(compiled)
    path = compiled_path(objective, program, root, model)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_compiled(compiled, path, program=program, objective=objective, lm=model, optimizer="bootstrap", index=index)
    return path


def server_calls(log_text: str) -> tuple[int, list[float]]:
    """(prompt tokens reused from the cache, server milliseconds per call) in a stretch of the server's log."""
    reused = sum(int(n) for n in _PREFIX.findall(log_text))
    times, current = [], 0.0
    for kind, ms in _PERF.findall(log_text):
        current += float(ms)
        if kind.strip() == "eval":  # the eval line closes a call
            times.append(current)
            current = 0.0
    return reused, times


def calls_so_far() -> list[dict]:
    """DSPy's history of every call in this process: each attempt runs under a copy of the LM
    (themepage/lm/response_cache.py), whose own `history` the bench's LM never sees, while the global one holds them
    all."""
    return GLOBAL_HISTORY


def critical_path_ms(first_entry: int, call_ms: list[float]) -> float:
    """Sum over sequential steps of the slowest call's server time (calls paired with history entries in order)."""
    slowest: dict[int, float] = {}
    for entry, ms in zip(calls_so_far()[first_entry:], call_ms, strict=False):
        text = str((entry.get("outputs") or [""])[0])
        key = re.search(r'"(\w+)"', text)
        step = STEP_OF_OUTPUT.get(key.group(1) if key else "", 1)
        slowest[step] = max(slowest.get(step, 0.0), ms)
    return sum(slowest.values())


def publishable_share(page, scorer) -> float:
    """Share of the page's placements the placement scorer estimates publishable (>= 0.5), as
    bench/publishable_share.py counts them."""
    if not page.placements:
        return 0.0
    return sum(scorer.score(p.title, [x.product_id for x in p.products]).publishable >= PUBLISHABLE
               for p in page.placements) / len(page.placements)


def names_one_aisle(placement, index) -> bool:
    """Whether a row's title is only the name of one of its products' aisles, as a slot title is ("Your Yogurt
    Picks", "Fresh Veg"): one of `aisle_titles.title_pattern`'s titles for a single aisle, or its label, perhaps
    after "Your" (the page's `readable_title` turns a raw aisle name into its label)."""
    aisles = {index.catalog.aisle(p.product_id) for p in placement.products}
    bare = placement.title.removeprefix("Your ").casefold()
    return any(re.match(title_pattern([aisle]), placement.title) or bare in (aisle, readable_aisle(aisle).casefold())
               for aisle in aisles)


def planned_rows(page) -> list:
    """The page's rows other than the shopper's catch-all regulars row (a catch-all title names no theme)."""
    return [p for p in page.placements if not is_catch_all_title(p.title)]


def demo_titles(module: dspy.Module | None) -> frozenset[str]:
    """The casefolded titles the module's demos show (its planner's themes, from-history ones too, and its namer's
    titles)."""
    if module is None:
        return frozenset()
    return frozenset().union(*(answer_titles(dict(demo.items()), from_history=True)
                               for _, predictor in module.named_predictors() for demo in predictor.demos))


def run_variant(make, examples, index, log_path: Path, score, scorer, show: bool = False,
                shown: frozenset[str] = frozenset()) -> list[dict]:
    """One page per dev example's shopper, with its figures (see the module docstring) and objective score;
    `shown`: the demos' titles, a page using one of them counts as copying."""
    rows = []
    for example in examples:
        user = example.user_id
        offset, first = log_path.stat().st_size, len(calls_so_far())
        start = time.perf_counter()
        page = make(user, index.histories.get(user))
        seconds = time.perf_counter() - start
        with log_path.open() as handle:
            handle.seek(offset)
            reused, call_ms = server_calls(handle.read())
        ids = page.product_ids()
        rows.append({"valid": len(ids) == len(set(ids)) and all(p in index.catalog for p in ids),
                     "share": lm_made_share(page), "fallbacks": fallbacks_by_phase_and_cause(page),
                     "prompt": page.stats.prompt_tokens, "completion": page.stats.completion_tokens,
                     "reused": reused, "seconds": seconds, "score": score(example, page),
                     "publishable": publishable_share(page, scorer),
                     "own_titles": sum(not names_one_aisle(p, index) for p in planned_rows(page)),
                     "titles": len(planned_rows(page)),
                     "copied": sorted({p.title for p in planned_rows(page) if p.title.strip().casefold() in shown}),
                     "critical": critical_path_ms(first, call_ms) / 1000})
        print(f"  user {user}: {seconds:.0f} s, objective {rows[-1]['score']:.3f}, LM-made {rows[-1]['share']:.0%}, "
              f"publishable {rows[-1]['publishable']:.0%}, "
              f"{page.stats.prompt_tokens} prompt "
              f"tokens ({reused} reused), fallbacks {dict(rows[-1]['fallbacks'])}", flush=True)
        print(f"    titles: {[p.title for p in page.placements]}"
              + (f"; copied from a demo: {rows[-1]['copied']}" if rows[-1]["copied"] else ""), flush=True)
        if show:
            for placement in page.placements:
                print(f"    {placement.title!r}: {placement.rationale!r} {[p.name for p in placement.products][:4]}")
    return rows


def report(label: str, rows: list[dict]) -> None:
    seconds = sorted(r["seconds"] for r in rows)
    p90 = seconds[min(len(seconds) - 1, round(0.9 * (len(seconds) - 1)))]
    fallbacks = sum((r["fallbacks"] for r in rows), Counter())
    ratios = [r["seconds"] / r["critical"] for r in rows if r["critical"]]
    titles = sum(r["titles"] for r in rows)
    print(f"{label}: {sum(r['valid'] for r in rows)}/{len(rows)} valid, titles (catch-alls aside) not one aisle's name "
          f"{sum(r['own_titles'] for r in rows)}/{titles}, objective "
          f"{statistics.mean(r['score'] for r in rows):.3f}, LM-made "
          f"{statistics.mean(r['share'] for r in rows):.0%}, publishable "
          f"{statistics.mean(r['publishable'] for r in rows):.0%}, "
          f"prompt {statistics.mean(r['prompt'] for r in rows):.0f} "
          f"(reused {statistics.mean(r['reused'] for r in rows):.0f}), completion "
          f"{statistics.mean(r['completion'] for r in rows):.0f} tokens/page, latency p50 "
          f"{statistics.median(seconds):.0f} s p90 {p90:.0f} s, latency/critical path "
          f"{statistics.mean(ratios) if ratios else float('nan'):.2f}, pages using a demo's title "
          f"{sum(bool(r['copied']) for r in rows)}/{len(rows)}")
    for (phase, cause), n in fallbacks.most_common():
        print(f"    fallback {phase}: {cause} x{n}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Both programs through a real local model, uncompiled and compiled.")
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--programs", default="top-down,bottoms-up")
    parser.add_argument("--objective", default="relevance")
    parser.add_argument("--compile", action="store_true", help="compile with offline demos first")
    parser.add_argument("--model", default=None, help=f"a GGUF file or a known model ({', '.join(MODELS)})")
    parser.add_argument("--name", default=None, help="the name the server serves the model as (default: the "
                                                     f"model's name, else {DEFAULT_NAME})")
    parser.add_argument("--themes", choices=PLANNER_FORMS, default="auto", help="the planner's form")
    parser.add_argument("--api-base", default=None, help="a running llama.cpp server to use instead of starting one")
    parser.add_argument("--server-log", type=Path, default=None, help="that server's log (for prompt cache figures)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds one LM call may take")
    parser.add_argument("--variants", default="uncompiled,compiled",
                        help="which to run: uncompiled, compiled (the committed file for --name), or both")
    parser.add_argument("--show", action="store_true", help="print each page's rows (title, rationale, products)")
    parser.add_argument("--offline", action="store_true", help="the offline engine and its compiled programs instead "
                                                               "of a model server")
    args = parser.parse_args()
    for name in QUIET_LOGGERS:  # LiteLLM logs an INFO line per call, burying the bench's own lines
        logging.getLogger(name).setLevel(logging.WARNING)
    index = CatalogIndex.open(BUNDLED_DATA_DIR)
    examples = sorted({e.user_id: e for e in load_examples("dev")}.values(), key=lambda e: e.user_id)[: args.users]
    users = [e.user_id for e in examples]
    objective = Objective.load(args.objective, index)

    def score(example, page) -> float:
        return objective.weighted(objective.scores(example, page))  # the metric's float, typed as one

    name = args.name or (args.model if args.model in MODELS else DEFAULT_NAME)
    root, model = COMPILED_DIR, OFFLINE_LM if args.offline else f"openai/{name}"
    programs = [p.strip() for p in args.programs.split(",")]
    if args.compile:
        for program in programs:
            print(f"compiled {compile_for_lm(program, args.objective, index, root, model)}", flush=True)
    scorer = placement_scorer(index)
    log_path = args.server_log or Path(tempfile.mkdtemp()) / "llama.log"
    log_path.touch()
    with contextlib.ExitStack() as stack:
        if args.offline:
            lm = make_lm(OFFLINE_LM, index, cache=False)
        else:
            if args.api_base:
                url = args.api_base
            else:
                log = stack.enter_context(log_path.open("w"))
                url = stack.enter_context(LocalLMServer(resolve_model(args.model), name, log=log)).url
            lm = mark_structured(dspy.LM(model, api_base=url, api_key="local", cache=False,
                                         timeout=args.timeout, num_retries=0), "auto", args.themes)
        for program in programs:
            # the bare program made for the objective (made without one it would plan relevance pages)
            variants: dict[str, dspy.Module] = {"uncompiled": LLM_PROGRAMS[program](index, objective=args.objective)}
            if compiled_path(args.objective, program, root, model).is_file():
                variants["compiled"] = load_compiled(program, args.objective, index, root, lm=model)
            chosen = {v.strip() for v in args.variants.split(",")}
            for variant, module in variants.items():
                if variant not in chosen:
                    continue
                print(f"{program} {variant}, users {users}", flush=True)
                make = make_program(program, index, lm=lm, module=module)
                rows = run_variant(make, examples, index, log_path, score, scorer, args.show, demo_titles(module))
                report(f"{program} {variant}", rows)


if __name__ == "__main__":
    main()
