"""MemoChatAdapter writes compact prompts, shared inputs first, that DSPy and the offline engine read as before."""

from __future__ import annotations

import dspy
import pytest

from themepage.lm.adapter import MemoChatAdapter
from themepage.offline.prompt import parse_prompt
from themepage.page import Theme
from themepage.programs.top_down import TopDownProgram
from themepage.signatures.top_down import FillTheme, FilterTheme, PlanThemes
from themepage.wording.user_context import describe_user

THEME = Theme(title="Easy Pasta Night", rationale="You buy pasta often.", queries=["spaghetti"], aisles=["dry pasta"])


def _user(index, i=0):
    return index.histories.get(index.histories.user_ids[i])


def test_the_system_message_has_no_json_schema_but_describes_output_models():
    system = MemoChatAdapter().format_system_message(PlanThemes)
    assert '"$defs"' not in system and '"properties"' not in system
    assert "Theme = JSON {title (str)" in system and "from_history (bool)" in system
    assert len(system) < len(dspy.ChatAdapter().format_system_message(PlanThemes)) / 1.5


def test_shared_inputs_come_first_and_models_are_compact():
    inputs = dict(theme=THEME, objective_guidance="Relevance.", candidates="1 | A | b", num_products=2)
    user = MemoChatAdapter().format(FillTheme, [], inputs)[-1]["content"]
    names = ("objective_guidance", "theme", "candidates")
    order = [user.index(f"[[ ## {name} ## ]]") for name in names]
    assert order == sorted(order)
    assert '{"title":"Easy Pasta Night","queries":["spaghetti"],"aisles":["dry pasta"]}' in user


@pytest.mark.parametrize("signature", [PlanThemes, FillTheme, FilterTheme], ids=lambda s: s.__name__)
def test_the_engine_reads_the_compact_layout_like_dspys(signature):
    inputs = {k: v for k, v in dict(theme=THEME, user_context="Orders: 3.", objective_guidance="Relevance.",
                                    candidates="1 | A | b", products="1 | A | b", num_products=2,
                                    num_themes=4).items() if k in signature.input_fields}
    formatted = (MemoChatAdapter().format(signature, [], inputs), dspy.ChatAdapter().format(signature, [], inputs))
    read = [parse_prompt(m[0]["content"], [(x["role"], x["content"]) for x in m[1:]]) for m in formatted]
    compact, plain = read
    assert compact.output_names == plain.output_names and set(compact.input_names) == set(plain.input_names)
    assert compact.instruction == plain.instruction
    assert set(compact.inputs) == set(plain.inputs)


def test_a_page_costs_fewer_prompt_tokens_and_gives_the_same_page(index, lm):
    history = _user(index, 3)
    pages = {}
    for name, adapter in (("dspy", dspy.ChatAdapter()), ("memo", MemoChatAdapter())):
        with dspy.context(lm=lm, adapter=adapter):
            pages[name] = TopDownProgram(index)(user_id=history.user_id, history=history).page
    assert pages["memo"].stats.prompt_tokens < 0.8 * pages["dspy"].stats.prompt_tokens
    assert pages["memo"].product_ids() == pages["dspy"].product_ids()
    assert [p.title for p in pages["memo"].placements] == [p.title for p in pages["dspy"].placements]


def test_chain_of_thought_and_demos_work_through_the_compact_adapter(index, lm):
    context = describe_user(_user(index), index)
    dspy.configure(lm=lm, adapter=MemoChatAdapter())
    planner = dspy.ChainOfThought(PlanThemes)
    first = planner(user_context=context, objective_guidance="Relevance.", num_themes=3)
    planner.predict.demos = [dspy.Example(user_context=context, objective_guidance="Relevance.", num_themes=3,
                                          reasoning="r", themes=first.themes)]
    again = planner(user_context=context, objective_guidance="Relevance.", num_themes=3)
    assert [t.title for t in again.themes] == [t.title for t in first.themes]
