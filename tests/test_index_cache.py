"""The index's cache files under damage: any entry that does not load is rebuilt with a one-line warning."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from cli_runner import run_cli

from themepage.dataset import cache
from themepage.dataset.cache import CacheRebuildWarning
from themepage.index import CatalogIndex
from themepage.index import catalog_index as catalog_index_module


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


DAMAGES = {
    "zero bytes": lambda data, n: b"",
    "half": lambda data, n: data[: len(data) // 2],
    "garbage": lambda data, n: b"\x93NUMPY garbage" * 50,
    "one byte short": lambda data, n: data[:-1],
}
NPZ_ONLY = {
    "wrong shape": lambda data, n: npz_bytes(vectors=np.zeros((n + 1, 4), np.float32), counts=np.zeros(n, np.int32)),
    "wrong dtype": lambda data, n: npz_bytes(vectors=np.zeros((n, 4), np.float64), counts=np.zeros(n, np.int32)),
    "not finite": lambda data, n: npz_bytes(vectors=np.full((n, 4), np.nan, np.float32), counts=np.zeros(n, np.int32)),
    "wrong keys": lambda data, n: npz_bytes(vectors=np.zeros((n, 4), np.float32)),
}
FILES = ["copurchase.npz", "lexical/data.csc.index.npy", "lexical/indices.csc.index.npy",
         "lexical/indptr.csc.index.npy"]
CASES = [(f, d) for f in FILES for d in DAMAGES] + [("copurchase.npz", d) for d in NPZ_ONLY]


@pytest.fixture
def builds(monkeypatch):
    """Count index builds."""
    calls = []
    real = CatalogIndex.build.__func__

    def counting(cls, dataset):
        calls.append(1)
        return real(cls, dataset)

    monkeypatch.setattr(catalog_index_module.CatalogIndex, "build", classmethod(counting))
    return calls


def entry(data_dir, cache_dir):
    return cache_dir / cache.fingerprint(data_dir) / "index"


@pytest.mark.parametrize("name, damage", CASES, ids=[f"{f}-{d}" for f, d in CASES])
def test_damaged_index_file_is_rebuilt_with_a_warning(tiny_data_dir, tmp_path, builds, name, damage):
    good = CatalogIndex.open(tiny_data_dir, tmp_path)
    target = entry(tiny_data_dir, tmp_path) / name
    spoil = {**DAMAGES, **NPZ_ONLY}[damage]
    target.write_bytes(spoil(target.read_bytes(), len(good.catalog)))
    with pytest.warns(CacheRebuildWarning) as caught:
        rebuilt = CatalogIndex.open(tiny_data_dir, tmp_path)
    messages = [str(w.message) for w in caught if issubclass(w.category, CacheRebuildWarning)]
    assert len(messages) == 1 and "\n" not in messages[0]
    assert target.name in messages[0] or target.parent.name in messages[0], messages[0]
    assert len(builds) == 2
    np.testing.assert_array_equal(rebuilt.vectors, good.vectors)
    assert rebuilt.search("milk", k=3) == good.search("milk", k=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = CatalogIndex.open(tiny_data_dir, tmp_path)
    assert len(builds) == 2, "the rebuilt entry is written back and reused"
    np.testing.assert_array_equal(again.popularity, good.popularity)


def test_zero_byte_npy_names_the_file(tiny_data_dir, tmp_path):
    CatalogIndex.open(tiny_data_dir, tmp_path)
    target = entry(tiny_data_dir, tmp_path) / "lexical" / "data.csc.index.npy"
    target.write_bytes(b"")
    with pytest.warns(CacheRebuildWarning, match=r"data\.csc\.index\.npy is damaged"):
        CatalogIndex.open(tiny_data_dir, tmp_path)


def test_no_temporary_files_are_left_behind(tiny_data_dir, tmp_path):
    CatalogIndex.open(tiny_data_dir, tmp_path)
    folder = entry(tiny_data_dir, tmp_path)
    (folder / "copurchase.npz").write_bytes(b"")
    with pytest.warns(CacheRebuildWarning):
        CatalogIndex.open(tiny_data_dir, tmp_path)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["copurchase.npz", "lexical"], names


def test_zero_byte_cache_file_no_longer_exits_130(tiny_data_dir, tmp_path, monkeypatch, capsys):
    """np.load raises EOFError on an empty file; click turns EOFError into Abort, which the CLI exits 130 on."""
    args = ["generate", "--user", "1", "--program", "repurchase", "--data", str(tiny_data_dir),
            "--cache-dir", str(tmp_path)]
    code, _, _ = run_cli(monkeypatch, capsys, *args)
    assert code == 0
    (entry(tiny_data_dir, tmp_path) / "copurchase.npz").write_bytes(b"")
    with pytest.warns(CacheRebuildWarning):
        code, out, err = run_cli(monkeypatch, capsys, *args)
    assert code == 0, err
    assert out.strip()
