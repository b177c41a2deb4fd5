"""Bottoms-up by shelf: rows of one aisle or one department, named after the page rules settle them; the offline
namer's titles say what the products are in the shopper-facing aisle labels."""

from __future__ import annotations

import dspy
import pytest
from test_bottoms_up_groups import _ids

from themepage.dataset.cases import evaluation_cases
from themepage.objectives import load_objective
from themepage.offline.namer import name
from themepage.offline.prompt import Prompt
from themepage.page import Placement, ProductRef
from themepage.programs.bottoms_up import BottomsUpProgram, named_rows
from themepage.programs.bottoms_up_rows import (
    LEFTOVER_TITLE,
    aisle_shelves,
    packed_shelves,
    shelf_drafts,
    with_leftover_row,
)
from themepage.programs.row_text import readable_title
from themepage.programs.rules.audit import page_violations
from themepage.programs.rules.shape import PageRules, RowDraft, is_catch_all_title
from themepage.wording.aisle_labels import AISLE_LABELS, readable_aisle


def _title(index, ids: list[int]) -> str:
    lines = "\n".join(f"{index.catalog.name(p)} | {index.catalog.aisle(p)}" for p in ids)
    prompt = Prompt(input_names=["products"], output_names=["title", "rationale"],
                    output_types={"title": "str", "rationale": "str"}, instruction="", inputs={"products": lines})
    return str(name(prompt, index)["title"])


def test_aisle_labels_live_in_the_core_and_programs_reexport_them():
    import themepage.wording.aisle_labels as shim

    assert shim.AISLE_LABELS is AISLE_LABELS and shim.readable_aisle is readable_aisle
    assert readable_aisle("nuts seeds dried fruit") == AISLE_LABELS["nuts seeds dried fruit"]


def test_namer_does_not_call_a_half_organic_fruit_row_organic(index):
    """A bank theme whose aisles hold the row but whose queries ("organic") name only half of it misleads."""
    ids = _ids(index, "Organic Hass Avocado", "Banana", "Honeycrisp Apple", "Organic Raspberries", "Bartlett Pears",
               "Watermelon Chunks", "Organic Kiwi", "Organic Granny Smith Apple")
    title = _title(index, ids)
    assert "organic" not in title.lower(), title


def test_namer_does_not_name_a_row_of_two_snack_aisles_after_one_of_them(index):
    """Five chips and three crackers: "Salty Chips & Pretzels" (one aisle's label, over 5 of 8) misleads."""
    ids = _ids(index, "Pub Mix", "Organic Simply Naked Pita Chips", "Tortilla Strips", "Plantain Chips",
               "Organic Tortilla Chips", "Organic Animal Crackers", "Wheat Thins Original", "Rosemary Crackers")
    title = _title(index, ids)
    assert title == "Snacks" or {"crackers", "chips"} <= set(title.lower().replace("&", " ").split()), title


def test_namer_names_a_one_aisle_row_with_its_readable_label(index):
    ids = _ids(index, "Pub Mix", "Sea Salt Brown Rice Crackers", "Organic Simply Naked Pita Chips", "Tortilla Strips",
               "Plantain Chips", "Pretzel Crisps Original Deli Style Pretzel Crackers", "Sea Salt Pita Chips",
               "Organic Tortilla Chips")
    title = _title(index, ids)
    assert title in {readable_aisle("chips pretzels"), "Chips"} or "chips" in title.lower(), title


def test_shelves_pack_one_department_and_keep_chosen_products_first(index):
    catalog = index.catalog
    ids = _ids(index, "Pub Mix", "Organic Fuji Apples", "Wheat Thins Original", "Banana", "Organic Tortilla Chips",
               "Organic Whole Milk", "Bartlett Pears")
    shelves = aisle_shelves(ids, 4, index)
    assert {len(s.aisles) for s in shelves} == {1}
    fruit = next(s for s in shelves if catalog.aisle(s.members[0]) == "fresh fruits")
    assert fruit.members == _ids(index, "Organic Fuji Apples", "Banana", "Bartlett Pears") and fruit.chosen == 2
    packed = packed_shelves(shelves, 8)
    snacks = next(s for s in packed if s.department == "snacks")
    assert sorted(catalog.aisle(p) for p in snacks.members) == ["chips pretzels", "chips pretzels", "crackers"]
    assert all(len({catalog.department(p) for p in s.members}) == 1 for s in packed)
    aisles = [a for s in packed for a in s.aisles]
    assert len(aisles) == len(set(aisles)), "no aisle in two rows"
    drafts = shelf_drafts(ids, 4, 8, index)
    snack_row = next(d.picks for d in drafts if ids[0] in d.picks)
    assert snack_row == _ids(index, "Pub Mix", "Wheat Thins Original", "Organic Tortilla Chips")


def test_a_shelf_holding_a_full_row_of_chosen_products_takes_no_partner(index):
    ids = _ids(index, "Pub Mix", "Organic Tortilla Chips", "Wheat Thins Original")
    packed = packed_shelves(aisle_shelves(ids, 3, index), 2)
    assert sorted(len(s.members) for s in packed) == [1, 2]


def test_named_rows_keep_one_catch_all_row_and_distinct_titles():
    rows = [Placement(title=f"Row {i}", rationale="Picked for you from the shop.",
                      products=[ProductRef(product_id=i, name="x")]) for i in range(3)]
    names = [("Your Weekly Staples", "Things you buy a lot."), ("Buy It Again", "Things you buy a lot again."),
             ("Your Weekly Staples", "Short.")]
    titles = [p.title for p in named_rows(rows, names)]
    assert titles == ["Your Weekly Staples", "Row 1", "Row 2"]
    assert named_rows(rows[:2], [("Fresh Fruit", "Fruit for the week ahead."), ("Fresh Fruit", "x")])[1].title == \
        "More Fresh Fruit"


def test_unknown_grouping_is_a_clear_error(index):
    with pytest.raises(ValueError, match="unknown grouping"):
        BottomsUpProgram(index, grouping="alphabetical")


@pytest.fixture(scope="module")
def shelf_pages(index, lm):
    program = BottomsUpProgram(index)
    assert program.grouping == "shelves"
    made = []
    with dspy.context(lm=lm):
        for objective in ("relevance", "discovery"):
            for case in evaluation_cases(index.histories, "all")[:8]:
                made.append((objective, case.history, program(user_id=case.user_id, history=case.history,
                                                              objective=objective).page))
    return made


def test_shelf_pages_keep_the_page_rules(index, shelf_pages):
    broken = {}
    for objective, history, page in shelf_pages:
        problems = page_violations(page.placements, PageRules.for_objective(load_objective(objective)), index,
                                   history)
        if problems:
            broken[objective, history.user_id] = problems
    assert not broken, broken


def test_shelf_rows_are_named_from_the_products_they_ended_up_with(index, shelf_pages):
    """Each title is the namer's answer for the row's final products (up to a "More " for a repeat); the
    catch-all row keeps its own title."""
    for _, _, page in shelf_pages:
        for placement in page.placements:
            if placement.title == LEFTOVER_TITLE:
                continue
            expected = readable_title(_title(index, [p.product_id for p in placement.products]))
            assert placement.title.removeprefix("More ") == expected or "fallback" in str(page.stats.fallbacks)


def test_shelf_rows_mostly_hold_one_department(index, shelf_pages):
    """Measured 0.99 on these pages; the kind-vector grouping averages 0.51-0.57 (tests/test_bottoms_up_groups)."""
    shares = []
    for _, _, page in shelf_pages:
        for placement in page.placements:
            if is_catch_all_title(placement.title):
                continue
            departments = [index.catalog.department(p.product_id) for p in placement.products]
            shares.append(max(departments.count(d) for d in departments) / len(departments))
    assert sum(shares) / len(shares) >= 0.9


def test_group_titles_stay_distinct_once_made_readable(index):
    """A namer's "Yogurt" (a raw aisle name) reads as "Yogurt Cups & Tubs": a second yogurt group once got the
    same title as the first after the page rules made it readable, and was dropped as a repeat."""
    from themepage.programs.bottoms_up_rows import group_drafts

    ids = _ids(index, "Fat Free Blueberry Yogurt", "Strawberry Rhubarb Yoghurt", "Total 0% Raspberry Yogurt",
               "Plain Whole Milk Yogurt")
    drafts = group_drafts([[0, 1], [2, 3]], [("Yogurt Cups & Tubs", "Cups."), ("Yogurt", "Tubs.")], ids, index)
    assert [readable_title(d.title) for d in drafts] == ["Yogurt Cups & Tubs", "More Yogurt Cups & Tubs"]


def test_the_leftover_row_keeps_the_chosen_products_no_shelf_row_shows():
    """Rows 3, shelves of 2: the first two drafts show 1, 2 and 5, 6; chosen 1..6 leave 3 and 4 to the
    catch-all, which comes third, before the remaining drafts."""
    drafts = [RowDraft("A", "a.", [1, 2, 9]), RowDraft("B", "b.", [5, 6]), RowDraft("C", "c.", [3, 4])]
    rows = with_leftover_row(drafts, [1, 2, 3, 4, 5, 6], rows=3, size=2)
    assert [d.title for d in rows] == ["A", "B", LEFTOVER_TITLE, "C"]
    assert (rows[2].picks, rows[2].pool) == ([3, 4], [])
    assert is_catch_all_title(LEFTOVER_TITLE)
    assert with_leftover_row(drafts, [1, 2, 5], rows=3, size=2) == drafts


def test_a_next_basket_objective_leads_with_the_likeliest_chosen_products(index, shelf_pages):
    """Under relevance the first row is the catch-all (of the chosen products, likeliest first); under
    discovery the catch-all, if any, holds leftovers and never leads."""
    for objective, _, page in shelf_pages:
        titles = [p.title for p in page.placements]
        assert titles.count(LEFTOVER_TITLE) <= 1
        if objective == "relevance":
            assert titles[0] == LEFTOVER_TITLE
        else:
            assert titles[0] != LEFTOVER_TITLE
