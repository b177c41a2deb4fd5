"""Reading Instacart-layout data: validated, streamed into numpy columns, cached on disk; the store's kind.

The names below load on first use, so a light module of this package (`store_kind`, `errors`) can be imported
without numpy (the CLI's `--help` does).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from themepage.dataset.cache import load_dataset
    from themepage.dataset.errors import DataError
    from themepage.dataset.history import Histories, Order, UserHistory
    from themepage.dataset.model import Catalog, Dataset
    from themepage.dataset.reader import read_dataset

_HOMES = {"load_dataset": "cache", "DataError": "errors", "Histories": "history", "Order": "history",
          "UserHistory": "history", "Catalog": "model", "Dataset": "model", "read_dataset": "reader"}
__all__ = ["Catalog", "DataError", "Dataset", "Histories", "Order", "UserHistory", "load_dataset", "read_dataset"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
