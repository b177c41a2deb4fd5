"""Short per-prompt ids: candidate lines numbered 1..N for the model, answers and demos mapped consistently."""

import dspy
import pytest
from schema_server import schema_server  # noqa: F401

from themepage.lm.short_ids import ShortIds, restore_outputs, shorten_example, shorten_inputs
from themepage.lm.structured import StructuredAdapter
from themepage.page import Theme
from themepage.signatures.top_down import FillTheme, FilterTheme, PlanThemes

LINES = "24852 | Banana | 3/5, last order\n13176 | Bag of Organic Bananas\n24852 | Banana again\n7 | Pie"


def test_lines_are_numbered_in_order_each_id_once():
    numbering = ShortIds.of_lines(LINES)
    assert numbering.to_short == {24852: 1, 13176: 2, 7: 3}
    assert numbering.shorten_lines(LINES) == ("1 | Banana | 3/5, last order\n2 | Bag of Organic Bananas\n"
                                              "1 | Banana again\n3 | Pie")


def test_answers_map_back_and_unshown_numbers_are_dropped():
    numbering = ShortIds.of_lines(LINES)
    assert numbering.restore([3, 1, 9, "2", 2]) == [7, 24852, 13176]
    assert numbering.shorten([7, 99, 24852]) == [3, 1]


def test_inputs_without_candidate_lines_are_left_alone():
    inputs = {"user_context": "Orders: 5", "num_themes": 3}
    shortened, numbering = shorten_inputs(inputs)
    assert shortened == inputs and numbering.to_short == {}
    assert restore_outputs({"product_ids": [1, 2]}, numbering) == {"product_ids": [1, 2]}


def test_a_demo_gets_its_own_numbering_for_inputs_and_answer():
    demo = dspy.Example(theme=Theme(title="Fruit"), products="500 | Apple\n600 | Pear\n700 | Nails",
                        kept_ids=[600, 500]).with_inputs("theme", "products")
    shortened = shorten_example(demo)
    assert shortened["products"] == "1 | Apple\n2 | Pear\n3 | Nails"
    assert shortened["kept_ids"] == [2, 1]
    assert shortened["theme"] == Theme(title="Fruit")


def test_restore_maps_only_the_id_outputs():
    numbering = ShortIds.of_lines("500 | Apple\n600 | Pear")
    assert restore_outputs({"kept_ids": [2], "title": "x"}, numbering) == {"kept_ids": [600], "title": "x"}


def test_the_model_sees_numbers_and_the_program_gets_catalog_ids_demos_included(schema_server):  # noqa: F811
    lm = dspy.LM("openai/smollm2", api_base=schema_server.url, api_key="local", cache=False)
    check = dspy.Predict(FilterTheme)
    check.demos = [dspy.Example(theme=Theme(title="Fruit"), products="500 | Apple | fresh fruits\n600 | Nails | tools",
                                kept_ids=[500]).with_inputs("theme", "products")]
    with dspy.context(lm=lm, adapter=StructuredAdapter("json_object")):
        result = check(theme=Theme(title="Dairy"),
                       products="41 | Milk | milk\n42 | Cream | cream\n43 | Butter | butter")
    assert result.kept_ids == [41, 42, 43]
    messages = schema_server.bodies[-1]["messages"]
    demo_user, demo_answer, user = messages[1]["content"], messages[2]["content"], messages[3]["content"]
    assert "1 | Apple | fresh fruits\n2 | Nails | tools" in demo_user and "500" not in demo_user
    assert '"kept_ids": [1]' in demo_answer
    assert "1 | Milk | milk\n2 | Cream | cream\n3 | Butter | butter" in user


@pytest.mark.parametrize("signature", [FillTheme, FilterTheme, PlanThemes])
def test_the_structured_prompt_is_compact(signature):
    system = StructuredAdapter("json_object").format_system_message(signature)
    assert "Inputs will have the following structure" not in system and "$defs" not in system
    assert system.startswith("Your input fields are:") and "Your objective is:" in system


def test_the_offline_engine_reads_the_structured_prompt_and_answers_in_json(index):
    """bench/prompt_tokens.py --adapter structured counts these prompts with the offline engine answering them."""
    from themepage.offline.engine import OfflineEngine

    adapter = StructuredAdapter("json_object")
    lines = "\n".join(f"{p} | {index.catalog.name(p)}" for p in index.popular(20))
    inputs, numbering = shorten_inputs({"theme": Theme(title="Fresh Fruit", aisles=["fresh fruits"]),
                                        "objective_guidance": "relevance", "candidates": lines, "num_products": 4})
    system, *turns = adapter.format(FillTheme, [], inputs)
    answer = OfflineEngine(index).answer(system["content"], [(m["role"], m["content"]) for m in turns])
    parsed = restore_outputs(adapter.parse(FillTheme, answer), numbering)
    assert answer.startswith('{"product_ids": [') and len(parsed["product_ids"]) == 4
    assert set(parsed["product_ids"]) <= set(index.popular(20))
    assert "- candidates: one per line" in system["content"] and "(str)" not in system["content"]
