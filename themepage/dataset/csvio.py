"""Stream a CSV file into compact numpy columns, with exact error locations.

Two paths produce identical results:

* a vectorised fast path reads the file in chunks of bytes and parses plain
  records (ASCII, no quotes, exactly the header's number of fields, fields that
  are bare digits / decimals / one of a column's choices) with numpy;
* the exact slow path (`csv.reader`, one row at a time, appending to
  `array.array` buffers) takes over from the first chunk the fast path does not
  accept (a blank line, a quoted field, a bad value...) and reads on to the end,
  so every error and every skipped row is reported exactly as if the whole file
  had been read row by row. Its lines come from `csvlines.CsvLines` (bounded
  length, doubled "\r\r\n" endings, where quotes opened).

A row with more fields than the header is skipped and counted (its fields cannot be
matched to columns: an unquoted comma in a name shifts every later field).

Either way memory stays compact (a chunk of text plus the columns read so far),
and every failure names the file, physical line and column.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from themepage.dataset.columns import Column, check_value, new_buffer, result_dtype
from themepage.dataset.csvlines import MAX_LINE_CHARS, CsvLines, doubled_endings, has_doubled_endings
from themepage.dataset.errors import DataError, SkipLog
from themepage.dataset.fastchunk import Chunk

__all__ = ["CHUNK_BYTES", "Column", "line_of_row", "read_columns"]

CHUNK_BYTES = 1 << 24
"""Bytes of text parsed per fast-path step (the temporaries are a few times this)."""
PADDING = " \t"
"""Spaces and tabs around a number are allowed (hand-edited files); anything else in it is an error."""


# ----------------------------------------------------------------------------- header


def _header(path: Path, first: bytes) -> list[str]:
    if not first:
        raise DataError(path, "file is empty (expected a header line)", line=1)
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(path, f"header is not valid UTF-8 text (byte 0x{first[error.start]:02x})", line=1) from None
    row = next(csv.reader([text.rstrip("\r\n")]), [])
    return [name.strip().lstrip("\ufeff").strip() for name in row]


def _positions(path: Path, header: list[str], columns: list[Column]) -> list[int]:
    positions = []
    for column in columns:
        if column.name not in header:
            raise DataError(path, f"missing column (header has: {', '.join(header)})", line=1, column=column.name)
        positions.append(header.index(column.name))
    return positions


# ----------------------------------------------------------------------------- slow, exact path


def _decode_error_line(path: Path, offset: int, base_line: int) -> tuple[int, int]:
    """Line (and offending byte) of the first invalid UTF-8 byte at or after `offset`."""
    with path.open("rb") as handle:
        handle.seek(offset)
        for number, raw in enumerate(handle, start=base_line + 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                return number, raw[error.start]
    return base_line + 1, 0


def _slow(path: Path, raw_handle, offset: int, base_line: int, columns: list[Column],
          header: list[str] | None, skips: SkipLog, doubled: bool) -> tuple[list, list[int]]:
    """Read from byte `offset` (just after line `base_line`) to the end, one row at a time.

    With `header` None the header is read first (offset 0). Returns the buffers and positions.
    """
    raw_handle.seek(offset)
    handle = io.TextIOWrapper(raw_handle, encoding="utf-8", newline="")
    lines = CsvLines(path, handle, doubled=doubled, first=base_line + 1)
    reader = csv.reader(lines, strict=True)  # strict: a stray quote is an error, not a silently mangled field
    buffers = [new_buffer(c) for c in columns]
    try:
        try:
            if header is None:
                first = next(reader, None)
                if first is None:
                    raise DataError(path, "file is empty (expected a header line)", line=1)
                header = [name.strip().lstrip("\ufeff").strip() for name in first]
                lines.row_done()
            positions = _positions(path, header, columns)
            width, fields = max(positions) + 1, len(header)
            bounds = [c.bounds() for c in columns]
            for row in reader:
                line = lines.number  # the row's last line (a quoted field may span several)
                lines.row_done()
                if not row or (len(row) == 1 and not row[0].strip()):
                    skips.add(path, "blank line")
                    continue
                if len(row) > fields:
                    skips.add(path, f"more fields than the header's {fields}", line=line)
                    continue
                if len(row) < width:
                    missing = next(c.name for c, p in zip(columns, positions, strict=True) if p >= len(row))
                    raise DataError(path, f"row has {len(row)} field(s), expected at least {width}",
                                    line=line, column=missing)
                for column, position, buffer, bound in zip(columns, positions, buffers, bounds, strict=True):
                    raw = row[position]
                    buffer.append(raw.strip() if column.text else check_value(raw.strip(PADDING), column, bound,
                                                                                   path, line))
        except UnicodeDecodeError:
            line, byte = _decode_error_line(path, offset, base_line)
            raise DataError(path, f"not valid UTF-8 text (byte 0x{byte:02x})", line=line) from None
        except csv.Error as error:
            raise _csv_error(path, error, lines) from None
    finally:
        handle.detach()
    return buffers, positions


def _csv_error(path: Path, error: csv.Error, lines: CsvLines) -> DataError:
    """A csv module error as a DataError; a quote that never closes is named on the line where it opened."""
    text, opened, line = str(error), lines.quote_line, lines.number
    if "unexpected end of data" in text:
        return DataError(path, "unterminated quote: a quoted field opened on this line never closes",
                         line=opened or line)
    if "field larger than field limit" in text:
        if opened is None:
            return DataError(path, f"a field on this line is longer than the reader's limit of "
                                   f"{csv.field_size_limit():,} characters", line=line)
        return DataError(path, f"a quoted field opened on this line runs on for more than {csv.field_size_limit():,} "
                               "characters (a quote that never closes?)", line=opened)
    if opened is not None and opened < line:
        return DataError(path, f"unterminated quote: a quoted field opened on this line runs on to line {line}, "
                               f"where the CSV breaks ({text})", line=opened)
    return DataError(path, f"malformed CSV ({text})", line=line)


def read_columns(
    path: Path,
    columns: list[Column],
    skips: SkipLog,
) -> dict[str, Any]:
    """Read the named columns of `path`; extra columns are ignored, blank lines skipped and counted.

    Each value is a numpy array, or for a `text` column a list of str.
    """
    if not path.is_file():
        raise DataError(path, f"file not found in {path.parent}" if not path.exists() else "not a regular file")
    parts: list[list] = [[] for _ in columns]
    with path.open("rb") as handle:
        first = handle.readline(MAX_LINE_CHARS + 1)
        doubled = doubled_endings(first)
        # the fast path needs a plain one-line header (no quotes, no lone CR as a line break)
        fast = b'"' not in first and b"\r" not in first.rstrip(b"\r\n") and not any(c.text for c in columns)
        if not fast or len(first) > MAX_LINE_CHARS:
            buffers, _ = _slow(path, handle, 0, 0, columns, None, skips, doubled)
        else:
            header = _header(path, first)
            positions = _positions(path, header, columns)
            offset, line, carry, buffers = len(first), 1, b"", None
            while True:
                block = handle.read(CHUNK_BYTES)
                data = carry + block
                if not block:
                    if not data:
                        break
                    cut, data = len(data), data + b"\n"
                else:
                    cut = data.rfind(b"\n") + 1
                    if cut == 0 and len(data) <= MAX_LINE_CHARS:
                        carry = data
                        continue
                    if cut == 0:  # a line over the limit: the exact path names it
                        buffers, _ = _slow(path, handle, offset, line, columns, header, skips, doubled)
                        break
                    data, carry = data[:cut], data[cut:]
                chunk = Chunk(data, len(header))
                values = [chunk.column(p, c) for p, c in zip(positions, columns, strict=True)] if chunk.ok else [None]
                if any(v is None for v in values):
                    buffers, _ = _slow(path, handle, offset, line, columns, header, skips, doubled)
                    break
                for part, value in zip(parts, values, strict=True):
                    part.append(value)
                offset, line = offset + cut, line + chunk.n_rows
                if not block:
                    break
    result = {}
    for column, part, buffer in zip(columns, parts, buffers or [None] * len(columns), strict=True):
        if column.text:
            result[column.name] = buffer
            continue
        dtype = result_dtype(column)
        if buffer is not None and len(buffer):
            part.append(np.frombuffer(buffer, dtype=dtype))
        result[column.name] = np.concatenate(part).astype(dtype, copy=False) if part else np.zeros(0, dtype=dtype)
        part.clear()  # drop the chunks before concatenating the next column
    return result


def line_of_row(path: Path, index: int) -> int | None:
    """The physical line of the `index`-th data row (0-based; blank and skipped rows not counted), as
    `read_columns` saw it."""
    doubled = has_doubled_endings(path)
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        lines = CsvLines(path, handle, doubled=doubled)
        reader = csv.reader(lines)
        fields = len(next(reader, []))
        seen = -1
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()) or len(row) > fields:
                continue
            seen += 1
            if seen == index:
                return lines.number
    return None
