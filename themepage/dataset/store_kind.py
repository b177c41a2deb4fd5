"""What kind of store a data directory is (a setting) and whether its data is Instacart's.

`themepage data import --store-kind "hardware store"` records the kind in the data directory's
`store.toml` (keys `kind`, a short noun phrase, and `source`, "instacart" or "own"); a directory
without the file (the bundled data, the Kaggle layout) is Instacart's and a "grocery store".
`themepage.lm.settings.resolve_store` lets a flag, THEMEPAGE_STORE_KIND or `[store] kind` in themepage.toml
override the recorded kind. The kind reaches the LM as data (the `Store:` line of the user context), and
the offline engine plans from its theme bank only for a grocery store.

The kind chosen for a run is attached to its `CatalogIndex` (`attach_store`), since the index is what
every program, the offline engine and the page writers already share; `store_of` reads it back
(the default store for an index nobody attached one to).
"""

from __future__ import annotations

import re
import tomllib
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DEFAULT_KIND = "grocery store"
METADATA_FILE = "store.toml"
SOURCES = ("instacart", "own")
MAX_KIND_CHARS = 40
_KIND = re.compile(r"^[A-Za-z][A-Za-z0-9 &'-]*$")
GROCERY_WORDS = ("grocer", "supermarket", "food")
"""A kind naming one of these is a grocery store: the offline engine's grocery theme bank fits it."""


class StoreError(ValueError):
    """A bad store kind or metadata file; the message is one line naming the file (or setting) and key."""


@dataclass(frozen=True)
class Store:
    """The store's kind ("hardware store") and whether its data is Instacart's (credited on pages)."""

    kind: str = DEFAULT_KIND
    source: Literal["instacart", "own"] = "instacart"

    @property
    def instacart(self) -> bool:
        return self.source == "instacart"

    @property
    def grocery(self) -> bool:
        return is_grocery(self.kind)


def is_grocery(kind: str | None) -> bool:
    """True for a grocery store (and for no kind at all: the default)."""
    return kind is None or any(word in kind.lower() for word in GROCERY_WORDS)


def check_kind(value: object) -> str:
    """The kind, whitespace-normalized; a ValueError saying what is wrong otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string such as {DEFAULT_KIND!r}, not {type(value).__name__}")
    kind = " ".join(value.split())
    if any(ord(char) < 32 for char in value) or not kind or len(kind) > MAX_KIND_CHARS or not _KIND.match(kind):
        raise ValueError(f"{value!r} is not a short noun phrase (letters, digits, spaces, & ' -; at most "
                         f"{MAX_KIND_CHARS} characters), e.g. 'hardware store'")
    return kind


def read_store_file(data_dir: Path | str) -> Store | None:
    """The store recorded in `data_dir/store.toml`, or None when there is no such file."""
    path = Path(data_dir) / METADATA_FILE
    if not path.is_file():
        return None
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: not valid TOML: {' '.join(str(exc).split())}") from None
    unknown = [key for key in document if key not in ("kind", "source")]
    if unknown:
        raise StoreError(f"{path}: unknown key {unknown[0]!r}; the file holds kind and source")
    if "kind" not in document:
        raise StoreError(f"{path}: key 'kind' is missing (e.g. kind = \"hardware store\")")
    try:
        kind = check_kind(document["kind"])
    except ValueError as exc:
        raise StoreError(f"{path}: key 'kind': {exc}") from None
    source = document.get("source", "instacart")
    if source not in SOURCES:
        raise StoreError(f"{path}: key 'source': {source!r} is not one of {', '.join(SOURCES)}")
    return Store(kind, source)


def write_store_file(out: Path | str, store: Store) -> Path:
    """Record `store` in `out/store.toml` (what `read_store_file` reads back)."""
    path = Path(out) / METADATA_FILE
    path.write_text(f'kind = "{check_kind(store.kind)}"\nsource = "{store.source}"\n', encoding="utf-8")
    return path


_ATTACHED: weakref.WeakKeyDictionary[object, Store] = weakref.WeakKeyDictionary()


def attach_store(index: object, store: Store) -> None:
    """Make `store` the store of this index (and so of every page made from it)."""
    _ATTACHED[index] = store


def store_of(index: object) -> Store:
    """The store attached to this index; the default (Instacart's grocery store) when none was (or can be: a
    stand-in object without weak references, as tests build)."""
    try:
        return _ATTACHED.get(index, Store())
    except TypeError:
        return Store()
