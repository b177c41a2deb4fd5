"""bench/batch_scale.py: users picked, resumable page files, and threads == Ray on a small Kaggle-layout dataset."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from optional_extras import require_module

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _bench_module(name: str):
    """A bench/ script as a module (bench/ is not a package; its scripts import each other by name)."""
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec and spec.loader
    module = sys.modules[name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


batch_scale = _bench_module("batch_scale")
generate = _bench_module("synthetic_kaggle").generate


def _page_line(user: int, timing: float = 1.0) -> str:
    return json.dumps({"user_id": user, "placements": [], "stats": {"timings_ms": {"plan": timing}}}) + "\n"


def test_pick_users_is_seeded_sorted_and_bounded():
    ids = list(range(100, 0, -1))
    picked = batch_scale.pick_users(ids, 10, seed=3)
    assert picked == sorted(picked) and len(set(picked)) == 10 and set(picked) <= set(ids)
    assert batch_scale.pick_users(ids, 10, seed=3) == picked
    assert batch_scale.pick_users(ids, 10, seed=4) != picked
    assert batch_scale.pick_users(ids, 500, seed=3) == sorted(ids)


def test_finished_count_keeps_the_pages_in_order_and_cuts_the_rest(tmp_path):
    out = tmp_path / "thread.jsonl"
    assert batch_scale.finished_count(out, [1, 2]) == 0
    out.write_text(_page_line(1) + _page_line(2) + '{"user_id": 3, "plac')  # torn by a kill
    assert batch_scale.finished_count(out, [1, 2, 3]) == 2
    assert out.read_text() == _page_line(1) + _page_line(2)
    out.write_text(_page_line(1) + _page_line(9))  # a page of a user not next in the list
    assert batch_scale.finished_count(out, [1, 2]) == 1
    assert out.read_text() == _page_line(1)


def test_same_pages_ignores_timings_only(tmp_path):
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    a.write_text(_page_line(1, 1.0) + _page_line(2, 1.0))
    b.write_text(_page_line(1, 5.0) + _page_line(2, 7.0))
    c.write_text(_page_line(1, 1.0))
    assert batch_scale.same_pages(a, b)
    assert not batch_scale.same_pages(a, c)
    assert batch_scale.differing_pages(a, c) == (1, 0)


def test_differing_pages_counts_the_fallbacks_of_one_engine(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    fell = json.dumps({"user_id": 2, "placements": [], "stats": {"fallbacks": ["filter: DeadlineExceeded"]}}) + "\n"
    other = json.dumps({"user_id": 3, "placements": [1], "stats": {}}) + "\n"
    a.write_text(_page_line(1) + _page_line(2) + _page_line(3))
    b.write_text(_page_line(1, 9.0) + fell + other)
    assert batch_scale.differing_pages(a, b) == (2, 1)


def test_five_users_of_a_kaggle_layout_dataset_threads_and_ray_agree_and_resume(tmp_path):
    require_module("ray", "pip install -e '.[ray]'")
    data, cache, out = tmp_path / "kaggle", tmp_path / "cache", tmp_path / "pages"
    data.mkdir()
    generate(data, 0.0003, 7)  # 62 users in the Kaggle file layout
    runs, differ = batch_scale.measure(data, cache, out, 5, ["thread", "ray"], concurrency=2, cpus=2)
    assert differ == (0, 0)
    assert [(r.engine, r.pages, r.kept) for r in runs] == [("thread", 5, 0), ("ray", 5, 0)]
    assert all(r.cpu > 0 and r.peak_rss_mib and min(r.peak_rss_mib) > 0 for r in runs)
    assert len(runs[1].peak_rss_mib) <= 2
    users = [int(u) for u in (out / "users.txt").read_text().split()]
    assert [json.loads(line)["user_id"] for line in (out / "ray.jsonl").read_text().splitlines()] == users
    rerun, _ = batch_scale.measure(data, cache, out, 5, ["thread"])
    assert (rerun[0].pages, rerun[0].kept) == (0, 5)
