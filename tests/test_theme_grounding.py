"""A planned theme whose declared aisles repeat an earlier theme's is read again from its queries."""

from themepage.page import Theme
from themepage.programs.theme_grounding import MOST_MATCHES, QUERY_MATCHES, grounded_on_queries, query_aisles
from themepage.programs.top_down import planned_themes

COPIED = ["specialty cheeses", "crackers", "fruit vegetable snacks"]
"""The aisle list a 1.5B model declared for every theme of one plan (compiled discovery, dev user 40)."""


def _majority_aisle(index, query: str) -> str | None:
    """The aisle holding most of the query's best matches, computed here from the search itself."""
    hits = index.search(query, k=QUERY_MATCHES)
    aisles = [index.catalog.aisle(p) for p in hits]
    best = max(set(aisles), key=aisles.count) if aisles else None
    return best if best and aisles.count(best) / len(aisles) > MOST_MATCHES else None


def test_query_aisles_are_where_most_of_each_querys_matches_live(index):
    queries = ["frozen meals", "energy bars", "pear"]
    expected = [a for a in dict.fromkeys(_majority_aisle(index, q) for q in queries) if a]
    assert query_aisles(Theme(title="x", queries=queries, aisles=["yogurt"]), index) == expected
    assert "frozen meals" in expected  # a query naming its aisle's food finds it


def test_themes_declaring_one_aisle_list_keep_the_intents_their_queries_name(index):
    history = index.histories.get(40)
    sweets = Theme(title="Sweet Treats", aisles=COPIED, queries=["granola bars"])
    frozen = Theme(title="Frozen Foods", aisles=COPIED, queries=["frozen meals"])
    again = Theme(title="Frozen Dinners", aisles=COPIED, queries=["frozen meals"])  # frozen's intent, read again
    kept = planned_themes([sweets, frozen, again], index, history)
    assert [t.title for t in kept] == ["Sweet Treats", "Frozen Foods"]
    assert kept[1].aisles == query_aisles(frozen, index) and "frozen meals" in kept[1].aisles
    assert kept[0] is sweets  # a theme of a new intent keeps what it declared


def test_queries_finding_nothing_or_the_declared_aisles_ground_nothing(index):
    assert grounded_on_queries(Theme(title="x", queries=["zzqx"], aisles=["yogurt"]), index) is None
    frozen = Theme(title="x", queries=["frozen meals"], aisles=["yogurt"])
    same = frozen.model_copy(update={"aisles": query_aisles(frozen, index)})
    assert grounded_on_queries(same, index) is None
