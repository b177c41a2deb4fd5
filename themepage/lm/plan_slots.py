"""The planner's answer as slots: one schema per theme, so that a small model cannot plan one idea twice.

Under an array schema every theme may name any allowed aisle, and a small model names the shopper's first
favourite in most of them: the page rules keep one row per intent, so most planned themes are dropped and
the code fills the rest. Slot schemas (JSON Schema `prefixItems`, which llama.cpp's grammar
converter turns into a fixed sequence) give each theme its own aisle from a disjoint group, so no two
themes share an intent (`themepage.programs.rules.shape.Intent`: aisle sets overlapping by more than half). The model
writes the aisle first and titles it after.

For a shopper with a history, the first slot is their catch-all regulars theme (no aisles, built from
history): the signature asks for one, and a next-basket objective opens the page with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from themepage.wording.aisle_titles import title_pattern

REGULARS_TITLES = ("Buy It Again", "Your Weekly Staples", "Your Usual Favorites", "Your Go-To Picks",
                   "Your Everyday Picks")
"""Titles the regulars slot may take: catch-all titles (`programs.rules.shape.is_catch_all_title`). Free, a small
model titles that row "Banana", "Greco-bacne" or "Fresh Vegetables", under which the shopper's regulars do not fit."""


def anchor_groups(aisles: Sequence[str], slots: int) -> list[list[str]]:
    """`aisles` dealt round-robin into at most `slots` disjoint groups, the first (likeliest) aisles first."""
    count = min(slots, len(aisles))
    return [list(aisles[i::count]) for i in range(count)] if count else []


def _theme(aisles: dict, fields: dict[str, dict], from_history: dict) -> dict:
    properties = {"aisles": aisles, **fields, "from_history": from_history}
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def anchored_theme(anchor: str, fields: dict[str, dict]) -> dict:
    """A theme about `anchor` alone, titled with one of its keywords (`title_pattern`)."""
    title = {**fields.get("title", {}), "type": "string", "pattern": title_pattern([anchor])}
    return _theme({"type": "array", "prefixItems": [{"const": anchor}]}, {**fields, "title": title},
                  {"type": "boolean"})


def slot_themes(aisles: Sequence[str], slots: int, has_history: bool, theme_fields: dict[str, dict]) -> list[dict]:
    """One schema per theme slot, in page order, each with `aisles` first and then `theme_fields` (title,
    rationale, ...). With a history, slot one is the regulars catch-all (no aisles, from_history true, a
    REGULARS_TITLES title); every other slot is about one aisle of its own group (`anchor_groups`), as
    alternatives (`anyOf`), each titled after its aisle. Slots beyond the number of allowed aisles draw from all."""
    catch_all = 1 if has_history else 0
    groups = anchor_groups(aisles, slots - catch_all)
    schemas = []
    for slot in range(slots):
        if slot < catch_all:
            title = {"type": "string", "enum": list(REGULARS_TITLES)}
            schemas.append(_theme({"type": "array", "prefixItems": []}, {**theme_fields, "title": title},
                                  {"const": True}))
            continue
        group = groups[slot - catch_all] if slot - catch_all < len(groups) else list(aisles)
        schemas.append({"anyOf": [anchored_theme(anchor, theme_fields) for anchor in group]})
    return schemas
