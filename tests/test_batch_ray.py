"""Batch engines: users files and shards, and Ray on a local 2-CPU cluster making the threaded batch's pages.

Without Ray installed the Ray tests fail under CI (`CI` set) and are skipped elsewhere.
"""

import json
import os

import pytest
from cli_runner import run_cli
from optional_extras import require_module

from themepage.cli.batch_ray import chunked
from themepage.cli.batch_users import UserSelectionError, parse_shard, select_users


def test_shards_are_disjoint_ordered_and_complete():
    users = list(range(10, 20))
    shards = [select_users(users, shard=f"{i}/3") for i in range(3)]
    assert shards[0] == [10, 13, 16, 19] and shards[2] == [12, 15, 18]
    assert sorted(u for s in shards for u in s) == users


@pytest.mark.parametrize("spec", ["3/3", "1", "a/b", "-1/2", "0/0"])
def test_bad_shard(spec):
    with pytest.raises(UserSelectionError, match="bad shard"):
        parse_shard(spec)


def test_users_file(tmp_path):
    listed = tmp_path / "users.txt"
    listed.write_text("# a comment\n3\n\n1  # inline\n3\n")
    assert select_users([1, 2, 3], listed) == [3, 1]
    listed.write_text("1\n99\n")
    with pytest.raises(UserSelectionError, match="1 users in .* have no history: 99"):
        select_users([1, 2, 3], listed)
    listed.write_text("1\nx1\n")
    with pytest.raises(UserSelectionError, match=":2: not a user id"):
        select_users([1, 2, 3], listed)


def test_chunks_keep_order():
    assert chunked(list(range(10)), 2) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    assert chunked([], 2) == []


def test_cli_users_and_shard(monkeypatch, capsys, tmp_path):
    listed, out = tmp_path / "users.txt", tmp_path / "pages.jsonl"
    listed.write_text("5\n1\n7\n")
    code, _, err = run_cli(monkeypatch, capsys, "batch", "--program", "repurchase", "--users", str(listed),
                           "--shard", "0/2", "--out", str(out))
    assert code == 0 and "wrote 2 pages" in err
    assert [json.loads(line)["user_id"] for line in out.read_text().splitlines()] == [5, 7]
    code, _, err = run_cli(monkeypatch, capsys, "batch", "--out", str(out), "--shard", "2/2")
    assert code == 2 and "bad shard" in err


def _without_timings(path):
    pages = [json.loads(line) for line in path.read_text().splitlines()]
    for page in pages:
        page["stats"].pop("timings_ms")
    return pages


def test_ray_batch_matches_threaded(monkeypatch, capsys, tmp_path):
    """Same pages in the same order on a local 2-CPU Ray cluster as on threads (timings aside)."""
    ray = require_module("ray", "pip install -e '.[ray]'")

    threaded, distributed = tmp_path / "threaded.jsonl", tmp_path / "ray.jsonl"
    code, _, _ = run_cli(monkeypatch, capsys, "batch", "--out", str(threaded))
    assert code == 0
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             runtime_env={"env_vars": {k: v for k, v in os.environ.items()
                                       if k.startswith(("THEMEPAGE_", "LITELLM", "DSPY_"))}})
    try:
        assert ray.cluster_resources()["CPU"] == 2
        code, _, err = run_cli(monkeypatch, capsys, "batch", "--engine", "ray", "--out", str(distributed),
                               "--html", str(tmp_path / "html"))
    finally:
        ray.shutdown()
    assert code == 0, err
    expected = _without_timings(threaded)
    assert len(expected) == 33 and _without_timings(distributed) == expected
    assert len(list((tmp_path / "html").glob("user-*.html"))) == 33


def test_address_needs_the_ray_engine(monkeypatch, capsys, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "batch", "--out", str(tmp_path / "p.jsonl"), "--address", "auto")
    assert code == 2 and "--address is for --engine ray" in err
