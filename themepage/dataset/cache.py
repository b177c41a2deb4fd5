"""Disk cache for derived state, keyed by the content of the input files.

A cache entry is a folder named by a digest of every input file's bytes (and of
the cache format), so editing any file yields a new key and a rebuild; nothing
needs invalidating by hand. Arrays are stored as .npz (no pickle). Files are
written atomically (temp file, fsync, rename); an entry that does not load or
does not check out (truncated, garbage, wrong keys, shapes or dtypes) is rebuilt
with a one-line warning naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np

from themepage.constants import default_cache_dir
from themepage.dataset.model import Catalog, Dataset, ItemTable, OrderTable
from themepage.dataset.reader import data_files, read_dataset

T = TypeVar("T")
CACHE_FORMAT = "themepage-cache-v4"
"""Bumped whenever reading the same files gives another Dataset (v4: rows with extra fields are skipped)."""


def fingerprint(data_dir: Path) -> str:
    """A digest of every input file's name, size and bytes (sizes keep file boundaries unambiguous). Within one
    process the digest of unchanged files (same paths, sizes and modification times) is read once: a batch records
    it in every line and then opens the index, which asks again."""
    files = tuple((str(path.resolve()), *_size_and_mtime(path)) for path in data_files(Path(data_dir)))
    return _digest(files)


def _size_and_mtime(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


@lru_cache(maxsize=16)
def _digest(files: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.blake2b(CACHE_FORMAT.encode(), digest_size=16)
    for name, _, _ in files:
        path = Path(name)
        with path.open("rb") as handle:
            digest.update(f"\0{path.name}\0{os.fstat(handle.fileno()).st_size}\0".encode())
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()


def cache_entry(data_dir: Path, cache_dir: Path | None = None) -> Path:
    """The folder holding this data directory's derived state (created on demand)."""
    folder = Path(cache_dir or default_cache_dir()) / fingerprint(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def atomic_write(path: Path, write) -> None:
    """Write through a temporary file, fsync and rename, so a crash never leaves half (or zero bytes of) a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _table_arrays(prefix: str, table) -> dict[str, np.ndarray]:
    return {f"{prefix}.{f.name}": getattr(table, f.name) for f in fields(table)}


def _table(cls: type[T], prefix: str, arrays) -> T:
    return cls(**{f.name: arrays[f"{prefix}.{f.name}"] for f in fields(cast(Any, cls))})


def save_dataset(dataset: Dataset, folder: Path) -> None:
    c = dataset.catalog
    arrays = {"catalog.product_ids": c.product_ids, "catalog.aisle_ids": c.aisle_ids,
              "catalog.department_ids": c.department_ids}
    for name in ("orders", "prior", "train", "baskets"):
        arrays.update(_table_arrays(name, getattr(dataset, name)))
    meta = {"names": list(c.names), "aisles": c.aisles, "departments": c.departments,
            "skipped": list(dataset.skipped), "absent": list(dataset.absent)}
    def write_npz(p: Path) -> None:
        with p.open("wb") as handle:
            np.savez(handle, **arrays)  # pyright: ignore[reportArgumentType] (keys are "table.column")

    atomic_write(folder / "dataset.npz", write_npz)
    atomic_write(folder / "dataset.json", lambda p: p.write_text(json.dumps(meta)))


def warn_rebuild(path: Path, error: BaseException) -> None:
    """One line saying which cache file did not load and why; the caller rebuilds it."""
    reason = str(error).splitlines()[0] if str(error) else ""
    warnings.warn(f"cache file {path} is damaged ({type(error).__name__}{': ' + reason if reason else ''}); "
                  "rebuilding it", CacheRebuildWarning, stacklevel=3)


class CacheRebuildWarning(UserWarning):
    """A cache file that did not load and is being rebuilt."""


TABLE_DTYPES = {
    "catalog": {"product_ids": np.int32, "aisle_ids": np.int16, "department_ids": np.int16},
    "orders": {"order_ids": np.int32, "user_ids": np.int32, "eval_sets": np.int8, "order_numbers": np.int16,
               "dows": np.int8, "hours": np.int8, "days_since_prior": np.float32},
    **{name: {"order_ids": np.int32, "product_ids": np.int32, "add_to_cart": np.int16, "reordered": np.int8}
       for name in ("prior", "train", "baskets")},
}
"""The dtype of every saved column, as the reader makes them."""


def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    """The saved columns, each checked to be one-dimensional with the reader's dtype."""
    with path.open("rb") as handle, np.load(handle, allow_pickle=False) as npz:  # np.load(path) leaks a bad zip
        arrays = {key: npz[key] for key in npz.files}
    for table, columns in TABLE_DTYPES.items():
        for column, dtype in columns.items():
            array = arrays[f"{table}.{column}"]
            if array.ndim != 1 or array.dtype != dtype:
                raise ValueError(f"{table}.{column} is {array.dtype}{list(array.shape)}, expected 1-D {dtype.__name__}")
    return arrays


def load_saved_dataset(folder: Path) -> Dataset | None:
    """The dataset saved in `folder`; None where there is none, or (with a warning) where it does not load."""
    meta_path, arrays_path = folder / "dataset.json", folder / "dataset.npz"
    if not meta_path.is_file() or not arrays_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        names, skipped, absent = tuple(meta["names"]), tuple(meta["skipped"]), tuple(meta["absent"])
        aisles = {int(k): v for k, v in meta["aisles"].items()}
        departments = {int(k): v for k, v in meta["departments"].items()}
    except Exception as error:  # noqa: BLE001 - bad JSON, wrong type or keys: a cache miss
        warn_rebuild(meta_path, error)
        return None
    try:
        arrays = _load_arrays(arrays_path)
        catalog = Catalog.build(arrays["catalog.product_ids"], names, arrays["catalog.aisle_ids"],
                                arrays["catalog.department_ids"], aisles, departments)
        tables = {name: _table(ItemTable, name, arrays) for name in ("prior", "train", "baskets")}
        dataset = Dataset(catalog, _table(OrderTable, "orders", arrays), tables["prior"], tables["train"],
                          tables["baskets"], skipped, absent)
        _check_shapes(dataset)
    except Exception as error:  # noqa: BLE001 - truncated zip (EOFError, BadZipFile), garbage, wrong keys or shapes
        warn_rebuild(arrays_path, error)
        return None
    return dataset


def _check_shapes(dataset: Dataset) -> None:
    """Columns of one table have one length; a mismatch means a damaged entry."""
    c = dataset.catalog
    if not len(c.product_ids) == len(c.names) == len(c.aisle_ids) == len(c.department_ids):
        raise ValueError("catalog columns differ in length")
    for name in ("orders", "prior", "train", "baskets"):
        table = getattr(dataset, name)
        if len({getattr(table, f.name).shape for f in fields(table)}) != 1:
            raise ValueError(f"{name} columns differ in length")


def load_dataset(data_dir: Path, cache_dir: Path | None = None) -> Dataset:
    """Read `data_dir`, through the cache: parsed once, reloaded from .npz while the files are unchanged."""
    try:
        folder = cache_entry(data_dir, cache_dir)
    except OSError as error:  # an unwritable cache location costs speed, not correctness
        warnings.warn(f"themepage cache unavailable ({error}); reading without it", stacklevel=2)
        return read_dataset(Path(data_dir))
    dataset = load_saved_dataset(folder)
    if dataset is None:
        dataset = read_dataset(Path(data_dir))
        try:
            save_dataset(dataset, folder)
        except OSError as error:
            warnings.warn(f"could not write the themepage cache in {folder} ({error})", stacklevel=2)
    return dataset
