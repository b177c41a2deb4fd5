"""Text that always encodes: lone surrogates (from a provider's error text, say) replaced by U+FFFD.

A lone surrogate survives `json.dumps` as an escape such as `\\udce9`, which strict readers (pydantic,
other languages) refuse; replacing it before serialising keeps every page file readable back.
"""

from __future__ import annotations

from typing import Any


def valid_text(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD; surrogate pairs become their character."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def valid_data(value: Any) -> Any:
    """Every string inside nested dicts and lists made valid (keys too)."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {valid_data(key): valid_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [valid_data(item) for item in value]
    return value
