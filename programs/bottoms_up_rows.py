"""Bottoms-up groups turned into page-rule drafts: each group lists its members (misfits last) over the
shopper's other candidates in relevance order, from which the page rules replace near-duplicates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from programs.page_rules import RowDraft
from themepage.index import CatalogIndex


def misfits(members: Sequence[int], index: CatalogIndex) -> list[int]:
    """Members of a group that share neither its main department nor an aisle with another member."""
    catalog = index.catalog
    departments = Counter(catalog.department(p) for p in members)
    aisles = Counter(catalog.aisle_id(p) for p in members)
    main = departments.most_common(1)[0][0] if departments else None
    return [p for p in members if catalog.department(p) != main and aisles[catalog.aisle_id(p)] < 2]


REPEAT_PREFIXES = ("", "More ", "Even More ", "Still More ", "Yet More ", "Another Round of ")


def unique_title(title: str, seen: set[str]) -> str:
    """The title, or a "More ..." form of it, that no earlier row of the page has (lower-cased in `seen`)."""
    for prefix in REPEAT_PREFIXES:
        if f"{prefix}{title}".lower() not in seen:
            return f"{prefix}{title}"
    return f"{title} Too"


def group_drafts(groups: Sequence[Sequence[int]], names: Sequence[tuple[str, str]], candidates: Sequence[int],
                 index: CatalogIndex) -> list[RowDraft]:
    """One RowDraft per group (indices into `candidates`, the shopper's candidates, most relevant first).

    Picks: the group's members sharing its kind, then its misfits (kept: replacing them with candidates of
    the group's kind cost dev recall@48 0.345 -> 0.288). Pool: the unused candidates in relevance order,
    from which the page rules replace near-duplicates (pools ranked by kind or shelf cost recall@48:
    0.371 -> 0.345 and 0.331).
    """
    used = {i for group in groups for i in group}
    spares = [p for i, p in enumerate(candidates) if i not in used]
    drafts, seen = [], set()
    for group, (title, rationale) in zip(groups, names, strict=True):
        members = [candidates[i] for i in group]
        odd = set(misfits(members, index))
        title = unique_title(title, seen)
        seen.add(title.lower())
        drafts.append(RowDraft(title, rationale, [*(p for p in members if p not in odd), *odd], spares))
    return drafts
