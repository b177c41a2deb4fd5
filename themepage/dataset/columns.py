"""Column specs of the CSV reader and the exact check of one field's value (range, choices, known ids)."""

from __future__ import annotations

import array
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from themepage.dataset.errors import DataError

_TYPECODES = {np.int8: "b", np.int16: "h", np.int32: "i", np.int64: "q", np.float32: "f"}
_FLOAT32_MAX = float(np.finfo(np.float32).max)


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


_DECIMAL = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
"""A plainly written decimal: ASCII digits, at most a leading minus, a dot and an exponent."""


def is_plain_integer(raw: str) -> bool:
    """ASCII digits with at most a leading minus: what int() reads *and* what a CSV writer writes.

    int() also takes '+12', '1_000' and full-width or Arabic-Indic digits; those are refused.
    """
    digits = raw[1:] if raw.startswith("-") else raw
    return digits.isascii() and digits.isdigit()


def parse_value(raw: str, column: Column) -> int | float:
    """The number in a field (already stripped of surrounding spaces and tabs); ValueError if not plain."""
    if column.dtype is np.float32:
        if raw == "":
            if column.optional:
                return math.nan
            raise ValueError
        if not _DECIMAL.fullmatch(raw):
            raise ValueError
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError
        return value
    if (raw.isdigit() and raw.isascii()) or is_plain_integer(raw):  # the common case first: one C call each
        return int(raw)
    raise ValueError


def check_value(raw: str, column: Column, bounds: tuple, path: Path, line: int) -> int | float:
    """The value of one field, or a DataError naming file, line and column."""
    if column.choices is not None:
        try:
            return column.choices.index(raw)
        except ValueError:
            raise DataError(path, f"{raw!r} is not one of {', '.join(column.choices)}",
                            line=line, column=column.name) from None
    try:
        value = parse_value(raw, column)
    except (ValueError, OverflowError):
        kind = "a number" if column.dtype is np.float32 else "an integer"
        raise DataError(path, f"{raw!r} is not {kind} (plain ASCII digits expected)", line=line,
                        column=column.name) from None
    low, high = bounds
    if not (low <= value <= high) and not (column.optional and value != value):
        raise DataError(path, f"{column.name} {raw} is out of range (expected {low:g} to {high:g})"
                        if isinstance(value, float) else
                        f"{column.name} {value} is out of range (expected {low} to {high})",
                        line=line, column=column.name)
    known = column.known
    if known is not None and not (0 <= value < len(known) and known[int(value)]):
        raise DataError(path, column.unknown.format(value=value), line=line, column=column.name)
    return value


def new_buffer(column: Column):
    if column.text:
        return []
    return array.array("b" if column.choices is not None else _TYPECODES[column.dtype])


def result_dtype(column: Column):
    return np.int8 if column.choices is not None else column.dtype
