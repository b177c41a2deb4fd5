"""Stream a CSV file into compact numpy columns, with exact error locations.

Two paths produce identical results:

* a vectorised fast path reads the file in chunks of bytes and parses plain
  records (ASCII, no quotes, exactly the header's number of fields, fields that
  are bare digits / decimals / one of a column's choices) with numpy;
* the exact slow path (`csv.reader`, one row at a time, appending to
  `array.array` buffers) takes over from the first chunk the fast path does not
  accept (a blank line, a quoted field, a bad value...) and reads on to the end,
  so every error and every skipped row is reported exactly as if the whole file
  had been read row by row.

Either way memory stays compact (a chunk of text plus the columns read so far),
and every failure names the file, physical line and column.
"""

from __future__ import annotations

import array
import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from themepage.dataset.errors import DataError, SkipLog

_TYPECODES = {np.int8: "b", np.int16: "h", np.int32: "i", np.int64: "q", np.float32: "f"}
_FLOAT32_MAX = float(np.finfo(np.float32).max)
CHUNK_BYTES = 1 << 24
"""Bytes of text parsed per fast-path step (the temporaries are a few times this)."""


@dataclass(frozen=True)
class Column:
    """One column to read: its name, numpy dtype, and whether it may be empty (floats only).

    `choices` reads text as the index of the value in the tuple (int8); `low`/`high`
    bound the value (default: the dtype's range), so nothing overflows silently.
    """

    name: str
    dtype: type = np.int32
    optional: bool = False
    text: bool = False
    known: bytes | None = None
    """Membership table indexed by value (1 = known); a value outside it is an error."""
    unknown: str = "unknown id {value}"
    choices: tuple[str, ...] | None = None
    low: int | float | None = None
    high: int | float | None = None

    def bounds(self) -> tuple[int | float, int | float]:
        if self.dtype is np.float32:
            low, high = -_FLOAT32_MAX, _FLOAT32_MAX
        else:
            info = np.iinfo(self.dtype)
            low, high = int(info.min), int(info.max)
        return (low if self.low is None else self.low), (high if self.high is None else self.high)


def _parse(raw: str, column: Column) -> int | float:
    if column.dtype is np.float32:
        if raw == "":
            if column.optional:
                return math.nan
            raise ValueError
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError
        return value
    return int(raw)


def _check(raw: str, column: Column, bounds: tuple, path: Path, line: int) -> int | float:
    """The value of one field, or a DataError naming file, line and column."""
    if column.choices is not None:
        try:
            return column.choices.index(raw)
        except ValueError:
            raise DataError(path, f"{raw!r} is not one of {', '.join(column.choices)}",
                            line=line, column=column.name) from None
    try:
        value = _parse(raw, column)
    except (ValueError, OverflowError):
        kind = "a number" if column.dtype is np.float32 else "an integer"
        raise DataError(path, f"{raw!r} is not {kind}", line=line, column=column.name) from None
    low, high = bounds
    if not (low <= value <= high) and not (column.optional and value != value):
        raise DataError(path, f"{column.name} {raw} is out of range (expected {low:g} to {high:g})"
                        if isinstance(value, float) else
                        f"{column.name} {value} is out of range (expected {low} to {high})",
                        line=line, column=column.name)
    known = column.known
    if known is not None and not (0 <= value < len(known) and known[value]):
        raise DataError(path, column.unknown.format(value=value), line=line, column=column.name)
    return value


def _new_buffer(column: Column):
    if column.text:
        return []
    return array.array("b" if column.choices is not None else _TYPECODES[column.dtype])


def _result_dtype(column: Column):
    return np.int8 if column.choices is not None else column.dtype


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
          positions: list[int] | None, skips: SkipLog) -> tuple[list, list[int]]:
    """Read from byte `offset` (just after line `base_line`) to the end, one row at a time.

    With `positions` None the header is read first (offset 0). Returns the buffers and positions.
    """
    raw_handle.seek(offset)
    handle = io.TextIOWrapper(raw_handle, encoding="utf-8", newline="")
    reader = csv.reader(handle)
    buffers = [_new_buffer(c) for c in columns]
    try:
        try:
            if positions is None:
                header = next(reader, None)
                if header is None:
                    raise DataError(path, "file is empty (expected a header line)", line=1)
                header = [name.strip().lstrip("\ufeff").strip() for name in header]
                positions = _positions(path, header, columns)
            width = max(positions) + 1
            bounds = [c.bounds() for c in columns]
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    skips.add(path, "blank line")
                    continue
                line = base_line + reader.line_num
                if len(row) < width:
                    missing = next(c.name for c, p in zip(columns, positions) if p >= len(row))
                    raise DataError(path, f"row has {len(row)} field(s), expected at least {width}",
                                    line=line, column=missing)
                for column, position, buffer, bound in zip(columns, positions, buffers, bounds):
                    raw = row[position].strip()
                    buffer.append(raw if column.text else _check(raw, column, bound, path, line))
        except UnicodeDecodeError:
            line, byte = _decode_error_line(path, offset, base_line)
            raise DataError(path, f"not valid UTF-8 text (byte 0x{byte:02x})", line=line) from None
        except csv.Error as error:
            raise DataError(path, f"malformed CSV ({error})", line=base_line + max(reader.line_num, 1)) from None
    finally:
        handle.detach()
    return buffers, positions


# ----------------------------------------------------------------------------- fast, vectorised path


class _Chunk:
    """Plain records of one chunk (ends with a newline), split into fields with numpy; None-like if not plain."""

    def __init__(self, data: bytes, n_fields: int):
        self.ok = False
        buf = np.frombuffer(data, dtype=np.uint8)
        if len(buf) == 0 or buf.max() >= 128 or (buf == ord('"')).any():
            return
        cr = buf == 13
        if cr.any():
            at = np.flatnonzero(cr)
            if (buf[at + 1] != 10).any():  # a lone CR ends a record for csv: leave it to the slow path
                return
            buf = buf[~cr]
        separators = np.flatnonzero((buf == 44) | (buf == 10))
        n_rows = int(np.count_nonzero(buf[separators] == 10))
        if n_rows == 0 or len(separators) != n_rows * n_fields:
            return
        kinds = buf[separators].reshape(n_rows, n_fields)
        if not ((kinds[:, -1] == 10).all() and (kinds[:, :-1] == 44).all()):
            return
        starts = np.empty_like(separators)
        starts[0] = 0
        starts[1:] = separators[:-1] + 1
        self.buf, self.n_rows = buf, n_rows
        self.starts = starts.reshape(n_rows, n_fields)
        self.ends = separators.reshape(n_rows, n_fields)
        self.ok = True

    def column(self, position: int, column: Column) -> np.ndarray | None:
        """The parsed column, or None where any field is not plain (the slow path will say why)."""
        s, e = self.starts[:, position], self.ends[:, position]
        lengths = e - s
        buf, last = self.buf, len(self.buf) - 1
        if column.choices is not None:
            codes = np.full(len(s), -1, dtype=np.int8)
            for code, choice in enumerate(column.choices):
                encoded = choice.encode()
                match = lengths == len(encoded)
                for k, byte in enumerate(encoded):
                    match &= buf[np.minimum(s + k, last)] == byte
                codes[match] = code
            return None if (codes < 0).any() else codes
        if column.dtype is np.float32:
            values = self._decimals(s, e, lengths, column)
        else:
            values = self._integers(s, e, lengths)
        if values is None:
            return None
        low, high = column.bounds()
        finite = values if column.dtype is not np.float32 or not column.optional else values[~np.isnan(values)]
        if len(finite) and (finite.min() < low or finite.max() > high):
            return None
        if column.known is not None:
            known = np.frombuffer(column.known, dtype=np.uint8)
            if len(values) and (values.max() >= len(known) or not known[values].all()):
                return None
        return values.astype(column.dtype)

    def _integers(self, s, e, lengths) -> np.ndarray | None:
        """Fields of 1 to 18 ASCII digits, exactly as int(): right-aligned into a matrix, then one dot product."""
        if len(lengths) == 0:
            return np.zeros(0, dtype=np.int64)
        width = int(lengths.max())
        if lengths.min() < 1 or width > 18:
            return None
        at = e[:, None] + np.arange(-width, 0)
        inside = at >= s[:, None]
        digits = self.buf[np.maximum(at, 0)] - np.uint8(48)  # wraps below '0', so one test covers both sides
        if ((digits > 9) & inside).any():
            return None
        digits[~inside] = 0
        return digits.astype(np.int64) @ (10 ** np.arange(width - 1, -1, -1, dtype=np.int64))

    def _decimals(self, s, e, lengths, column: Column) -> np.ndarray | None:
        """Fields like `15`, `15.0`, `.5` (at most 15 digits) or empty (optional only), exactly as float()."""
        if len(lengths) and lengths.max() > 16:
            return None
        buf, last = self.buf, len(self.buf) - 1
        mantissa = np.zeros(len(s), dtype=np.int64)
        digits = np.zeros(len(s), dtype=np.int64)
        fraction = np.zeros(len(s), dtype=np.int64)
        dots = np.zeros(len(s), dtype=np.int64)
        for k in range(int(lengths.max(initial=0))):
            on = lengths > k
            byte = buf[np.minimum(s + k, last)]
            is_digit = on & (byte >= 48) & (byte <= 57)
            is_dot = on & (byte == 46)
            if (on & ~is_digit & ~is_dot).any():
                return None
            mantissa = np.where(is_digit, mantissa * 10 + (byte.astype(np.int64) - 48), mantissa)
            fraction += is_digit & (dots > 0)
            digits += is_digit
            dots += is_dot
        empty = lengths == 0
        if (dots > 1).any() or (~empty & (digits == 0)).any() or (empty.any() and not column.optional):
            return None
        values = mantissa / 10.0 ** fraction  # exact operands, so correctly rounded like float()
        values[empty] = np.nan
        return values


def read_columns(
    path: Path,
    columns: list[Column],
    skips: SkipLog,
) -> dict[str, np.ndarray | list[str]]:
    """Read the named columns of `path`; extra columns are ignored, blank lines skipped and counted."""
    if not path.is_file():
        raise DataError(path, f"file not found in {path.parent}" if not path.exists() else "not a regular file")
    parts: list[list] = [[] for _ in columns]
    with path.open("rb") as handle:
        first = handle.readline()
        # the fast path needs a plain one-line header (no quotes, no lone CR as a line break)
        fast = b'"' not in first and b"\r" not in first.rstrip(b"\r\n") and not any(c.text for c in columns)
        if not fast:
            buffers, _ = _slow(path, handle, 0, 0, columns, None, skips)
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
                    if cut == 0:
                        carry = data
                        continue
                    data, carry = data[:cut], data[cut:]
                chunk = _Chunk(data, len(header))
                values = [chunk.column(p, c) for p, c in zip(positions, columns)] if chunk.ok else [None]
                if any(v is None for v in values):
                    buffers, _ = _slow(path, handle, offset, line, columns, positions, skips)
                    break
                for part, value in zip(parts, values):
                    part.append(value)
                offset, line = offset + cut, line + chunk.n_rows
                if not block:
                    break
    result = {}
    for column, part, buffer in zip(columns, parts, buffers or [None] * len(columns)):
        if column.text:
            result[column.name] = buffer
            continue
        dtype = _result_dtype(column)
        if buffer is not None and len(buffer):
            part.append(np.frombuffer(buffer, dtype=dtype))
        result[column.name] = np.concatenate(part).astype(dtype, copy=False) if part else np.zeros(0, dtype=dtype)
        part.clear()  # drop the chunks before concatenating the next column
    return result


def line_of_row(path: Path, index: int) -> int | None:
    """The physical line of the `index`-th data row (0-based, blank lines not counted), as `read_columns` saw it."""
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        seen = -1
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            seen += 1
            if seen == index:
                return reader.line_num
    return None
