"""Twins the shopper buys, on a page that keeps them in one row (`PageRules.bought_twins_share_a_row`): split
across rows where the page can (a mixin of the page builder in `programs/rules/apply.py`).

On a relevance page both products of a pair the shopper buys (whole and 2% milk, red and green grapes) stay on
the page: each is a product they come back for. In one row, though, a merchandiser who reads the row without
the history sees one item twice. So once the page is settled, a twin swaps places with a product of another row
where each fits the other's title: the page keeps the same products, and rows stop showing one item twice.
"""

from __future__ import annotations

from typing import Any

from themepage.constants import ROW_DUPLICATE_CHANCE
from themepage.dataset.history import UserHistory
from themepage.programs.rules.duplicates import EvidenceCache
from themepage.programs.rules.row_lengths import MIN_TITLE_FIT, clearly_fits_half
from themepage.programs.rules.shape import Intent, PageRules, RowDraft, intent_of

TWIN_SWAPS = 12
"""At most this many swaps a page (a page rarely holds more than a few twin pairs)."""


class TwinSplitting:
    """Swaps over the builder's rows and titles (parallel lists), judged by its evidence cache."""

    rows: list[list[int]]
    titles: list[str]
    kept: list[RowDraft]
    holder: RowDraft | None
    """The draft whose row holds products kept for it (a next-basket page's lead, in the shopper's order): it keeps
    the products held for it, takes only the shopper's own, and stays in their order after a swap."""
    held: frozenset[int]
    history: UserHistory
    rules: PageRules
    cache: EvidenceCache
    index: Any

    def twins_in(self, row: list[int]) -> list[tuple[int, int]]:
        """Pairs of the row near-duplicate at ROW_DUPLICATE_CHANCE, whoever bought them."""
        return self.cache.near_duplicates(row, ROW_DUPLICATE_CHANCE, across_rows=False, exempt_bought=False)

    def fewer_twins(self, row: list[int], outgoing: int, new_row: list[int], incoming: int) -> float:
        """How many more twin pairs the row holds with `incoming` for `outgoing` (negative: fewer), or infinity when
        `incoming` is a near-duplicate of a product there that is no twin the shopper buys. Only the pairs holding
        the product that came or went are read again (the others' chances move only in the last digits)."""
        if self.cache.near_duplicates_of(incoming, new_row, ROW_DUPLICATE_CHANCE, across_rows=False):
            return float("inf")
        gone = sum(outgoing in pair for pair in self.twins_in(row))
        return len(self.cache.near_duplicates_of(incoming, new_row, ROW_DUPLICATE_CHANCE, across_rows=False,
                                                 exempt_bought=False)) - gone

    def split_twins(self) -> None:
        """Swap twins out of shared rows, one swap at a time, until no swap helps (or TWIN_SWAPS)."""
        for _ in range(TWIN_SWAPS):
            if not self.swap_a_twin():
                return

    def swap_a_twin(self) -> bool:
        """Make the first swap that parts a twin, trying for each twin (the later of its pair: the row's order ranks
        what the shopper is likelier to buy) the best fitting partners first: a product of another row, each shown
        under a title it fits (MIN_TITLE_FIT), both rows still clearly fitting half a row and repeating no row's
        intent, with fewer twin pairs between them and no other near-duplicate brought in. True if one was made."""
        fits = self.cache.fits
        rank = {p: i for i, p in enumerate(self.history.top_products())}
        intents = [intent_of(title, row, self.index) for title, row in zip(self.titles, self.rows, strict=True)]
        for r in range(len(self.rows)):
            row = self.rows[r]
            pairs = self.twins_in(row)
            for twin in dict.fromkeys((b if row.index(b) > row.index(a) else a) for a, b in pairs):
                partners = sorted(((min(fit, back), s, product) for s in range(len(self.rows)) if s != r
                                   and (fit := fits(self.titles[s], [twin])[0]) >= MIN_TITLE_FIT
                                   for product, back in zip(self.rows[s], fits(self.titles[r], self.rows[s]),
                                                            strict=True) if back >= MIN_TITLE_FIT),
                                  key=lambda found: -found[0])
                for _, s, product in partners:
                    if not self.may_trade(r, product, twin) or not self.may_trade(s, twin, product):
                        continue
                    new_row = self.in_order(r, [product if p == twin else p for p in row], rank)
                    new_other = self.in_order(s, [twin if p == product else p for p in self.rows[s]], rank)
                    if (self.still_clear(r, new_row) and self.still_clear(s, new_other)
                            and not self.swap_clashes(r, new_row, s, new_other, intents)
                            and self.fewer_twins(row, twin, new_row, product) + self.fewer_twins(
                                self.rows[s], product, new_other, twin) < 0):
                        self.rows[r][:], self.rows[s][:] = new_row, new_other
                        return True
        return False

    def may_trade(self, r: int, incoming: int, outgoing: int) -> bool:
        """Whether row `r` may take `incoming` for `outgoing`: the held lead keeps the products held for it and takes
        only products the shopper bought (it lists their likeliest)."""
        return self.kept[r] is not self.holder or (outgoing not in self.held
                                                   and incoming in self.history.product_counts)

    def in_order(self, r: int, row: list[int], rank: dict[int, int]) -> list[int]:
        """Row `r` with these products; the held lead keeps the shopper's order (`rank`: likeliest first)."""
        if self.kept[r] is not self.holder:
            return row
        return sorted(row, key=lambda p: rank.get(p, len(rank)))

    def swap_clashes(self, r: int, row: list[int], s: int, other: list[int], intents: list[Intent]) -> bool:
        """Whether rows `r` and `s` with these products would have the intent of another row of the page (`intents`:
        every row's as it stands; titles do not change)."""
        now = list(intents)
        now[r], now[s] = intent_of(self.titles[r], row, self.index), intent_of(self.titles[s], other, self.index)
        return any(j != k and now[k].same_as(now[j]) for k in (r, s) for j in range(len(now)))

    def still_clear(self, r: int, row: list[int]) -> bool:
        """Whether row `r` with these products still clearly fits its title at least half a row."""
        title = self.titles[r]
        return clearly_fits_half(title, self.cache.fits(title, row), self.rules.products_per_placement)
