"""The index's cache files: written atomically, checked on load, rebuilt (with a warning) when damaged.

An entry holds `copurchase.npz` (vectors and basket counts per catalog row) and the
`lexical/` folder bm25s writes. Loading never trusts the bytes: any exception
(np.load of a zero-byte file raises EOFError, a truncated zip BadZipFile) or any
array of the wrong shape, dtype or range makes the entry a miss, named in one
warning line, and the caller builds and saves it again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from themepage.dataset.cache import atomic_write, warn_rebuild
from themepage.dataset.model import Catalog
from themepage.index.copurchase import CopurchaseVectors
from themepage.index.lexical import LexicalIndex

VECTORS_FILE = "copurchase.npz"
LEXICAL_DIR = "lexical"


def save_index_files(folder: Path, lexical: LexicalIndex, vectors: CopurchaseVectors) -> None:
    """Write both parts of an index entry, each replaced whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    _replace_folder(folder / LEXICAL_DIR, lexical.save)

    def write_vectors(path: Path) -> None:
        with path.open("wb") as handle:
            vectors.save(handle)

    atomic_write(folder / VECTORS_FILE, write_vectors)


def _replace_folder(target: Path, write) -> None:
    """Write a folder beside `target`, then swap it in by renames (the old one is removed afterwards)."""
    fresh = Path(tempfile.mkdtemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp"))
    old = target.with_name(fresh.name.removesuffix(".tmp") + ".old")
    try:
        write(fresh)
        for path in fresh.iterdir():
            with open(path, "rb+") as handle:
                os.fsync(handle.fileno())
        if target.exists():
            os.replace(target, old)
        os.replace(fresh, target)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def load_vectors(path: Path, catalog: Catalog) -> CopurchaseVectors:
    """The saved vectors, checked against the catalog: one finite float32 row and one count per product."""
    vectors = CopurchaseVectors.load(path)
    n = len(catalog)
    v, counts = vectors.vectors, vectors.counts
    if v.dtype != np.float32 or v.ndim != 2 or v.shape[0] != n or not np.isfinite(v).all():
        raise ValueError(f"vectors are {v.dtype}{list(v.shape)}, expected finite float32 [{n}, dim]")
    if counts.dtype != np.int32 or counts.shape != (n,) or (counts < 0).any():
        raise ValueError(f"counts are {counts.dtype}{list(counts.shape)}, expected non-negative int32 [{n}]")
    return vectors


class DamagedFile(ValueError):
    """One named file of an entry does not load."""

    def __init__(self, path: Path, reason: str):
        self.path = path
        super().__init__(reason)


_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _check_npy(path: Path) -> None:
    """The .npy header parses and the file holds exactly the bytes it announces (not empty, not truncated)."""
    with path.open("rb") as handle:
        try:
            read_header = _HEADER_READERS[np.lib.format.read_magic(handle)]
            shape, _, dtype = read_header(handle)
        except Exception as error:  # noqa: BLE001 - zero bytes, garbage: whatever numpy raises
            raise DamagedFile(path, f"not a .npy file ({type(error).__name__}: {error})") from None
        expected = handle.tell() + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if dtype.hasobject or path.stat().st_size != expected:
        raise DamagedFile(path, f"{path.stat().st_size} bytes, expected {expected}")


def load_lexical(folder: Path, catalog: Catalog) -> LexicalIndex:
    """The saved BM25 index, checked: a well-formed sparse matrix with one column per catalog product."""
    for path in sorted(folder.glob("*.npy")):
        _check_npy(path)
    lexical = LexicalIndex.load(folder, catalog)
    lexical.check(len(catalog))
    return lexical


def load_index_files(folder: Path, catalog: Catalog) -> tuple[LexicalIndex, CopurchaseVectors] | None:
    """Both parts of an index entry; None when absent, or (with a warning) when a part does not load."""
    lexical_dir, vectors_path = folder / LEXICAL_DIR, folder / VECTORS_FILE
    if not lexical_dir.is_dir() or not vectors_path.is_file():
        return None
    parts = []
    for path, load in ((lexical_dir, load_lexical), (vectors_path, load_vectors)):
        try:
            parts.append(load(path, catalog))
        except Exception as error:  # noqa: BLE001 - whatever a damaged file raises, it is a cache miss
            warn_rebuild(getattr(error, "path", path), error)
            return None
    return parts[0], parts[1]
