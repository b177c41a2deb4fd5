"""Guards in code between the LM and the page: only known, allowed, unrepeated ids get through."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import islice

READ_FACTOR = 4
"""An LM answer is read up to this multiple of what was asked for (or of the ids it could name)."""

_INTEGER = re.compile(r"-?[0-9]+")
_BLANKS = " \t\r\n"
"""Only plain blanks around an id: str.strip() would also eat control characters such as U+001F."""


def as_id(value) -> int | None:
    """An integer id from an int, an integral float or a string of digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = value.strip(_BLANKS) if isinstance(value, str) else ""
    if _INTEGER.fullmatch(text):
        return int(text)
    return None


def bounded(raw: object, most: int) -> Iterator:
    """At most `most` entries of an LM's list answer (nothing if it is not a list or tuple)."""
    return islice(raw, max(most, 0)) if isinstance(raw, (list, tuple)) else iter(())


def clean_ids(raw: Iterable, allowed: list[int], used: set[int] | frozenset = frozenset(),
              limit: int | None = None) -> list[int]:
    """The ids of `raw` that are integers, among `allowed`, not in `used`, each once, in order, up to limit.

    Reads at most READ_FACTOR times `limit` (or the number of allowed ids) entries of `raw`.
    """
    allowed_set, seen, out = set(allowed), set(used), []
    if limit is not None and limit <= 0:
        return out
    for value in bounded(raw, READ_FACTOR * (limit if limit is not None else len(allowed_set))):
        pid = as_id(value)
        if pid is None or pid not in allowed_set or pid in seen:
            continue
        seen.add(pid)
        out.append(pid)
        if limit is not None and len(out) == limit:
            break
    return out


def top_up(chosen: list[int], ranked_pool: list[int], size: int, used: set[int] | frozenset = frozenset()) -> list[int]:
    """`chosen` filled to `size` from the pool in its order, skipping anything chosen or used."""
    out = list(chosen[:size])
    taken = set(out) | set(used)
    for pid in ranked_pool:
        if len(out) >= size:
            break
        if pid not in taken:
            taken.add(pid)
            out.append(pid)
    return out
