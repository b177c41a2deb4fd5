"""How instruction and guidance text steer the offline engine: cue words raise or lower theme tags.

A real model follows its instruction; the offline engine does so through these
cues, so rewriting an instruction (as GEPA or MIPRO do) really changes the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from themepage.offline.reading import words

CUES: dict[str, set[str]] = {
    "personal": {"again", "regular", "regulars", "usual", "staples", "repurchase", "habits", "relevance", "replenish",
                 "reorder", "favourites", "favorites"},
    "staples": {"staples", "essentials", "pantry", "stock", "weekly", "everyday", "basics"},
    "healthy": {"healthy", "health", "healthier", "nutritious", "wholesome", "produce", "vegetables", "fruit",
                "fruits", "balanced", "lighter", "wellness", "greens"},
    "discovery": {"new", "discover", "discovery", "explore", "try", "novel", "unfamiliar", "beyond", "adventurous",
                  "novelty", "fresh-to-you", "haven"},
    "seasonal": {"season", "seasonal", "holiday", "holidays", "winter", "autumn", "fall", "thanksgiving", "festive"},
    "indulgent": {"treat", "treats", "indulgent", "indulge", "comfort", "dessert"},
    "quick": {"quick", "easy", "fast", "weeknight", "convenient"},
    "household": {"household", "cleaning", "home", "supplies"},
    "family": {"family", "kids", "lunchbox"},
    "taste": {"taste", "tastes", "love", "loves", "favourite", "favourites", "favorite", "favorites", "close",
              "closely", "similar", "anchored", "familiar"},
}
COHESION_CUES = {"cohesive", "coherent", "focused", "tight", "together", "consistent", "on-theme", "distinct"}
DISCOVERY_DAMPENS = ("personal",)
"""A page asked for new products plans fewer rows of things the shopper already buys."""


@dataclass(frozen=True)
class Steering:
    """Tag weights in [-1, 1] and how strict the placement check should be."""

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


def emphasis(matches: int) -> float:
    """In [0, 1): more distinct cue words mean more emphasis, with diminishing returns (1 -> 0.5, 3 -> 0.75)."""
    return matches / (matches + 1)


def steer(*texts: str) -> Steering:
    """Read cue words from the instruction and guidance texts."""
    found = set().union(*(words(t) for t in texts)) if texts else set()
    tags = {tag: emphasis(len(found & cues)) for tag, cues in CUES.items() if found & cues}
    discovery = tags.get("discovery", 0.0)
    for tag in DISCOVERY_DAMPENS:
        tags[tag] = tags.get(tag, 0.0) - discovery
    return Steering(tags, emphasis(len(found & COHESION_CUES)))
