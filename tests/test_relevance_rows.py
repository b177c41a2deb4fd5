"""Under a next-basket objective (relevance) top-down's rows hold the shopper's likeliest products: the offline
planner plans history themes covering the aisles they buy most, the code orders themes by how much of the
shopper's buying their rows hold, and each row leads with the shopper's products of its aisles."""

from __future__ import annotations

import dspy
import pytest

from themepage.dataset.history import Order, UserHistory
from themepage.library.regulars_plan import asks_for_regulars, cover, regulars_plan, repeats_intent, row_mass
from themepage.library.shopper import Shopper
from themepage.lm.adapter import MemoChatAdapter
from themepage.objectives import load_objective, objective_names
from themepage.objectives.config import Constraints
from themepage.offline.steering import steer
from themepage.page import Theme
from themepage.programs.relevance_rows import LEAD_RESERVED, by_own_mass, own_products, reserve_for_lead, with_row_sizes
from themepage.programs.rules.shape import RowDraft, is_catch_all_title
from themepage.programs.top_down import TopDownProgram, leads_with_regulars


def test_row_mass_takes_the_row_slots_likeliest_products():
    # yogurt: 0.20 over 4 products (0.05 each); milk: 0.10 over 10 (0.01 each): 4 x 0.05 + 4 x 0.01
    shelves = {"yogurt": (0.20, 4), "milk": (0.10, 10)}
    assert row_mass(["yogurt", "milk"], shelves) == pytest.approx(0.24)
    assert row_mass(["milk"], shelves) == pytest.approx(0.08)
    assert row_mass(["cereal"], shelves) == 0.0


def test_cover_removes_what_a_row_shows():
    left = cover(["yogurt", "milk"], {"yogurt": (0.20, 4), "milk": (0.10, 10)})
    assert set(left) == {"milk"}
    assert left["milk"][0] == pytest.approx(0.06)
    assert left["milk"][1] == 6


@pytest.mark.parametrize("objective", objective_names())
def test_only_relevance_asks_for_regulars(objective):
    config = load_objective(objective)
    assert asks_for_regulars(steer("", config.guidance)) == (objective == "relevance")
    # cohesive weighs recall@48 most too, so its rows lead with regulars as well (as its page opens with them)
    assert leads_with_regulars(config) == (objective in ("relevance", "cohesive"))


def test_regulars_plan_covers_the_heaviest_aisle_after_the_catch_all():
    shopper = Shopper(aisle_shares={"yogurt": 0.05, "cat food care": 0.30},
                      aisle_products={"yogurt": 2, "cat food care": 10}, product_share={1: 0.5})
    ranked = [{"title": "Movie Night In", "aisles": ["popcorn jerky"], "from_history": False},
              {"title": "Buy It Again", "aisles": [], "from_history": True}]
    plan = regulars_plan(shopper, ranked, 4)
    titles = [t["title"] for t in plan]
    assert titles[0] == "Buy It Again"
    assert "cat food care" in plan[1]["aisles"] and plan[1]["from_history"], titles
    assert "yogurt" in plan[2]["aisles"] and plan[2]["from_history"]
    assert titles[3] == "Movie Night In"  # the usual ranking's themes follow, as spares


def test_regulars_plan_covers_every_slot_it_is_asked_for():
    # seven aisles a shopper buys about equally: every theme after the catch-all covers some of them (the plan
    # once stopped covering after four and filled the rest from the usual ranking)
    aisles = ["yogurt", "cereal", "bread", "fresh dips tapenades", "soft drinks", "cat food care", "lunch meat"]
    shopper = Shopper(aisle_shares=dict.fromkeys(aisles, 0.1), aisle_products=dict.fromkeys(aisles, 8),
                      product_share={1: 0.5})
    ranked = [{"title": "Buy It Again", "aisles": [], "from_history": True},
              {"title": "Movie Night In", "aisles": ["popcorn jerky"], "from_history": False}]
    plan = regulars_plan(shopper, ranked, 8)
    assert len(plan) == 8 and plan[0]["title"] == "Buy It Again"
    assert all(t["from_history"] and set(t["aisles"]) & set(aisles) for t in plan[1:]), [t["title"] for t in plan]
    covered = {a for t in plan[1:] for a in t["aisles"]}
    assert set(aisles) <= covered


def test_regulars_plan_plans_no_second_row_of_one_intent():
    # a cat owner: "Your Pet Supplies" and "Your Cat Food & Treats" would hold the same row; ten cat products
    # leave two uncovered after the first row, which once earned the other theme a place too
    shopper = Shopper(aisle_shares={"cat food care": 0.6}, aisle_products={"cat food care": 10}, product_share={1: 0.5})
    ranked = [{"title": "Buy It Again", "aisles": [], "from_history": True}]
    plan = regulars_plan(shopper, ranked, 4)
    assert sum("cat food care" in t["aisles"] for t in plan) == 1, [t["title"] for t in plan]


def test_repeats_intent_reads_the_aisles_the_shopper_buys():
    chosen = [{"title": "Your Cat Food & Treats", "aisles": ["cat food care"], "from_history": True}]
    cat_owner = {"cat food care": (0.6, 10)}
    assert repeats_intent(["cat food care", "dog food care"], chosen, cat_owner)
    both = {"cat food care": (0.3, 5), "dog food care": (0.3, 5)}
    assert not repeats_intent(["cat food care", "dog food care"], chosen, both)  # half the row is the dog's
    assert not repeats_intent(["yogurt"], chosen, cat_owner)


def _products_in(index, aisle: str, n: int) -> list[int]:
    aisle_id = index.aisle_ids([aisle])[0]
    return [p for p in index.popular(4000) if index.catalog.aisle_id(p) == aisle_id][:n]


def _history(bought: list[tuple[int, int]]) -> UserHistory:
    """A shopper who bought each (product, in how many orders) pair; orders of products bought that often."""
    most = max(times for _, times in bought)
    orders = tuple(Order(order_id=k, order_number=k + 1, dow=0, hour=9,
                         products=tuple(p for p, times in bought if times > k)) for k in range(most))
    return UserHistory(user_id=1, orders=orders)


def test_an_aisle_row_leads_with_all_the_shoppers_products_of_its_aisles(index):
    cats = _products_in(index, "cat food care", 3)
    fruit = _products_in(index, "fresh fruits", 1)
    history = _history([(cats[0], 5), (fruit[0], 4), (cats[1], 3), (cats[2], 2)])
    theme = Theme(title="Your Cat Food", aisles=["cat food care"], from_history=True)
    assert own_products(theme, [], history, index) == cats  # none retrieved, all of the aisle, likeliest first
    assert own_products(Theme(title="Buy It Again", from_history=True), [], history, index) == history.top_products()


def test_themes_holding_more_of_the_shoppers_buying_come_first(index):
    milk = _products_in(index, "milk", LEAD_RESERVED)
    cats = _products_in(index, "cat food care", 3)
    fruit = _products_in(index, "fresh fruits", 1)
    history = _history([*[(m, 20 - i) for i, m in enumerate(milk)], (cats[0], 6), (fruit[0], 5), (cats[1], 4),
                        (cats[2], 3)])
    lead = Theme(title="Buy It Again", from_history=True)
    produce = Theme(title="Your Produce Regulars", aisles=["fresh fruits"], from_history=True)
    cat = Theme(title="Your Cat Food", aisles=["cat food care"], from_history=True)
    dairy = Theme(title="Your Milk", aisles=["milk"], from_history=True)
    pasta = Theme(title="Easy Pasta Night", aisles=["dry pasta"])
    # rows of 2: the lead keeps its place and the LEAD_RESERVED likeliest products (all the milk); cat food's row
    # holds 6 + 4 purchases, produce's 5; milk's and pasta's hold none not covered (they keep their order, last)
    assert by_own_mass([lead, dairy, pasta, produce, cat], history, index, 2) == [lead, cat, produce, dairy, pasta]
    # without a lead nothing is reserved: milk's row of 8 holds the most, then cat food (13), then produce (5)
    assert by_own_mass([pasta, produce, cat, dairy], history, index, 8) == [dairy, cat, produce, pasta]
    # a retrieval theme the code added to a short plan comes after every planned theme, however much it holds
    code_cat = cat.model_copy(update={"rationale": "You often buy cat food, so here are your picks and a few more."})
    assert by_own_mass([lead, code_cat, pasta, produce], history, index, 2) == [lead, produce, pasta, code_cat]


AISLE_REGULARS = ("yogurt", "fresh fruits", "cereal", "chips pretzels", "soft drinks")
"""Aisles of a shopper's heavy buying: four regulars each, one themed row each."""
ONE_OFF_AISLES = ("cat food care", "coffee", "bread", "eggs", "frozen pizza", "paper goods")
"""Aisles the same shopper buys one regular in, each less often than any of the heavy aisles' products."""


def test_a_relevance_page_holds_every_regular_that_fits_on_it(index, lm):
    # 26 regulars: 5 aisles of 4 (bought 5-8 times) and 6 aisles of one (bought 3 times). Themed rows hold the
    # heavy aisles; the catch-all row, filled first, took 8 of the heavy aisles' products and the six one-off
    # regulars were on no row. Filled last, it holds the six.
    heavy = [p for aisle in AISLE_REGULARS for p in _products_in(index, aisle, 4)]
    one_offs = [_products_in(index, aisle, 1)[0] for aisle in ONE_OFF_AISLES]
    history = _history([*[(p, 8 - i % 4) for i, p in enumerate(heavy)], *[(p, 3) for p in one_offs]])
    assert len(history.top_products()) == 26
    with dspy.context(lm=lm, adapter=MemoChatAdapter()):
        page = TopDownProgram(index, objective="relevance")(user_id=1, history=history).page
    shown = set(page.product_ids())
    missing = [index.catalog.name(p) for p in history.top_products() if p not in shown]
    assert not missing, (missing, [p.title for p in page.placements])
    # still a themed page: it opens with the catch-all regulars row, and the other rows are about some aisles
    assert is_catch_all_title(page.placements[0].title), [p.title for p in page.placements]
    assert len(page.placements) == 6
    assert not any(is_catch_all_title(p.title) for p in page.placements[1:]), [p.title for p in page.placements]


def test_themed_rows_stop_at_the_shoppers_products_and_the_catch_all_grows():
    lead = Theme(title="Buy It Again", from_history=True)
    cats = Theme(title="Your Cat Food", aisles=["cat food care"], from_history=True)
    fruit = Theme(title="Your Fresh Fruit", aisles=["fresh fruits"], from_history=True)
    never = [900, 901, 902, 903, 904, 905]  # products the shopper never bought, as an LM's picks
    drafts = [RowDraft("Buy It Again", "", []), RowDraft("Your Cat Food", "", [1, 2, 3, *never]),
              RowDraft("Your Fresh Fruit", "", [*range(4, 12), *never])]
    shape = Constraints(placements=3, products_per_placement=8, min_products_per_placement=4,
                        max_products_per_placement=16)
    # 3 cat foods (the row keeps the fewest, 4), 8 fruits, and 20 regulars no themed row holds
    sized = with_row_sizes([lead, cats, fruit], drafts, _history([(p, 2) for p in range(1, 32)]), shape)
    assert [d.size for d in sized] == [12, 4, 8]
    # only 2 regulars left for the catch-all: it keeps the usual 8 and the cat food row its 8 slots
    sized = with_row_sizes([lead, cats, fruit], drafts, _history([(p, 2) for p in range(1, 14)]), shape)
    assert [d.size for d in sized] == [8, 8, 8]
    # without a catch-all lead the rows keep the usual length
    assert [d.size for d in with_row_sizes([cats, fruit], drafts[1:], _history([(1, 2)]), shape)] == [None, None]


def test_the_likeliest_products_are_kept_for_the_catch_all_lead(index):
    cats = _products_in(index, "cat food care", LEAD_RESERVED + 2)
    history = _history([(p, 10 - i) for i, p in enumerate(cats)])
    top = cats[:LEAD_RESERVED]
    lead = Theme(title="Buy It Again", from_history=True)
    cat = Theme(title="Your Cat Food", aisles=["cat food care"], from_history=True)
    drafts = [RowDraft("Buy It Again", "", list(cats), list(cats)),
              RowDraft("Your Cat Food", "", list(cats), list(cats))]
    kept, held = reserve_for_lead([lead, cat], drafts, history, LEAD_RESERVED)
    assert held == set(top)
    assert kept[0] == drafts[0]  # the lead keeps everything, the themed row loses the likeliest
    assert kept[1].picks == kept[1].pool == cats[LEAD_RESERVED:] and not set(top) & set(kept[1].pool)
    assert reserve_for_lead([cat, lead], drafts, history, LEAD_RESERVED) == (drafts, set())  # no lead: none kept


def test_a_relevance_page_opens_with_the_shoppers_likeliest_products(index, lm):
    for user in index.histories.user_ids[:5]:
        history = index.histories.get(user)
        with dspy.context(lm=lm, adapter=MemoChatAdapter()):
            page = TopDownProgram(index, objective="relevance")(user_id=user, history=history).page
        first = [p.product_id for p in page.placements[0].products]
        assert is_catch_all_title(page.placements[0].title)
        assert first[:LEAD_RESERVED] == history.top_products(LEAD_RESERVED), (user, first)
