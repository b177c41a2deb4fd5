"""Sentence helpers of the offline instruction proposers (GEPA's and MIPRO's): flatten, split, capitalise."""

from __future__ import annotations

import re

_LABEL = re.compile(r"^[A-Z][\w ]{0,30}:\s+")


def flat(text: str) -> str:
    return " ".join(text.split())


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", flat(text)) if s.strip()]


def as_sentence(text: str) -> str:
    """One capitalised sentence ending in a full stop, without a leading "Label: "."""
    text = _LABEL.sub("", flat(text)).rstrip(".")
    return text[:1].upper() + text[1:] + "."


def advice_sentence(advice: str) -> str:
    """The part of a metric advice ("diagnosis: what to change") that says what to change, as a sentence."""
    return as_sentence(advice.split(": ", 1)[-1])
