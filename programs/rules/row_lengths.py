"""How long a page's rows are once filled: short rows give way, rows give back or take slots so the page keeps
its size (a mixin of the page builder in `programs/rules/apply.py`, which holds the rows and knows how to refill
one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from themepage.constants import CLEAR_FIT
from themepage.programs.rules.duplicates import EvidenceCache
from themepage.programs.rules.shape import PageRules, RowDraft, is_catch_all_title, repeats_another_row

MIN_TITLE_FIT = 0.65
"""A product whose fit under the row's title (the core scorer's chance that a merchandiser says it belongs)
is below this is not shown in that row: the labels' rubric rejects a row with two products that do not belong,
and two products that each belong at even odds make that likely (berries under "Mushroom Lovers")."""


def clearly_fits_half(title: str, fits: Sequence[float], products_per_placement: int) -> bool:
    """Whether at least half a usual row (all of a shorter one) clearly belongs under its title (CLEAR_FIT), the
    products' `fits`; a catch-all title ("Your Weekly Staples") always passes. A theme whose clear fits ran out (one
    mushroom once the other mushrooms went as its near-duplicates) is not a row a merchandiser publishes, however
    its other slots are filled."""
    return is_catch_all_title(title) or sum(f >= CLEAR_FIT for f in fits) >= min(-(-products_per_placement // 2),
                                                                                   len(fits))


class RowLengths:
    """Row-length rules over the builder's parallel lists (rows, sources, titles, sizes, kept drafts)."""

    rules: PageRules
    rows: list[list[int]]
    sources: list[list[int]]
    titles: list[str]
    sizes: list[int]
    kept: list[RowDraft]
    cache: EvidenceCache
    index: Any

    def refill(self, r: int, floor: float = MIN_TITLE_FIT) -> None:
        """Row `r` grown to `sizes[r]` from its candidates, each fitting its title at `floor` (the builder's)."""
        raise NotImplementedError

    def drop_short_rows(self) -> bool:
        """Drop every row still shorter than the fewest a row may hold once topped up, and every themed row less
        than half of which clearly belongs (`clearly_fits_half`); True if any went. A theme whose products ran out
        (clear fits taken by earlier rows, near-duplicates, a short pool) gives way to the next draft rather than
        being padded with what does not belong."""
        fewest = self.rules.fewest_products or self.rules.products_per_placement
        short = [r for r in range(len(self.rows)) if len(self.rows[r]) < min(fewest, self.sizes[r])
                 or not clearly_fits_half(self.titles[r], self.cache.fits(self.titles[r], self.rows[r]),
                                          self.rules.products_per_placement)]
        for r in reversed(short):
            del self.rows[r], self.sources[r], self.titles[r], self.sizes[r], self.kept[r]
        return bool(short)

    def keep_page_size(self) -> None:
        """Rows grown past the usual length give back their last products while the page holds more than its
        rows at the usual length would: a row that shrank for a longer one may have given way to a full spare."""
        while sum(map(len, self.rows)) > self.rules.page_size:
            longest = max(range(len(self.rows)), key=lambda r: len(self.rows[r]))
            if len(self.rows[longest]) <= self.rules.products_per_placement:
                return
            self.rows[longest].pop()

    def regrow_short_rows(self) -> None:
        """Rows a draft asked to be shorter than usual grow back, last first, while the page holds fewer products
        than its rows at the usual length: the longer row they made room for may have been dropped."""
        usual = self.rules.products_per_placement
        for r in reversed(range(len(self.rows))):
            missing = self.rules.page_size - sum(map(len, self.rows))
            if missing <= 0:
                return
            if self.sizes[r] < usual:
                self.sizes[r] = min(usual, len(self.rows[r]) + missing)
                self.refill(r)

    def give_slots_on(self) -> None:
        """While the page holds fewer products than its rows at the usual length, rows grow, first to last, up to
        the most a row may hold, from their own candidates under the same rules: clear fits (CLEAR_FIT) first, then
        any that fit. A themed row short of clear fits leaves its slots to rows that have more, not padded; a row grows
        only as far as it keeps its own intent (no two rows' aisles overlapping by more than half)."""
        most = self.rules.most_products or self.rules.products_per_placement
        for floor in (CLEAR_FIT, MIN_TITLE_FIT):
            for r in range(len(self.rows)):
                missing = self.rules.page_size - sum(map(len, self.rows))
                if missing <= 0:
                    return
                if len(self.rows[r]) < most:
                    before = len(self.rows[r])
                    self.sizes[r] = min(most, len(self.rows[r]) + missing)
                    self.refill(r, floor)
                    while len(self.rows[r]) > before and repeats_another_row(self.titles, self.rows, r, self.index):
                        self.rows[r].pop()  # grown into another row's aisles: the last products go back
                    self.sizes[r] = len(self.rows[r])
