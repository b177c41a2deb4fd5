"""Page rules in code, applied to every page whatever the LM said (DESIGN.md: "Page rules are guards in code").

Both programs hand their rows over as `RowDraft`s (a title, a rationale, the picks in preferred order and a
ranked pool to replace them from) and get back placements that keep every rule of `page_violations`:
- no product twice, no near-duplicates within a row or across the page (the core scorer's pair model);
  a near-duplicate is replaced by the row's next candidate, not just dropped;
- products of RESTRICTED_AISLES (alcohol) only for a shopper who bought in that aisle;
- no two rows of one intent (`Intent`): a duplicate-intent row gives way to the next draft, then to a
  fallback row of the shopper's own aisles;
- every row exactly `products_per_placement` products unless the candidates run out;
- readable titles of at most six words (no raw aisle names) and rationales that read as sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from programs.aisle_labels import readable_aisle
from programs.row_text import MAX_TITLE_WORDS, has_raw_aisle, is_sentence, readable_rationale, readable_title
from themepage.constants import RESTRICTED_AISLES
from themepage.dataset.history import UserHistory
from themepage.objective import ObjectiveConfig
from themepage.page import Placement, ProductRef
from themepage.quality import placement_scorer
from themepage.quality.features import GENERIC_TITLE_WORDS

INTENT_OVERLAP = 0.5
"""Two rows whose product aisles overlap by more than this (Jaccard) are about the same part of the shop."""
FIX_ROUNDS = 200
"""At most this many near-duplicate replacements per page (each replaces one product)."""
_FILLER_WORDS = frozenset("it the a an of for to and & on in my again".split())


@dataclass(frozen=True)
class PageRules:
    """The objective's page shape the rules enforce."""

    placements: int
    products_per_placement: int

    @classmethod
    def for_objective(cls, config: ObjectiveConfig) -> PageRules:
        return cls(config.constraints.placements, config.constraints.products_per_placement)


@dataclass
class RowDraft:
    """A row before the rules: title, rationale, picks in preferred order, a ranked pool to replace them from."""

    title: str
    rationale: str
    picks: list[int]
    pool: list[int] = field(default_factory=list)


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


def fallback_drafts(index, history: UserHistory, n: int) -> list[RowDraft]:
    """Rows of the shopper's top aisles (or the best-selling aisles), titled with readable aisle labels."""
    ranked = history.top_products() or index.popular(400)
    allowed = permitted_products(index, history)
    aisles = list(dict.fromkeys(index.catalog.aisle(p) for p in ranked if allowed(p)))[:n]
    personal = not history.is_empty()
    drafts = []
    for aisle in aisles:
        aisle_id = index.aisle_ids([aisle])[0]
        own = [p for p in ranked if index.catalog.aisle_id(p) == aisle_id]
        more = [p for p in index.popular(2000) if index.catalog.aisle_id(p) == aisle_id]
        label = readable_aisle(aisle)
        title = f"Your {label}" if personal else f"Popular {label}"
        why = (f"You often buy {label.lower()}, so here are your picks and a few more." if personal
               else f"Shoppers here often buy {label.lower()}.")
        drafts.append(RowDraft(title, why, own, [p for p in more if p not in set(own)]))
    return drafts


class _PageBuilder:
    """Fills rows in order under the rules; keeps the near-duplicate checks of the core scorer."""

    def __init__(self, rules: PageRules, index, history: UserHistory):
        self.rules, self.index, self.history = rules, index, history
        self.scorer = placement_scorer(index)
        self.allowed = permitted_products(index, history)
        self.banned: set[int] = set()
        self.rows: list[list[int]] = []
        self.sources: list[list[int]] = []
        self.titles: list[str] = []

    def used(self) -> set[int]:
        return {p for row in self.rows for p in row} | self.banned

    def _fits(self, row: list[int], pid: int) -> bool:
        pairs = self.scorer.near_duplicates(self.scorer.evidence([*row, pid])) if row else []
        return not any(pid in pair for pair in pairs)

    def fill(self, row: list[int], source: list[int]) -> list[int]:
        """`row` grown to the row size from `source` in order: permitted, unused, no near-duplicate in the row."""
        taken = self.used() | set(row)
        for pid in source:
            if len(row) >= self.rules.products_per_placement:
                break
            if pid in taken or pid not in self.index.catalog or not self.allowed(pid):
                continue
            taken.add(pid)
            if self._fits(row, pid):
                row.append(pid)
        return row

    def add(self, draft: RowDraft) -> bool:
        """Fill the draft's row; keep it when it has products and an intent no kept row has."""
        source = list(dict.fromkeys([*draft.picks, *draft.pool]))
        row = self.fill([], source)
        intent = intent_of(draft.title, row, self.index)
        if not row or any(intent.same_as(intent_of(t, r, self.index)) for t, r in zip(self.titles, self.rows,
                                                                                    strict=True)):
            return False
        self.rows.append(row)
        self.sources.append(source)
        self.titles.append(draft.title)
        return True

    def first_duplicate(self) -> tuple[int, int] | None:
        """(row, product) of the first later slot that near-duplicates an earlier one, within a row or on the page."""
        for r, row in enumerate(self.rows):
            for a, b in self.scorer.near_duplicates(self.scorer.evidence(row)):
                return r, b if row.index(b) > row.index(a) else a
        page = [p for row in self.rows for p in row]
        pairs = self.scorer.near_duplicates(self.scorer.evidence(page)) if len(page) > 1 else []
        if not pairs:
            return None
        a, b = pairs[0]
        later = b if page.index(b) > page.index(a) else a
        return next(r for r, row in enumerate(self.rows) if later in row), later

    def remove_duplicates(self) -> None:
        """Replace near-duplicate slots by each row's next candidates until none is left (then drop them)."""
        for _ in range(FIX_ROUNDS):
            found = self.first_duplicate()
            if found is None:
                return
            r, pid = found
            self.rows[r].remove(pid)
            self.banned.add(pid)
            self.fill(self.rows[r], self.sources[r])
        while (found := self.first_duplicate()) is not None:
            self.rows[found[0]].remove(found[1])


def apply_page_rules(drafts: Sequence[RowDraft], rules: PageRules, index, history: UserHistory,
                     reserve: Sequence[int] = ()) -> list[Placement]:
    """Placements from the drafts, in order, under every page rule (module docstring).

    Drafts beyond `rules.placements` are spares for rows dropped as duplicate intents; fallback rows of the
    shopper's aisles come after them. `reserve` (e.g. the shopper's candidates) tops up rows whose pools ran dry.
    """
    builder = _PageBuilder(rules, index, history)
    kept: list[RowDraft] = []
    for draft in [*drafts, *fallback_drafts(index, history, 2 * rules.placements)]:
        if len(kept) == rules.placements:
            break
        if builder.add(draft):
            kept.append(draft)
    builder.remove_duplicates()
    for row, source in zip(builder.rows, builder.sources, strict=True):
        builder.fill(row, [*source, *reserve])
    builder.remove_duplicates()
    placements = []
    for draft, row in zip(kept, builder.rows, strict=True):
        title = readable_title(draft.title)
        placements.append(Placement(title=title, rationale=readable_rationale(draft.rationale, f"Picked for you: "
                                                                                        f"{title.lower()}"),
                                    products=[ProductRef(product_id=p, name=index.catalog.name(p)) for p in row]))
    return placements


def page_violations(placements: Sequence[Placement], rules: PageRules, index, history: UserHistory,
                    allow_short: bool = False) -> list[str]:
    """Every page rule each placement breaks, one line each (empty: the page keeps every rule)."""
    scorer = placement_scorer(index)
    allowed = permitted_products(index, history)
    problems = []
    if len(placements) > rules.placements:
        problems.append(f"{len(placements)} rows, more than {rules.placements}")
    ids = [p.product_id for placement in placements for p in placement.products]
    if len(ids) != len(set(ids)):
        problems.append("a product appears twice on the page")
    if len(ids) > 1 and scorer.near_duplicates(scorer.evidence(ids)):
        problems.append(f"near-duplicates across the page: {scorer.near_duplicates(scorer.evidence(ids))}")
    intents: list[Intent] = []
    for placement in placements:
        row = [p.product_id for p in placement.products]
        name = placement.title
        if len(row) > rules.products_per_placement or (len(row) < rules.products_per_placement and not allow_short):
            problems.append(f"{name!r}: {len(row)} products, not {rules.products_per_placement}")
        if len(row) > 1 and scorer.near_duplicates(scorer.evidence(row)):
            problems.append(f"{name!r}: near-duplicates in the row")
        barred = [p for p in row if not allowed(p)]
        if barred:
            problems.append(f"{name!r}: restricted products {barred} for a shopper who never bought there")
        if len(name.split()) > MAX_TITLE_WORDS or has_raw_aisle(name):
            problems.append(f"{name!r}: title too long or a raw aisle name")
        if not is_sentence(placement.rationale):
            problems.append(f"{name!r}: rationale is not a sentence: {placement.rationale!r}")
        intent = intent_of(name, row, index)
        if any(intent.same_as(other) for other in intents):
            problems.append(f"{name!r}: same intent as an earlier row")
        intents.append(intent)
    return problems
