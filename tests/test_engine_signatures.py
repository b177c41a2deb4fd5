"""The offline engine recognises signatures by their exact field names, refuses near misses with a clear
error, and answers every signature it knows under dspy.ChainOfThought too."""

from __future__ import annotations

import dspy
import pytest

from themepage.offline.engine import MissingInput, OfflineEngine
from themepage.offline.known import KNOWN
from themepage.page import Theme
from themepage.signatures.bottoms_up import GenerateItems, NamePlacement
from themepage.signatures.top_down import FillTheme, FilterTheme, PlanThemes
from themepage.wording.user_context import describe_user

THEME = Theme(title="Easy Pasta Night", queries=["spaghetti", "marinara"], aisles=["dry pasta", "pasta sauce"])
GUIDANCE = "Relevance: put what this shopper buys again and again on the page."


def _inputs(index) -> dict[type, dict]:
    history = index.histories.get(index.histories.user_ids[0])
    context = describe_user(history, index)
    pool = sorted(history.product_counts)[:6]
    lines = "\n".join(f"{p} | {index.catalog.name(p)} | {index.catalog.aisle(p)}" for p in pool)
    return {
        PlanThemes: dict(user_context=context, objective_guidance=GUIDANCE, num_themes=4),
        FillTheme: dict(theme=THEME, objective_guidance=GUIDANCE, candidates=lines, num_products=3),
        FilterTheme: dict(theme=THEME, products=lines),
        GenerateItems: dict(user_context=context, objective_guidance=GUIDANCE, candidates=lines, num_products=3),
        NamePlacement: dict(products=lines),
    }


@pytest.mark.parametrize("signature", [PlanThemes, FillTheme, FilterTheme, GenerateItems, NamePlacement],
                         ids=lambda s: s.__name__)
def test_chain_of_thought_is_answered(index, adapter, signature):
    inputs = _inputs(index)[signature]
    plain = dspy.Predict(signature)(**inputs)
    thought = dspy.ChainOfThought(signature)(**inputs)
    assert thought.reasoning.strip()
    for name in signature.output_fields:
        assert thought[name] == plain[name], f"{name} differs under ChainOfThought"


def test_a_renamed_input_is_refused_not_read_as_a_new_shopper(index, lm):
    dspy.configure(lm=lm, adapter=dspy.ChatAdapter())
    renamed = PlanThemes.delete("user_context").prepend("shopper_summary", dspy.InputField(desc="the shopper"), str)
    inputs = _inputs(index)[PlanThemes]
    with pytest.raises(Exception, match="cannot answer.*shopper_summary"):  # DSPy wraps the engine's error
        dspy.Predict(renamed)(shopper_summary=inputs["user_context"], objective_guidance=GUIDANCE, num_themes=4)


def test_an_extra_input_is_refused(index, lm):
    dspy.configure(lm=lm, adapter=dspy.ChatAdapter())
    extra = FilterTheme.append("season", dspy.InputField(desc="the season"), str)
    with pytest.raises(Exception, match="cannot answer.*season"):
        dspy.Predict(extra)(**_inputs(index)[FilterTheme], season="winter")


def test_a_missing_input_value_is_a_clear_error(index):
    system = dspy.ChatAdapter().format_system_message(PlanThemes)
    user = "[[ ## objective_guidance ## ]]\nRelevance.\n\n[[ ## num_themes ## ]]\n4"
    with pytest.raises(MissingInput, match=r"PlanThemes.*\['user_context'\]"):
        OfflineEngine(index).answer(system, [("user", user)])


def test_every_known_signature_has_a_distinct_field_set():
    keys = [(k.inputs, k.outputs) for k in KNOWN]
    assert len(set(keys)) == len(keys)
    labels = {k.label for k in KNOWN}
    assert {"PlanThemes", "FillTheme", "FilterTheme", "GenerateItems", "NamePlacement"} <= labels
