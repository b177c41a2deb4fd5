"""What the page rules speak of: the page's shape, a row draft, a row's intent, and which products and aisles a
shopper may be shown (restricted aisles only where they bought). The rules themselves: `programs/rules/apply.py`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from themepage.constants import INTENT_OVERLAP, RESTRICTED_AISLES
from themepage.dataset.history import UserHistory
from themepage.objectives import ObjectiveConfig
from themepage.quality.features import GENERIC_TITLE_WORDS

_FILLER_WORDS = frozenset("it the a an of for to and & on in my again".split())


@dataclass(frozen=True)
class PageRules:
    """The objective's page shape the rules enforce."""

    placements: int
    products_per_placement: int
    fewest_products: int | None = None
    """A row's least length when its draft asks for one (`RowDraft.size`); None: `products_per_placement`."""
    most_products: int | None = None
    """A row's greatest length when its draft asks for one; None: `products_per_placement`."""
    bought_twins_share_a_row: bool = False
    """Whether two near-duplicates the shopper has both bought may stand in one row (`rules.duplicates`): on a page
    that leads with their regulars (relevance, cohesive), each is a product they come back for, kept on the page
    and parted into two rows where a swap allows (`rules.twins`); elsewhere a row shows one."""

    @classmethod
    def for_objective(cls, config: ObjectiveConfig) -> PageRules:
        c = config.constraints
        return cls(c.placements, c.products_per_placement, c.min_products_per_placement, c.max_products_per_placement,
                   config.opens_with == "regulars")

    @property
    def page_size(self) -> int:
        """Products on a page of rows at the usual length."""
        return self.placements * self.products_per_placement

    def row_size(self, asked: int | None) -> int:
        """A row's length: the usual one, or the one its draft asks for within the fewest and most."""
        if asked is None:
            return self.products_per_placement
        return max(self.fewest_products or self.products_per_placement,
                   min(self.most_products or self.products_per_placement, asked))


@dataclass
class RowDraft:
    """A row before the rules: title, rationale, picks in preferred order, a ranked pool to replace them from."""

    title: str
    rationale: str
    picks: list[int]
    pool: list[int] = field(default_factory=list)
    size: int | None = None
    """The row's length when not the page's usual (`PageRules.row_size`): a next-basket page's themed rows stop at
    the shopper's own products and its catch-all row grows by what they leave (`programs/relevance_rows.py`)."""
    found: frozenset[int] | None = None
    """What the row's theme's queries find (`programs.retrieval.row_bound`), when the row may hold nothing else: a
    library theme's row is not padded with the best sellers of its aisles, which hold more than its title names
    (oats and grits beside the pancake mixes). None: no such bound."""


@dataclass(frozen=True)
class Intent:
    """What a row is for: the shopper's own catch-all (a title of generic words only), or a set of aisles."""

    catch_all: bool
    aisles: frozenset[int]

    def same_as(self, other: Intent) -> bool:
        if self.catch_all or other.catch_all:
            return self.catch_all and other.catch_all
        union = self.aisles | other.aisles
        return not union or len(self.aisles & other.aisles) / len(union) > INTENT_OVERLAP


def is_catch_all_title(title: str) -> bool:
    """"Your Weekly Staples", "Buy It Again", "Your Go-To Favorites": every word generic (or filler)."""
    words = "".join(c if c.isalnum() or c == "-" else " " for c in title.lower()).split()
    content = [w for w in words if w not in _FILLER_WORDS]
    return bool(content) and all(w in GENERIC_TITLE_WORDS for w in content)


def intent_of(title: str, product_ids: Iterable[int], index) -> Intent:
    """The intent of a row with these products (see `Intent`)."""
    return Intent(is_catch_all_title(title), frozenset(index.catalog.aisle_id(p) for p in product_ids))


def repeats_another_row(titles: Sequence[str], rows: Sequence[Iterable[int]], k: int, index) -> bool:
    """Whether row `k` (of these titles and rows) has the intent, or the title, of another of them."""
    intent = intent_of(titles[k], rows[k], index)
    return any(j != k and (titles[j].casefold() == titles[k].casefold()
                           or intent.same_as(intent_of(titles[j], rows[j], index))) for j in range(len(rows)))


def permitted_products(index, history: UserHistory) -> Callable[[int], bool]:
    """A test: may this product be shown to this shopper? Restricted aisles only where they bought before."""
    restricted = set(index.aisle_ids(RESTRICTED_AISLES))
    bought = {index.catalog.aisle_id(p) for p in history.product_counts}
    barred = restricted - bought
    return lambda product_id: index.catalog.aisle_id(product_id) not in barred


def permitted_aisles(aisles: Sequence[str], index, history: UserHistory) -> bool:
    """Whether a theme about these aisles may be planned for this shopper (no barred restricted aisle)."""
    restricted = set(RESTRICTED_AISLES)
    bought_restricted = {index.catalog.aisle(p) for p in history.product_counts} & restricted
    return all(a not in restricted or a in bought_restricted for a in aisles)
