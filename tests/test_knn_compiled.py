"""A knn-compiled program saves its pool as references to trainsets/ and reloads as the program that was compiled."""

import json

import dspy
import pytest

from themepage.lm.adapter import MemoChatAdapter
from themepage.lm.plug import make_lm
from themepage.metrics.objective_metric import Objective
from themepage.optimize.compile_sets import spread
from themepage.optimize.compiled_files import COMPILED_DIR, load_compiled, save_compiled
from themepage.optimize.errors import StaleCompiledProgram, UnsafeCompiledFile
from themepage.optimize.fingerprint import compiled_path as _compiled_path
from themepage.optimize.knn import KNN_KEY
from themepage.optimize.optimizers import compile_program
from themepage.programs.top_down import TopDownProgram
from themepage.trainsets.loader import load_examples

OBJECTIVE = "relevance"  # its pages pass the metric often enough for knn to bootstrap demos


def compiled_path(objective, program, root=COMPILED_DIR):
    return _compiled_path(objective, program, root)


def save(module, path, index, optimizer="knn"):
    save_compiled(module, path, program="top-down", objective=OBJECTIVE, lm="offline", optimizer=optimizer, index=index)


@pytest.fixture(scope="module")
def knn_compiled(index, tmp_path_factory):
    """A knn compile on four train examples, and the root it was saved under with save_compiled."""
    train, val = spread(load_examples("train"), 4), spread(load_examples("dev"), 2)
    lm = make_lm("offline", index, cache=False)
    module = compile_program("top-down", Objective.load(OBJECTIVE, index), index, lm, "knn", train, val, offline=True,
                             adapter=MemoChatAdapter())
    root = tmp_path_factory.mktemp("compiled")
    path = compiled_path(OBJECTIVE, "top-down", root)
    path.parent.mkdir()
    save(module, path, index)
    return module, root, train


@pytest.fixture(scope="module")
def user():
    return load_examples("dev")[0].inputs()


def run(module, user, index):
    """The page for the user, and the number of messages of every LM prompt it took."""
    lm = make_lm("offline", index, cache=False)
    with dspy.context(lm=lm, adapter=MemoChatAdapter()):
        page = module(**user).page
    return page, [len(call["messages"]) for call in lm.history]


def test_saved_json_references_the_pool(knn_compiled):
    module, root, train = knn_compiled
    state = json.loads(compiled_path(OBJECTIVE, "top-down", root).read_text())
    assert {"planner.plan", "filler.fill", "filter.check", "metadata"} < set(state)
    knn = state[KNN_KEY]
    assert knn["k"] == 3 and knn["bootstrap"] == {"max_bootstrapped_demos": 2, "max_labeled_demos": 0}
    assert [ref["user_id"] for ref in knn["pool"]] == [example.user_id for example in train]
    assert all(set(ref) == {"user_id", "target_order_id"} for ref in knn["pool"])  # references, not examples


def test_reloaded_knn_program_is_the_compiled_one(index, knn_compiled, user):
    module, root, _ = knn_compiled
    loaded = load_compiled("top-down", OBJECTIVE, index, root)
    page, prompts = run(loaded, user, index)
    in_memory, in_memory_prompts = run(module, user, index)
    plain, plain_prompts = run(TopDownProgram(index, objective=OBJECTIVE), user, index)
    assert page.product_ids() == in_memory.product_ids() and prompts == in_memory_prompts
    # per call it bootstraps on the nearest examples, then its predictors run with demos (system + pairs + input)
    assert len(prompts) > len(plain_prompts) and max(prompts) > 2
    assert set(plain_prompts) == {2}
    assert loaded.objective == OBJECTIVE and getattr(loaded, "knn_state", None) is not None


def test_missing_pool_example_is_stale(index, knn_compiled, tmp_path):
    _, root, _ = knn_compiled
    state = json.loads(compiled_path(OBJECTIVE, "top-down", root).read_text())
    gone = state[KNN_KEY]["pool"][1]
    gone["target_order_id"] = -1
    path = compiled_path(OBJECTIVE, "top-down", tmp_path)
    path.parent.mkdir()
    path.write_text(json.dumps(state))
    with pytest.raises(StaleCompiledProgram, match=rf"1 knn examples .* no longer in trainsets/, e\.g\. "
                                                   rf"\({gone['user_id']}, -1\)"):
        load_compiled("top-down", OBJECTIVE, index, tmp_path)


def test_json_without_knn_loads_as_before(index, user, tmp_path):
    plain = TopDownProgram(index, objective=OBJECTIVE)
    path = compiled_path(OBJECTIVE, "top-down", tmp_path)
    path.parent.mkdir()
    save(plain, path, index, optimizer="bootstrap")
    state = json.loads(path.read_text())
    assert KNN_KEY not in state
    loaded = load_compiled("top-down", OBJECTIVE, index, tmp_path)
    assert type(loaded) is TopDownProgram and not hasattr(loaded, "knn_state")
    page, prompts = run(loaded, user, index)
    assert set(prompts) == {2} and page.product_ids() == run(plain, user, index)[0].product_ids()


def test_only_the_knn_key_is_allowed_beside_the_predictors(index, knn_compiled, tmp_path):
    _, root, _ = knn_compiled
    state = json.loads(compiled_path(OBJECTIVE, "top-down", root).read_text())
    state["extra"] = state.pop(KNN_KEY)
    path = compiled_path(OBJECTIVE, "top-down", tmp_path)
    path.parent.mkdir()
    path.write_text(json.dumps(state))
    with pytest.raises(UnsafeCompiledFile, match=r"refused key 'extra'"):
        load_compiled("top-down", OBJECTIVE, index, tmp_path)


@pytest.mark.parametrize("bootstrap", [{"max_bootstrapped_demos": 2, "max_labeled_demos": 0, "max_rounds": 50},
                                       {"max_bootstrapped_demos": 2, "max_labeled_demos": 0,
                                        "teacher_settings": {"lm": {"model": "openai/gpt-4o-mini"}}}])
def test_knn_bootstrap_settings_other_than_ours_are_refused(index, knn_compiled, tmp_path, bootstrap):
    """The knn entry's bootstrap settings become KNNFewShot keyword arguments: only the ones compiling writes."""
    _, root, _ = knn_compiled
    state = json.loads(compiled_path(OBJECTIVE, "top-down", root).read_text())
    state[KNN_KEY]["bootstrap"] = bootstrap
    path = compiled_path(OBJECTIVE, "top-down", tmp_path)
    path.parent.mkdir()
    path.write_text(json.dumps(state))
    with pytest.raises(UnsafeCompiledFile, match=r"refused key 'knn.bootstrap'"):
        load_compiled("top-down", OBJECTIVE, index, tmp_path)
