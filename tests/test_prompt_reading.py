"""Reading prompts the way the offline engine does: fields, instruction, inputs, demos, shopper, candidates.

The prompts are written by DSPy's own adapters (`format(signature, demos, inputs)`), so a
change in how DSPy lays out a prompt shows up here first.
"""

from __future__ import annotations

from collections import Counter

import dspy
import numpy as np
import pytest
from pydantic import BaseModel

from themepage.dataset.history import Order, UserHistory
from themepage.offline.prompt import parse_outputs, parse_prompt, sections
from themepage.offline.reading import read_candidates, read_shopper, read_theme
from themepage.page import Theme
from themepage.programs.retrieval import render_candidates
from themepage.signatures.bottoms_up import GenerateItems, NamePlacement
from themepage.signatures.top_down import FillTheme, FilterTheme, PlanThemes
from themepage.wording.user_context import (
    ALWAYS_LISTED_AISLES,
    FAVOURITE_AISLES,
    FREQUENT_PRODUCTS,
    MIN_LISTED_SHARE,
    NEW_SHOPPER,
    RECENT_PRODUCTS,
    describe_user,
)

ADAPTERS = {"chat": dspy.ChatAdapter, "json": dspy.JSONAdapter}
THEME = Theme(title="Easy Pasta Night", rationale="You buy pasta often.", queries=["spaghetti", "marinara"],
              aisles=["dry pasta", "pasta sauce"])
CONTEXT = "Orders: 3, about every 7 days, usually Monday mornings.\nFavourite aisles: dry pasta (50%, 2 products)"
INPUTS = {
    PlanThemes: dict(user_context=CONTEXT, objective_guidance="Relevance first.", num_themes=6),
    FillTheme: dict(theme=THEME, objective_guidance="Relevance first.",
                    candidates="1 | Spaghetti | dry pasta | new to you\n2 | Marinara | pasta sauce | new to you",
                    num_products=2),
    FilterTheme: dict(theme=THEME, products="1 | Spaghetti | dry pasta\n2 | Marinara | pasta sauce"),
    GenerateItems: dict(user_context=CONTEXT, objective_guidance="Relevance first.",
                        candidates="1 | Spaghetti | dry pasta | bought 2 of 3 orders, last order", num_products=1),
    NamePlacement: dict(products="Spaghetti | dry pasta\nMarinara | pasta sauce"),
}
OUTPUTS = {
    PlanThemes: dict(themes=[THEME]),
    FillTheme: dict(product_ids=[2, 1]),
    FilterTheme: dict(kept_ids=[1]),
    GenerateItems: dict(product_ids=[1]),
    NamePlacement: dict(title="Pasta Night", rationale="Everything for a quick pasta dinner."),
}
SIGNATURES = list(INPUTS)


def _inputs_for(signature) -> dict:
    """The sample inputs, limited to the fields the signature has (signatures may gain or lose inputs)."""
    return {k: v for k, v in INPUTS[signature].items() if k in signature.input_fields}


def _jsonable(value):
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _as_turns(messages: list[dict]) -> tuple[str, list[tuple[str, str]]]:
    assert messages[0]["role"] == "system"
    return messages[0]["content"], [(m["role"], m["content"]) for m in messages[1:]]


def _expected_text(value) -> str:
    if isinstance(value, Theme):
        return value.model_dump_json()
    return str(value)


# ----- parse_prompt on real adapter output --------------------------------------------------------

@pytest.mark.parametrize("adapter_name", sorted(ADAPTERS))
@pytest.mark.parametrize("signature", SIGNATURES, ids=lambda s: s.__name__)
def test_fields_instruction_and_inputs(signature, adapter_name):
    inputs = _inputs_for(signature)
    system, turns = _as_turns(ADAPTERS[adapter_name]().format(signature, [], inputs))
    prompt = parse_prompt(system, turns)
    assert prompt.input_names == list(signature.input_fields)
    assert prompt.output_names == list(signature.output_fields)
    assert prompt.signature_key == frozenset(signature.output_fields)
    assert prompt.instruction == " ".join(signature.instructions.split())
    assert prompt.json_mode is (adapter_name == "json")
    assert set(prompt.inputs) == set(inputs)
    for name, value in inputs.items():
        text = prompt.inputs[name]
        assert "Respond with" not in text, f"{name} kept the adapter's trailer"
        if isinstance(value, Theme):
            assert Theme.model_validate_json(text) == value
        else:
            assert text == _expected_text(value)
    assert prompt.demos == []


@pytest.mark.parametrize("adapter_name", sorted(ADAPTERS))
def test_output_types_are_read(adapter_name):
    system, turns = _as_turns(ADAPTERS[adapter_name]().format(FilterTheme, [], _inputs_for(FilterTheme)))
    prompt = parse_prompt(system, turns)
    assert prompt.output_types == {"kept_ids": "list[int]"}


@pytest.mark.parametrize("adapter_name", sorted(ADAPTERS))
@pytest.mark.parametrize("signature", SIGNATURES, ids=lambda s: s.__name__)
def test_demos_are_read(signature, adapter_name):
    demo_inputs = dict(_inputs_for(signature))
    for key in ("user_context", "products"):
        if key in demo_inputs:
            demo_inputs[key] = demo_inputs[key] + "\n(demo)"
    demo = dspy.Example(**demo_inputs, **OUTPUTS[signature])
    current = _inputs_for(signature)
    system, turns = _as_turns(ADAPTERS[adapter_name]().format(signature, [demo, demo], current))
    prompt = parse_prompt(system, turns)
    assert len(prompt.demos) == 2
    read_inputs, read_outputs = prompt.demos[0]
    assert set(read_inputs) == set(demo_inputs)
    for key in ("user_context", "products"):
        if key in demo_inputs:
            assert read_inputs[key] == demo_inputs[key]
            assert prompt.inputs[key] == current[key], "the current inputs are the last user turn, not a demo's"
    assert read_outputs == _jsonable(OUTPUTS[signature])


def test_the_trailer_is_stripped_but_input_text_is_kept():
    context = CONTEXT + "\nNote: respond with care."
    system, turns = _as_turns(dspy.ChatAdapter().format(PlanThemes, [], dict(
        user_context=context, objective_guidance="Relevance first.", num_themes=6)))
    prompt = parse_prompt(system, turns)
    assert prompt.inputs["user_context"] == context
    assert prompt.inputs["num_themes"] == "6"


def test_an_edited_instruction_is_read_back():
    instruction = "Plan themes. Help the shopper discover new products they have never tried."
    signature = PlanThemes.with_instructions(instruction)
    system, turns = _as_turns(dspy.ChatAdapter().format(signature, [], _inputs_for(PlanThemes)))
    assert parse_prompt(system, turns).instruction == instruction


def test_a_request_without_a_user_turn_is_refused():
    system, _ = _as_turns(dspy.ChatAdapter().format(NamePlacement, [], _inputs_for(NamePlacement)))
    with pytest.raises(ValueError, match="no user message"):
        parse_prompt(system, [])


def test_sections_and_outputs():
    text = "[[ ## title ## ]]\nPasta Night\n\n[[ ## rationale ## ]]\nQuick.\n\n[[ ## completed ## ]]\n"
    assert sections(text) == {"title": "Pasta Night", "rationale": "Quick."}
    assert parse_outputs(text, ["title", "rationale"]) == {"title": "Pasta Night", "rationale": "Quick."}
    assert parse_outputs('{"product_ids": [3, 1]}', ["product_ids"]) == {"product_ids": [3, 1]}
    assert parse_outputs("[[ ## product_ids ## ]]\n[3, 1]", ["product_ids"]) == {"product_ids": [3, 1]}
    assert parse_outputs("[[ ## other ## ]]\n[3]", ["product_ids"]) == {}


# ----- the shopper, from a real describe_user ----------------------------------------------------

@pytest.mark.parametrize("which", [0, 5, 17, -1])
def test_read_shopper_recovers_the_summary(index, which):
    history = index.histories.get(index.histories.user_ids[which])
    text = describe_user(history, index)
    shopper = read_shopper(text, index)
    catalog = index.catalog
    items = [p for order in history.orders for p in order.products]
    per_aisle = Counter(catalog.aisle(p) for p in items)
    distinct = Counter(catalog.aisle(p) for p in history.product_counts)
    listed = [a for k, (a, n) in enumerate(per_aisle.most_common(FAVOURITE_AISLES))
              if k < ALWAYS_LISTED_AISLES or n / len(items) >= MIN_LISTED_SHARE]
    assert len(shopper.aisle_shares) == len(listed), text
    top_aisles = [a for a, _ in per_aisle.most_common(len(shopper.aisle_shares))]
    assert set(shopper.aisle_shares) == set(top_aisles)
    for aisle, share in shopper.aisle_shares.items():
        assert share == pytest.approx(per_aisle[aisle] / len(items), abs=0.005 + 1e-9)
        assert shopper.aisle_products[aisle] == distinct[aisle]
    frequent = history.top_products(FREQUENT_PRODUCTS)
    assert set(shopper.product_share) == set(frequent)
    for pid, share in shopper.product_share.items():
        assert share == pytest.approx(history.product_counts[pid] / len(history.orders))
    assert shopper.recent == set(history.orders[-1].products[:RECENT_PRODUCTS])
    assert shopper.profile is not None and np.linalg.norm(shopper.profile) == pytest.approx(1.0, abs=1e-5)
    assert not shopper.is_new and shopper.store == "grocery store"


def test_read_shopper_of_a_new_shopper(index):
    shopper = read_shopper(NEW_SHOPPER, index)
    assert shopper.is_new and shopper.profile is None and not shopper.recent
    assert describe_user(UserHistory(user_id=0), index) == f"Store: grocery store.\n{NEW_SHOPPER}"
    assert read_shopper(describe_user(UserHistory(user_id=0), index), index).is_new


def test_read_shopper_ignores_text_that_is_not_a_summary(index):
    shopper = read_shopper("Favourite aisles: \nFrequent products: Not A Real Product (3/4)\nhello", index)
    assert shopper.is_new and shopper.profile is None


def test_read_shopper_finds_products_whose_names_contain_a_semicolon(index):
    """Names such as 'Reg; Organic Apple Cider Vinegar 16 Fl Oz' are in the catalog; the summary must still
    be readable for them. (A regression test: the reader once split the product list on '; '.)"""
    named = [pid for pid, name in zip(index.catalog.product_ids.tolist(), index.catalog.names) if "; " in name][:2]
    plain = index.popular(2)
    assert named, "the bundled catalog has names with '; '"
    orders = tuple(Order(order_id=900 + i, order_number=i + 1, dow=1, hour=10,
                         days_since_prior=None if i == 0 else 7.0, products=tuple(named + plain))
                   for i in range(3))
    history = UserHistory(user_id=99999, orders=orders)
    shopper = read_shopper(describe_user(history, index), index)
    assert set(shopper.product_share) == set(named + plain)
    assert shopper.recent == set(named + plain)


# ----- candidates and themes ---------------------------------------------------------------------

def test_read_candidates_parses_history_notes():
    text = "\n".join([
        "11 | Organic Bananas | fresh fruits | bought 3 of 11 orders, last 2 orders ago",
        "12 | Whole Milk | milk | bought 11 of 11 orders, last order",
        "13 | Kale | fresh vegetables | new to you",
        "14 | Plain Name",
        "",
        "not a candidate line",
        "abc | Fake | aisle | bought 1 of 1 orders, last order",
        "| 15 | Shifted | aisle",
        "   16   |  Spaced  |  snacks  ",
    ])
    found = read_candidates(text)
    assert [c.product_id for c in found] == [11, 12, 13, 14, 16]
    bananas, milk, kale, plain, spaced = found
    assert (bananas.name, bananas.aisle) == ("Organic Bananas", "fresh fruits")
    assert bananas.bought_share == pytest.approx(3 / 11)
    assert bananas.recency == pytest.approx(1 - 2 / 11)
    assert milk.bought_share == pytest.approx(1.0) and milk.recency == pytest.approx(1.0)
    assert kale.bought_share == 0 and kale.recency == 0
    assert (plain.name, plain.aisle, plain.bought_share) == ("Plain Name", "", 0)
    assert (spaced.name, spaced.aisle) == ("Spaced", "snacks")


def test_read_candidates_round_trips_render_candidates(index):
    history = index.histories.get(index.histories.user_ids[2])
    pool = index.candidates_for_user(history, 60)
    found = read_candidates(render_candidates(pool, index, history))
    assert [c.product_id for c in found] == pool
    for candidate in found:
        assert candidate.name == index.catalog.name(candidate.product_id)
        assert candidate.aisle == index.catalog.aisle(candidate.product_id)
        expected = history.product_counts.get(candidate.product_id, 0) / len(history.orders)
        assert candidate.bought_share == pytest.approx(expected)
        assert 0.0 <= candidate.recency <= 1.0
        assert (candidate.recency > 0) == (candidate.product_id in history.product_counts)
    # without a history the lines have no purchase notes
    assert [c.bought_share for c in read_candidates(render_candidates(pool, index))] == [0.0] * len(pool)


def test_read_theme():
    assert read_theme(THEME.model_dump_json()) == THEME
    assert read_theme("Weeknight Dinners").title == "Weeknight Dinners"
    assert read_theme("").title.strip()
    assert read_theme('{"no_title": 1}').title.strip()
