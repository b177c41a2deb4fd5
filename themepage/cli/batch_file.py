"""The batch output file: JSON Lines in user order, written to a temporary file beside it and renamed at the end.

A run that stops part way never leaves a half-written line in the output; `--resume` reads back the
pages already there (each line must be a valid page of a known user, in user order) and keeps them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from themepage.page import Page


class BatchFileError(ValueError):
    """An output file that --resume cannot continue; the message names the file and line."""


def read_finished(path: Path, users: list[int]) -> dict[int, Page]:
    """The pages in `path` by user, checked: valid pages, of known users, each once, in user order."""
    position = {user: n for n, user in enumerate(users)}
    pages: dict[int, Page] = {}
    last = -1
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                page = Page.model_validate_json(line)
            except ValidationError as exc:
                reason = exc.errors()[0]["msg"]
                raise BatchFileError(f"{path} line {number}: not a page ({reason}); cannot resume") from None
            where = position.get(page.user_id)
            if where is None:
                raise BatchFileError(f"{path} line {number}: user {page.user_id} has no history in this data")
            if page.user_id in pages or where < last:
                raise BatchFileError(f"{path} line {number}: user {page.user_id} repeated or out of user order")
            pages[page.user_id], last = page, where
    return pages


def existing_lines(path: Path) -> Iterator[str]:
    """The lines of an output file being resumed, each ending in a newline."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield line if line.endswith("\n") else line + "\n"


class AtomicLines:
    """Lines written to a temporary file in the output's folder; `commit` renames it over the output."""

    def __init__(self, out: Path):
        out.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        self.out, self.temp = out, Path(name)
        os.chmod(name, 0o644)  # mkstemp makes it private; the output is an ordinary file
        self.handle = os.fdopen(descriptor, "w", encoding="utf-8")

    def write(self, line: str) -> None:
        self.handle.write(line)

    def commit(self) -> None:
        """Flush to disk and replace the output file in one step."""
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.replace(self.temp, self.out)

    def discard(self) -> None:
        """Drop the temporary file; the output file stays as it was."""
        self.handle.close()
        self.temp.unlink(missing_ok=True)
