"""A product name's head (the basic food it names) and its other words' weights, learned from the catalog itself.

No word list of foods: the catalog tells which stems are heads (a stem that, where it occurs, is often a
name's last word, like "olives" or "yogurt") and which are common (in many names, like "organic" or a
big brand). A name's head is read from its core phrase: the part before the first comma ("Beef Jerky,
Teriyaki"), before "with"/"in" ("Sardines in Water"), after "of" ("Bag of Organic Bananas"); within it,
the stem with the highest headness (later words win ties), sizes and counts left out.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from themepage.quality.text import content_stems

HEAD_LIKE = 0.1
"""Headness from which a stem counts as a head: the core phrase's last such stem is its head."""
_CUT_AFTER = re.compile(r"\s(?:with|in|w/)\s", re.IGNORECASE)
_TAKE_AFTER = re.compile(r"\s(?:of)\s", re.IGNORECASE)


def core_phrase(name: str) -> str:
    """The part of a name that names the food: before a comma, before "with"/"in", after "of"."""
    core = name.split(",")[0]
    core = _CUT_AFTER.split(f" {core} ")[0]
    parts = _TAKE_AFTER.split(f" {core} ")
    return (parts[-1] if len(parts) > 1 and content_stems(parts[-1]) else core).strip()


def ordered_stems(text: str) -> list[str]:
    """Content stems of a text in reading order (sizes, numbers, stop and variant words left out)."""
    words = "".join(c if c.isalpha() else " " for c in text.lower()).split()
    stems: list[str] = []
    for word in words:
        stems.extend(content_stems(word))
    return stems


@dataclass(frozen=True)
class WordStats:
    """Per stem: headness (share of the names holding it whose core phrase ends with it) and IDF."""

    headness: dict[str, float]
    idf: dict[str, float]
    names: int

    @classmethod
    def from_names(cls, names: Sequence[str], prior: float = 2.0) -> WordStats:
        """Counts over catalog names; headness is smoothed toward 0 by `prior` pseudo-names."""
        holding, ending = Counter(), Counter()
        for name in names:
            stems = ordered_stems(core_phrase(name))
            holding.update(set(ordered_stems(name)))
            if stems:
                ending[stems[-1]] += 1
        n = max(len(names), 1)
        headness = {s: ending[s] / (count + prior) for s, count in holding.items()}
        idf = {s: math.log((n + 1) / (count + 1)) for s, count in holding.items()}
        return cls(headness, idf, n)

    def head(self, name: str) -> str | None:
        """The core phrase's last head-like stem (else its most head-like one); None if the name has no stem."""
        stems = ordered_stems(core_phrase(name)) or ordered_stems(name)
        if not stems:
            return None
        for stem in reversed(stems):
            if self.headness.get(stem, 0.0) >= HEAD_LIKE:
                return stem
        return max(reversed(stems), key=lambda s: self.headness.get(s, 0.0))

    @cached_property
    def unseen_weight(self) -> float:
        """The weight of a stem no catalog name holds: the highest IDF."""
        return math.log(self.names + 1)

    def weight(self, stem: str) -> float:
        """IDF of a stem (rare words say more about what a product is); unseen stems get the highest."""
        return self.idf.get(stem, self.unseen_weight)

    def weighted_jaccard(self, a: frozenset[str], b: frozenset[str]) -> float:
        """IDF-weighted share of the two names' stems that they share, in [0, 1]; 0 when both are empty."""
        idf, unseen = self.idf, self.unseen_weight  # the page rules ask this of thousands of pairs a page
        total = sum(idf.get(s, unseen) for s in a | b)
        return sum(idf.get(s, unseen) for s in a & b) / total if total > 0 else 0.0
