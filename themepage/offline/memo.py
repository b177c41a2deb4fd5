"""The offline engine's one caching style: values derived from a catalog index, stored per index object.

Keyed by the index itself through a weak reference, so a value never outlives its index and a
new index never sees an old one's values, even at a reused memory address (which `id()` keys would allow).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from themepage.index import CatalogIndex
from themepage.wording.prompt_text import inline

_DERIVED: weakref.WeakKeyDictionary[CatalogIndex, dict[str, Any]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def derived(index: CatalogIndex, key: str, build: Callable[[CatalogIndex], Any]) -> Any:
    """`build(index)` computed once per index and key (two threads may race to build it; both get a value)."""
    with _LOCK:
        values = _DERIVED.setdefault(index, {})
    if key not in values:
        values[key] = build(index)
    return values[key]


def _ids_by_name(index: CatalogIndex) -> dict[str, int]:
    names: dict[str, int] = {}
    for pid, name in zip(index.catalog.product_ids.tolist(), index.catalog.names, strict=True):
        names.setdefault(inline(name), pid)
    return names


def product_ids_by_name(index: CatalogIndex) -> dict[str, int]:
    """Prompt-safe catalog name (`prompt_text.inline`) -> product id. Where names repeat once made
    prompt-safe (the catalog has names differing only in spacing), the first product in catalog order wins."""
    return derived(index, "ids_by_name", _ids_by_name)
