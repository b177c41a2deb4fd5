"""Row titles and rationales a shopper can read: short titles, no raw aisle names, rationales as sentences."""

from __future__ import annotations

import re
from functools import lru_cache

from themepage.lm.redact import redact
from themepage.wording.aisle_labels import AISLE_LABELS, readable_aisle
from themepage.wording.answer_text import clean_rationale, clean_title, usable_title

MAX_TITLE_WORDS = 6
MIN_RATIONALE_WORDS = 4
_SENTENCE_END = ".!?…"


NOUN_PAIR_AISLES = frozenset({
    "popcorn jerky", "candy chocolate", "cookies cakes", "chips pretzels", "diapers wipes", "oils vinegars",
    "buns rolls", "mint gum", "soy lactosefree", "juice nectars", "shave needs", "granola bars",
})
"""Two-word aisle names that are two nouns glued together, not a phrase anyone would write ("popcorn jerky")."""


def _unnatural(aisle: str) -> bool:
    return len(aisle.split()) > 2 or aisle in NOUN_PAIR_AISLES


@lru_cache(maxsize=1)
def _aisle_pattern() -> re.Pattern:
    """Raw aisle names no one would write (three or more words, or two glued nouns), longest first."""
    names = sorted((a for a in AISLE_LABELS if _unnatural(a)), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b", re.IGNORECASE)


def _dressing_removed(title: str) -> str:
    return " ".join(w for w in re.sub(r"[^a-z ]", " ", title.lower()).split() if w not in ("your", "more", "picks",
                                                                                          "the", "aisle", "popular",
                                                                                          "in", "favorites"))


def readable_title(title: object, fallback: str = "Picks for You") -> str:
    """A clean title of at most MAX_TITLE_WORDS words with raw aisle names replaced by their labels.

    "Your fresh fruits" -> "Your Fresh Fruit"; "More nuts seeds dried fruit Picks" -> "More Nuts & Dried Fruit Picks".
    An unusable title (a fragment, no letters) becomes `fallback`; so does one that held a secret (redacted first,
    before any cut could leave part of it, and `<redacted>` is no title).
    """
    text = clean_title(_redacted(title))
    bare = _dressing_removed(text)
    if bare in AISLE_LABELS:  # a whole raw aisle name, perhaps dressed up: the label says it better
        prefix = "Your " if text.lower().startswith("your ") else ""
        text = prefix + readable_aisle(bare)
    text = _aisle_pattern().sub(lambda m: readable_aisle(m.group(0)), text)
    words = text.split()[:MAX_TITLE_WORDS]
    text = " ".join(words).rstrip(" ,;:-–—&/")
    return text if usable_title(text) else fallback


def readable_rationale(text: object, fallback: str) -> str:
    """The rationale as one sentence: raw aisle names as labels, a capital first letter, a closing stop.

    Too short to be a sentence (fewer than MIN_RATIONALE_WORDS words) -> `fallback`, made a sentence the same way.
    Secrets are redacted first: capitalising or cutting a key would hide it from redaction later.
    """
    cleaned = clean_rationale(_redacted(text))
    cleaned = _aisle_pattern().sub(lambda m: readable_aisle(m.group(0)).lower(), cleaned).strip()
    if _worded(cleaned) < MIN_RATIONALE_WORDS:
        cleaned = clean_rationale(_redacted(fallback)).strip() or "Picked for you from the shop."
    cleaned = cleaned.rstrip(" ,;:-–—")
    if cleaned[-1] not in _SENTENCE_END:
        cleaned += "."
    return cleaned[0].upper() + cleaned[1:]


def _redacted(text: object) -> object:
    return redact(text) if isinstance(text, str) else text


def _worded(text: str) -> int:
    """How many of the text's words hold a letter ("0 0 0 0." holds none: numbers alone say nothing)."""
    return sum(any(c.isalpha() for c in word) for word in text.split())


def is_sentence(text: str) -> bool:
    """Whether a rationale reads as a sentence: a capital or a digit first, closed by a stop, enough words with
    letters, no raw aisle name."""
    return (bool(text) and (text[0].isupper() or text[0].isdigit()) and text[-1] in _SENTENCE_END
            and _worded(text) >= MIN_RATIONALE_WORDS and not _aisle_pattern().search(text))


def has_raw_aisle(title: str) -> bool:
    """Whether a title is a raw aisle name (perhaps dressed up), or contains one no one would write."""
    return _dressing_removed(title) in AISLE_LABELS or bool(_aisle_pattern().search(title))
