"""Rows are not padded with what does not belong (programs/rules/apply.py): a themed row tops up only within its
own aisles, and two near-duplicates the shopper bought share a row only on a page that leads with their
regulars, and there only when no swap with another row parts them (programs/rules/twins.py). (A row still
short after that gives way: the every-page tests of test_top_down_pages.py and test_page_rules.py hold every
row to the fewest.)"""

from __future__ import annotations

from themepage.dataset.history import Order, UserHistory
from themepage.objectives import load_objective
from themepage.programs.rules.apply import apply_page_rules
from themepage.programs.rules.audit import page_violations
from themepage.programs.rules.row_lengths import MIN_TITLE_FIT
from themepage.programs.rules.shape import PageRules, RowDraft
from themepage.quality import placement_scorer


def _history(products: list[int]) -> UserHistory:
    order = Order(order_id=1, order_number=1, dow=0, hour=9, products=tuple(products))
    return UserHistory(user_id=9_000_002, orders=(order, order))


def _aisle_products(index, aisle: str, n: int) -> list[int]:
    aisle_id = index.aisle_ids([aisle])[0]
    return [p for p in index.popular(20_000) if index.catalog.aisle_id(p) == aisle_id][:n]


def _named(index, *names: str) -> list[int]:
    found = {index.catalog.name(p): int(p) for p in index.catalog.product_ids if index.catalog.name(p) in names}
    return [found[n] for n in names]


def test_a_themed_row_tops_up_within_its_own_aisles_only(index):
    """A "Fresh-Smelling Home" draft of two air fresheners, an aisle with no best sellers to extend it: the page
    reserve's fruit is not what it grows from, whatever the fit model makes of "fresh" strawberries; whatever it
    holds is of its own aisle."""
    fresheners = _aisle_products(index, "air fresheners candles", 2)
    fruit = [*_named(index, "Strawberries"), *_aisle_products(index, "fresh fruits", 20)]
    reserve = [*fruit, *_aisle_products(index, "soft drinks", 10)]
    page = apply_page_rules([RowDraft("Fresh-Smelling Home", "A home that smells fresh.", fresheners, [])],
                            PageRules(1, 4), index, _history(reserve[:3]), reserve=reserve)
    shown = [p.product_id for placement in page for p in placement.products]
    assert not set(shown) & set(reserve)
    assert {index.catalog.aisle_id(p) for p in shown} <= {index.catalog.aisle_id(p) for p in fresheners}


def test_a_library_themes_row_holds_only_what_its_queries_found(index):
    """A "Fresh Vegetables" draft of twelve vegetables whose queries found five: its row holds those five, however
    well the rest fit; the same draft without the bound fills the row from all twelve."""
    vegetables = _aisle_products(index, "fresh vegetables", 12)
    found = frozenset(_named(index, "Organic Zucchini", "Organic Cucumber", "Asparagus", "Organic Tomato Cluster",
                             "Michigan Organic Kale"))
    assert found <= set(vegetables)
    rules, history = PageRules(1, 8, fewest_products=4), _history(vegetables[:1])
    free = apply_page_rules([RowDraft("Fresh Vegetables", "Vegetables.", vegetables, [])], rules, index, history)
    bound = apply_page_rules([RowDraft("Fresh Vegetables", "Vegetables.", vegetables, [], found=found)], rules,
                             index, history, reserve=vegetables)
    assert [p.title for p in free] == [p.title for p in bound] == ["Fresh Veg"]  # the title as the rules word it
    free_ids = [p.product_id for p in free[0].products]
    assert len(free_ids) == 8 and not set(free_ids) <= found
    assert sorted(p.product_id for p in bound[0].products) == sorted(found)


def test_a_library_theme_whose_queries_found_too_little_gives_way(index):
    """Found clear fits short of half a row: the bounded draft gives way (here to a row of the shopper's aisles),
    where unbounded it would have been padded with the aisle's best sellers."""
    vegetables = _aisle_products(index, "fresh vegetables", 12)
    found = frozenset(_named(index, "Asparagus", "Michigan Organic Kale"))
    rules, history = PageRules(1, 8, fewest_products=4), _history(vegetables[:1])
    bound = apply_page_rules([RowDraft("Fresh Vegetables", "Vegetables.", vegetables, [], found=found)],
                             rules, index, history)
    assert [p.title for p in bound] != ["Fresh Veg"]


def _twins(index) -> list[int]:
    twins = _named(index, "Organic Red Onion", "Red Onion")
    scorer = placement_scorer(index)
    assert scorer.near_duplicates(scorer.evidence(twins))  # the pair model calls them one item
    return twins


def test_bought_twins_share_a_row_only_on_a_page_that_leads_with_regulars(index):
    twins = _twins(index)
    onions = [p for p in _aisle_products(index, "fresh vegetables", 40) if p not in twins]
    history = _history([*twins, *onions[:2]])
    draft = RowDraft("Your Fresh Veg", "Your vegetables.", [*twins, *onions[:2]], onions[2:])
    regulars = PageRules.for_objective(load_objective("relevance"))
    discovery = PageRules.for_objective(load_objective("discovery"))
    assert regulars.bought_twins_share_a_row and not discovery.bought_twins_share_a_row
    for rules, together in ((regulars, True), (discovery, False)):
        rules = PageRules(1, 6, bought_twins_share_a_row=rules.bought_twins_share_a_row)
        page = apply_page_rules([draft], rules, index, history)
        shown = {p.product_id for p in page[0].products}
        assert (set(twins) <= shown) is together
        assert page_violations(page, rules, index, history) == []


def test_bought_twins_on_a_regulars_page_are_parted_by_a_swap_that_keeps_the_page(index, monkeypatch):
    """Both red onions stay on a relevance page, but not side by side: the later one trades places with a
    vegetable of the catch-all row, where any grocery fits. The page holds the same products as without the swap."""
    from themepage.programs.rules.twins import TwinSplitting

    twins = _twins(index)
    veg = [p for p in _aisle_products(index, "fresh vegetables", 40) if p not in twins]
    fruit = _aisle_products(index, "fresh fruits", 6)
    history = _history([*twins, *veg[:3], *fruit[:3]])
    drafts = [RowDraft("Your Fresh Veg", "Your vegetables.", [*twins, *veg[:2]], []),
              RowDraft("Your Weekly Staples", "What you buy most.", [*fruit[:3], veg[2]], [])]
    rules = PageRules(2, 4, 2, bought_twins_share_a_row=True)

    def rows(page) -> list[set[int]]:
        return [{p.product_id for p in placement.products} for placement in page]

    page = apply_page_rules(drafts, rules, index, history)
    scorer = placement_scorer(index)
    for placement in page:
        ids = [p.product_id for p in placement.products]
        assert min(scorer.product_fits(placement.title, scorer.evidence(ids))) >= MIN_TITLE_FIT
    parted = rows(page)
    assert not any(set(twins) <= row for row in parted)
    assert all(any(t in row for row in parted) for t in twins)
    monkeypatch.setattr(TwinSplitting, "split_twins", lambda self: None)
    together = rows(apply_page_rules(drafts, rules, index, history))
    assert set(twins) <= together[0]
    assert set().union(*parted) == set().union(*together)
