"""Constrained outputs: narrowed per-step schemas, output budgets, context fitting, and the form a server takes."""

import json
import re

import dspy
import pytest
from http_server import assert_valid_page, lm_server  # noqa: F401
from schema_server import SchemaServer, schema_server  # noqa: F401

from themepage.lm.output_schemas import (
    GRAMMAR_AISLES,
    allowed_aisles,
    favourite_aisles,
    fit_to_schema,
    output_budget,
    output_schema,
    shown_ids,
)
from themepage.lm.plug import lm_from_settings
from themepage.lm.response_cache import attempt_lm, attempt_number
from themepage.lm.settings import LMSettings, SettingsError, resolve_lm_settings
from themepage.lm.structured import (
    AISLE_LIST_PREFIX,
    RETRY_TEMPERATURE,
    STRUCTURED_TEMPERATURE,
    ContextOverflow,
    StructuredAdapter,
    adapter_for,
    detect_form,
    mark_structured,
    structured_form,
)
from themepage.page import Theme
from themepage.programs.bottoms_up import MISFIT_NAME, UNCLEAR_NAME
from themepage.programs.registry import LMPageMaker, make_program
from themepage.signatures.bottoms_up import GenerateItems
from themepage.signatures.top_down import FillTheme, FilterTheme, PlanThemes

CANDIDATES = ("24852 | Banana | fresh fruits | bought 3 of 5 orders\n13176 | Bag of Organic Bananas | fresh fruits\n"
              "7 | Pie")
SHORT_CANDIDATES = ("1 | Banana | fresh fruits | bought 3 of 5 orders\n2 | Bag of Organic Bananas | fresh fruits\n"
                    "3 | Pie")
CONTEXT = ("Orders: 5, about every 7 days, usually Monday mornings.\n"
           "Favourite aisles (share of items, products): fresh fruits 30% 4, yogurt 10% 2, soft drinks 5% 1\n"
           "Frequent products: Banana 3/5")


def test_shown_ids_and_favourite_aisles_read_the_prompt_lines():
    assert shown_ids({"candidates": CANDIDATES}) == [24852, 13176, 7]
    assert shown_ids({"products": "5 | Milk | dairy\n5 | Milk | dairy"}) == [5]
    assert shown_ids({"candidates": "Milk | dairy"}) == []
    assert favourite_aisles(CONTEXT) == ["fresh fruits", "yogurt", "soft drinks"]
    assert favourite_aisles("New shopper: no orders yet.") == []


def test_planner_may_name_the_first_grammar_aisles_favourites_and_the_objectives():
    listed = ", ".join(f"aisle {i} 1% 1" for i in range(GRAMMAR_AISLES + 4))
    context = f"Orders: 5.\nFavourite aisles (share of items, products): {listed}"
    assert len(favourite_aisles(context)) == GRAMMAR_AISLES + 4
    allowed = allowed_aisles(context, extra=["fresh fruits", "aisle 0"])
    assert allowed == [f"aisle {i}" for i in range(GRAMMAR_AISLES)] + ["fresh fruits"]


def test_planner_context_lists_only_the_favourites_it_may_name(schema_server):  # noqa: F811
    listed = ", ".join(f"aisle {i} 1% 1" for i in range(GRAMMAR_AISLES + 4))
    context = f"Orders: 5.\nFavourite aisles (share of items, products): {listed}\nFrequent products: Banana 3/5"
    lm = dspy.LM("openai/smollm2", api_base=schema_server.url, api_key="local", cache=False)
    with dspy.context(lm=lm, adapter=StructuredAdapter("json_object", known_aisles=[f"aisle {i}" for i in range(20)])):
        dspy.Predict(PlanThemes)(user_context=context, objective_guidance="relevance", num_themes=3)
    prompt = schema_server.bodies[-1]["messages"][-1]["content"]
    assert f"aisle {GRAMMAR_AISLES - 1} 1% 1" in prompt and f"aisle {GRAMMAR_AISLES} 1% 1" not in prompt
    assert "Frequent products: Banana 3/5" in prompt, "the other lines stay"


def test_fill_schema_allows_only_the_shown_ids_and_exactly_the_wanted_count():
    schema = output_schema(FillTheme.output_fields, {"candidates": CANDIDATES, "num_products": 2})
    ids = schema["properties"]["product_ids"]
    assert ids["items"]["enum"] == [24852, 13176, 7]
    assert ids["minItems"] == ids["maxItems"] == 2
    assert schema["required"] == ["product_ids"]


def test_filter_schema_narrows_the_kept_ids_and_asks_for_nothing_else():
    schema = output_schema(FilterTheme.output_fields, {"products": CANDIDATES})
    kept = schema["properties"]["kept_ids"]
    assert kept["items"]["enum"] == [24852, 13176, 7] and (kept["minItems"], kept["maxItems"]) == (3, 3)
    assert schema["required"] == ["kept_ids"], "no reasons to generate: completion tokens are latency"


def test_plan_schema_names_only_the_allowed_aisles_and_the_wanted_number_of_themes():
    schema = output_schema(PlanThemes.output_fields, {"num_themes": 4}, aisles=["yogurt", "fresh fruits"])
    themes = schema["properties"]["themes"]
    assert themes["minItems"] == themes["maxItems"] == 4
    assert themes["items"]["properties"]["aisles"]["items"]["enum"] == ["yogurt", "fresh fruits"]
    assert themes["items"]["properties"]["aisles"]["minItems"] == 1, "a theme without aisles is a catch-all"
    Theme.model_validate({name: [] if sub["type"] == "array" else False if sub["type"] == "boolean" else "x"
                          for name, sub in themes["items"]["properties"].items()})  # every property is a Theme's


def test_output_budget_is_the_longest_admitted_answer_with_a_margin():
    # object 2 + key "product_ids" (11 chars / 2 + 3 = 8.5) + array (2 + 10 x (enum 5 digits / 2 + 2 = 4.5, + 1))
    schema = {"type": "object", "properties": {"product_ids": {
        "type": "array", "items": {"type": "integer", "enum": [12345]}, "maxItems": 10}}}
    assert output_budget(schema) == 81  # ceil((2 + 8.5 + 57) * 1.2)
    assert output_budget({"type": "object", "properties": {}}) == 32  # the floor


def test_generate_items_budget_grows_with_the_page_size():
    small = output_schema(GenerateItems.output_fields, {"candidates": CANDIDATES, "num_products": 1})
    large = output_schema(GenerateItems.output_fields, {"candidates": CANDIDATES, "num_products": 3})
    assert output_budget(large) > output_budget(small)


def test_adapter_sends_schema_and_budget_and_parses_the_answer(schema_server):  # noqa: F811
    lm = dspy.LM("openai/smollm2", api_base=schema_server.url, api_key="local", cache=False)
    theme = Theme(title="Fruit", aisles=["fresh fruits"])
    with dspy.context(lm=lm, adapter=StructuredAdapter("json_object")):
        result = dspy.Predict(FillTheme)(theme=theme, user_context=CONTEXT, objective_guidance="relevance first",
                                         candidates=CANDIDATES, num_products=2)
    assert result.product_ids == [24852, 13176]  # the server wrote 1 and 2: the first two lines' numbers
    body = schema_server.bodies[-1]
    schema = body["response_format"]["schema"]
    assert body["response_format"]["type"] == "json_object"
    assert schema == output_schema(FillTheme.output_fields, {"candidates": SHORT_CANDIDATES, "num_products": 2})
    assert SHORT_CANDIDATES in body["messages"][-1]["content"] and "24852" not in body["messages"][-1]["content"]
    assert body["max_tokens"] == output_budget(schema)


def test_long_ids_setting_sends_the_catalog_ids(schema_server):  # noqa: F811
    lm = dspy.LM("openai/smollm2", api_base=schema_server.url, api_key="local", cache=False)
    with dspy.context(lm=lm, adapter=StructuredAdapter("json_object", short_ids=False)):
        result = dspy.Predict(FillTheme)(theme=Theme(title="Fruit"), objective_guidance="g", candidates=CANDIDATES,
                                         num_products=2)
    assert result.product_ids == [24852, 13176]
    schema = schema_server.bodies[-1]["response_format"]["schema"]
    assert schema["properties"]["product_ids"]["items"]["enum"] == [24852, 13176, 7]


def test_json_schema_form_wraps_the_schema_the_openai_way(schema_server):  # noqa: F811
    lm = dspy.LM("openai/smollm2", api_base=schema_server.url, api_key="local", cache=False)
    with dspy.context(lm=lm, adapter=StructuredAdapter("json_schema")):
        dspy.Predict(FilterTheme)(theme=Theme(title="Fruit"), products=CANDIDATES)
    fmt = schema_server.bodies[-1]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "FilterTheme"
    assert fmt["json_schema"]["schema"]["properties"]["kept_ids"]["items"]["enum"] == [1, 2, 3]


def test_planner_is_shown_the_aisles_it_may_name_and_answers_in_slots(schema_server):  # noqa: F811
    lm = dspy.LM("openai/smollm2", api_base=schema_server.url, api_key="local", cache=False)
    with dspy.context(lm=lm, adapter=StructuredAdapter("json_object", extra_aisles=["fresh vegetables"])):
        result = dspy.Predict(PlanThemes)(user_context=CONTEXT, objective_guidance="relevance", num_themes=3)
    body = schema_server.bodies[-1]
    shown = AISLE_LIST_PREFIX + "fresh fruits, yogurt, soft drinks, fresh vegetables."
    assert shown in body["messages"][-1]["content"]
    regulars, first, second = body["response_format"]["schema"]["properties"]["themes"]["prefixItems"]
    assert regulars["properties"]["aisles"]["prefixItems"] == [] and regulars["properties"]["from_history"] == {
        "const": True}, "a shopper with a history: the first slot is their catch-all regulars theme"
    anchors = [[option["properties"]["aisles"]["prefixItems"][0]["const"] for option in slot["anyOf"]]
               for slot in (first, second)]
    assert anchors == [["fresh fruits", "soft drinks"], ["yogurt", "fresh vegetables"]]
    assert [t.aisles for t in result.themes] == [[], ["fresh fruits"], ["yogurt"]]
    assert result.themes[0].from_history


def test_namer_title_must_name_what_its_products_are():
    from themepage.signatures.bottoms_up import NamePlacement

    schema = output_schema(NamePlacement.output_fields, {"products": "Banana | fresh fruits\nKale | fresh vegetables"})
    title = schema["properties"]["title"]["pattern"]
    assert re.match(title, "Fruit & Veg") and not re.match(title, "Hydration Station")
    free = output_schema(NamePlacement.output_fields, {"products": "Banana\nKale"})["properties"]["title"]
    assert re.match(free["pattern"], "Hydration Station"), "without known aisles: any readable title"


def test_json_schema_form_plans_without_slots(schema_server):  # noqa: F811
    """OpenAI's strict schemas take no prefixItems: that form keeps one schema for every theme."""
    lm = dspy.LM("openai/smollm2", api_base=schema_server.url, api_key="local", cache=False)
    with dspy.context(lm=lm, adapter=StructuredAdapter("json_schema", extra_aisles=[])):
        dspy.Predict(PlanThemes)(user_context=CONTEXT, objective_guidance="relevance", num_themes=2)
    themes = schema_server.bodies[-1]["response_format"]["json_schema"]["schema"]["properties"]["themes"]
    assert "prefixItems" not in themes
    assert themes["items"]["properties"]["aisles"]["items"]["enum"] == ["fresh fruits", "yogurt", "soft drinks"]


def _demo(n: int) -> dspy.Example:
    return dspy.Example(theme=Theme(title=f"Demo {n}"), user_context=CONTEXT * 20, objective_guidance="g",
                        candidates=CANDIDATES, num_products=2, product_ids=[7]).with_inputs(
        "theme", "user_context", "objective_guidance", "candidates", "num_products")


def test_demos_are_dropped_last_first_until_the_prompt_fits():
    adapter = StructuredAdapter("json_object")
    inputs = {"theme": Theme(title="Fruit"), "user_context": CONTEXT, "objective_guidance": "g",
              "candidates": CANDIDATES, "num_products": 2}
    demos = [_demo(1), _demo(2), _demo(3)]
    bare = adapter.prompt_tokens(FillTheme, [], inputs)
    one = adapter.prompt_tokens(FillTheme, demos[:1], inputs)
    adapter.context_tokens = one + 100
    assert adapter.fit_demos(FillTheme, demos, inputs, budget=100) == demos[:1]
    adapter.context_tokens = bare + 100
    assert adapter.fit_demos(FillTheme, demos, inputs, budget=100) == []
    adapter.context_tokens = bare + 99
    with pytest.raises(ContextOverflow, match="FillTheme"):
        adapter.fit_demos(FillTheme, demos, inputs, budget=100)


def test_a_page_whose_prompts_overflow_falls_back_cleanly(index, schema_server):  # noqa: F811
    lm = mark_structured(dspy.LM("openai/smollm2", api_base=schema_server.url, api_key="local", cache=False),
                         "json_object")
    make = make_program("top-down", index, lm=lm)
    assert isinstance(make, LMPageMaker) and isinstance(make.adapter, StructuredAdapter)
    make.adapter.context_tokens = 200  # no prompt fits
    page = make(7, index.histories.get(7))
    assert_valid_page(page, index)
    assert schema_server.bodies == []  # nothing that would overflow reached the server
    assert any("ContextOverflow" in f for f in page.stats.fallbacks)


@pytest.mark.parametrize("program", ["top-down", "bottoms-up"])
def test_both_programs_through_a_schema_server_make_valid_pages_without_fallbacks(index, schema_server,  # noqa: F811
                                                                                  program):
    lm = mark_structured(dspy.LM("openai/smollm2", api_base=schema_server.url, api_key="local", cache=False),
                         "auto")
    page = make_program(program, index, lm=lm)(7, index.histories.get(7))
    assert_valid_page(page, index)
    # no step fails; the one fallback a bottoms-up page may take is a name refused for its fit (or less clear than
    # the shelf's title, which the row then keeps)
    assert all(MISFIT_NAME in f or UNCLEAR_NAME in f for f in page.stats.fallbacks), page.stats.fallbacks
    assert schema_server.bodies and all("schema" in b["response_format"] and b["max_tokens"] > 0
                                        for b in schema_server.bodies)


def test_auto_detects_llama_cpp_and_leaves_other_servers_on_todays_path(schema_server, lm_server):  # noqa: F811
    detect_form.cache_clear()
    assert detect_form(schema_server.url) == "json_object"
    assert detect_form(lm_server.url) == "off"  # the offline engine's server
    assert detect_form("http://127.0.0.1:9/v1", timeout=0.5) == "off"  # nothing listening
    plain = dspy.LM("openai/smollm2", api_base=lm_server.url, api_key="local")
    assert structured_form(plain) == "off" and not isinstance(adapter_for(plain), StructuredAdapter)
    marked = mark_structured(dspy.LM("openai/smollm2", api_base=schema_server.url, api_key="local"), "auto")
    assert isinstance(adapter_for(marked), StructuredAdapter)
    with pytest.raises(ValueError, match="structured must be one of"):
        mark_structured(plain, "grammar")


def test_structured_setting_from_the_environment(monkeypatch, schema_server):  # noqa: F811
    monkeypatch.setenv("OPENAI_API_KEY", "local")
    monkeypatch.setenv("THEMEPAGE_LM_STRUCTURED", "json_schema")
    settings = resolve_lm_settings(model="openai/smollm2", api_base=schema_server.url)
    assert settings.structured == "json_schema"
    adapter = adapter_for(lm_from_settings(settings))
    assert isinstance(adapter, StructuredAdapter) and adapter.form == "json_schema"
    off = LMSettings.model_validate({"model": "openai/smollm2", "structured": "off"})
    assert structured_form(lm_from_settings(off)) == "off"
    monkeypatch.setenv("THEMEPAGE_LM_STRUCTURED", "grammar")
    with pytest.raises(SettingsError, match="THEMEPAGE_LM_STRUCTURED"):
        resolve_lm_settings(model="openai/smollm2")


def test_fit_to_schema_cuts_a_long_answer_to_what_the_grammar_admits():
    schema = output_schema(PlanThemes.output_fields, {"num_themes": 1}, aisles=["yogurt", "fresh fruits"])
    long = {"themes": [{"title": "Your Yogurt", "rationale": "word " * 40, "queries": ["a", "b", "c"],
                        "aisles": ["milk", "yogurt", "fresh fruits", "eggs"], "attributes": ["x"],
                        "from_history": True},
                       {"title": "Second", "queries": ["q"]}]}
    fitted = fit_to_schema(long, schema)
    assert len(fitted["themes"]) == 1
    theme = fitted["themes"][0]
    assert theme["aisles"] == ["yogurt", "fresh fruits"] and theme["queries"] == ["a", "b"]
    assert "attributes" not in theme and theme["from_history"] is True
    assert 0 < len(theme["rationale"]) <= 80 and theme["rationale"].endswith("word")
    assert fit_to_schema({"product_ids": [1, 9, 2, 3]}, output_schema(FillTheme.output_fields, {
        "candidates": "1 | a\n2 | b\n3 | c", "num_products": 2})) == {"product_ids": [1, 2]}


def test_a_planner_demo_is_sent_as_its_own_call_would_be(schema_server):  # noqa: F811
    lm = dspy.LM("openai/smollm2", api_base=schema_server.url, api_key="local", cache=False)
    plan = dspy.Predict(PlanThemes)
    plan.demos = [dspy.Example(user_context=CONTEXT, objective_guidance="g", num_themes=1, themes=[
        Theme(title="Dairy Run", rationale="r " * 60, queries=["milk", "eggs", "butter"], aisles=["milk", "yogurt"])])]
    with dspy.context(lm=lm, adapter=StructuredAdapter("json_object", extra_aisles=[])):
        plan(user_context=CONTEXT, objective_guidance="g", num_themes=1)
    demo_user, demo_answer = schema_server.bodies[-1]["messages"][1:3]
    assert AISLE_LIST_PREFIX + "fresh fruits, yogurt, soft drinks." in demo_user["content"]
    answer = json.loads(demo_answer["content"])["themes"][0]
    assert answer["aisles"] == ["yogurt"] and answer["queries"] == ["milk", "eggs"] and len(answer["rationale"]) <= 80


def test_a_retry_samples_wider_unless_the_lm_sets_a_temperature():
    lm = mark_structured(dspy.LM("openai/smollm2", api_base="http://127.0.0.1:9", api_key="local"), "auto")
    adapter = StructuredAdapter()
    first, retry = attempt_lm(lm, 0), attempt_lm(lm, 1)
    assert (attempt_number(first), attempt_number(retry)) == (0, 1)
    assert adapter.with_temperature(first, {})["temperature"] == STRUCTURED_TEMPERATURE
    assert adapter.with_temperature(retry, {})["temperature"] == RETRY_TEMPERATURE > STRUCTURED_TEMPERATURE
    assert adapter.with_temperature(retry, {"temperature": 0.0}) == {"temperature": 0.0}  # the call's own
    own = mark_structured(dspy.LM("openai/smollm2", api_base="http://127.0.0.1:9", api_key="local", temperature=0.1),
                          "auto")
    assert "temperature" not in adapter.with_temperature(attempt_lm(own, 1), {})  # the LM's own is sent
