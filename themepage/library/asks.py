"""What a page is asked for, as the theme library weighs it: kinds of theme wanted or not, and how strictly.

The tags are the theme library's (`theme_bank.Tag`, plus "taste"); who reads them out of an instruction is
not the library's business (the offline engine reads cue words: `themepage/offline/steering.py`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Asks:
    """Tag weights in (-1, 1) (asked for above 0, against below) and how strict the placement check should be."""

    tags: dict[str, float]
    strictness: float

    def weight(self, tag: str) -> float:
        return self.tags.get(tag, 0.0)

    @property
    def novelty_seeking(self) -> float:
        return max(0.0, self.weight("discovery"))

    @property
    def taste_seeking(self) -> float:
        """How much the shopper's known tastes should anchor what is chosen."""
        return max(0.0, self.weight("taste"))

    @property
    def health_seeking(self) -> float:
        return max(0.0, self.weight("healthy"))
