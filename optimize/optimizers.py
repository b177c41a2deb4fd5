"""The DSPy optimizer for each name, set up for one objective's metric, and `compile_program` that runs it."""

from __future__ import annotations

import dspy
from dspy.teleprompt import Teleprompter

from themepage.constants import GEPA_METRIC_CALLS, GEPA_MINIBATCH, SEED
from themepage.index import CatalogIndex
from themepage.metrics.objective_metric import Objective
from themepage.optimize.errors import CompileError
from themepage.optimize.knn import knn_state, make_knn, with_knn_state
from themepage.optimize.names import OPTIMIZERS
from themepage.programs.registry import LLM_PROGRAMS

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


def _gepa(objective: Objective, offline: bool, reflection_lm: dspy.LM | None, budget: int) -> Teleprompter:
    """dspy.GEPA for the objective (typed as its Teleprompter base: DSPy's @experimental decorator, which wraps
    the GEPA class, is typed as returning a plain function)."""
    from themepage.offline.gepa_proposer import GuidanceProposer

    if not offline and reflection_lm is None:
        raise CompileError("gepa with a real LM needs a reflection LM (--reflection-lm)")
    proposer = GuidanceProposer(objective.config.guidance, objective.advice()) if offline else None
    # Pareto parents: greedy hill-climbing kept the first accepted edit and never returned to try better ones
    return dspy.GEPA(metric=objective.metric, max_metric_calls=budget, reflection_minibatch_size=GEPA_MINIBATCH,
                     candidate_selection_strategy="pareto", instruction_proposer=proposer,
                     reflection_lm=reflection_lm, num_threads=1, use_merge=False, seed=SEED, track_stats=False)


def _mipro(objective: Objective, index: CatalogIndex, offline: bool, reflection_lm: dspy.LM | None,
           task_lm: dspy.LM | None) -> dspy.MIPROv2:
    try:
        __import__("optuna")
    except ImportError:
        raise CompileError("mipro needs optuna: pip install 'themepage[mipro]'") from None
    from themepage.lm.plug import make_lm

    # offline, the engine also answers MIPRO's proposer signatures (themepage/offline/proposing.py)
    task_lm = task_lm or (make_lm("offline", index, cache=False) if offline else None)
    return dspy.MIPROv2(metric=objective.metric, prompt_model=(task_lm if offline else reflection_lm or task_lm),
                        task_model=task_lm, auto=None, num_candidates=MIPRO_CANDIDATES, max_bootstrapped_demos=2,
                        max_labeled_demos=0, num_threads=1, seed=SEED, track_stats=False)


def _teacher(objective: Objective, index: CatalogIndex) -> Teleprompter:
    """TeacherDemos with the offline engine (its planner draws on the theme library) as the teacher."""
    from themepage.lm.adapter import MemoChatAdapter
    from themepage.lm.plug import make_lm
    from themepage.optimize.teacher_demos import TeacherDemos

    return TeacherDemos(objective.metric, {"lm": make_lm("offline", index, cache=False), "adapter": MemoChatAdapter()})


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
        return make_knn(index, trainset, metric)
    if name == "gepa":
        return _gepa(objective, offline, reflection_lm, budget)
    if name == "mipro":
        return _mipro(objective, index, offline, reflection_lm, task_lm)
    if name == "teacher":
        return _teacher(objective, index)
    raise CompileError(f"unknown optimizer {name!r}; choose from: {', '.join(OPTIMIZERS)}")


def compile_program(program: str, objective: Objective, index: CatalogIndex, lm: dspy.LM, optimizer: str,
                    trainset: list[dspy.Example], valset: list[dspy.Example], offline: bool,
                    reflection_lm: dspy.LM | None = None, adapter: dspy.Adapter | None = None,
                    budget: int = GEPA_METRIC_CALLS) -> dspy.Module:
    """A program compiled for the objective, from a fresh student; `budget`: the metric calls gepa may spend."""
    if program not in LLM_PROGRAMS:
        raise CompileError(f"only LLM programs compile ({', '.join(LLM_PROGRAMS)}), not {program!r}")
    student = LLM_PROGRAMS[program](index, objective=objective.name)
    teleprompter = make_optimizer(optimizer, objective, index, trainset, offline, reflection_lm, task_lm=lm,
                                  budget=budget)
    with dspy.context(lm=lm, adapter=adapter or dspy.settings.adapter):
        if isinstance(teleprompter, dspy.KNNFewShot):
            return with_knn_state(teleprompter.compile(student), knn_state(teleprompter))
        if isinstance(teleprompter, dspy.MIPROv2):
            return teleprompter.compile(student, trainset=trainset, valset=valset, **mipro_run_settings(valset))
        if isinstance(teleprompter, dspy.BootstrapFewShot):
            return teleprompter.compile(student, trainset=trainset)
        return teleprompter.compile(student, trainset=trainset, valset=valset)  # gepa, random-search, teacher
