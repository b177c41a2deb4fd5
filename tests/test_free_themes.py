"""The planner's form by model capability: slots for the small packaged models, the model's own themes (`free`)
for the rest; the free schema's shape; a top-down page planned in free form; the `themes` setting."""

import json
import re
import threading

import dspy
import jsonschema
import pytest
from http_server import assert_valid_page, run_cli
from optional_extras import require_module
from schema_server import SchemaServer, _Handler, answer_for, schema_server  # noqa: F401

from themepage.lm.output_schemas import (
    FREE_TITLE_CHARS,
    PLANNER_SCHEMAS,
    output_budget,
    output_schema,
)
from themepage.lm.planner_form import model_form, resolve_planner_form, served_form
from themepage.lm.plug import lm_from_settings
from themepage.lm.settings import ENV, SettingsError, resolve_lm_settings
from themepage.lm.structured import StructuredAdapter, adapter_for, mark_structured, planner_form
from themepage.page import Theme
from themepage.page.lm_share import lm_made_share
from themepage.programs.registry import make_program
from themepage.signatures.top_down import PlanThemes

AISLES = ["fresh vegetables", "fresh fruits", "coffee", "lunch meat"]
PLANNED = [  # what a model that writes themes might plan for user 7 (fruit, vegetables, coffee, lunch meat)
    ("Vegetable Soup Night", "You buy vegetables every week, so here is what a pot of soup needs.",
     ["carrots", "celery", "onion"], ["fresh vegetables"]),
    ("Fruit Salad Bowl", "Strawberries and grapes are in most of your orders, so more fruit to mix with them.",
     ["melon", "pineapple", "berries"], ["fresh fruits"]),
    ("Morning Coffee Bar", "Coffee is in almost every basket of yours, so here are new roasts to try.",
     ["ground coffee", "whole bean coffee"], ["coffee"]),
    ("Deli Sandwich Lunch", "You pick up sliced meats often, so here is more for your sandwiches.",
     ["turkey", "ham", "salami"], ["lunch meat"]),
    ("Zebra Party Hats", "Nothing in this store is a zebra party hat, so this row cannot be filled.",
     ["zebra party hats"], ["refrigerated"]),
    ("Dairy Free Breakfast", "You choose lactose free milk, so here are more dairy-free ways to start the day.",
     ["almond milk", "oat milk"], ["soy lactosefree"]),
    ("Lunchbox Snacks", "Apple slices are a regular of yours, so here are more snacks to pack.",
     ["apple chips", "fruit strips"], ["fruit vegetable snacks"]),
    ("Salad Kit Supper", "You buy packaged greens, so here are salads ready in minutes.",
     ["salad kit", "baby spinach"], ["packaged vegetables fruits"]),
]


def free_answer(schema: dict) -> dict:
    """The planner's answer: PLANNED's themes, repeated with numbered titles up to the count the schema asks for,
    each aisle kept only when the schema's enum allows it; checked against the schema as a grammar would."""
    themes = schema["properties"]["themes"]
    allowed = themes["items"]["properties"]["aisles"]["items"]["enum"]
    made = []
    for n in range(themes["minItems"]):
        title, rationale, queries, aisles = PLANNED[n % len(PLANNED)]
        words = ["", " Again", " Once More", " Third Time"][n // len(PLANNED)]
        made.append({"title": title + words, "rationale": rationale, "queries": queries,
                     "aisles": [a for a in aisles if a in allowed] or allowed[:1], "from_history": False})
    answer = {"themes": made}
    jsonschema.validate(answer, schema)
    return answer


class _FreeHandler(_Handler):
    """Answers the planner with `free_answer` and lists `model_id`; every other step as the schema server does."""

    def do_GET(self):  # noqa: N802
        self._send({"object": "list", "data": [{"id": self.server.model_id, "object": "model", "owned_by": "me"}]})

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        schema = (body.get("response_format") or {}).get("schema") or {"type": "object"}
        with self.server.lock:
            self.server.bodies.append(body)
            planner = "themes" in schema.get("properties", {})
            content = json.dumps(free_answer(schema) if planner else answer_for(schema, self.server.counter))
        self._send({"id": "x", "object": "chat.completion", "created": 0, "model": body.get("model", "m"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}})


@pytest.fixture
def free_server():
    """A llama.cpp-like server (owned_by "me") whose /models lists the served file, as llama-cpp-python does
    when started without an alias."""
    server = SchemaServer()
    server.RequestHandlerClass = _FreeHandler
    server.model_id = "/root/.cache/themepage/models/llama-3.2-3b-instruct-q4_k_m.gguf"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("model, form", [
    ("openai/qwen2.5-coder-1.5b", "slots"),
    ("openai/qwen2.5-coder-0.5b", "slots"),
    ("openai/smollm2", "slots"),
    ("openai/SmolLM2-135M-Instruct.Q4_1.gguf", "slots"),
    ("/models/qwen2.5_coder_1.5b_instruct.gguf", "slots"),
    ("openai/gpt-4o-mini", "free"),
    ("anthropic/claude-3-5-haiku-latest", "free"),
])
def test_auto_picks_the_form_measured_for_the_model_and_free_for_any_other(model, form):
    assert resolve_planner_form("auto", model) == form
    lm = mark_structured(dspy.LM(model, api_key="k"), "json_object")
    assert planner_form(lm) == form
    assert adapter_for(lm).themes == form


def test_an_explicit_form_wins_over_the_model_and_a_bad_one_is_refused():
    assert resolve_planner_form("free", "openai/smollm2") == "free"
    assert resolve_planner_form("slots", "openai/gpt-4o-mini") == "slots"
    with pytest.raises(ValueError, match="themes must be one of auto, slots, free"):
        resolve_planner_form("grid", "openai/smollm2")
    with pytest.raises(ValueError, match="themes must be one of"):
        mark_structured(dspy.LM("openai/smollm2", api_key="k"), "auto", "grid")
    assert model_form("openai/llama-3-8b") is None and model_form("") is None


def test_auto_reads_the_served_file_when_the_client_asks_for_another_name(free_server, schema_server):  # noqa: F811
    assert served_form(free_server.url) is None, "a file of no packaged model: no measured form"
    served_form.cache_clear()  # asked once per server: this test changes what its server lists
    free_server.model_id = "/root/.cache/themepage/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert served_form(free_server.url) == "slots", "the packaged 1.5B file's measured form"
    served_form.cache_clear()
    free_server.model_id = "/root/.cache/themepage/models/llama-3.2-3b-instruct-q4_k_m.gguf"
    assert served_form(schema_server.url) == "slots", "the schema server lists smollm2"
    assert served_form("http://127.0.0.1:9/v1") is None, "nothing listening: no form"
    lm = mark_structured(dspy.LM("openai/local", api_base=free_server.url, api_key="k"), "auto")
    adapter = adapter_for(lm)
    assert isinstance(adapter, StructuredAdapter) and adapter.themes == "free" and adapter.planner_schema == "free"
    small = mark_structured(dspy.LM("openai/local", api_base=schema_server.url, api_key="k"), "auto")
    assert adapter_for(small).planner_schema == "slots"


def test_free_schema_is_exactly_n_themes_of_bounded_shape_naming_only_the_allowed_aisles():
    schema = output_schema(PlanThemes.output_fields, {"num_themes": 4}, AISLES, "free")
    themes = schema["properties"]["themes"]
    assert themes["minItems"] == themes["maxItems"] == 4 and "prefixItems" not in themes
    theme = themes["items"]["properties"]
    assert list(theme) == ["title", "rationale", "queries", "aisles", "from_history"], "the idea, then its aisles"
    assert theme["aisles"]["items"]["enum"] == AISLES and (theme["aisles"]["minItems"], theme["aisles"]["maxItems"]) \
        == (1, 3)
    assert (theme["queries"]["minItems"], theme["queries"]["maxItems"]) == (1, 3)
    assert theme["title"]["maxLength"] == FREE_TITLE_CHARS and theme["rationale"]["maxLength"] == 160
    title, rationale = (re.compile(theme[k]["pattern"]) for k in ("title", "rationale"))
    for good in ("Vegetable Soup", "Grilled Cheese Sandwich", "Avocado Toast", "Mediterranean Dinner",
                 "Fruit and Yogurt Parfait", "A Taste of Italy"):
        assert title.match(good), good
    for bad in ("vegetable soup", "Soup #1", "One Two Three Four Five Six Seven", "Fresh Veg\nCheese", ""):
        assert not title.match(bad), bad
    query = re.compile(theme["queries"]["items"]["pattern"])
    assert query.match("cheddar cheese") and not query.match("Cheddar") and not query.match("#47021C")
    assert rationale.match("You buy bread and cheese every week, so a warm sandwich night fits your table. " * 1)
    assert not rationale.match("Too short") and not rationale.match("X" * 170)
    plain = output_schema(PlanThemes.output_fields, {"num_themes": 4}, AISLES)
    assert output_budget(schema) > output_budget(plain), "a longer answer gets a larger budget"
    assert PLANNER_SCHEMAS == ("plain", "slots", "free")
    with pytest.raises(ValueError, match="planner schema must be one of"):
        output_schema(PlanThemes.output_fields, {"num_themes": 4}, AISLES, "grid")


def test_llama_cpp_converts_the_free_schema():
    json_schema_to_gbnf = require_module("llama_cpp.llama_grammar", "pip install -e '.[local]'").json_schema_to_gbnf
    grammar = json_schema_to_gbnf(json.dumps(output_schema(PlanThemes.output_fields, {"num_themes": 2}, AISLES,
                                                           "free")))
    assert 'themes ::= "[" space themes-item "," space themes-item "]" space' in grammar
    assert '"\\"fresh vegetables\\""' in grammar and "\\ " not in grammar


def test_a_free_planner_demo_is_cut_to_the_free_schema(schema_server):  # noqa: F811
    context = ("Orders: 5.\nFavourite aisles (share of items, products): fresh fruits 30% 4, coffee 10% 2\n"
               "Frequent products: Banana 3/5")
    plan = dspy.Predict(PlanThemes)
    plan.demos = [dspy.Example(user_context=context, objective_guidance="g", num_themes=1, themes=[
        Theme(title="Fruit Salad", rationale="Fresh fruit " * 20, queries=["melon", "kiwi", "grapes", "figs"],
              aisles=["fresh fruits", "milk", "coffee", "tea"])])]
    lm = dspy.LM("openai/smollm2", api_base=schema_server.url, api_key="local", cache=False)
    with dspy.context(lm=lm, adapter=StructuredAdapter("json_object", extra_aisles=[], themes="free")):
        plan(user_context=context, objective_guidance="g", num_themes=1)
    body = schema_server.bodies[-1]
    assert "prefixItems" not in body["response_format"]["schema"]["properties"]["themes"], "free, not slots"
    answer = json.loads(body["messages"][2]["content"])["themes"][0]
    assert answer["queries"] == ["melon", "kiwi", "grapes"] and answer["aisles"] == ["fresh fruits", "coffee"]
    assert len(answer["rationale"]) <= 160 and answer["title"] == "Fruit Salad"


def test_a_top_down_page_in_free_form_carries_the_models_themes(index, free_server):
    lm = mark_structured(dspy.LM("openai/local-model", api_base=free_server.url, api_key="local",
                                 cache=False), "auto")
    make = make_program("top-down", index, lm=lm)
    assert make.adapter.themes == "free"
    page = make(7, index.histories.get(7), objective="discovery")
    assert_valid_page(page, index)
    plan = next(b for b in free_server.bodies if "themes" in b["response_format"]["schema"]["properties"])
    assert "prefixItems" not in plan["response_format"]["schema"]["properties"]["themes"]
    planned = {title: rationale for title, rationale, _, _ in PLANNED}
    shown = {p.title: p.rationale for p in page.placements}
    kept = [title for title in shown if title in planned]
    assert len(kept) >= 3, shown
    assert all(shown[title] == planned[title] for title in kept), "the model's rationales, not the code's"
    assert "Zebra Party Hats" not in shown, "a theme without a row of clear fits gives way"
    assert any("Zebra Party Hats" in str(m["content"]) for b in free_server.bodies for m in b["messages"]), \
        "it was planned and filled (its fill prompt names it), then dropped by the page rules"
    assert lm_made_share(page) >= 0.5, page.stats.fallbacks


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    for variable in [*ENV.values(), "THEMEPAGE_CONFIG"]:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)


def test_themes_setting_environment_over_file_over_the_models_form(monkeypatch, tmp_path, clean_environment):
    monkeypatch.setenv("OPENAI_API_KEY", "local")
    (tmp_path / "themepage.toml").write_text('[lm]\nmodel = "openai/qwen2.5-coder-1.5b"\nthemes = "free"\n')
    from_file = resolve_lm_settings()
    assert from_file.themes == "free"
    assert planner_form(lm_from_settings(from_file)) == "free", "the setting wins over the model's measured form"
    monkeypatch.setenv("THEMEPAGE_LM_THEMES", "slots")
    assert resolve_lm_settings().themes == "slots"
    monkeypatch.delenv("THEMEPAGE_LM_THEMES")
    (tmp_path / "themepage.toml").write_text('[lm]\nmodel = "openai/qwen2.5-coder-1.5b"\n')
    default = resolve_lm_settings()
    assert default.themes == "auto" and planner_form(lm_from_settings(default)) == "slots"


@pytest.mark.parametrize("where", ["env", "file"])
def test_a_bad_themes_value_names_its_source(monkeypatch, tmp_path, clean_environment, where):
    if where == "env":
        monkeypatch.setenv("THEMEPAGE_LM_THEMES", "grid")
        source = "THEMEPAGE_LM_THEMES"
    else:
        (tmp_path / "themepage.toml").write_text('[lm]\nthemes = "grid"\n')
        source = f"{tmp_path / 'themepage.toml'} [lm] themes"
    with pytest.raises(SettingsError) as caught:
        resolve_lm_settings()
    assert str(caught.value) == (f"LM setting themes (from {source}): Input should be 'auto', 'slots' or 'free'")


def test_the_cli_reports_a_bad_themes_value_as_one_error_line(monkeypatch, capsys, tmp_path, clean_environment):
    monkeypatch.setenv("OPENAI_API_KEY", "local")
    monkeypatch.setenv("THEMEPAGE_LM_THEMES", "grid")
    code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--lm", "openai/qwen2.5-coder-1.5b",
                             "--api-base", "http://127.0.0.1:9/v1")
    assert code == 2 and out == "" and "Traceback" not in err
    assert [line for line in err.splitlines() if line.strip()] == [
        "error: LM setting themes (from THEMEPAGE_LM_THEMES): Input should be 'auto', 'slots' or 'free'"]


def test_the_bench_counts_a_title_that_only_names_its_aisle_apart_from_a_theme(index):
    from bench.real_lm import names_one_aisle
    from themepage.page import Placement, ProductRef

    yogurt = next(p for p in index.catalog.product_ids if index.catalog.aisle(p) == "yogurt")

    def row(title: str) -> Placement:
        return Placement(title=title, products=[ProductRef(product_id=yogurt, name="y")])

    assert names_one_aisle(row("Your Yogurt Picks"), index) and names_one_aisle(row("Yogurt"), index)
    assert names_one_aisle(row("Your Yogurt Cups & Tubs"), index), "the aisle's label, as the page shows a raw name"
    assert not names_one_aisle(row("Fruit and Yogurt Parfait"), index)


def test_a_hosted_model_plans_free_themes_in_openais_schema_form(schema_server):  # noqa: F811
    """OpenAI's strict schemas take no prefixItems: the free form needs none, so a hosted model gets it there."""
    lm = mark_structured(dspy.LM("openai/gpt-4o-mini", api_base=schema_server.url, api_key="local", cache=False),
                         "json_schema", "free")
    with dspy.context(lm=lm, adapter=adapter_for(lm)):
        result = dspy.Predict(PlanThemes)(user_context=("Orders: 5.\nFavourite aisles (share of items, products): "
                                                        "fresh fruits 30% 4, coffee 10% 2"),
                                          objective_guidance="g", num_themes=2)
    fmt = schema_server.bodies[-1]["response_format"]
    themes = fmt["json_schema"]["schema"]["properties"]["themes"]
    assert fmt["type"] == "json_schema" and "prefixItems" not in themes
    assert themes["items"]["properties"]["title"]["maxLength"] == FREE_TITLE_CHARS
    assert len(result.themes) == 2 and all(t.aisles and t.queries for t in result.themes)


def test_the_free_planner_is_told_what_a_theme_is_and_the_other_forms_keep_the_signatures_line():
    from themepage.lm.structured import FREE_THEME_LINE
    from themepage.signatures.top_down import FillTheme

    free = StructuredAdapter("json_object", themes="free")
    assert FREE_THEME_LINE in free.format_system_message(PlanThemes)
    assert "not an aisle's name" in FREE_THEME_LINE and "attributes" not in free.format_system_message(PlanThemes)
    assert FREE_THEME_LINE not in StructuredAdapter("json_object").format_system_message(PlanThemes)
    assert FREE_THEME_LINE not in free.format_system_message(FillTheme), "the filler reads themes, it writes none"


@pytest.mark.parametrize("model, bare, shown", [
    ("openai/qwen2.5-coder-1.5b", "slots", "free"),
    ("/models/qwen2.5_coder_1.5b_instruct.gguf", "slots", "free"),
    ("openai/qwen2.5-coder-0.5b", "slots", "slots"),
    ("openai/smollm2", "slots", "slots"),
    ("openai/gpt-4o-mini", "free", "free"),
])
def test_a_packaged_model_whose_planner_holds_demos_answers_in_its_shown_form(model, bare, shown):
    assert resolve_planner_form("auto", model) == bare
    assert resolve_planner_form("auto", model, shown=True) == shown
    assert resolve_planner_form("slots", model, shown=True) == "slots", "an explicit form holds with demos too"
    adapter = adapter_for(mark_structured(dspy.LM(model, api_key="k"), "json_object"))
    assert (adapter.themes, adapter.themes_shown) == (bare, shown)


def test_a_planner_with_demos_is_asked_in_the_shown_form_and_without_in_the_bare_one(schema_server):  # noqa: F811
    context = ("Orders: 5.\nFavourite aisles (share of items, products): fresh fruits 30% 4, coffee 10% 2\n"
               "Frequent products: Banana 3/5")
    demo = dspy.Example(user_context=context, objective_guidance="g", num_themes=1, themes=[
        Theme(title="Fruit Salad", rationale="Fresh fruit for you.", queries=["melon"], aisles=["fresh fruits"])])
    lm = dspy.LM("openai/smollm2", api_base=schema_server.url, api_key="local", cache=False)
    adapter = StructuredAdapter("json_object", extra_aisles=[], themes="slots", themes_shown="free")
    plan = dspy.Predict(PlanThemes)
    with dspy.context(lm=lm, adapter=adapter):
        plan(user_context=context, objective_guidance="g", num_themes=1)
        bare = schema_server.bodies[-1]["response_format"]["schema"]["properties"]["themes"]
        plan.demos = [demo]
        plan(user_context=context, objective_guidance="g", num_themes=1)
        shown = schema_server.bodies[-1]["response_format"]["schema"]["properties"]["themes"]
    assert "prefixItems" in bare, "no demos: the bare form's aisle slots"
    assert "prefixItems" not in shown and "Fruit Salad" in str(schema_server.bodies[-1]["messages"]), \
        "with a demo: free themes, the demo shown"
    assert adapter.for_call(PlanThemes, []) is adapter
