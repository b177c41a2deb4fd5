"""Catalog text made safe to put into a prompt, for every LM.

Product and aisle names come from data files, and a prompt is parsed by field markers
(`[[ ## name ## ]]`), one line per product and columns split by ` | `. A name with a
newline, a marker or the separator could forge a field or a candidate line, so every
catalog string goes through `inline` before it enters a prompt: one line, no `[[`/`]]`
pairs, `|` as `/` and `;` (the list separator of the user context) as `,`. Readers that map
names back to products key their lookups by the same function.
"""

from __future__ import annotations

import re

COLUMN = " | "
"""Column separator of product lines (`id | name | aisle | history`)."""
LIST = "; "
"""Separator of product names listed on one line (the user context)."""

_SPACE = re.compile(r"\s+")
_OPEN, _CLOSE = re.compile(r"\[{2,}"), re.compile(r"\]{2,}")
_SWAPS = str.maketrans({"|": "/", ";": ","})


def inline(text: str) -> str:
    """One prompt-safe line: whitespace runs as one space, bracket pairs as one bracket, `|` -> `/`, `;` -> `,`."""
    text = _SPACE.sub(" ", str(text)).strip().translate(_SWAPS)
    return _CLOSE.sub("]", _OPEN.sub("[", text))
