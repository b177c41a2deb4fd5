"""Top-down prompts stay small: FillTheme carries no user context (the offline filler reads the shopper from the
candidates' purchase marks), and each call states its output format once."""

from __future__ import annotations

import dspy
import numpy as np
import pytest

from themepage.dataset.history import Order, UserHistory
from themepage.lm.adapter import MemoChatAdapter
from themepage.offline.reading import read_candidates, shopper_from_marks
from themepage.page import Theme
from themepage.programs.fill_lines import render_fill_candidates
from themepage.programs.retrieval import history_note, purchase_mark
from themepage.signatures.top_down import FillTheme, PlanThemes

GUIDANCE = "Relevance: put what this shopper buys again and again on the page."


def _aisle_products(index, aisle: str, n: int) -> list[int]:
    return [p for p in index.popular(5000) if index.catalog.aisle(p) == aisle][:n]


def test_fill_theme_takes_no_user_context():
    assert "user_context" not in FillTheme.input_fields
    assert "times bought/orders" in str(FillTheme.input_fields["candidates"].json_schema_extra)


def test_shopper_from_marks_keeps_the_bought_shares_and_their_taste(index):
    a, b, c = _aisle_products(index, "soft drinks", 3)
    lines = f"{a} | A | soft drinks | bought 6/8, last order\n{b} | B | soft drinks | new\n" \
            f"{c} | C | soft drinks | bought 2/8, 3 orders ago"
    shopper = shopper_from_marks(read_candidates(lines, index), index)
    assert shopper.product_share == {a: pytest.approx(0.75), c: pytest.approx(0.25)}
    expected = 0.75 * index.vectors[index.rows([a])[0]] + 0.25 * index.vectors[index.rows([c])[0]]
    assert shopper.profile is not None
    assert np.allclose(shopper.profile, expected / np.linalg.norm(expected), atol=1e-5)


def test_shopper_from_marks_of_new_products_only_is_a_new_shopper(index):
    a, b = _aisle_products(index, "soft drinks", 2)
    shopper = shopper_from_marks(read_candidates(f"{a} | A | soft drinks | new\n{b} | B | soft drinks | new", index),
                                 index)
    assert shopper.is_new and shopper.profile is None


def test_the_filler_puts_the_most_bought_candidates_first_from_their_marks(index, lm):
    dspy.configure(lm=lm, adapter=dspy.ChatAdapter())
    ids = _aisle_products(index, "soft drinks", 6)
    marks = {ids[5]: "bought 9/10, last order", ids[3]: "bought 4/10, 2 orders ago"}
    lines = "\n".join(f"{p} | {index.catalog.name(p)} | soft drinks | {marks.get(p, 'new')}" for p in ids)
    theme = Theme(title="Your Soft Drinks", queries=["soda"], aisles=["soft drinks"], from_history=True)
    picks = dspy.Predict(FillTheme)(theme=theme, objective_guidance=GUIDANCE, candidates=lines,
                                    num_products=4).product_ids
    assert picks[:2] == [ids[5], ids[3]]


def test_the_output_order_is_stated_once_per_call_in_the_user_turn():
    theme = Theme(title="Soft Drinks", queries=["soda"], aisles=["soft drinks"])
    system, user = MemoChatAdapter().format(FillTheme, [], dict(theme=theme, objective_guidance=GUIDANCE,
                                                                candidates="1 | A | b | new", num_products=1))
    assert "Respond with" not in system["content"] and "[[ ##" not in system["content"]
    assert user["content"].count("[[ ## product_ids ## ]]") == 1
    assert user["content"].endswith("Respond with `[[ ## product_ids ## ]]` (list[int]), then `[[ ## completed ## ]]`.")


def test_a_system_message_is_the_field_lists_the_output_models_and_the_instruction():
    adapter = MemoChatAdapter()
    fill = adapter.format_system_message(FillTheme)
    assert fill == f"{adapter.format_field_description(FillTheme)}\n{adapter.format_task_description(FillTheme)}"
    assert fill.endswith(f"Your objective is: {FillTheme.instructions.strip()}")
    plan = adapter.format_system_message(PlanThemes).splitlines()
    assert [line for line in plan if line.startswith("Theme = JSON {")], "an output model is described in one line"


def test_fill_lines_have_no_aisle_and_the_engine_reads_it_from_the_catalog(index):
    history = index.histories.get(1)
    bought = max(history.product_counts, key=history.product_counts.get)
    fresh = next(p for p in index.popular(200) if p not in history.product_counts)
    text = render_fill_candidates([bought, fresh], index, history)
    lines = text.splitlines()
    assert lines[0] == f"{bought} | {index.catalog.name(bought)} | {purchase_mark(bought, history)}"
    assert lines[1] == f"{fresh} | {index.catalog.name(fresh)}", "a never-bought product has no mark"
    read = read_candidates(text, index)
    assert [c.aisle for c in read] == [index.catalog.aisle(bought), index.catalog.aisle(fresh)]
    assert read[0].bought_share == pytest.approx(history.product_counts[bought] / len(history.orders))
    assert read[1].bought_share == 0


def test_the_purchase_mark_is_the_history_note_without_its_words():
    baskets = [(1, 2), (1, 2), (1,), (1,)]  # 1 in every order; 2 last bought two orders before the last
    history = UserHistory(user_id=7, orders=tuple(
        Order(order_id=i, order_number=i + 1, dow=1, hour=9, days_since_prior=None if i == 0 else 7.0,
              products=basket) for i, basket in enumerate(baskets)))
    assert purchase_mark(1, history) == "4/4, last order"
    assert purchase_mark(2, history) == "2/4, 2 orders ago"
    assert purchase_mark(3, history) == ""
    assert history_note(2, history) == "bought 2/4, 2 orders ago"
    assert history_note(3, history) == "new"


def test_bare_marks_are_read_as_purchase_history_and_aisles_with_digits_are_not(index):
    a, b = _aisle_products(index, "soft drinks", 2)
    first, second = read_candidates(f"{a} | A | 6/8, last order\n{b} | B | 24/7 deli", index)
    assert (first.bought_share, first.recency) == (pytest.approx(0.75), pytest.approx(1.0))
    assert first.aisle == "soft drinks", "the catalog's aisle, as the line has none"
    assert (second.aisle, second.bought_share) == ("24/7 deli", 0)
    [old] = read_candidates(f"{a} | A | soft drinks | bought 2/8, 3 orders ago", index)
    assert (old.bought_share, old.recency) == (pytest.approx(0.25), pytest.approx(1 - 3 / 8))


def test_a_four_column_line_still_reads_its_own_aisle(index):
    [candidate] = read_candidates("196 | Soda | my aisle | bought 2/4, last order", index)
    assert candidate.aisle == "my aisle" and candidate.bought_share == pytest.approx(0.5)

