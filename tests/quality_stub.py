"""A placement-quality scorer with hand-set answers, so page metrics on the fake index are hand-computable."""

from __future__ import annotations

from test_metrics_relevance import FAKE_SEARCH

from themepage.quality import PlacementQuality

NEAR_DUPLICATES = {frozenset((1, 2))}
"""Products 1 and 2 (same aisle, same vector) count as one item."""


class StubQuality:
    """fit = 1 for a product among its title's canned search hits, else 0; title fit and publishable = mean fit."""

    def score(self, title: str, product_ids) -> PlacementQuality:
        hits = FAKE_SEARCH.get(title.lower(), [])
        fit = [1.0 if p in hits else 0.0 for p in product_ids]
        mean = sum(fit) / len(fit) if fit else 0.0
        return PlacementQuality(fit, self.near_duplicates(list(product_ids)), mean, mean)

    def evidence(self, product_ids):
        return list(product_ids)

    def near_duplicates(self, product_ids) -> list[tuple[int, int]]:
        ids = list(product_ids)
        return [(a, b) for i, a in enumerate(ids) for b in ids[i + 1:] if frozenset((a, b)) in NEAR_DUPLICATES]
