"""The one evaluation path: `dspy.Evaluate` over examples, for compile validation, `themepage evaluate` and bench/.

Pages are made one at a time (`num_threads=1`: DSPy's executor then runs on the calling thread); each page
fans out its themes on the programs' own pool (themepage/lm/runtime.py), so per-page usage accounting stays on
one thread and numbers match a plain loop exactly. DSPy's executor keeps global state (it clears tqdm's
instances, installs a SIGINT handler on the main thread), so calls into it are serialized by a lock.
Evaluate turns an exception into a 0 score and a log line; here the first error stops the run and is raised
as itself (a provider that cannot be reached must not read as a bad page).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, cast

import dspy
import numpy as np

from themepage.dataset.cases import Case
from themepage.metrics.objective_metric import Objective
from themepage.metrics.ranking import recall_at_k
from themepage.metrics.relevance import page_of
from themepage.metrics.scores import page_scores
from themepage.page import Page
from themepage.trainsets.loader import to_example

_EVALUATE = threading.Lock()


class _FirstError:
    """Wraps the program and the metric: records the first exception and skips the work after it."""

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def guard(self, function: Callable, fallback: Callable[[], Any]) -> Callable:
        def guarded(*args, **kwargs):
            if self.error is not None:
                return fallback()
            try:
                return function(*args, **kwargs)
            except Exception as exc:
                self.error = exc
                return fallback()

        return guarded


def run_evaluate(program: Callable, examples: Sequence[dspy.Example], metric: Callable,
                 on_example: Callable[[], None] | None = None) -> list[tuple[dspy.Example, Any, float]]:
    """(example, prediction, score) per example, in order, from `dspy.Evaluate` on one thread."""
    if not examples:
        return []
    errors = _FirstError()

    def scored(example, prediction):
        score = metric(example, prediction)
        if on_example:
            on_example()
        return score

    evaluate = dspy.Evaluate(devset=list(examples), num_threads=1, display_progress=False, max_errors=len(examples) + 1,
                             provide_traceback=False)
    with _EVALUATE:
        # DSPy annotates `program` as dspy.Module but only calls it (`program(**example.inputs())`).
        guarded = cast(dspy.Module, errors.guard(program, dspy.Prediction))
        result = evaluate(guarded, metric=errors.guard(scored, lambda: 0.0))
    if errors.error is not None:
        raise errors.error
    return [(example, prediction, float(score)) for example, prediction, score in result.results]


def evaluate_module(module: dspy.Module, examples: list[dspy.Example], metric: Callable, lm: dspy.LM,
                    adapter: dspy.Adapter | None = None, on_example: Callable[[], None] | None = None) -> float:
    """Mean metric of a DSPy module over the examples, under the LM and adapter (compile validation).

    `on_example` is called once per example scored (a progress display's tick)."""
    with dspy.context(lm=lm, adapter=adapter or dspy.settings.adapter):
        results = run_evaluate(module, examples, metric, on_example)
    return float(np.mean([score for *_, score in results])) if results else 0.0


def cost_scores(page: Page) -> dict[str, float]:
    """The page's cost: LM calls, tokens, dollars, latency and fallbacks."""
    s = page.stats
    return {"lm_calls": s.lm_calls, "prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
            "cost_usd": s.cost_usd or 0.0, "latency_ms": s.total_ms, "fallbacks": len(s.fallbacks)}


def case_scores(page: Page, example: Case | dspy.Example, objective: Objective) -> dict[str, float]:
    """Every page score against the real next basket, the objective score, and the page's cost."""
    target = list(example.target)
    scores = page_scores(page, example.history, objective.index, target)
    ranked = page.product_ids()
    extra = {"recall@10": recall_at_k(ranked, target, 10), "recall@20": recall_at_k(ranked, target, 20)}
    return {"objective_score": objective.weighted(scores), **extra, **scores, **cost_scores(page)}


def score_pages(make: Callable[..., Page], cases: Sequence[Case], objective: Objective,
                on_page: Callable[[], None] | None = None) -> list[dict[str, float]]:
    """One score row per case (`case_scores`) for the pages `make(user_id, history, objective=)` returns."""
    rows: list[dict[str, float]] = []

    def program(user_id, history):
        return dspy.Prediction(page=make(user_id, history, objective=objective.name))

    def metric(example, prediction):
        rows.append(case_scores(page_of(prediction), example, objective))
        return rows[-1]["objective_score"]

    run_evaluate(program, [to_example(case) for case in cases], metric, on_page)
    return rows


def mean_rows(rows: list[dict[str, float]]) -> dict[str, float]:
    """Mean of every key over the rows (the keys of the first row); {} for no rows."""
    return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]} if rows else {}


def evaluate_program(make: Callable[..., Page], cases: Sequence[Case], objective: Objective,
                     on_page: Callable[[], None] | None = None) -> dict[str, float]:
    """Mean of every score over the cases (one page each): what `themepage evaluate` prints per program."""
    return mean_rows(score_pages(make, cases, objective, on_page))
