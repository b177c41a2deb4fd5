"""Slot schemas for the planner: disjoint aisles, titles that name them, the regulars slot first, and a grammar
llama.cpp accepts."""

import json
import re

from optional_extras import require_module

from themepage.lm.plan_slots import REGULARS_TITLES, anchor_groups, slot_themes
from themepage.programs.rules.shape import is_catch_all_title
from themepage.wording.aisle_titles import aisle_keywords, aisles_in_lines, title_pattern

FIELDS = {"title": {"type": "string", "maxLength": 84}, "rationale": {"type": "string", "maxLength": 80}}
AISLES = ["yogurt", "fresh fruits", "chips pretzels", "tea", "lunch meat"]


def anchors(slot: dict) -> list[str]:
    return [option["properties"]["aisles"]["prefixItems"][0]["const"] for option in slot["anyOf"]]


def test_anchor_groups_deal_the_aisles_round_robin_into_disjoint_groups():
    assert anchor_groups(AISLES, 3) == [["yogurt", "tea"], ["fresh fruits", "lunch meat"], ["chips pretzels"]]
    assert anchor_groups(AISLES[:2], 4) == [["yogurt"], ["fresh fruits"]], "never an empty group"
    assert anchor_groups([], 4) == []


def test_a_shopper_with_a_history_gets_the_regulars_slot_first_then_one_aisle_of_their_own_group_each():
    slots = slot_themes(AISLES, 4, True, FIELDS)
    assert len(slots) == 4
    regulars = slots[0]["properties"]
    assert regulars["aisles"] == {"type": "array", "prefixItems": []} and regulars["from_history"] == {"const": True}
    assert regulars["title"]["enum"] == list(REGULARS_TITLES)
    assert [anchors(slot) for slot in slots[1:]] == [["yogurt", "tea"], ["fresh fruits", "lunch meat"],
                                                     ["chips pretzels"]]
    tea = slots[1]["anyOf"][1]["properties"]
    assert list(tea) == ["aisles", "title", "rationale", "from_history"], "the aisle first, the title after it"
    assert re.match(tea["title"]["pattern"], "Your Tea Picks") and not re.match(tea["title"]["pattern"], "Yogurt")
    assert tea["rationale"] == FIELDS["rationale"]


def test_regulars_titles_are_catch_all_titles():
    """The page rules read a regulars row's intent from its title: each must read as the shopper's catch-all."""
    assert all(is_catch_all_title(title) for title in REGULARS_TITLES)


def test_a_new_shopper_has_no_regulars_slot_and_extra_slots_take_any_aisle():
    slots = slot_themes(AISLES[:2], 3, False, FIELDS)
    assert [anchors(slot) for slot in slots] == [["yogurt"], ["fresh fruits"], AISLES[:2]]


def test_aisle_keywords_say_what_the_aisle_holds_in_both_numbers():
    assert aisle_keywords("fresh vegetables") == ["Vegetables", "Vegetable", "Veg"]
    assert aisle_keywords("breakfast bars pastries") == ["Breakfast", "Bars", "Bar", "Pastries", "Pastry", "Morning"]
    assert aisle_keywords("fresh herbs") == ["Herbs", "Herb", "Bunches", "Bunch"]
    assert "Soft" not in aisle_keywords("soft drinks") and "Sodas" in aisle_keywords("soft drinks")
    assert aisle_keywords("refrigerated"), "an aisle of unspecific words keeps them rather than none"


def test_title_pattern_takes_readable_titles_about_the_aisle_only():
    pattern = re.compile(title_pattern(["chips pretzels"]))
    for title in ("Chips & Pretzels", "Your Chip Picks", "Salty Chips & Pretzels", "Easy Pretzels & More"):
        assert pattern.match(title), title
    for title in ("Bakery", "Chips Pretzels Chips", "chips", "Chips 10/29", "Buglii Agoi Chips", "Soft Shelf"):
        assert not pattern.match(title), title


def test_a_row_of_several_aisles_may_be_titled_by_any_two_of_their_keywords_or_a_label():
    pattern = re.compile(title_pattern(["fresh fruits", "fresh vegetables"]))
    for title in ("Fruit & Veg", "Your Fresh Fruit", "Vegetables", "Fresh Veg Staples"):
        assert pattern.match(title), title
    assert not pattern.match("Fruit & Veg & Herbs") and not pattern.match("Cheese")


def test_the_namer_names_the_aisles_of_its_product_lines():
    lines = "Banana | fresh fruits\nKale | fresh vegetables\nKale Chips | not an aisle\nPlain line"
    assert aisles_in_lines(lines) == ["fresh fruits", "fresh vegetables"]
    assert aisles_in_lines(None) == []


def test_llama_cpp_turns_the_slots_into_a_fixed_sequence():
    """llama-cpp-python falls back to any JSON when it cannot convert a schema: this one must convert."""
    json_schema_to_gbnf = require_module("llama_cpp.llama_grammar", "pip install -e '.[local]'").json_schema_to_gbnf

    schema = {"type": "object", "properties": {"themes": {"type": "array", "prefixItems": slot_themes(
        AISLES, 3, True, FIELDS)}}, "required": ["themes"], "additionalProperties": False}
    grammar = json_schema_to_gbnf(json.dumps(schema))
    assert 'themes ::= "[" space themes-tuple-0 "," space themes-tuple-1 "," space themes-tuple-2 "]"' in grammar
    assert 'themes-tuple-0-aisles ::= "[" space  "]" space' in grammar
    assert '"\\"Buy It Again\\""' in grammar
    assert "\\ " not in grammar, "no regex escapes copied into the grammar's literals"
