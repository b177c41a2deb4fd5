"""The CSV reader's vectorised fast path: one chunk of plain records parsed into columns with numpy.

A chunk it cannot take exactly (quotes, blank lines, bad values) returns None, and the
reader hands that chunk and the rest of the file to the exact row-by-row path.
"""

from __future__ import annotations

import numpy as np

from themepage.dataset.columns import Column
from themepage.dataset.csvlines import MAX_LINE_CHARS


class Chunk:
    """Plain records of one chunk (ends with a newline), split into fields with numpy; None-like if not plain."""

    def __init__(self, data: bytes, n_fields: int):
        self.ok = False
        buf = np.frombuffer(data, dtype=np.uint8)
        if len(buf) == 0 or buf.max() >= 128 or (buf == ord('"')).any():
            return
        if np.diff(np.flatnonzero(buf == 10), prepend=-1).max() > MAX_LINE_CHARS:  # the exact path names it
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
