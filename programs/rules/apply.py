"""Page rules in code, applied to every page whatever the LM said (docs/design.md: page rules are guards in code).

Both programs hand their rows over as `RowDraft`s (a title, a rationale, the picks in preferred order and a
ranked pool to replace them from) and get back placements that keep every rule of `page_violations`:
- no product twice, no near-duplicates within a row or across the page (the core scorer's pair model);
  a near-duplicate is replaced by the row's next candidate, not just dropped; twins the shopper buys, kept
  on a page of their regulars, are swapped into different rows where they fit (`programs/rules/twins.py`);
- every product belongs under its row's title (the core scorer's fit model, MIN_TITLE_FIT): a misfit is
  passed over for the row's next candidate, and a draft fewer than half a row of whose candidates fit
  gives way to the next draft;
- products of RESTRICTED_AISLES (alcohol) only for a shopper who bought in that aisle;
- no two rows of one intent (`Intent`): a duplicate-intent row gives way to the next draft, then to a
  fallback row of the shopper's own aisles;
- every row exactly `products_per_placement` products, or the length its draft asks for (`RowDraft.size`, within
  the objective's fewest and most: `PageRules.row_size`); a themed row short of candidates tops up only with
  products of its own aisles, a library theme's row only with what its queries found (`RowDraft.found`), a row
  still shorter than the fewest gives way to the next draft, and the slots
  short rows leave go to rows with more fits (`programs/rules/row_lengths.py`);
- readable titles of at most six words (no raw aisle names) and rationales that read as sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain

from themepage.constants import CLEAR_FIT, ROW_DUPLICATE_CHANCE
from themepage.dataset.history import UserHistory
from themepage.page import Placement, ProductRef
from themepage.programs.row_text import readable_rationale, readable_title
from themepage.programs.rules.duplicates import EvidenceCache
from themepage.programs.rules.fallback_rows import best_sellers_by_aisle, fallback_drafts
from themepage.programs.rules.row_lengths import MIN_TITLE_FIT, RowLengths
from themepage.programs.rules.shape import PageRules, RowDraft, intent_of, is_catch_all_title, permitted_products
from themepage.programs.rules.twins import TwinSplitting
from themepage.quality import placement_scorer

FIT_BATCH = 24
"""Candidates whose fit is computed at once as a row is filled (one evidence read and one model pass)."""
TITLE_MATCHES = 200
"""Catalog products matching a row's title a short row may be topped up from, after its pool and aisles."""
MAX_ROUNDS = 20
"""At most this many rounds of dropping a row whose intent repeats another's and filling its place."""
FIX_ROUNDS = 12
"""At most this many rounds of replacing a page's near-duplicate slots; any left after them are dropped."""


class _PageBuilder(RowLengths, TwinSplitting):
    """Fills rows in order under the rules; keeps the near-duplicate checks of the core scorer."""

    def __init__(self, rules: PageRules, index, history: UserHistory):
        self.rules, self.index, self.history = rules, index, history
        bought = frozenset(history.product_counts)
        self.cache = EvidenceCache(placement_scorer(index), bought,
                                   bought if rules.bought_twins_share_a_row else frozenset())
        self.allowed = permitted_products(index, history)
        self.banned: set[int] = set()
        self.rows: list[list[int]] = []
        self.sources: list[list[int]] = []
        self.titles: list[str] = []
        self.sizes: list[int] = []
        self.kept: list[RowDraft] = []
        self.reserve: list[int] = []
        self.reserve_aisles: tuple[list[int] | None, list[tuple[int, int]]] = (None, [])
        """The reserve list these (product, aisle id) pairs were read from, and its catalog products' pairs."""
        self.held: frozenset[int] = frozenset()
        self.holder: RowDraft | None = None
        self.aisles: dict[int, int] = {}
        """Product id -> aisle id of the products met so far (`_fits` asks it of the whole page per candidate)."""

    def used(self) -> set[int]:
        return {p for row in self.rows for p in row} | self.banned

    def held_from(self, draft: RowDraft) -> frozenset[int]:
        """The held products a row of this draft must leave alone: all of them, unless it is the row they are held
        for."""
        return frozenset() if draft is self.holder else self.held

    def _fits(self, row: list[int], pid: int, held: frozenset[int] = frozenset()) -> bool:
        """No near-duplicate of `pid` in its row, nor among the page's other products of its aisle and the products
        `held` for a later row (of any aisle: `duplicate_slots` would take the later row's)."""
        if self.cache.near_duplicates_of(pid, [*row, pid], ROW_DUPLICATE_CHANCE, across_rows=False):  # pairs hold pid
            return False
        known = self.aisles
        for p in chain((pid,), *self.rows):
            if p not in known:
                known[p] = self.index.catalog.aisle_id(p)
        aisle = known[pid]
        others = [p for r in self.rows if r is not row for p in r if known[p] == aisle]
        others += [p for p in held if p != pid]
        return not self.cache.near_duplicates_of(pid, [*others, *row, pid])

    def belongs(self, title: str, source: Sequence[int], at: int, floor: float = MIN_TITLE_FIT) -> bool:
        """Whether source[at] fits under `title` at `floor` (its fit and the next FIT_BATCH - 1 unknown ones computed
        at once)."""
        key = (title, int(source[at]))
        if key not in self.cache.title_fits:
            batch = [p for p in source[at:at + FIT_BATCH] if p in self.index.catalog]
            self.cache.fits(title, batch or [source[at]])
        return self.cache.title_fits[key] >= floor

    def fits_half_a_row(self, title: str, source: list[int]) -> bool:
        """Whether at least half a row of `source` could stand in a row under `title` and clearly belong there
        (CLEAR_FIT): permitted and unused (near-duplicates among them count: a row of seltzers is thinned and topped
        up later). A "Mocktail Hour" that sparkling waters only arguably fit (0.5-0.8) is not a row a merchandiser
        publishes. Fits are computed FIT_BATCH candidates at a time, only until the answer is known."""
        taken = self.used()
        usable = [p for p in dict.fromkeys(source) if p not in taken and p in self.index.catalog and self.allowed(p)]
        wanted, found = -(-self.rules.products_per_placement // 2), 0
        for start in range(0, len(usable), FIT_BATCH):
            found += sum(fit >= CLEAR_FIT for fit in self.cache.fits(title, usable[start:start + FIT_BATCH]))
            if found >= wanted:
                return True
        return found >= wanted

    def fill(self, row: list[int], source: list[int], title: str, size: int | None = None,
             held: frozenset[int] = frozenset(), floor: float = MIN_TITLE_FIT) -> list[int]:
        """`row` grown to `size` (the usual row size) from `source` in order: permitted, unused, fitting the
        title, no near-duplicate in the row; none of `held` (products kept for a later row) nor a near-duplicate
        of one."""
        size = size or self.rules.products_per_placement
        taken = self.used() | set(row) | held
        for at, pid in enumerate(source):
            if len(row) >= size:
                break
            if pid in taken or pid not in self.index.catalog or not self.allowed(pid):
                continue
            if not self.belongs(title, source, at, floor):
                continue
            taken.add(pid)
            if self._fits(row, pid, held):
                row.append(pid)
        return row

    def add(self, draft: RowDraft) -> bool:
        """Fill the draft's row; keep it when it has products, at least half a row of its candidates fit its title,
        and no kept row has its intent."""
        title = readable_title(draft.title)
        source = bounded(draft, dict.fromkeys([*draft.picks, *draft.pool]))
        size = self.rules.row_size(draft.size)
        row = self.fill([], source, title, size, self.held_from(draft))
        if not row or self.clashes(title, row, len(self.rows)):
            return False
        if not self.fits_half_a_row(title, source):
            return False
        self.rows.append(row)
        self.sources.append(bounded(draft, [*source, *self.aisle_extension(row), *self.title_matches(title, row)]))
        self.titles.append(title)
        self.sizes.append(size)
        self.kept.append(draft)
        return True

    def clashes(self, title: str, row: list[int], before: int) -> bool:
        """Whether a row with this title and products has the intent of one of the first `before` rows."""
        intent = intent_of(title, row, self.index)
        return any(title.casefold() == t.casefold() or intent.same_as(intent_of(t, r, self.index))
                   for t, r in zip(self.titles[:before], self.rows[:before], strict=True))

    def aisle_extension(self, row: list[int]) -> list[int]:
        """Best sellers of the row's aisles: what replaces a near-duplicate when the row's own pool runs dry."""
        by_aisle = best_sellers_by_aisle(self.index)
        aisles = dict.fromkeys(self.index.catalog.aisle_id(p) for p in row)
        return [p for aisle in aisles for p in by_aisle.get(aisle, [])]

    def title_matches(self, title: str, row: list[int]) -> list[int]:
        """Products of the row's aisles whose names best match the title (BM25): what tops up a row whose title
        makes a claim the aisles' best sellers rarely make ("Whole Grain Goodness"), so that only fitting
        products fill it. Only the row's aisles: across the store a title's words find products that merely share
        a word with it ("Home Pest Control" for "Thai Takeout at Home", "Neti Pot" for "Big Pot of Chili")."""
        if is_catch_all_title(title) or not row:
            return []
        aisles = sorted({int(self.index.catalog.aisle_id(p)) for p in row})
        return self.index.search(title, k=TITLE_MATCHES, aisles=aisles)

    def drop_clashing_rows(self) -> bool:
        """Drop every row whose intent (read from its final products) repeats an earlier row's; True if any went."""
        for r in range(len(self.rows) - 1, 0, -1):
            if self.clashes(self.titles[r], self.rows[r], r):
                del self.rows[r], self.sources[r], self.titles[r], self.sizes[r], self.kept[r]
                return True
        return False

    def refill(self, r: int, floor: float = MIN_TITLE_FIT) -> None:
        """Row `r` grown to its length from its sources, then the page reserve (leaving what is held for others)."""
        self.fill(self.rows[r], [*self.sources[r], *self.reserve_for(r)], self.titles[r], self.sizes[r],
                  self.held_from(self.kept[r]), floor)

    def reserve_for(self, r: int) -> list[int]:
        """The page reserve a row may top up from: all of it for a catch-all row, only its own aisles' products for a
        themed one. The fit model is taught on products near their titles and rates many far ones too kindly
        (strawberries under "Fresh-Smelling Home"), and within a department a title's words still pad a row
        (paper towels and detergents under "Fresh-Smelling Home"): a themed row short of clear fits stays short
        (then gives way below the fewest) rather than padded."""
        if is_catch_all_title(self.titles[r]):
            return self.reserve
        catalog = self.index.catalog
        aisles = {catalog.aisle_id(p) for p in self.rows[r]}
        if self.reserve_aisles[0] is not self.reserve:  # each refill asks: the reserve's aisles are read once
            self.reserve_aisles = (self.reserve, [(p, catalog.aisle_id(p)) for p in self.reserve if p in catalog])
        return bounded(self.kept[r], (p for p, aisle in self.reserve_aisles[1] if aisle in aisles))

    def top_up(self) -> None:
        """Rows still short after their own pools take from the page reserve."""
        for r in range(len(self.rows)):
            self.refill(r)

    def duplicate_slots(self) -> set[tuple[int, int]]:
        """(row, product) of every later slot that near-duplicates an earlier one, in its row or on the page; a
        held product is never the one taken out for a product that is not."""
        found = set()
        for r, row in enumerate(self.rows):
            for a, b in self.cache.near_duplicates(row, ROW_DUPLICATE_CHANCE, across_rows=False):
                found.add((r, b if row.index(b) > row.index(a) else a))
        page = [p for row in self.rows for p in row]
        row_of = {p: r for r, row in enumerate(self.rows) for p in row}
        for a, b in self.cache.near_duplicates(page):
            later = b if page.index(b) > page.index(a) else a
            if later in self.held and (a in self.held) != (b in self.held):
                later = a if later == b else b  # a held product keeps its slot
            found.add((row_of[later], later))
        return found

    def remove_duplicates(self) -> None:
        """Replace near-duplicate slots by each row's next candidates until none is left (then drop them)."""
        for _ in range(FIX_ROUNDS):
            found = self.duplicate_slots()
            if not found:
                return
            for r, pid in found:
                self.rows[r].remove(pid)
                self.banned.add(pid)
            for r in sorted({r for r, _ in found}):
                self.refill(r)
        while found := self.duplicate_slots():
            for r, pid in found:
                self.rows[r].remove(pid)


def bounded(draft: RowDraft, products: Iterable[int]) -> list[int]:
    """The products a row of this draft may hold, in order: all, or only what its theme's queries found
    (`RowDraft.found`)."""
    return list(products) if draft.found is None else [p for p in products if p in draft.found]


def lazy(make: Callable[[], Iterable[RowDraft]]) -> Iterator[RowDraft]:
    """The drafts `make` returns, made only when the first of them is asked for."""
    yield from make()


def apply_page_rules(drafts: Iterable[RowDraft], rules: PageRules, index, history: UserHistory,
                     reserve: Sequence[int] = (), held: Iterable[int] = (),
                     holder: RowDraft | None = None) -> list[Placement]:
    """Placements from the drafts, in order, under every page rule (module docstring).

    Drafts are read lazily, in order, only while rows are missing: drafts beyond `rules.placements` (e.g. a
    generator filling spare themes) replace rows dropped as duplicate intents; fallback rows of the shopper's
    aisles come after them. `reserve` (e.g. the shopper's candidates) tops up rows whose pools ran dry. `held`
    products are kept for the `holder` draft's row (a catch-all lead filled last): no other row takes one or a
    near-duplicate of one.
    """
    builder = _PageBuilder(rules, index, history)
    builder.held, builder.holder = frozenset(held), holder
    builder.reserve = [*reserve, *index.popular(4 * rules.page_size)]
    queue = chain(drafts, lazy(lambda: fallback_drafts(index, history, 4 * rules.placements)))
    for _ in range(MAX_ROUNDS):
        while len(builder.rows) < rules.placements and (draft := next(queue, None)) is not None:
            builder.add(draft)
        builder.remove_duplicates()
        builder.top_up()
        builder.remove_duplicates()
        if not (builder.drop_clashing_rows() or builder.drop_short_rows()):
            break
    else:  # out of rounds: a page one row short beats two rows of one intent, or a padded row
        while builder.drop_clashing_rows() or builder.drop_short_rows():
            pass
    builder.keep_page_size()
    builder.regrow_short_rows()
    builder.give_slots_on()
    builder.remove_duplicates()  # a grown row is checked against its own aisles' products only as it grows
    if rules.bought_twins_share_a_row:
        builder.split_twins()
    placements = []
    for draft, row, title in zip(builder.kept, builder.rows, builder.titles, strict=True):
        if not row:
            continue
        placements.append(Placement(title=title, rationale=readable_rationale(draft.rationale, f"Picked for you: "
                                                                                        f"{title.lower()}"),
                                    products=[ProductRef(product_id=p, name=index.catalog.name(p)) for p in row]))
    return placements
