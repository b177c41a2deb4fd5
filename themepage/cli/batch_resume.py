"""`batch --resume`: the pages already made, kept only when this run would have made them.

Every batch line carries a `made_for` record (program, objective, LM, data fingerprint, store kind)
beside the page's own keys, so one JSON page a line stays readable by any Page reader. Resuming
refuses, with one line naming the file and line, a file made for another run, and checks each kept page
as a fresh one holds: a valid Page of this program and objective, for one of this run's users, with
placements that have a title and products, every product in the catalog under its catalog name and
on the page once. The partial file's last line, torn by a kill, is not a page and is skipped.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import ValidationError

from themepage.page import Page
from themepage.wording.unicode_text import valid_data


class BatchFileError(ValueError):
    """An output file that --resume cannot continue; the message names the file and line."""


@dataclass(frozen=True)
class MadeFor:
    """What decides a batch's pages besides the user: recorded on every line, compared when resuming."""

    program: str
    objective: str
    lm: str
    data: str
    store: str

    def record(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Found:
    """Where a kept page's line starts: the file and its byte offset."""

    path: Path
    offset: int


def read_finished(paths: list[Path], users: list[int], known_users, catalog, made_for: MadeFor,
                  partial: Path | None = None) -> dict[int, Found]:
    """The finished pages in `paths` by user, each checked; a user found in two files keeps the first."""
    found: dict[int, Found] = {}
    for path in paths:
        for user, offset in _read_file(path, users, known_users, catalog, made_for, ordered=path != partial):
            found.setdefault(user, Found(path, offset))
    return found


def _read_file(path: Path, users: list[int], known_users, catalog, made_for: MadeFor, ordered: bool):
    """(user, offset) of every page line of one file; the final file must be in user order."""
    position = {user: n for n, user in enumerate(users)}
    seen: set[int] = set()
    last, offset = -1, 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            start, offset = offset, offset + len(raw)
            if not raw.endswith(b"\n") and not ordered:
                break  # the partial file's last line, cut short by a kill: not a page
            where = f"{path} line {number}"
            page = read_page(raw, where, made_for)
            problem = page_problem(page, catalog, made_for)
            if problem:
                raise BatchFileError(f"{where}: user {page.user_id}'s page {problem}; cannot resume")
            spot = position.get(page.user_id)
            if spot is None:
                known = page.user_id in known_users
                raise BatchFileError(f"{where}: user {page.user_id} " + (
                    "is not among this run's users (--users, --shard)" if known else "has no history in this data"))
            if page.user_id in seen or (ordered and spot < last):
                raise BatchFileError(f"{where}: user {page.user_id} repeated or out of user order")
            seen.add(page.user_id)
            last = spot
            yield page.user_id, start


def read_page(raw: bytes, where: str, made_for: MadeFor) -> Page:
    """One batch line as a Page, its `made_for` record checked against this run's."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BatchFileError(f"{where}: not a page ({str(exc).split(':')[0]}); cannot resume") from None
    if not isinstance(data, dict):
        raise BatchFileError(f"{where}: not a page (not a JSON object); cannot resume")
    record = data.pop("made_for", None)
    if record != made_for.record():
        raise BatchFileError(f"{where}: {_mismatch(record, made_for)}; cannot resume it "
                             "(run with the settings it was made for, or write to another --out)")
    try:
        return Page.model_validate(valid_data(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(map(str, first["loc"]))
        raise BatchFileError(f"{where}: not a page ({field}: {first['msg']}); cannot resume") from None


def _mismatch(record: object, made_for: MadeFor) -> str:
    """Which of the run's settings the line was made for differ from this run's, in words."""
    if not isinstance(record, dict):
        return "no made_for record of the run that made it (not written by this version of themepage batch)"
    wanted = made_for.record()
    differences = [f"{key} {record.get(key)!r}, not {value!r}" for key, value in wanted.items()
                   if record.get(key) != value]
    return "made for " + (", ".join(differences) or f"an unknown record {record!r}")


def page_problem(page: Page, catalog, made_for: MadeFor) -> str | None:
    """What a page breaks of what every fresh page of this run holds, or None."""
    if page.program != made_for.program:
        return f"was made by program {page.program!r}, not {made_for.program!r}"
    if page.objective != made_for.objective:
        return f"was made for objective {page.objective!r}, not {made_for.objective!r}"
    if not page.placements:
        return "has no placements"
    seen: set[int] = set()
    for number, placement in enumerate(page.placements, 1):
        if not placement.title.strip():
            return f"has an empty title in placement {number}"
        if not placement.products:
            return f"has no products in placement {number}"
        for product in placement.products:
            pid = product.product_id
            if pid not in catalog:
                return f"has product {pid}, which is not in the catalog"
            if product.name != catalog.name(pid):
                return f"names product {pid} {product.name[:60]!r}, not {catalog.name(pid)!r}"
            if pid in seen:
                return f"has product {pid} twice"
            seen.add(pid)
    return None
