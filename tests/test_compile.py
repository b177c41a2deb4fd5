"""Compiling per objective with every optimizer on the offline engine, saving state-only JSON, and loading it."""

import json
import sys

import dspy
import pytest

from themepage.lm.adapter import MemoChatAdapter
from themepage.lm.plug import make_lm
from themepage.metrics.objective_metric import Objective
from themepage.optimize.compile_sets import spread
from themepage.optimize.compiled_files import load_compiled, save_compiled
from themepage.optimize.errors import CompileError
from themepage.optimize.optimizers import compile_program, make_optimizer
from themepage.trainsets.loader import load_examples


@pytest.fixture(scope="module")
def small_sets():
    return spread(load_examples("train"), 4), spread(load_examples("dev"), 3)


@pytest.fixture
def lm(index):
    return make_lm("offline", index, cache=False)


@pytest.mark.parametrize("optimizer", ["bootstrap", "random-search", "knn", "gepa"])
def test_every_optimizer_compiles_and_saves_json(index, lm, small_sets, optimizer, tmp_path, monkeypatch):
    import themepage.optimize.optimizers as compiling

    if optimizer == "gepa":  # a small budget keeps the test short
        original = compiling.make_optimizer
        monkeypatch.setattr(compiling, "make_optimizer",
                            lambda *a, **k: original(*a, **{**k, "budget": 12}))
    if optimizer == "random-search":
        monkeypatch.setattr(dspy, "BootstrapFewShotWithRandomSearch",
                            lambda **k: dspy.teleprompt.BootstrapFewShotWithRandomSearch(
                                **{**k, "num_candidate_programs": 1}))
    train, val = small_sets
    objective = Objective.load("discovery", index)
    module = compile_program("top-down", objective, index, lm, optimizer, train, val, offline=True,
                             adapter=MemoChatAdapter())
    with dspy.context(lm=lm, adapter=MemoChatAdapter()):
        page = module(**train[0].inputs()).page
    # a library theme's row holds only what its queries find, so a row may stop short of 8, never below the fewest
    fewest = objective.config.constraints.min_products_per_placement
    assert len(page.placements) == 6 and all(len(p.products) >= fewest for p in page.placements)
    assert len(page.product_ids()) <= 48 and page.objective == "discovery"
    path = tmp_path / "discovery" / "top-down.json"
    path.parent.mkdir()
    save_compiled(module, path, program="top-down", objective="discovery", lm="offline", optimizer=optimizer,
                  index=index)
    state = json.loads(path.read_text())
    assert {"planner.plan", "filler.fill", "filter.check"} <= set(state)
    assert state["metadata"]["themepage"]["optimizer"] == optimizer
    loaded = load_compiled("top-down", "discovery", index, tmp_path)
    assert [p.signature.instructions for _, p in loaded.named_predictors()] == [
        p.signature.instructions for _, p in module.named_predictors()]


def test_bootstrap_attaches_demos(index, lm, small_sets):
    train, val = small_sets
    module = compile_program("top-down", Objective.load("relevance", index), index, lm, "bootstrap", train, val,
                             offline=True)
    assert any(len(p.demos) > 0 for _, p in module.named_predictors())


def test_unknown_and_unavailable_optimizers(index, small_sets, monkeypatch):
    objective = Objective.load("relevance", index)
    with pytest.raises(CompileError, match="unknown optimizer 'sgd'"):
        make_optimizer("sgd", objective, index, small_sets[0], offline=True)
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` now fails as if it were not installed
    with pytest.raises(CompileError, match="mipro needs optuna"):
        make_optimizer("mipro", objective, index, small_sets[0], offline=True)
    with pytest.raises(CompileError, match="reflection LM"):
        make_optimizer("gepa", objective, index, small_sets[0], offline=False)


# ----- the compile sets: a temporal hold-out ------------------------------------------------------------------

def test_compile_sets_never_hold_an_evaluated_basket_and_keep_dev_users_out_of_demos(index):
    from themepage.dataset.cases import evaluation_cases, split_of
    from themepage.optimize.compile_sets import compile_sets

    trainset, valset = compile_sets(index, train_size=40, val_size=50)
    evaluated = {(c.user_id, c.target) for c in evaluation_cases(index.histories)}
    pairs = lambda examples: {(e.user_id, tuple(e.target), len(e.history.orders)) for e in examples}  # noqa: E731
    assert len(trainset) == 40 and len(valset) == 50
    assert not pairs(trainset) & pairs(valset), "training and validation examples must differ"
    assert not {(e.user_id, tuple(e.target)) for e in trainset + valset} & evaluated
    assert {split_of(e.user_id) for e in trainset} == {"train"}
    assert {split_of(e.user_id) for e in valset} == {"train", "dev"}


def test_recent_cuts_take_every_users_latest_first():
    from themepage.dataset.cases import Case
    from themepage.dataset.history import Order, UserHistory
    from themepage.optimize.compile_sets import recent_cuts

    def case(user, k):
        orders = tuple(Order(order_id=user * 100 + i, order_number=i + 1, dow=0, hour=9, products=(1,))
                       for i in range(k))
        return Case(user_id=user, history=UserHistory(user_id=user, orders=orders), target=(2,),
                    target_order_id=user * 100 + k)

    cases = [case(1, 2), case(1, 3), case(1, 4), case(2, 2), case(3, 2), case(3, 3)]
    picked = [(c.user_id, len(c.history.orders)) for c in recent_cuts(cases, 5)]
    assert picked == [(1, 4), (2, 2), (3, 3), (1, 3), (3, 2)]
    assert len(recent_cuts(cases, 50)) == len(cases)
