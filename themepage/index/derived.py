"""Values derived from a catalog index, computed once and stored per index object.

Keyed by the index itself through a weak reference, so a value never outlives its index and a
new index never sees an old one's values, even at a reused memory address (which `id()` keys would allow).
The theme library's tables (what each theme's row holds, aisle popularity) and the offline engine's
readers (the catalog's names, shoppers read from a prompt) are stored here alike.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from themepage.index.catalog_index import CatalogIndex

_DERIVED: weakref.WeakKeyDictionary[CatalogIndex, dict[str, Any]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def derived(index: CatalogIndex, key: str, build: Callable[[CatalogIndex], Any]) -> Any:
    """`build(index)` computed once per index and key (two threads may race to build it; both get a value)."""
    with _LOCK:
        values = _DERIVED.setdefault(index, {})
    if key not in values:
        values[key] = build(index)
    return values[key]
