"""Objective files, the objective metric (hand-computed), its feedback, and the offline GEPA proposer."""

import dspy
import pytest

from themepage.dataset import UserHistory
from themepage.metrics.objective_metric import Objective, UnknownScore
from themepage.objectives import ObjectiveConfig, ObjectiveError, load_objective, load_objective_file, objective_names
from themepage.offline.gepa_proposer import GuidanceProposer
from themepage.page import Page, Placement, ProductRef

SHIPPED = {"relevance", "discovery", "healthy", "cohesive"}


def test_shipped_objectives_load_and_differ():
    assert SHIPPED <= set(objective_names())
    configs = {name: load_objective(name) for name in SHIPPED}
    assert len({c.guidance for c in configs.values()}) == len(SHIPPED)
    assert all(c.constraints.page_size == 48 and 0 < c.gate.min_score <= 1 for c in configs.values())


@pytest.mark.parametrize("text, field", [
    ('description = "d"\nguidance = "long enough guidance"\n[weights]\ncohesion = -1\n[gate]\nmin_score = 0.1\n',
     "weights"),
    ('description = "d"\nguidance = "long enough guidance"\ncolour = "red"\n[weights]\ncohesion = 1\n'
     '[gate]\nmin_score = 0.1\n', "colour"),
    ('description = "d"\n[weights]\ncohesion = 1\n[gate]\nmin_score = 0.1\n', "guidance"),
    ('description = "d"\nguidance = "long enough guidance"\n[weights]\ncohesion = 1\n[gate]\nmin_score = 2\n',
     "gate.min_score"),
])
def test_invalid_objective_files_name_file_and_field(tmp_path, text, field):
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(ObjectiveError) as error:
        load_objective_file(path)
    assert "broken.toml" in str(error.value) and field in str(error.value)


def test_not_toml_and_unknown_objective(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("guidance = = 1")
    with pytest.raises(ObjectiveError, match="bad.toml: not valid TOML"):
        load_objective_file(path)
    with pytest.raises(ObjectiveError, match="unknown objective 'nope'"):
        load_objective("nope")


def _config(**weights) -> ObjectiveConfig:
    return ObjectiveConfig(name="test", description="d", guidance="a guidance text", weights=weights,
                           gate={"min_score": 0.2}, pass_threshold=0.5)


def test_weights_of_unknown_scores_are_refused(index):
    with pytest.raises(UnknownScore, match="colour"):
        Objective(_config(colour=1.0), index)


def test_weighted_score_by_hand(index):
    objective = Objective(_config(**{"recall@48": 3.0, "novelty": 1.0}), index)
    # (3 * 0.5 + 1 * 0.1) / 4 = 0.4
    assert objective.weighted({"recall@48": 0.5, "novelty": 0.1, "cohesion": 0.9}) == pytest.approx(0.4)
    # without a label, recall is absent and its weight left out: novelty alone
    assert objective.weighted({"novelty": 0.1}) == pytest.approx(0.1)
    assert objective.weighted({}) == 0.0


def _page(index, ids):
    products = [ProductRef(product_id=p, name=index.catalog.name(p)) for p in ids]
    return Page(user_id=1, program="test", placements=[Placement(title="Test", products=products)])


def test_metric_returns_float_bool_and_feedback(index):
    history = index.histories.get(1)
    bought = history.top_products(4)
    example = dspy.Example(user_id=1, history=history, target=bought[:2]).with_inputs("user_id", "history")
    objective = Objective(_config(**{"recall@48": 1.0}), index)
    pred = dspy.Prediction(page=_page(index, bought))
    assert objective.metric(example, pred) == pytest.approx(1.0)
    assert objective.metric(example, pred, trace=[]) is True
    miss = dspy.Prediction(page=_page(index, index.popular(4, exclude=set(bought))))
    assert objective.metric(example, miss, trace=[]) is False
    graded = objective.metric(example, miss, None, "planner.plan", [])
    assert isinstance(graded, dspy.Prediction) and graded.score == pytest.approx(0.0)
    assert "recall@48 = 0.00" in graded.feedback and "staples" in graded.feedback
    assert set(graded.objective_scores) >= {"recall@48", "cohesion", "novelty"}


def test_empty_page_scores_zero_relevance(index):
    example = dspy.Example(user_id=0, history=UserHistory(user_id=0), target=[1]).with_inputs("user_id", "history")
    objective = Objective.load("relevance", index)
    empty = Page(user_id=0, program="test")
    assert objective.metric(example, empty) == pytest.approx(0.0)


def test_proposer_appends_the_most_frequent_advice_first():
    proposer = GuidanceProposer("Discovery: try new things. Stay tasty.")
    feedback = ("discovery score 0.20. novelty = 0.10: too few new products: help them discover new products "
                "cohesion = 0.30: rows do not hang together: keep every placement cohesive")
    other = "discovery score 0.30. cohesion = 0.20: rows do not hang together: keep every placement cohesive"
    records = [{"Feedback": feedback}, {"Feedback": other}, {"Feedback": other}]
    proposed = proposer({"planner.plan": "Plan the page."}, {"planner.plan": records}, ["planner.plan"])
    assert proposed["planner.plan"] == "Plan the page. Keep every placement cohesive."
    again = proposer({"planner.plan": "Plan the page."}, {"planner.plan": records}, ["planner.plan"])
    assert again["planner.plan"] == "Plan the page. Help them discover new products.", "the next option, not a repeat"


def test_proposer_walks_guidance_then_objective_advice_and_never_repeats():
    proposer = GuidanceProposer("Discovery: try new things. Stay tasty.", advice=["novelty: add new products"])
    proposals = [proposer.propose("Plan the page.", [], "planner") for _ in range(4)]
    assert proposals == ["Plan the page. Discovery: try new things.", "Plan the page. Stay tasty.",
                         "Plan the page. Add new products.", "Plan the page. Discovery: try new things."]
    assert proposer.propose("Plan the page.", [], "filler") == proposals[0], "each predictor walks its own list"
    full = "Plan the page. Discovery: try new things. Stay tasty. Add new products."
    assert proposer.propose(full, [], "planner") == full


def test_advice_follows_the_objective_weights(index):
    advice = Objective.load("healthy", index).advice()
    assert advice[0].startswith("too few healthy choices")  # healthy_share weighs most
    assert len(advice) == len(load_objective("healthy").weights)
    assert not any("discover" in a for a in advice), "only advice for scores the objective weighs"
