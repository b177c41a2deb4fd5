"""Top-down pages for every bundled shopper under every objective: the page rules hold on each, discovery
themes come from each shopper's own neighbourhood, healthy pages open healthy, relevance pages open with regulars."""

from __future__ import annotations

from collections import Counter

import dspy
import pytest

from themepage.lm.plug import make_lm
from themepage.objectives import load_objective, objective_names
from themepage.programs.rules.audit import page_violations
from themepage.programs.rules.shape import PageRules
from themepage.programs.top_down import TopDownProgram, is_healthy


@pytest.fixture(scope="module")
def pages(index):
    """(objective, history, prediction) for the 33 bundled users x 4 objectives, uncompiled, offline."""
    lm = make_lm("offline", index, cache=False)
    made = []
    with dspy.context(lm=lm):
        for objective in objective_names():
            program = TopDownProgram(index, objective=objective)
            for user_id in index.histories.user_ids:
                history = index.histories.get(user_id)
                made.append((objective, history, program(user_id=user_id, history=history)))
    return made


def test_every_page_keeps_every_rule(index, pages):
    assert len(pages) == 4 * len(index.histories.user_ids) == 132
    for objective, history, prediction in pages:
        rules = PageRules.for_objective(load_objective(objective))
        page = prediction.page
        assert len(page.placements) == rules.placements, (objective, history.user_id)
        assert page_violations(page.placements, rules, index, history) == [], (objective, history.user_id)


def test_no_discovery_theme_on_more_than_a_quarter_of_the_pages(pages):
    shown = Counter(p.title for objective, _, prediction in pages if objective == "discovery"
                    for p in prediction.page.placements)
    users = sum(objective == "discovery" for objective, _, _ in pages)
    assert max(shown.values()) <= users / 4, shown.most_common(5)


def test_library_theme_rows_hold_what_their_queries_find(index, monkeypatch):
    """On discovery pages every row of a library theme holds only what its queries found (the aisles' best sellers
    are not what the title names); the drafts handed to the page rules are read as they pass."""
    from themepage.programs import top_down

    drafts = []

    def spied(queue, *args, **kwargs):
        return top_down_rules(_recorded(queue, drafts), *args, **kwargs)

    top_down_rules = top_down.apply_page_rules
    monkeypatch.setattr(top_down, "apply_page_rules", spied)
    program = TopDownProgram(index, objective="discovery")
    rows = bounded = 0
    with dspy.context(lm=make_lm("offline", index, cache=False)):
        for user_id in index.histories.user_ids[:8]:
            drafts.clear()
            page = program(user_id=user_id, history=index.histories.get(user_id)).page
            for placement in page.placements:
                rows += 1
                bounds = [d.found for d in drafts if d.title == placement.title and d.found is not None]
                if not bounds:
                    continue
                bounded += 1
                outside = min(sum(p.product_id not in found for p in placement.products) for found in bounds)
                assert outside == 0, (user_id, placement.title)
    assert bounded >= rows / 2, (bounded, rows)


def _recorded(queue, drafts: list):
    for draft in queue:
        drafts.append(draft)
        yield draft


def test_healthy_pages_open_with_a_healthy_theme(pages):
    for objective, history, prediction in pages:
        if objective == "healthy":
            first = prediction.themes[0]
            assert is_healthy(first), (history.user_id, first.title, first.aisles)


def test_relevance_pages_open_with_the_likeliest_products_in_order(pages):
    for objective, history, prediction in pages:
        if objective == "relevance":
            row = [p.product_id for p in prediction.page.placements[0].products]
            ranked = history.top_products()
            assert row[0] == ranked[0], history.user_id
            assert all(p in history.product_counts for p in row), history.user_id
            assert row == sorted(row, key=ranked.index), history.user_id


def test_rows_the_code_made_take_retrieval_order_without_lm_calls(index):
    """The regulars row and a short plan's retrieval themes are not the LM's rows whatever it picks, so no fill or
    filter call is spent on them (a real model paid ~800 prompt tokens a row); nor on a regulars theme the planner
    planned (its row lists the shopper's regulars whatever the filler picks); a planned aisle theme still is filled."""
    from themepage.lm.runtime import RunRecord
    from themepage.page import Theme
    from themepage.programs.top_down import REGULARS_THEME, fallback_themes

    program = TopDownProgram(index)
    history = index.histories.get(7)
    config = load_objective("relevance")
    lm = make_lm("offline", index, cache=False)
    planned_regulars = Theme(title="Your Weekly Staples", rationale="From your own orders.", from_history=True)
    code_themes = [REGULARS_THEME, *fallback_themes(index, history, 2), planned_regulars]
    with dspy.context(lm=lm):
        for theme in code_themes:
            record = RunRecord()
            draft = program._place(theme, history, config, record)
            assert draft.picks and not record.fallbacks
        assert len(lm.history) == 0
        program._place(Theme(title="Fresh Fruit", aisles=["fresh fruits"]), history, config, RunRecord())
    assert len(lm.history) == 2  # the planned theme: one fill, one filter
