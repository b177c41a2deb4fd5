"""The lines csv.reader reads: each bounded in length, a doubled line ending read as one, quotes noted.

* csv.writer in text mode on Windows ends every line with "\\r\\r\\n"; read as is, every row is followed by
  a "blank line". When the header line ends that way, every "\\r\\r\\n" is one line break (inside a quoted
  field, the "\\r\\n" that was written), so nothing is reported as skipped and line numbers count rows.
* A line longer than MAX_LINE_CHARS is an error naming it, raised before the line is held whole.
* The first line holding a quote since the last complete row is kept, so a quoted field that never closes
  is named on the line where it opened, and an overlong field with no quote at all is not blamed on one.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from themepage.dataset.errors import DataError

MAX_LINE_CHARS = 1 << 20
"""Characters in one physical line (far more than any real row); a longer line is an error."""
DOUBLED = b"\r\r\n"


def doubled_endings(first_line: bytes) -> bool:
    """True when the header line ends with the doubled "\\r\\r\\n" of a text-mode csv.writer on Windows."""
    return first_line.endswith(DOUBLED)


def has_doubled_endings(path: Path) -> bool:
    with path.open("rb") as handle:
        return doubled_endings(handle.readline(MAX_LINE_CHARS + 1))


class CsvLines:
    """An iterator of text lines for csv.reader over `handle` (opened with newline=""), numbered from `first`.

    `number` is the line last handed out; `quote_line` the first line with a quote since `row_done()`.
    """

    def __init__(self, path: Path, handle: IO[str], *, doubled: bool, first: int = 1):
        self.path, self.handle, self.doubled = path, handle, doubled
        self.number = first - 1
        self.quote_line: int | None = None
        self._pending: str | None = None

    def row_done(self) -> None:
        """The reader finished a row: quotes seen so far belong to it."""
        self.quote_line = None

    def _read(self, ahead: int = 1) -> str:
        if self._pending is not None:
            line, self._pending = self._pending, None
            return line
        line = self.handle.readline(MAX_LINE_CHARS + 1)
        if len(line) > MAX_LINE_CHARS:
            raise DataError(self.path, f"line is longer than the reader's limit of {MAX_LINE_CHARS:,} characters "
                                       "(a missing line break? this is not a CSV row)", line=self.number + ahead)
        return line

    def __iter__(self) -> CsvLines:
        return self

    def __next__(self) -> str:
        line = self._read()
        if not line:
            raise StopIteration
        if self.doubled and line.endswith("\r"):  # with newline="", a lone CR ends a line of its own
            following = self._read(ahead=2)
            if following == "\r\n":
                line = line[:-1] + "\r\n"
            elif following:
                self._pending = following
        self.number += 1
        if self.quote_line is None and '"' in line:
            self.quote_line = self.number
        return line
