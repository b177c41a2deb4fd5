"""`Index`: what a function that takes "an index" may use, so tests can pass a small fake and types stay honest.

`CatalogIndex` satisfies it; a fake needs only the members the function it is given to reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from typing import Protocol, runtime_checkable

import numpy as np

from themepage.dataset.history import Histories, UserHistory
from themepage.dataset.model import Catalog


@runtime_checkable
class Index(Protocol):
    """Catalog, histories, co-purchase vectors and search over one dataset (read-only)."""

    catalog: Catalog
    histories: Histories
    vectors: np.ndarray
    popularity: np.ndarray
    well_seen: np.ndarray

    def rows(self, product_ids: Iterable[int]) -> np.ndarray: ...

    def search(self, query: str, k: int = 10, aisles=None, departments=None) -> list[int]: ...

    def similarity(self, a: int, b: int) -> float: ...

    def neighbors(self, product_id: int, k: int = 10) -> list[int]: ...

    def profile(self, user: int | UserHistory) -> np.ndarray: ...

    def popular(self, k: int, exclude: AbstractSet[int] = ...) -> list[int]: ...

    def candidates_for_user(self, user: int | UserHistory, k: int) -> list[int]: ...
