"""Non-LLM baselines that return the same Page as the LLM programs, so tables compare like with like.

repurchase = P-TopFreq (the user's most frequently bought products) and
popular = G-TopFreq (the products in the most baskets), cut into placements.
"""

from __future__ import annotations

import time

from themepage.constants import DEFAULT_OBJECTIVE, PLACEMENTS_PER_PAGE, PRODUCTS_PER_PLACEMENT
from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex
from themepage.page import Page, PageStats, Placement, ProductRef


def chunk_into_placements(index: CatalogIndex, product_ids: list[int], titles: list[str], rationale: str,
                          per_placement: int = PRODUCTS_PER_PLACEMENT) -> list[Placement]:
    """Cut a ranked list into consecutive placements of `per_placement` products."""
    placements = []
    for i, title in enumerate(titles):
        chunk = product_ids[i * per_placement:(i + 1) * per_placement]
        if not chunk:
            break
        placements.append(Placement(title=title, rationale=rationale,
                                    products=[ProductRef(product_id=p, name=index.catalog.name(p)) for p in chunk]))
    return placements


class RepurchaseBaseline:
    """P-TopFreq: the shopper's most frequently bought products, ties to the most recent purchase."""

    name = "repurchase"

    def __init__(self, index: CatalogIndex, placements: int = PLACEMENTS_PER_PAGE,
                 per_placement: int = PRODUCTS_PER_PLACEMENT):
        self.index, self.placements, self.per_placement = index, placements, per_placement

    def __call__(self, user_id: int, history: UserHistory, objective: str | None = None) -> Page:
        objective = objective or DEFAULT_OBJECTIVE
        start = time.perf_counter()
        ranked = history.top_products(self.placements * self.per_placement)
        titles = ["Buy It Again"] + [f"Buy It Again, continued ({i})" for i in range(2, self.placements + 1)]
        placements = chunk_into_placements(self.index, ranked, titles, "Your most frequent purchases.",
                                           self.per_placement)
        return Page(user_id=user_id, program=self.name, objective=objective, placements=placements,
                    stats=PageStats(timings_ms={"total": (time.perf_counter() - start) * 1000}))


class PopularBaseline(RepurchaseBaseline):
    """G-TopFreq: the same best sellers for everyone."""

    name = "popular"

    def __call__(self, user_id: int, history: UserHistory, objective: str | None = None) -> Page:
        objective = objective or DEFAULT_OBJECTIVE
        start = time.perf_counter()
        ranked = self.index.popular(self.placements * self.per_placement)
        titles = ["Best Sellers"] + [f"Best Sellers, continued ({i})" for i in range(2, self.placements + 1)]
        placements = chunk_into_placements(self.index, ranked, titles, "What most shoppers buy.",
                                           self.per_placement)
        return Page(user_id=user_id, program=self.name, objective=objective, placements=placements,
                    stats=PageStats(timings_ms={"total": (time.perf_counter() - start) * 1000}))
