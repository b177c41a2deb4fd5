"""Stream a CSV file into compact numpy columns, with exact error locations.

The reader holds one row at a time and appends to `array.array` buffers, so the
full Kaggle files (32M item rows) stay within a few hundred MB. Every failure
names the file, physical line and column.
"""

from __future__ import annotations

import array
import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from themepage.dataset.errors import DataError, SkipLog

_TYPECODES = {np.int8: "b", np.int16: "h", np.int32: "i", np.int64: "q", np.float32: "f"}


@dataclass(frozen=True)
class Column:
    """One column to read: its name, numpy dtype, and whether it may be empty (floats only)."""

    name: str
    dtype: type = np.int32
    optional: bool = False
    text: bool = False
    known: bytes | None = None
    """Membership table indexed by value (1 = known); a value outside it is an error."""
    unknown: str = "unknown id {value}"


def _parse(raw: str, column: Column) -> int | float:
    if column.dtype is np.float32:
        if raw == "":
            if column.optional:
                return math.nan
            raise ValueError
        return float(raw)
    return int(raw)


def read_columns(
    path: Path,
    columns: list[Column],
    skips: SkipLog,
) -> dict[str, np.ndarray | list[str]]:
    """Read the named columns of `path`; extra columns are ignored, blank lines skipped and counted."""
    if not path.is_file():
        raise DataError(path, "file not found" if not path.exists() else "not a regular file")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise DataError(path, "file is empty (expected a header line)", line=1)
        header = [name.strip().lstrip("\ufeff") for name in header]
        positions = []
        for column in columns:
            if column.name not in header:
                raise DataError(path, f"missing column (header has: {', '.join(header)})", line=1, column=column.name)
            positions.append(header.index(column.name))
        buffers = [[] if c.text else array.array(_TYPECODES[c.dtype]) for c in columns]
        width = max(positions) + 1
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                skips.add(path, "blank line")
                continue
            line = reader.line_num
            if len(row) < width:
                raise DataError(path, f"row has {len(row)} field(s), expected at least {width}", line=line)
            for column, position, buffer in zip(columns, positions, buffers):
                raw = row[position].strip()
                if column.text:
                    value = raw
                else:
                    try:
                        value = _parse(raw, column)
                    except (ValueError, OverflowError):
                        kind = "a number" if column.dtype is np.float32 else "an integer"
                        raise DataError(path, f"{raw!r} is not {kind}", line=line, column=column.name) from None
                known = column.known
                if known is not None and not (0 <= value < len(known) and known[value]):
                    raise DataError(path, column.unknown.format(value=value), line=line, column=column.name)
                buffer.append(value)
    return {
        column.name: buffer if column.text else np.frombuffer(buffer, dtype=column.dtype).copy()
        for column, buffer in zip(columns, buffers)
    }
