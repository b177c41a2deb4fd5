"""A compile for a grammar-constrained model keeps demos only where the model writes text."""

import dspy

from themepage.optimize.grammar_demos import drop_id_demos, ids_only_predictors
from themepage.programs.bottoms_up import BottomsUpProgram
from themepage.programs.top_down import TopDownProgram


def test_ids_only_predictors_are_the_fill_filter_and_generate_steps(index):
    top_down, bottoms_up = TopDownProgram(index), BottomsUpProgram(index)
    assert ids_only_predictors(top_down) == [top_down.filler.fill, top_down.filter.check]
    assert ids_only_predictors(bottoms_up) == [bottoms_up.generate]


def test_drop_id_demos_keeps_the_planners_demo(index):
    program = TopDownProgram(index)
    for _, predictor in program.named_predictors():
        predictor.demos = [dspy.Example(note="a demo")]
    drop_id_demos(program)
    assert [(name, len(p.demos)) for name, p in program.named_predictors()] == [
        ("planner.plan", 1), ("filler.fill", 0), ("filter.check", 0)]
