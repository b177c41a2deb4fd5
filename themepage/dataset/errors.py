"""Errors and warnings that name the file, line and column of bad input."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class DataError(ValueError):
    """Input that cannot be read without losing or inventing data.

    The message is one line: `file line N, column C: what is wrong`, so the CLI
    can print it as is, without a traceback. A file inside the data directory is named
    by its name; `whole_path=True` names the whole path (a missing directory, where the
    last component alone says nothing about where it was looked for).
    """

    def __init__(self, path: Path | str, message: str, *, line: int | None = None, column: str | None = None,
                 whole_path: bool = False):
        self.path = Path(path)
        self.line = line
        self.column = column
        where = str(self.path) if whole_path else self.path.name
        if line is not None:
            where += f" line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")


@dataclass
class SkipLog:
    """Counts rows skipped on purpose, by file and reason (and the first line, where given), so nothing is lost
    silently."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    first_lines: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, path: Path, reason: str, n: int = 1, line: int | None = None) -> None:
        if n:
            key = (path.name, reason)
            self.counts[key] = self.counts.get(key, 0) + n
            if line is not None:
                self.first_lines[key] = min(line, self.first_lines.get(key, line))

    def messages(self) -> list[str]:
        return [f"{name}: skipped {n:,} row(s): {reason}" + (f" (first on line {self.first_lines[name, reason]})"
                                                             if (name, reason) in self.first_lines else "")
                for (name, reason), n in sorted(self.counts.items())]
