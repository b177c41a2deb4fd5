"""Which predictors a compile for a grammar-constrained model leaves without demos.

Under the structured path (`themepage.lm.structured`) a predictor answering with ids only (fill, filter,
generate) has its answer's form fixed by the grammar, an enum of the ids shown, so a demo teaches little and
costs its candidate lines in every call: with one demo on each predictor, a compiled top-down page sends about
twice the prompt tokens of an uncompiled one (docs/results.md). Predictors that write text (the planner, the
namer) keep theirs.
"""

from __future__ import annotations

from typing import cast

import dspy

from themepage.lm.output_schemas import LIST_ID_OUTPUTS


def ids_only_predictors(module: dspy.Module) -> list[dspy.Predict]:
    """The module's predictors whose every output field is a list of ids (`LIST_ID_OUTPUTS`)."""
    return [predictor for _, predictor in module.named_predictors()
            if set(cast(type[dspy.Signature], predictor.signature).output_fields) <= set(LIST_ID_OUTPUTS)]


def drop_id_demos(module: dspy.Module) -> dspy.Module:
    """`module` with no demos on its ids-only predictors (in place; returned for chaining)."""
    for predictor in ids_only_predictors(module):
        predictor.demos = []
    return module
