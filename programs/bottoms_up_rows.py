"""Bottoms-up groups a title can honestly cover: the shopper's candidates grouped by shelf (one aisle, or two
aisles of one department), ranked by how many of the products the page chose they hold, as page-rule drafts.

Why shelves and not clusters: a page's chosen products span many aisles, so equal clusters of them each mix several
kinds ("Cereal & Soy" holding avocados and lactose-free milk, a low title fit). A row of one or two neighbouring
aisles has one name; rows the shopper's candidates cannot fill are filled by the page rules from best sellers of the
row's own aisles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from themepage.index import CatalogIndex
from themepage.programs.row_text import readable_title
from themepage.programs.rules.shape import RowDraft
from themepage.wording.aisle_labels import readable_aisle
from themepage.wording.shelf_titles import DEPARTMENT_LABELS

OTHER_WEIGHT = 0.2
"""Weight of a candidate the page did not choose, against 1 for a chosen one, when ranking shelves."""


@dataclass
class Shelf:
    """One row's worth of the shopper's candidates: their aisles (one or two, one department), members in
    relevance order, and the weight of the chosen products they hold."""

    aisles: list[int]
    department: str
    members: list[int]
    weight: float
    chosen: int = 0


def aisle_shelves(candidates: Sequence[int], chosen: int, index: CatalogIndex) -> list[Shelf]:
    """One Shelf per aisle of `candidates` (most relevant first; the first `chosen` were chosen), heaviest first."""
    catalog = index.catalog
    shelves: dict[int, Shelf] = {}
    for rank, pid in enumerate(candidates):
        aisle = catalog.aisle_id(pid)
        shelf = shelves.setdefault(aisle, Shelf([aisle], catalog.department(pid), [], 0.0))
        shelf.members.append(pid)
        shelf.weight += 1.0 if rank < chosen else OTHER_WEIGHT
        shelf.chosen += rank < chosen
    return sorted(shelves.values(), key=lambda s: -s.weight)


def packed_shelves(shelves: Sequence[Shelf], size: int) -> list[Shelf]:
    """Aisle shelves packed into rows by department: each row takes its department's heaviest shelves left
    while it holds at most `size` chosen products (a shelf holding more is a row alone); heaviest first.
    A row of one department keeps a name that covers it; rows of separate aisles keep apart intents."""
    left = list(shelves)
    packed = []
    while left:
        row = left.pop(0)
        for shelf in [s for s in left if s.department == row.department]:
            if row.chosen + shelf.chosen <= size:
                left.remove(shelf)
                row = Shelf([*row.aisles, *shelf.aisles], row.department, [*row.members, *shelf.members],
                            row.weight + shelf.weight, row.chosen + shelf.chosen)
        packed.append(row)
    return sorted(packed, key=lambda s: -s.weight)


def shelf_title(shelf: Shelf, index: CatalogIndex) -> str:
    """A provisional title from the shelf (the rows are named from their final products later)."""
    catalog = index.catalog
    if len(shelf.aisles) == 1:
        return readable_aisle(catalog.aisles[shelf.aisles[0]])
    return DEPARTMENT_LABELS.get(shelf.department) or readable_aisle(catalog.aisles[shelf.aisles[0]])


def shelf_drafts(candidates: Sequence[int], chosen: int, size: int, index: CatalogIndex) -> list[RowDraft]:
    """Drafts of every shelf, heaviest first: picks are the shelf's candidates in relevance order; the page
    rules take the first rows they need and fill short ones from best sellers of the row's aisles."""
    rank = {pid: i for i, pid in enumerate(candidates)}
    drafts = []
    for shelf in packed_shelves(aisle_shelves(candidates, chosen, index), size):
        title = shelf_title(shelf, index)
        members = sorted(shelf.members, key=rank.__getitem__)
        drafts.append(RowDraft(title, f"Picked for you from {title.lower()}.", members[:size], members[size:]))
    return drafts


LEFTOVER_TITLE = "Your Everyday Picks"
"""The title of the row that keeps the chosen products no shelf row holds: a catch-all (every word generic), which
the labels' rubric judges only by whether its products are ordinary groceries, so it needs no shared kind."""
LEFTOVER_RATIONALE = "More of what you are likely to want, from across the store."


def with_leftover_row(drafts: Sequence[RowDraft], chosen: Sequence[int], rows: int, size: int) -> list[RowDraft]:
    """The first `rows - 1` shelf drafts, then a catch-all draft of the chosen products (in relevance order)
    those drafts do not pick, then the other shelf drafts (for the page rules to replace dropped rows from).

    Shelf rows alone drop the chosen products of the lighter shelves, which costs recall; the catch-all keeps
    the likeliest of them on the page."""
    head = list(drafts[:rows - 1])
    shown = {p for draft in head for p in draft.picks[:size]}
    left = [p for p in chosen if p not in shown]
    if not left:
        return list(drafts)
    return [*head, RowDraft(LEFTOVER_TITLE, LEFTOVER_RATIONALE, left[:size], left[size:]), *drafts[rows - 1:]]


REPEAT_PREFIXES = ("", "More ", "Even More ", "Still More ", "Yet More ", "Another Round of ")


def unique_title(title: str, seen: set[str]) -> str:
    """The title, or a "More ..." form of it, that no earlier row of the page has (lower-cased in `seen`)."""
    for prefix in REPEAT_PREFIXES:
        if f"{prefix}{title}".lower() not in seen:
            return f"{prefix}{title}"
    return f"{title} Too"


def misfits(members: Sequence[int], index: CatalogIndex) -> list[int]:
    """Members of a group that share neither its main department nor an aisle with another member."""
    catalog = index.catalog
    departments = Counter(catalog.department(p) for p in members)
    aisles = Counter(catalog.aisle_id(p) for p in members)
    main = departments.most_common(1)[0][0] if departments else None
    return [p for p in members if catalog.department(p) != main and aisles[catalog.aisle_id(p)] < 2]




def group_drafts(groups: Sequence[Sequence[int]], names: Sequence[tuple[str, str]], candidates: Sequence[int],
                 index: CatalogIndex) -> list[RowDraft]:
    """One RowDraft per group (indices into `candidates`, the shopper's candidates, most relevant first).

    Picks: the group's members sharing its kind, then its misfits (kept: replacing them with candidates of
    the group's kind cost recall). Pool: the unused candidates in relevance order, from which the page rules
    replace near-duplicates (pools ranked by kind or shelf cost recall too).
    """
    used = {i for group in groups for i in group}
    spares = [p for i, p in enumerate(candidates) if i not in used]
    drafts, seen = [], set()
    for group, (title, rationale) in zip(groups, names, strict=True):
        members = [candidates[i] for i in group]
        odd = set(misfits(members, index))
        title = unique_title(readable_title(title), seen)  # readable first: "Yogurt" reads as "Yogurt Cups & Tubs"
        seen.add(title.lower())
        drafts.append(RowDraft(title, rationale, [*(p for p in members if p not in odd), *odd], spares))
    return drafts
