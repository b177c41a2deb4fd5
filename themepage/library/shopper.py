"""The shopper the theme library suits its themes to: the aisles and products they buy, and their taste."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Shopper:
    """A shopper as a user context describes them (the offline engine reads one from a prompt)."""

    aisle_shares: dict[str, float] = field(default_factory=dict)
    """Favourite aisles (lower-case names) and the share of the shopper's items each holds."""
    aisle_products: dict[str, int] = field(default_factory=dict)
    """How many distinct products the shopper buys in each favourite aisle."""
    product_share: dict[int, float] = field(default_factory=dict)
    """Frequent products by id, with the share of orders that hold each."""
    recent: set[int] = field(default_factory=set)
    profile: np.ndarray | None = None
    """The unit taste vector (co-purchase space) of their frequent products; None for a new shopper."""
    store: str | None = None
    """The store's kind the context names (None: it does not say, so the default grocery store)."""

    @property
    def is_new(self) -> bool:
        return not self.product_share and not self.aisle_shares
