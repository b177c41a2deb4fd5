"""What the offline engine reads out of prompt fields: the shopper (as the theme library's `Shopper`), candidates,
themes and words; catalog names are mapped back to product ids."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np

from themepage.index import CatalogIndex
from themepage.index.derived import derived
from themepage.library.shopper import Shopper
from themepage.page import Theme
from themepage.wording.prompt_text import inline
from themepage.wording.user_context import parse_user_context

_BOUGHT = re.compile(r"(?:bought |^)(\d{1,9})(?: of |/)(\d{1,9})(?=,| orders|$)")
"""`bought 3/11, ...`, `bought 3 of 11 orders, ...` or FillTheme's bare mark `3/11, ...` (an aisle like `24/7 deli`
is no mark)."""
_AGO = re.compile(r"(\d{1,9}) orders? ago")
_WORD = re.compile(r"[a-z]+")
NEW = "new"
"""The purchase note of a product the shopper never bought."""
MAX_SHOPPERS = 256
"""Shoppers memoized per index (a page's dozen calls carry the same user context); cleared when full."""


def _ids_by_name(index: CatalogIndex) -> dict[str, int]:
    names: dict[str, int] = {}
    for pid, name in zip(index.catalog.product_ids.tolist(), index.catalog.names, strict=True):
        names.setdefault(inline(name), pid)
    return names


def product_ids_by_name(index: CatalogIndex) -> dict[str, int]:
    """Prompt-safe catalog name (`prompt_text.inline`) -> product id. Where names repeat once made
    prompt-safe (the catalog has names differing only in spacing), the first product in catalog order wins."""
    return derived(index, "ids_by_name", _ids_by_name)


def read_shopper(text: str, index: CatalogIndex) -> Shopper:
    """The shopper of a user-context field: favourite aisles, frequent products (names mapped back to catalog
    ids) and a taste vector.

    Memoized per index and text. Treat the result as read-only.
    """
    shoppers = derived(index, "shoppers", lambda _: {})
    if text not in shoppers:
        if len(shoppers) >= MAX_SHOPPERS:
            shoppers.clear()
        shoppers[text] = _read_shopper(text, index)
    return shoppers[text]


def _read_shopper(text: str, index: CatalogIndex) -> Shopper:
    shopper = Shopper()
    context = parse_user_context(text)
    shopper.store = context.store
    for aisle, share, products in context.aisles:
        shopper.aisle_shares[aisle] = share
        shopper.aisle_products[aisle] = products
    ids = product_ids_by_name(index)
    for name, count in context.frequent:
        if name in ids:
            shopper.product_share[ids[name]] = min(1.0, count / max(context.orders, 1))
    shopper.recent = {ids[name] for name in context.recent if name in ids}
    shopper.profile = taste_profile(shopper.product_share, index)
    return shopper


def taste_profile(shares: dict[int, float], index: CatalogIndex) -> np.ndarray | None:
    """The unit share-weighted sum of the products' co-purchase vectors; None when there are none."""
    known = list(shares)
    if not known:
        return None
    weights = np.array([shares[p] for p in known], dtype=np.float32)
    vector = weights @ index.vectors[index.rows(known)]
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else None


@dataclass(frozen=True)
class Candidate:
    product_id: int
    name: str
    aisle: str
    bought_share: float
    recency: float = 0.0
    """1 when bought in the last order, falling towards 0 for purchases long ago; 0 when never bought."""


MAX_CANDIDATES = 1000
"""Product lines read from one field at most; the rest of a huge prompt is ignored."""


def _history(note: str) -> tuple[float, float]:
    """(share of orders, recency) from a purchase note (`bought 3/11, 2 orders ago`, the bare `3/11, 2 orders ago`;
    `bought 3 of 11 orders, last 2 orders ago` is read too); (0, 0) for `new`, no note or anything else."""
    if not (bought := _BOUGHT.search(note)):
        return 0.0, 0.0
    orders = max(int(bought.group(2)), 1)
    ago = int(a.group(1)) if (a := _AGO.search(note)) else 0
    return min(1.0, int(bought.group(1)) / orders), min(1.0, max(0.0, 1.0 - ago / orders))


def _aisle_and_note(columns: list[str]) -> tuple[str, str]:
    """(aisle, purchase note) of the columns after the name: `aisle | note`, `aisle`, or a lone note."""
    if len(columns) >= 2:
        return columns[0], columns[1]
    if columns and (columns[0] == NEW or _BOUGHT.match(columns[0])):
        return "", columns[0]
    return (columns[0] if columns else ""), ""


def read_candidates(text: str, index: CatalogIndex | None = None) -> list[Candidate]:
    """Lines of `id | name | aisle | history` (or FillTheme's `id | name | history` and `id | name`, the aisle then
    read from the catalog), each id once, at most MAX_CANDIDATES; lines that do not start with an id are ignored
    and, given the index, so are ids the catalog does not hold."""
    out, seen = [], set()
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2 or not (parts[0].isascii() and parts[0].isdigit()) or len(parts[0]) > 9:
            continue
        product_id = int(parts[0])
        if product_id in seen or (index is not None and product_id not in index.catalog):
            continue
        seen.add(product_id)
        aisle, note = _aisle_and_note(parts[2:])
        if not aisle and index is not None:  # `id | name | history` lines (FillTheme): the catalog knows the aisle
            aisle = index.catalog.aisle(product_id)
        share, recency = _history(note)
        out.append(Candidate(product_id, parts[1], aisle, share, recency))
        if len(out) >= MAX_CANDIDATES:
            break
    return out


def shopper_from_marks(candidates: list[Candidate], index: CatalogIndex) -> Shopper:
    """The shopper as candidate lines show them (a prompt without a user context): what they bought, how
    often, and a taste vector of those products."""
    shares = {c.product_id: c.bought_share for c in candidates if c.bought_share > 0}
    return Shopper(product_share=shares, profile=taste_profile(shares, index))


def read_named_products(text: str) -> list[tuple[str, str]]:
    """(name, aisle) of `name | aisle` lines (an id column first is tolerated), at most MAX_CANDIDATES."""
    pairs = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if parts and parts[0].isdigit():
            parts = parts[1:]
        if len(parts) >= 2 and parts[0]:
            pairs.append((parts[0], parts[1]))
        if len(pairs) >= MAX_CANDIDATES:
            break
    return pairs


def read_theme(text: str) -> Theme:
    """A Theme from its JSON rendering; a bare title when the text is not JSON."""
    try:
        return Theme.model_validate(json.loads(text))
    except (ValueError, RecursionError):  # not JSON, not a theme, or nested too deep to decode
        return Theme(title=" ".join(text.split())[:80] or "Picks for you")


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))
