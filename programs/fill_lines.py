"""The candidate lines of a FillTheme prompt: `id | name | purchase history`, without the aisle column.

Retrieval drew the candidates from the theme's aisles and queries, and the theme names its aisles,
so an aisle per line mostly repeats them (about 500 prompt tokens a page); the filter, which judges
fit, still sees each product's aisle. Names pass through `prompt_text.inline`, as in
`retrieval.render_candidates`.
"""

from __future__ import annotations

from programs.retrieval import history_note
from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex
from themepage.prompt_text import COLUMN, inline


def render_fill_candidates(product_ids: list[int], index: CatalogIndex, history: UserHistory) -> str:
    """One line per product: `id | name | purchase history` (`bought 3/11, 2 orders ago` or `new`)."""
    return "\n".join(COLUMN.join((str(p), inline(index.catalog.name(p)), history_note(p, history)))
                     for p in product_ids)
