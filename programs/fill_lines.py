"""The candidate lines of a FillTheme prompt: `id | name | 3/11, 2 orders ago`, or `id | name` if never bought.

Retrieval drew the candidates from the theme's aisles and queries, and the theme names its aisles,
so an aisle per line mostly repeats them at a cost in prompt tokens; the filter, which judges
fit, still sees each product's aisle. The purchase mark is short for the same reason: a page's fill
calls show many candidate lines, and a word on each of them costs tokens on every line; the field's
description says what the mark means once.
Names pass through `prompt_text.inline`, as in `retrieval.render_candidates`.
"""

from __future__ import annotations

from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex
from themepage.programs.retrieval import purchase_mark
from themepage.wording.prompt_text import COLUMN, inline


def render_fill_candidates(product_ids: list[int], index: CatalogIndex, history: UserHistory) -> str:
    """One line per product: `id | name | purchase mark`, the mark (and its column) only if they bought it."""
    lines = []
    for p in product_ids:
        mark = purchase_mark(p, history)
        lines.append(COLUMN.join((str(p), inline(index.catalog.name(p)), *([mark] if mark else []))))
    return "\n".join(lines)
