"""Bottoms-up groups turned into page-rule drafts: each group lists its members (misfits last) and ranks the
shopper's other candidates by how near they are to the group's kind, so the page rules replace
near-duplicates with products that can share the group's name."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from programs.page_rules import RowDraft
from themepage.index import CatalogIndex


def misfits(members: Sequence[int], index: CatalogIndex) -> list[int]:
    """Members of a group that share neither its main department nor an aisle with another member."""
    catalog = index.catalog
    departments = Counter(catalog.department(p) for p in members)
    aisles = Counter(catalog.aisle_id(p) for p in members)
    main = departments.most_common(1)[0][0] if departments else None
    return [p for p in members if catalog.department(p) != main and aisles[catalog.aisle_id(p)] < 2]


def nearest_spares(centre: np.ndarray, spares: Sequence[int], spare_kinds: np.ndarray) -> list[int]:
    """The spare products nearest the group's centre in kind space first."""
    if not len(spares):
        return []
    distance = ((spare_kinds - centre) ** 2).sum(axis=1)
    return [spares[i] for i in np.argsort(distance, kind="stable")]


REPEAT_PREFIXES = ("", "More ", "Even More ", "Still More ", "Yet More ", "Another Round of ")


def unique_title(title: str, seen: set[str]) -> str:
    """The title, or a "More ..." form of it, that no earlier row of the page has (lower-cased in `seen`)."""
    for prefix in REPEAT_PREFIXES:
        if f"{prefix}{title}".lower() not in seen:
            return f"{prefix}{title}"
    return f"{title} Too"


def group_drafts(groups: Sequence[Sequence[int]], names: Sequence[tuple[str, str]], kinds: np.ndarray,
                 candidates: Sequence[int], index: CatalogIndex) -> list[RowDraft]:
    """One RowDraft per group (indices into `candidates`, whose rows of `kinds` describe them).

    Picks: the group's fitting members in candidate order, then its misfits (kept: replacing them with nearer
    candidates cost dev recall@48 0.345 -> 0.288); pool: the unused candidates nearest the group, from which
    the page rules replace near-duplicates.
    """
    used = {i for group in groups for i in group}
    spare_rows = [i for i in range(len(candidates)) if i not in used]
    spares = [candidates[i] for i in spare_rows]
    drafts, seen = [], set()
    for group, (title, rationale) in zip(groups, names, strict=True):
        members = [candidates[i] for i in group]
        odd = set(misfits(members, index))
        centre = kinds[[i for i in group if candidates[i] not in odd] or list(group)].mean(axis=0)
        near = nearest_spares(centre, spares, kinds[spare_rows]) if spare_rows else []
        title = unique_title(title, seen)
        seen.add(title.lower())
        drafts.append(RowDraft(title, rationale, [*(p for p in members if p not in odd), *odd], near))
    return drafts
