"""Untrusted text from an LM made safe for a page: printable, single-line, short, and recognisably a title.

An LM title may carry lone surrogates (which no JSON or terminal encoder accepts), NUL and other
control characters, bidi overrides that reorder what a shopper reads, zero-width junk, or be a
fragment of a truncated answer ("Y", '{"title": "Eas'). Cleaning removes the characters; the caps
keep a row's title and rationale to what a page can show; `usable_title` refuses what is left of a
broken answer so the caller can fall back.
"""

from __future__ import annotations

import re
import unicodedata

TITLE_MAX_CHARS = 60
TITLE_MAX_WORDS = 8
RATIONALE_MAX_CHARS = 300
TITLE_MIN_LETTERS = 3
"""A title needs at least this many letters ("Y" or "12" is no title)."""
_FRAGMENT = re.compile(r"\[\[|]]|##|[{}<>\\|`]|^\W|\"\s*:")
"""Marks of a raw answer fragment: adapter headers, JSON or markup punctuation, a leading symbol."""
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
"""Control, format (bidi overrides and isolates, zero-width), surrogate, private-use and unassigned characters."""


def clean_text(text: object) -> str:
    """`text` as one line of printable characters: unsafe characters dropped, whitespace runs made one space."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in _DROPPED_CATEGORIES:
            kept.append(" " if char in "\t\n\r\v\f" else "")
        elif category in ("Zl", "Zp"):
            kept.append(" ")
        else:
            kept.append(char)
    return " ".join("".join(kept).split())


def cut_at_word(text: str, max_chars: int, max_words: int | None = None) -> str:
    """`text` cut to at most `max_chars` characters and `max_words` words, at a word boundary."""
    words = text.split()
    if max_words is not None:
        words = words[:max_words]
    out = ""
    for word in words:
        candidate = f"{out} {word}" if out else word
        if len(candidate) > max_chars:
            if not out:  # one over-long word: cut it rather than return nothing
                out = word[:max_chars]
            break
        out = candidate
    return out.rstrip(" ,;:-–—&/")


def clean_title(text: object) -> str:
    """A cleaned title within TITLE_MAX_CHARS characters and TITLE_MAX_WORDS words."""
    return cut_at_word(clean_text(text), TITLE_MAX_CHARS, TITLE_MAX_WORDS)


def clean_rationale(text: object) -> str:
    """A cleaned rationale within RATIONALE_MAX_CHARS characters, cut at a word boundary (marked with …)."""
    cleaned = clean_text(text)
    if len(cleaned) <= RATIONALE_MAX_CHARS:
        return cleaned
    return cut_at_word(cleaned, RATIONALE_MAX_CHARS - 1) + "…"


def usable_title(title: str) -> bool:
    """Whether a cleaned title can head a row: enough letters and no marks of a raw answer fragment."""
    letters = sum(char.isalpha() for char in title)
    return letters >= TITLE_MIN_LETTERS and not _FRAGMENT.search(title)
