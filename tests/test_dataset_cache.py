"""The content-keyed disk cache: reused while the files are unchanged, rebuilt when they change or are damaged."""

from __future__ import annotations

import io
import os
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from themepage.constants import default_cache_dir
from themepage.dataset import cache, load_dataset, read_dataset


@pytest.fixture
def reads(monkeypatch):
    """Count the calls the cache makes to read_dataset (through the cache module's own reference)."""
    calls = []

    def counting(data_dir):
        calls.append(Path(data_dir))
        return read_dataset(data_dir)

    monkeypatch.setattr(cache, "read_dataset", counting)
    return calls


def assert_same(a, b) -> None:
    for name in ("orders", "prior", "train", "baskets"):
        left, right = getattr(a, name), getattr(b, name)
        for f in fields(left):
            x, y = getattr(left, f.name), getattr(right, f.name)
            assert x.dtype == y.dtype, (name, f.name)
            np.testing.assert_array_equal(x, y, err_msg=f"{name}.{f.name}")
    for attr in ("product_ids", "aisle_ids", "department_ids", "row_of"):
        x, y = getattr(a.catalog, attr), getattr(b.catalog, attr)
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)
    assert a.catalog.names == b.catalog.names
    assert a.catalog.aisles == b.catalog.aisles and a.catalog.departments == b.catalog.departments
    assert a.skipped == b.skipped


def test_session_cache_dir_is_isolated(isolated_cache_dir, tmp_path_factory):
    assert os.environ["THEMEPAGE_CACHE_DIR"] == str(isolated_cache_dir)
    assert default_cache_dir() == isolated_cache_dir
    assert tmp_path_factory.getbasetemp() in default_cache_dir().parents


def test_second_load_comes_from_the_cache(tiny_data_dir, tmp_path, reads):
    cache_dir = tmp_path / "cache"
    first = load_dataset(tiny_data_dir, cache_dir=cache_dir)
    assert len(reads) == 1
    entry = cache_dir / cache.fingerprint(tiny_data_dir)
    assert (entry / "dataset.npz").is_file() and (entry / "dataset.json").is_file()
    second = load_dataset(tiny_data_dir, cache_dir=cache_dir)
    assert len(reads) == 1, "the second load must not parse the CSVs again"
    assert_same(first, second)
    assert_same(read_dataset(tiny_data_dir), second)
    assert second.catalog.name(2) == "Bread, white" and np.isnan(second.orders.days_since_prior[0])


def test_skipped_messages_survive_the_cache(tiny_data_dir, tmp_path, reads):
    path = tiny_data_dir / "order_products__prior.csv"
    path.write_text(path.read_text() + "\n10,1,5,0\n")
    first = load_dataset(tiny_data_dir, cache_dir=tmp_path)
    second = load_dataset(tiny_data_dir, cache_dir=tmp_path)
    assert len(reads) == 1
    assert first.skipped and second.skipped == first.skipped


def test_cache_is_keyed_by_content_not_location(tiny_data_dir, tmp_path, reads):
    load_dataset(tiny_data_dir, cache_dir=tmp_path / "cache")
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in tiny_data_dir.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    assert cache.fingerprint(copy) == cache.fingerprint(tiny_data_dir)
    load_dataset(copy, cache_dir=tmp_path / "cache")
    assert len(reads) == 1


def test_changing_one_byte_rebuilds(tiny_data_dir, tmp_path, reads):
    cache_dir = tmp_path / "cache"
    before = load_dataset(tiny_data_dir, cache_dir=cache_dir)
    key = cache.fingerprint(tiny_data_dir)
    path = tiny_data_dir / "order_products__prior.csv"
    data = bytearray(path.read_bytes())
    at = data.index(b"22,6,2,0")
    data[at + 3] = ord("5")  # order 22: product 6 -> 5
    path.write_bytes(bytes(data))
    assert cache.fingerprint(tiny_data_dir) != key
    after = load_dataset(tiny_data_dir, cache_dir=cache_dir)
    assert len(reads) == 2, "changed input must be parsed again"
    assert before.prior.product_ids[-1] == 6 and after.prior.product_ids[-1] == 5
    assert_same(after, read_dataset(tiny_data_dir))
    load_dataset(tiny_data_dir, cache_dir=cache_dir)
    assert len(reads) == 2


def test_adding_or_removing_the_optional_file_rebuilds(tiny_data_dir, tmp_path, reads):
    with_baskets = load_dataset(tiny_data_dir, cache_dir=tmp_path)
    (tiny_data_dir / "baskets.csv").unlink()
    without = load_dataset(tiny_data_dir, cache_dir=tmp_path)
    assert len(reads) == 2
    assert len(with_baskets.baskets) == 5 and len(without.baskets) == 0
    assert with_baskets.absent == () and without.absent == ("baskets.csv",)
    assert load_dataset(tiny_data_dir, cache_dir=tmp_path).absent == ("baskets.csv",), "kept by the cache"
    assert len(reads) == 2


def test_fingerprint_keeps_file_boundaries(tiny_data_dir):
    """Moving bytes from the end of one file to the start of the next must change the key."""
    a, b = tiny_data_dir / "aisles.csv", tiny_data_dir / "departments.csv"
    key = cache.fingerprint(tiny_data_dir)
    text_a = a.read_bytes()
    a.write_bytes(text_a[:-1])
    b.write_bytes(text_a[-1:] + b.read_bytes())
    assert cache.fingerprint(tiny_data_dir) != key


def npz_with(data: bytes, key: str, change) -> bytes:
    """The saved arrays with one of them changed."""
    with np.load(io.BytesIO(data)) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays[key] = change(arrays[key])
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


@pytest.mark.parametrize("damage", [
    ("dataset.npz", lambda data: b"not a zip file at all"),
    ("dataset.npz", lambda data: data[: len(data) // 2]),                         # truncated
    ("dataset.npz", lambda data: data[:200] + bytes(b ^ 0xFF for b in data[200:400]) + data[400:]),
    ("dataset.npz", lambda data: b""),
    ("dataset.json", lambda data: b"{not json"),
    ("dataset.json", lambda data: b"[]"),
    ("dataset.json", lambda data: data.replace(b'"names"', b'"nomes"')),
    ("dataset.json", lambda data: data.replace(b'"absent"', b'"absnt"')),
    ("dataset.npz", lambda data: npz_with(data, "prior.order_ids", lambda a: a.astype(np.int64))),   # wrong dtype
    ("dataset.npz", lambda data: npz_with(data, "orders.user_ids", lambda a: a.reshape(-1, 1))),      # wrong shape
    ("dataset.npz", lambda data: npz_with(data, "train.reordered", lambda a: a[:-1])),               # short column
])
def test_corrupt_cache_file_is_rebuilt(tiny_data_dir, tmp_path, reads, damage):
    name, spoil = damage
    cache_dir = tmp_path / "cache"
    good = load_dataset(tiny_data_dir, cache_dir=cache_dir)
    target = cache_dir / cache.fingerprint(tiny_data_dir) / name
    target.write_bytes(spoil(target.read_bytes()))
    with pytest.warns(cache.CacheRebuildWarning, match=rf"cache file .*{name} is damaged") as caught:
        rebuilt = load_dataset(tiny_data_dir, cache_dir=cache_dir)
    assert len(caught) == 1 and "\n" not in str(caught[0].message)
    assert len(reads) == 2, "a damaged entry is a cache miss"
    assert_same(good, rebuilt)
    again = load_dataset(tiny_data_dir, cache_dir=cache_dir)
    assert len(reads) == 2, "the rebuilt entry is written back and reused"
    assert_same(good, again)


def test_missing_half_of_an_entry_is_rebuilt(tiny_data_dir, tmp_path, reads):
    load_dataset(tiny_data_dir, cache_dir=tmp_path)
    (tmp_path / cache.fingerprint(tiny_data_dir) / "dataset.json").unlink()
    load_dataset(tiny_data_dir, cache_dir=tmp_path)
    assert len(reads) == 2


def test_env_var_is_honoured(tiny_data_dir, tmp_path, monkeypatch, reads):
    monkeypatch.setenv("THEMEPAGE_CACHE_DIR", str(tmp_path / "from-env"))
    load_dataset(tiny_data_dir)
    entry = tmp_path / "from-env" / cache.fingerprint(tiny_data_dir)
    assert (entry / "dataset.npz").is_file()
    load_dataset(tiny_data_dir)
    assert len(reads) == 1


def test_explicit_cache_dir_wins_over_env(tiny_data_dir, tmp_path, monkeypatch, reads):
    monkeypatch.setenv("THEMEPAGE_CACHE_DIR", str(tmp_path / "from-env"))
    load_dataset(tiny_data_dir, cache_dir=tmp_path / "explicit")
    assert (tmp_path / "explicit" / cache.fingerprint(tiny_data_dir) / "dataset.npz").is_file()
    assert not (tmp_path / "from-env").exists()


def test_unusable_cache_dir_still_reads(tiny_data_dir, tmp_path, reads):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.warns(UserWarning, match="cache"):
        d = load_dataset(tiny_data_dir, cache_dir=blocker / "cache")
    assert len(d.prior) == 11 and len(reads) == 1


def test_bad_input_is_a_data_error_through_the_cache(tiny_data_dir, tmp_path):
    from themepage.dataset import DataError

    (tiny_data_dir / "order_products__train.csv").write_text("order_id,product_id,add_to_cart_order,reordered\n"
                                                              "14,42,1,1\n")
    with pytest.raises(DataError, match=r"order_products__train.csv line 2, column product_id"):
        load_dataset(tiny_data_dir, cache_dir=tmp_path)
    assert not any((tmp_path / cache.fingerprint(tiny_data_dir)).glob("dataset.*"))
