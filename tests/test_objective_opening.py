"""What a page opens with is the objective's knowledge (`ObjectiveConfig.opens_with`), not the programs'."""

import ast
from pathlib import Path

import pytest

from themepage.objectives import ObjectiveConfig, load_objective
from themepage.objectives.config import HEALTHY_METRICS, REGULARS_METRICS

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"


def objective(weights: dict[str, float]) -> ObjectiveConfig:
    return ObjectiveConfig(name="probe", description="d", guidance="guidance for the probe",
                           weights=weights, gate={"min_score": 0.1})


@pytest.mark.parametrize(("name", "opening"), [
    ("relevance", "regulars"), ("cohesive", "regulars"), ("healthy", "healthy"), ("discovery", None)])
def test_the_shipped_objectives_open_with_what_they_weigh_most(name, opening):
    assert load_objective(name).opens_with == opening


def test_the_opening_follows_the_heaviest_weight_and_the_first_listed_on_a_tie():
    assert objective({"ndcg@48": 0.6, "novelty": 0.4}).opens_with == "regulars"
    assert objective({"novelty": 0.6, "recall@48": 0.4}).opens_with is None
    assert objective({"healthy_share": 0.5, "recall@48": 0.5}).opens_with == "healthy"
    assert objective({"recall@48": 0.5, "healthy_share": 0.5}).opens_with == "regulars"
    assert objective({"cohesion": 1.0}).heaviest_weight == "cohesion"


def _code_strings(path: Path) -> set[str]:
    """The string constants of a module's code, its docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings}


@pytest.mark.parametrize("path", sorted(PROGRAMS.rglob("*.py")), ids=lambda p: p.name)
def test_no_program_branches_on_a_metric_name(path):
    named = _code_strings(path) & {*REGULARS_METRICS, *HEALTHY_METRICS}
    assert not named, f"{path.name} names metrics {sorted(named)}: ask ObjectiveConfig.opens_with instead"
