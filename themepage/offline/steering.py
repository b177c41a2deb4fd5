"""Everything the offline engine reacts to in instruction and guidance text, in one table.

The offline engine is not a language model: it follows an instruction only through the cue
words and phrases below. Offline compiles (GEPA, MIPRO, bootstrap) therefore check the
plumbing (that rewritten instructions reach the engine and change pages), not what
compiling achieves with a real model: docs/design.md, "What offline figures can and cannot show".

How text is read: it is split into clauses at `. ; : , ! ? ( )` and at "but", "while",
"yet". In each clause, phrases match before single words (so "home page" is no household
cue and "outside their usual" asks for discovery, not for habits). A negator (NEGATORS)
flips every cue after it in its clause ("avoid new products", "do not try anything
unfamiliar", "treats" in "choices over treats"); two negators cancel. Each tag's weight is
emphasis(cues for) - emphasis(cues against), emphasis(n) = n / (n + 1), in (-1, 1).

The cue words and phrases of each tag are CUES and COHESION_CUES below. `steer` turns them into the theme
library's `Asks`: the planner's answer is the library's ranking under those weights
(`themepage.library.for_shopper`), the filler's and the filter's are the stand-in's own (choosing.py). What
each tag does:

| tag       | effect on the page                                                                          |
|-----------|---------------------------------------------------------------------------------------------|
| personal  | planner: "Your ..." rows of the shopper's own products gain; filler: a history row keeps    |
|           | their regulars. Lowered by a positive discovery weight (DISCOVERY_DAMPENS).                  |
| staples   | planner: staple themes gain                                                                 |
| healthy   | planner: healthy themes and produce aisles gain; filler: health aisles are lifted           |
| discovery | planner: discovery themes gain; filler: bought products lose, new ones near their taste gain |
| seasonal  | planner: seasonal themes gain                                                               |
| indulgent | planner: indulgent themes gain (lose, when negated)                                         |
| quick     | planner: quick-meal themes gain                                                             |
| household | planner: household themes gain                                                              |
| family    | planner: family themes gain                                                                 |
| taste     | planner: fit to the shopper weighs more; filler: closeness to their taste vector weighs more |
| cohesion  | `strictness`: planner prefers narrow themes, filler picks products bought together and      |
|           | trusts theme fit over habit, the filter drops more                                          |

Tags of the theme library (themepage/library/theme_bank.toml) that no cue raises are never steered.
"""

from __future__ import annotations

import re
from functools import lru_cache

from themepage.library.asks import Asks

CUES: dict[str, set[str]] = {
    "personal": {"again", "regular", "regulars", "usual", "staples", "repurchase", "habits", "relevance", "replenish",
                 "reorder", "favourites", "favorites"},
    "staples": {"staples", "essentials", "pantry", "stock", "weekly", "everyday", "basics"},
    "healthy": {"healthy", "health", "healthier", "nutritious", "wholesome", "produce", "vegetables", "fruit",
                "fruits", "balanced", "lighter", "wellness", "greens"},
    "discovery": {"new", "discover", "discovery", "explore", "try", "novel", "unfamiliar", "beyond", "adventurous",
                  "novelty", "surprise", "unusual", "outside their usual", "outside the usual", "haven't"},
    "seasonal": {"season", "seasonal", "holiday", "holidays", "winter", "autumn", "fall", "thanksgiving", "festive"},
    "indulgent": {"treat", "treats", "indulgent", "indulge", "comfort", "dessert"},
    "quick": {"quick", "easy", "fast", "weeknight", "convenient"},
    "household": {"household", "cleaning", "laundry", "home goods", "home care", "supplies"},
    "family": {"family", "kids", "lunchbox"},
    "taste": {"taste", "tastes", "love", "loves", "favourite", "favourites", "favorite", "favorites", "close",
              "closely", "similar", "anchored", "familiar"},
}
COHESION_CUES = {"cohesive", "coherent", "focused", "tight", "together", "consistent", "on-theme", "distinct"}
NEGATORS = {"not", "no", "never", "avoid", "avoiding", "without", "don't", "dont", "do not", "nothing", "less",
            "fewer", "instead of", "rather than", "over", "except", "skip", "stop", "neither", "nor", "nobody"}
"""Each flips the cues after it in its clause ("favour produce over treats": treats count against)."""
NO_CUE = {"home page", "new shopper", "new shoppers", "landing page"}
"""Phrases that contain a cue word but are not a cue."""
DISCOVERY_DAMPENS = ("personal",)
"""A page asked for new products plans fewer rows of things the shopper already buys."""

_CLAUSE = re.compile(r"[.;:,!?()\n]+|\b(?:but|while|yet)\b")
_TOKEN = re.compile(r"[a-z][a-z'\-]*")
_PHRASES = sorted({p for cues in CUES.values() for p in cues} | COHESION_CUES | NEGATORS | NO_CUE,
                  key=lambda p: -len(p.split()))
_LONGEST = max(len(p.split()) for p in _PHRASES)
COHESION = "cohesion"


def emphasis(matches: int) -> float:
    """In [0, 1): more distinct cue words mean more emphasis, with diminishing returns (1 -> 0.5, 3 -> 0.75)."""
    return matches / (matches + 1)


def _phrases(clause: str) -> list[str]:
    """The clause's tokens, with known phrases (longest first) joined into one item."""
    tokens = _TOKEN.findall(clause.lower())
    out, i = [], 0
    while i < len(tokens):
        for size in range(min(_LONGEST, len(tokens) - i), 0, -1):
            phrase = " ".join(tokens[i:i + size])
            if size == 1 or phrase in _PHRASES:
                out.append(phrase)
                i += size
                break
    return out


def read_cues(*texts: str) -> dict[str, tuple[set[str], set[str]]]:
    """Per tag (and "cohesion"), the distinct cues read for it and against it."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for text in texts:
        for clause in _CLAUSE.split(text or ""):
            negated = False
            for phrase in _phrases(clause or ""):
                if phrase in NEGATORS:
                    negated = not negated
                    continue
                tags = [t for t, cues in CUES.items() if phrase in cues]
                tags += [COHESION] if phrase in COHESION_CUES else []
                for tag in tags:
                    found.setdefault(tag, (set(), set()))[1 if negated else 0].add(phrase)
    return found


@lru_cache(maxsize=256)
def steer(*texts: str) -> Asks:
    """What the instruction and guidance texts ask for, read from their cues (the table in the module docstring).

    Memoised: a page asks it of the same instruction and guidance for every step. Treat the result as read-only."""
    cues = read_cues(*texts)
    weights = {tag: emphasis(len(pro)) - emphasis(len(con)) for tag, (pro, con) in cues.items()}
    strictness = max(0.0, weights.pop(COHESION, 0.0))
    tags = {tag: w for tag, w in weights.items() if w}
    discovery = tags.get("discovery", 0.0)
    for tag in DISCOVERY_DAMPENS:
        if discovery > 0:
            tags[tag] = tags.get(tag, 0.0) - discovery
    return Asks(tags, strictness)
