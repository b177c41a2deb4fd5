"""Short per-prompt ids: a prompt's candidate lines numbered 1..N in place of catalog ids, mapped back in code.

Most small models' tokenizers write one token per digit, so a 5-digit catalog id costs five tokens on every
candidate line and again on every id of the answer; on a small local model completion tokens are latency. A line's
number is its position among the prompt's distinct ids, so the same prompt always gets the same numbers (demos and
caches stay consistent), and an answer's numbers are mapped back to the catalog ids before any guard or program sees
them. Numbers a prompt did not show are dropped: under constrained decoding they cannot be written, and without it
they name nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ID_LINE = re.compile(r"^(\s*)(\d+)(\s*\|)", re.MULTILINE)
"""A candidate line's leading id (`24852 | Banana | ...`): the form of `programs.retrieval` and `fill_lines`."""
ID_FIELDS = ("candidates", "products")
"""Input fields whose lines start with an id."""
ID_OUTPUTS = ("product_ids", "kept_ids")
"""Output fields that answer with ids of those lines."""


@dataclass(frozen=True)
class ShortIds:
    """The numbering of one prompt: catalog id -> short number, and back."""

    to_short: dict[int, int] = field(default_factory=dict)

    @classmethod
    def of_lines(cls, text: str) -> ShortIds:
        """Numbers 1..N for the distinct leading ids of `text`'s lines, in order."""
        ids = dict.fromkeys(int(m.group(2)) for m in ID_LINE.finditer(text))
        return cls({catalog: n for n, catalog in enumerate(ids, start=1)})

    def shorten_lines(self, text: str) -> str:
        """`text` with each line's leading catalog id replaced by its number."""
        return ID_LINE.sub(lambda m: f"{m.group(1)}{self.to_short.get(int(m.group(2)), m.group(2))}{m.group(3)}", text)

    def shorten(self, ids: Iterable[Any]) -> list[int]:
        """Catalog ids as numbers (for demos' answers); ids the prompt did not show are left out."""
        return [self.to_short[i] for i in ids if isinstance(i, int) and i in self.to_short]

    def restore(self, numbers: Iterable[Any]) -> list[int]:
        """An answer's numbers as catalog ids; numbers the prompt did not show are left out."""
        to_catalog = {n: catalog for catalog, n in self.to_short.items()}
        return [to_catalog[n] for n in numbers if isinstance(n, int) and n in to_catalog]


def id_text(inputs: dict[str, Any]) -> tuple[str, str] | None:
    """(field name, text) of the first input holding candidate lines, or None."""
    for name in ID_FIELDS:
        text = inputs.get(name)
        if isinstance(text, str) and ID_LINE.search(text):
            return name, text
    return None


def shorten_inputs(inputs: dict[str, Any]) -> tuple[dict[str, Any], ShortIds]:
    """`inputs` with their candidate lines numbered 1..N, and the numbering (empty when no input has lines)."""
    found = id_text(inputs)
    if found is None:
        return inputs, ShortIds()
    name, text = found
    numbering = ShortIds.of_lines(text)
    return {**inputs, name: numbering.shorten_lines(text)}, numbering


def shorten_example(example: Any) -> dict[str, Any]:
    """A demo (a dict or dspy.Example: inputs and answer) in the numbering its own prompt would get."""
    shortened, numbering = shorten_inputs(dict(example.items()))
    if not numbering.to_short:
        return shortened
    return {**shortened, **{name: numbering.shorten(shortened[name]) for name in ID_OUTPUTS
                            if isinstance(shortened.get(name), list)}}


def restore_outputs(outputs: dict[str, Any], numbering: ShortIds) -> dict[str, Any]:
    """A parsed answer with its id outputs mapped back to catalog ids (unchanged when nothing was numbered)."""
    if not numbering.to_short:
        return outputs
    return {**outputs, **{name: numbering.restore(outputs[name]) for name in ID_OUTPUTS
                          if isinstance(outputs.get(name), list)}}
