"""What the offline engine reads out of prompt fields: the shopper, candidates, themes and steering words."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np

from themepage.index import CatalogIndex
from themepage.page import Theme
from themepage.user_context import PREFIX_AISLES, PREFIX_FREQUENT, PREFIX_RECENT

_SHARE = re.compile(r"([^,(]+?) \((\d+)%(?:, (\d+) products?)?\)")
_FREQUENT = re.compile(r"(.+?) \((\d+)/(\d+)\)(?:; |$)")
_BOUGHT = re.compile(r"bought (\d+) of (\d+)")
_AGO = re.compile(r"last (\d+) orders ago")
_WORD = re.compile(r"[a-z]+")


@dataclass
class Shopper:
    """The shopper as read from a user-context field."""

    aisle_shares: dict[str, float] = field(default_factory=dict)
    aisle_products: dict[str, int] = field(default_factory=dict)
    product_share: dict[int, float] = field(default_factory=dict)
    recent: set[int] = field(default_factory=set)
    profile: np.ndarray | None = None

    @property
    def is_new(self) -> bool:
        return not self.product_share and not self.aisle_shares


def _names_in(text: str, ids: dict[str, int]) -> list[int]:
    """Ids of the catalog names in a "; "-separated list (names that contain "; " are rejoined)."""
    found, pending = [], ""
    for part in text.split("; ") if text else []:
        pending = f"{pending}; {part}" if pending else part
        if pending in ids:
            found.append(ids[pending])
            pending = ""
    return found


def _line(text: str, prefix: str) -> str:
    for line in text.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):]
    return ""


_SHOPPERS: dict[tuple[int, str], Shopper] = {}
MAX_SHOPPERS = 256


def read_shopper(text: str, index: CatalogIndex) -> Shopper:
    """Favourite aisles, frequent products (names mapped back to catalog ids) and a taste vector.

    Memoized per text: a page's dozen calls all carry the same user context. Treat the result as read-only.
    """
    key = (id(index), text)
    if key not in _SHOPPERS:
        if len(_SHOPPERS) >= MAX_SHOPPERS:
            _SHOPPERS.clear()
        _SHOPPERS[key] = _read_shopper(text, index)
    return _SHOPPERS[key]


def _read_shopper(text: str, index: CatalogIndex) -> Shopper:
    shopper = Shopper()
    for m in _SHARE.finditer(_line(text, PREFIX_AISLES)):
        aisle = m.group(1).strip().lower()
        shopper.aisle_shares[aisle] = int(m.group(2)) / 100
        shopper.aisle_products[aisle] = int(m.group(3) or 0)
    ids = product_ids_by_name(index)
    for m in _FREQUENT.finditer(_line(text, PREFIX_FREQUENT)):
        if m.group(1) in ids:
            shopper.product_share[ids[m.group(1)]] = int(m.group(2)) / max(int(m.group(3)), 1)
    shopper.recent = set(_names_in(_line(text, PREFIX_RECENT), ids))
    known = list(shopper.product_share)
    if known:
        weights = np.array([shopper.product_share[p] for p in known], dtype=np.float32)
        vector = weights @ index.vectors[index.rows(known)]
        norm = np.linalg.norm(vector)
        shopper.profile = vector / norm if norm > 0 else None
    return shopper


_NAME_MAPS: dict[int, dict[str, int]] = {}


def product_ids_by_name(index: CatalogIndex) -> dict[str, int]:
    """Catalog name -> product id (the first id where a name repeats), built once per index."""
    key = id(index)
    if key not in _NAME_MAPS:
        names = {}
        for pid, name in zip(index.catalog.product_ids.tolist(), index.catalog.names):
            names.setdefault(name, pid)
        _NAME_MAPS[key] = names
    return _NAME_MAPS[key]


@dataclass(frozen=True)
class Candidate:
    product_id: int
    name: str
    aisle: str
    bought_share: float
    recency: float = 0.0
    """1 when bought in the last order, falling towards 0 for purchases long ago; 0 when never bought."""


def read_candidates(text: str) -> list[Candidate]:
    """Lines of `id | name | aisle | history`; lines that do not start with an id are ignored."""
    out = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2 or not parts[0].lstrip("-").isdigit():
            continue
        share = recency = 0.0
        if len(parts) > 3 and (m := _BOUGHT.search(parts[3])):
            orders = max(int(m.group(2)), 1)
            share = int(m.group(1)) / orders
            ago = int(a.group(1)) if (a := _AGO.search(parts[3])) else 0
            recency = 1.0 - ago / orders
        out.append(Candidate(int(parts[0]), parts[1], parts[2] if len(parts) > 2 else "", share, recency))
    return out


def read_theme(text: str) -> Theme:
    """A Theme from its JSON rendering; a bare title when the text is not JSON."""
    try:
        return Theme.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValueError):
        return Theme(title=text.strip()[:80] or "Picks for you")


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))
