"""A small PNG reader for the browser tests: decode 8-bit RGB/RGBA screenshots and measure pixel variety.

Only what Chromium writes: bit depth 8, colour type 2 or 6, no interlacing (PNG spec, sections 9 and 11).
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: 3, 6: 4}


def _chunks(data: bytes):
    at = len(SIGNATURE)
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        yield kind, data[at + 8:at + 8 + length]
        at += 12 + length


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> list[bytes]:
    stride = width * bpp
    rows, previous, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], (previous[i - bpp] if i >= bpp else 0)
            line[i] = (line[i] + (0, left, up, (left + up) // 2, _paeth(left, up, corner))[kind]) & 0xFF
        rows.append(bytes(line))
        previous = line
    return rows


def read_png(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """(width, height, pixels) of an 8-bit RGB or RGBA PNG."""
    assert data.startswith(SIGNATURE), "not a PNG"
    header, idat = b"", b""
    for kind, body in _chunks(data):
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in CHANNELS and interlace == 0, f"unsupported PNG {depth=} {colour=} {interlace=}"
    bpp = CHANNELS[colour]
    rows = _unfilter(zlib.decompress(idat), width, height, bpp)
    pixels = [tuple(row[i:i + 3]) for row in rows for i in range(0, len(row), bpp)]
    return width, height, pixels


def variety(pixels: list[tuple[int, ...]]) -> tuple[int, float]:
    """(number of distinct colours, share of the most common colour)."""
    counts = Counter(pixels)
    return len(counts), counts.most_common(1)[0][1] / len(pixels)
