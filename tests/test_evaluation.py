"""The one evaluation path (optimize/evaluation.py): dspy.Evaluate underneath, the same numbers as a plain loop."""

import threading

import dspy
import numpy as np
import pytest

from themepage.dataset.cases import evaluation_cases
from themepage.lm.adapter import MemoChatAdapter
from themepage.lm.plug import make_lm
from themepage.metrics.objective_metric import Objective
from themepage.optimize.evaluation import case_scores, evaluate_module, evaluate_program, run_evaluate, score_pages
from themepage.programs.registry import make_program
from themepage.trainsets.loader import load_examples


@pytest.fixture
def dev_cases(index):
    return evaluation_cases(index.histories, "dev")[:4]


def plain_loop(make, cases, objective):
    """What `themepage evaluate` computed before: one page per case, every score, then the mean."""
    rows = [case_scores(make(c.user_id, c.history, objective=objective.name), c, objective) for c in cases]
    return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}


def test_runs_through_dspy_evaluate(monkeypatch):
    calls = []
    original = dspy.Evaluate.__call__
    monkeypatch.setattr(dspy.Evaluate, "__call__", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    examples = [dspy.Example(x=i).with_inputs("x") for i in (1, 2, 3)]
    results = run_evaluate(lambda x: dspy.Prediction(y=x * 10), examples, lambda e, p: p.y / 10 + 0.5)
    assert calls == [1]
    assert [score for *_, score in results] == [1.5, 2.5, 3.5]
    assert [p.y for _, p, _ in results] == [10, 20, 30]


@pytest.mark.parametrize("program", ["repurchase", "top-down", "bottoms-up"])
def test_same_numbers_as_a_plain_loop(index, dev_cases, program):
    objective = Objective.load("relevance", index)
    lm = make_lm("offline", index, cache=False)
    ticks = []
    got = evaluate_program(make_program(program, index, lm=lm), dev_cases, objective, lambda: ticks.append(1))
    expected = plain_loop(make_program(program, index, lm=lm), dev_cases, objective)
    assert got.keys() == expected.keys() and len(ticks) == len(dev_cases)
    assert {k: v for k, v in got.items() if k != "latency_ms"} == {k: v for k, v in expected.items()
                                                                   if k != "latency_ms"}


def test_compile_validation_mean_matches_a_plain_loop(index):
    lm, adapter = make_lm("offline", index, cache=False), MemoChatAdapter()
    objective = Objective.load("discovery", index)
    module = make_program("top-down", index, lm=lm).module
    examples = load_examples("dev", limit=3)
    with dspy.context(lm=lm, adapter=adapter):
        expected = float(np.mean([objective.metric(e, module(**e.inputs())) for e in examples]))
    assert evaluate_module(module, examples, objective.metric, lm, adapter) == pytest.approx(expected, abs=0)


class Unreachable(RuntimeError):
    pass


def test_the_first_error_is_raised_as_itself_and_stops_the_run(index, dev_cases):
    made = []

    def make(user_id, history, objective=None):
        made.append(user_id)
        raise Unreachable("provider down")

    with pytest.raises(Unreachable, match="provider down"):
        score_pages(make, dev_cases, Objective.load("relevance", index))
    assert made == [dev_cases[0].user_id]


def test_calls_from_several_threads_give_the_sequential_numbers(index, dev_cases):
    """DSPy's executor keeps global state; our lock serializes it, so threads see the sequential results."""
    objective = Objective.load("relevance", index)
    make = make_program("repurchase", index)
    expected = evaluate_program(make, dev_cases, objective)
    found = [None] * 4

    def run(i):
        found[i] = evaluate_program(make, dev_cases, objective)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    strip = lambda r: {k: v for k, v in r.items() if k != "latency_ms"}  # noqa: E731
    assert all(strip(r) == strip(expected) for r in found)


def test_no_cases_no_rows(index):
    assert evaluate_program(make_program("popular", index), [], Objective.load("relevance", index)) == {}
