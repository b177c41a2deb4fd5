"""Compile a program for one objective with a DSPy optimizer, and where compiled programs live.

Compiled programs are state-only JSON (`module.save(path)`: instructions and demos),
committed under `compiled/<objective>/<program>.json`, so a diff shows what an
optimizer changed. Never pickle.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from pathlib import Path

import dspy
import numpy as np

from metrics.objective import Objective
from programs.registry import LLM_PROGRAMS
from themepage.cases import Case, held_out_order_ids
from themepage.constants import (COMPILE_TRAIN_EXAMPLES, COMPILE_VAL_EXAMPLES, GEPA_METRIC_CALLS, GEPA_MINIBATCH,
                                 PACKAGE_DIR, SEED)
from themepage.index import CatalogIndex
from trainsets.loader import SPLITS, read_cases, to_example

COMPILED_DIR = PACKAGE_DIR.parent / "compiled"
OPTIMIZERS = ("bootstrap", "random-search", "knn", "gepa", "mipro")
DEFAULT_OPTIMIZER = "gepa"


class CompileError(ValueError):
    """A compile request that cannot run (unknown optimizer, missing optional dependency, ...)."""


class StaleCompiledProgram(ValueError):
    """A compiled program saved for signatures that have since changed: it must be recompiled."""


def check_current(state: dict, module: dspy.Module, path: Path) -> None:
    """Refuse state saved for other predictors or other signature fields.

    DSPy's loader pairs saved and current fields by position and silently tolerates a
    mismatch, so a changed signature would otherwise run with another field's demos.
    """
    names = {name for name, _ in module.named_predictors()}
    unknown = sorted(set(state) - names - {"metadata", KNN_KEY})
    if unknown:
        raise StaleCompiledProgram(f"{path}: predictors {unknown} no longer exist; recompile")
    for name, predictor in module.named_predictors():
        if name not in state:
            raise StaleCompiledProgram(f"{path}: no state for predictor {name}; recompile")
        saved = [field["prefix"] for field in state[name]["signature"]["fields"]]
        current = [field.json_schema_extra["prefix"] for field in predictor.signature.fields.values()]
        if saved != current:
            raise StaleCompiledProgram(f"{path}: {name} was compiled for fields {saved}, the signature now has "
                                       f"{current}; recompile")


def compiled_path(objective: str, program: str, root: Path = COMPILED_DIR) -> Path:
    return Path(root) / objective / f"{program}.json"


def spread(examples: list[dspy.Example], n: int) -> list[dspy.Example]:
    """n examples taken evenly across the list (covering many users), deterministically."""
    if len(examples) <= n:
        return list(examples)
    return [examples[i] for i in np.linspace(0, len(examples) - 1, n).round().astype(int)]


def recent_cuts(cases: list[Case], n: int) -> list[Case]:
    """n cases, every shopper's latest first: each user's last cut, then each user's second-to-last, and so on.

    Candidates mostly differ in how they treat particular shoppers, so validation weighs shoppers equally
    and, like evaluation, looks at each one's most recent orders.
    """
    by_user: dict[int, list[Case]] = {}
    for case in cases:
        by_user.setdefault(case.user_id, []).append(case)
    latest_first = [sorted(found, key=lambda c: -len(c.history.orders)) for found in by_user.values()]
    rounds = (found[i] for i in range(max(map(len, latest_first), default=0)) for found in latest_first
              if i < len(found))
    return list(itertools.islice(rounds, n))


def compile_sets(index: CatalogIndex, train_size: int = COMPILE_TRAIN_EXAMPLES,
                 val_size: int = COMPILE_VAL_EXAMPLES) -> tuple[list[dspy.Example], list[dspy.Example]]:
    """(trainset, valset) for compiling, a temporal hold-out: no set holds any user's evaluated basket.

    The valset holds every shopper's most recent earlier orders (`recent_cuts`, train and dev users), the
    trainset (demos, GEPA's reflection minibatches) train users' next most recent ones. Evaluation then scores
    each user's next basket, which compiling never saw, and demos never come from dev users.
    """
    evaluated = held_out_order_ids(index.histories)
    cases = {split: [c for c in read_cases(split) if c.target_order_id not in evaluated] for split in SPLITS}
    valset = recent_cuts(cases["train"] + cases["dev"], val_size)
    chosen = {(c.user_id, c.target_order_id) for c in valset}
    train = [c for c in cases["train"] if (c.user_id, c.target_order_id) not in chosen]
    return [to_example(c) for c in recent_cuts(train, train_size)], [to_example(c) for c in valset]


def profile_embedder(index: CatalogIndex) -> dspy.Embedder:
    """KNN vectors of examples: the co-purchase profile of the products named in their history."""
    products = re.compile(r"products=\(([\d, ]*)\)")

    def embed(texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            ids = [int(p) for group in products.findall(text) for p in group.split(",") if p.strip()]
            ids = [p for p in ids if p in index.catalog]
            vector = index.vectors[index.rows(ids)].sum(axis=0) if ids else np.zeros(index.vectors.shape[1])
            rows.append(vector / (np.linalg.norm(vector) or 1.0))
        return np.asarray(rows, dtype=np.float32)

    return dspy.Embedder(embed, caching=False)


KNN_KEY = "knn"
"""Top-level key of a knn-compiled program's JSON: k, the bootstrap settings, and the pool as references to
trainsets/ cases. KNNFewShot picks and bootstraps demos per call, so the predictors' state alone is the
uncompiled program."""


def knn_state(teleprompter: dspy.KNNFewShot) -> dict:
    """What rebuilds this KNNFewShot: its pool as (user_id, target_order_id) references, not the examples."""
    order_ids = {(case.user_id, tuple(o.order_id for o in case.history.orders)): case.target_order_id
                 for split in SPLITS for case in read_cases(split)}
    pool = []
    for example in teleprompter.KNN.trainset:
        key = (example.user_id, tuple(o.order_id for o in example.history.orders))
        if key not in order_ids:
            raise CompileError(f"knn example of user {example.user_id} is not a trainsets/ case; knn saves "
                               f"references to trainsets/ only")
        pool.append({"user_id": example.user_id, "target_order_id": order_ids[key]})
    bootstrap = {name: value for name, value in teleprompter.few_shot_bootstrap_args.items() if name != "metric"}
    return {"k": teleprompter.KNN.k, "bootstrap": bootstrap, "pool": pool}


def rebuild_knn(module: dspy.Module, knn: dict, objective: str, index: CatalogIndex, path: Path) -> dspy.Module:
    """The loaded module compiled again with KNNFewShot over the saved pool, resolved from trainsets/."""
    cases = {(case.user_id, case.target_order_id): case for split in SPLITS for case in read_cases(split)}
    missing = [(ref["user_id"], ref["target_order_id"]) for ref in knn["pool"]
               if (ref["user_id"], ref["target_order_id"]) not in cases]
    if missing:
        raise StaleCompiledProgram(f"{path}: {len(missing)} knn examples (user, target order) are no longer in "
                                   f"trainsets/, e.g. {missing[0]}; recompile")
    pool = [to_example(cases[ref["user_id"], ref["target_order_id"]]) for ref in knn["pool"]]
    teleprompter = dspy.KNNFewShot(k=knn["k"], trainset=pool, vectorizer=profile_embedder(index),
                                   metric=Objective.load(objective, index).metric, **knn["bootstrap"])
    compiled = teleprompter.compile(module)
    compiled.knn_state = knn
    return compiled


def save_compiled(module: dspy.Module, path: Path) -> None:
    """Save the module's state-only JSON, plus its knn pool when it is knn-compiled (see KNN_KEY)."""
    module.save(str(path))
    knn = getattr(module, "knn_state", None)
    if knn is not None:
        state = json.loads(Path(path).read_text())
        Path(path).write_text(json.dumps({**state, KNN_KEY: knn}, indent=2, ensure_ascii=False) + "\n")


MIPRO_CANDIDATES = 6
MIPRO_TRIALS = 30
MIPRO_MINIBATCH_ABOVE = 50
"""MIPROv2's budget: 6 instruction and 6 demo-set candidates per predictor and 30 Bayesian trials (about MIPRO's
own rule for 3 predictors). Like MIPRO's auto modes, trials score minibatches only for valsets above 50 (the
default valset of 64 is): scores of small random minibatches of different shoppers are too noisy to compare."""


def mipro_run_settings(valset: list[dspy.Example]) -> dict:
    """MIPROv2.compile arguments for this valset."""
    return {"num_trials": MIPRO_TRIALS, "minibatch": len(valset) > MIPRO_MINIBATCH_ABOVE,
            "minibatch_size": min(35, len(valset)), "minibatch_full_eval_steps": 5}


def make_optimizer(name: str, objective: Objective, index: CatalogIndex, trainset: list[dspy.Example],
                   offline: bool, reflection_lm: dspy.LM | None = None, budget: int = GEPA_METRIC_CALLS,
                   task_lm: dspy.LM | None = None):
    """The named DSPy optimizer, set up for this objective's metric."""
    metric = objective.metric
    if name == "bootstrap":
        return dspy.BootstrapFewShot(metric=metric, max_bootstrapped_demos=2, max_labeled_demos=0, max_rounds=1)
    if name == "random-search":
        return dspy.BootstrapFewShotWithRandomSearch(metric=metric, max_bootstrapped_demos=2, max_labeled_demos=0,
                                                     num_candidate_programs=4, num_threads=1)
    if name == "knn":
        return dspy.KNNFewShot(k=3, trainset=trainset, vectorizer=profile_embedder(index), metric=metric,
                               max_bootstrapped_demos=2, max_labeled_demos=0)
    if name == "gepa":
        from themepage.offline.gepa_proposer import GuidanceProposer

        proposer = GuidanceProposer(objective.config.guidance, objective.advice()) if offline else None
        if not offline and reflection_lm is None:
            raise CompileError("gepa with a real LM needs a reflection LM (--reflection-lm)")
        # Pareto parents: greedy hill-climbing kept the first accepted edit and never returned to try better ones
        return dspy.GEPA(metric=metric, max_metric_calls=budget, reflection_minibatch_size=GEPA_MINIBATCH,
                         candidate_selection_strategy="pareto", instruction_proposer=proposer,
                         reflection_lm=reflection_lm, num_threads=1, use_merge=False, seed=SEED, track_stats=False)
    if name == "mipro":
        try:
            __import__("optuna")
        except ImportError:
            raise CompileError("mipro needs optuna: pip install 'themepage[mipro]'") from None
        from themepage.lm import make_lm

        # offline, the engine also answers MIPRO's proposer signatures (themepage/offline/proposing.py)
        task_lm = task_lm or (make_lm("offline", index, cache=False) if offline else None)
        return dspy.MIPROv2(metric=metric, prompt_model=(task_lm if offline else reflection_lm or task_lm),
                            task_model=task_lm, auto=None,
                            num_candidates=MIPRO_CANDIDATES, max_bootstrapped_demos=2, max_labeled_demos=0,
                            num_threads=1, seed=SEED, track_stats=False)
    raise CompileError(f"unknown optimizer {name!r}; choose from: {', '.join(OPTIMIZERS)}")


def compile_program(program: str, objective: Objective, index: CatalogIndex, lm: dspy.LM, optimizer: str,
                    trainset: list[dspy.Example], valset: list[dspy.Example], offline: bool,
                    reflection_lm: dspy.LM | None = None, adapter: dspy.Adapter | None = None) -> dspy.Module:
    """A program compiled for the objective; the uncompiled student is made fresh here."""
    if program not in LLM_PROGRAMS:
        raise CompileError(f"only LLM programs compile ({', '.join(LLM_PROGRAMS)}), not {program!r}")
    student = LLM_PROGRAMS[program](index, objective=objective.name)
    teleprompter = make_optimizer(optimizer, objective, index, trainset, offline, reflection_lm, task_lm=lm)
    with dspy.context(lm=lm, adapter=adapter or dspy.settings.adapter):
        if optimizer == "knn":
            module = teleprompter.compile(student)
            module.knn_state = knn_state(teleprompter)
            return module
        if optimizer == "mipro":
            return teleprompter.compile(student, trainset=trainset, valset=valset, **mipro_run_settings(valset))
        if optimizer in ("gepa", "random-search"):
            return teleprompter.compile(student, trainset=trainset, valset=valset)
        return teleprompter.compile(student, trainset=trainset)


def load_compiled(program: str, objective: str, index: CatalogIndex, root: Path = COMPILED_DIR) -> dspy.Module:
    """The committed compiled program for (objective, program); FileNotFoundError when there is none."""
    path = compiled_path(objective, program, root)
    if not path.is_file():
        raise FileNotFoundError(f"no compiled program at {path}; run `themepage compile --objective {objective} "
                                f"--program {program}`")
    module = LLM_PROGRAMS[program](index, objective=objective)
    state = json.loads(path.read_text())
    check_current(state, module, path)
    module.load(str(path))
    return rebuild_knn(module, state[KNN_KEY], objective, index, path) if KNN_KEY in state else module


def evaluate_module(module: dspy.Module, examples: list[dspy.Example], metric: Callable, lm: dspy.LM,
                    adapter: dspy.Adapter | None = None) -> float:
    """Mean metric over the examples (sequential, deterministic)."""
    with dspy.context(lm=lm, adapter=adapter or dspy.settings.adapter):
        scores = [metric(example, module(**example.inputs())) for example in examples]
    return float(np.mean(scores)) if scores else 0.0
