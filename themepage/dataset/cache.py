"""Disk cache for derived state, keyed by the content of the input files.

A cache entry is a folder named by a digest of every input file's bytes (and of
the cache format), so editing any file yields a new key and a rebuild; nothing
needs invalidating by hand. Arrays are stored as .npz (no pickle).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from dataclasses import fields
from pathlib import Path

import numpy as np

from themepage.constants import default_cache_dir
from themepage.dataset.model import Catalog, Dataset, ItemTable, OrderTable
from themepage.dataset.reader import data_files, read_dataset

CACHE_FORMAT = "themepage-cache-v2"


def fingerprint(data_dir: Path) -> str:
    """A digest of every input file's name, size and bytes (sizes keep file boundaries unambiguous)."""
    digest = hashlib.blake2b(CACHE_FORMAT.encode(), digest_size=16)
    for path in data_files(Path(data_dir)):
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
    """Write through a temporary file and rename, so a crash never leaves half a cache file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _table_arrays(prefix: str, table) -> dict[str, np.ndarray]:
    return {f"{prefix}.{f.name}": getattr(table, f.name) for f in fields(table)}


def _table(cls, prefix: str, arrays) -> object:
    return cls(**{f.name: arrays[f"{prefix}.{f.name}"] for f in fields(cls)})


def save_dataset(dataset: Dataset, folder: Path) -> None:
    c = dataset.catalog
    arrays = {"catalog.product_ids": c.product_ids, "catalog.aisle_ids": c.aisle_ids,
              "catalog.department_ids": c.department_ids}
    for name in ("orders", "prior", "train", "baskets"):
        arrays.update(_table_arrays(name, getattr(dataset, name)))
    meta = {"names": list(c.names), "aisles": c.aisles, "departments": c.departments,
            "skipped": list(dataset.skipped)}
    def write_npz(p: Path) -> None:
        with p.open("wb") as handle:
            np.savez(handle, **arrays)

    atomic_write(folder / "dataset.npz", write_npz)
    atomic_write(folder / "dataset.json", lambda p: p.write_text(json.dumps(meta)))


def load_saved_dataset(folder: Path) -> Dataset | None:
    """The dataset saved in `folder`, or None where there is none (or it is unreadable)."""
    if not (folder / "dataset.json").is_file() or not (folder / "dataset.npz").is_file():
        return None
    try:
        meta = json.loads((folder / "dataset.json").read_text(encoding="utf-8"))
        with np.load(folder / "dataset.npz", allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        catalog = Catalog.build(arrays["catalog.product_ids"], meta["names"], arrays["catalog.aisle_ids"],
                                arrays["catalog.department_ids"],
                                {int(k): v for k, v in meta["aisles"].items()},
                                {int(k): v for k, v in meta["departments"].items()})
        tables = {name: _table(ItemTable, name, arrays) for name in ("prior", "train", "baskets")}
        dataset = Dataset(catalog, _table(OrderTable, "orders", arrays), tables["prior"], tables["train"],
                          tables["baskets"], tuple(meta["skipped"]))
        _check_shapes(dataset)
    except Exception:  # noqa: BLE001 - any unreadable entry (truncated zip, bad JSON, wrong keys) is a cache miss
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
