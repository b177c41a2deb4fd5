"""The offline engine's answers are cached under what it answers from: a changed theme library is not answered
from the cache (`themepage.lm.response_cache.attempt_lm`, `themepage.offline.engine.knowledge_digest`)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import dspy

import themepage
from themepage.lm.plug import make_lm
from themepage.lm.response_cache import attempt_lm, rollout_id
from themepage.offline.engine import digest_of, knowledge_digest


def test_a_provider_at_its_default_address_keeps_the_plain_first_request():
    assert rollout_id(None, 0) is None and rollout_id(None, 0, "") is None
    assert attempt_lm(dspy.LM("openai/gpt-4o-mini"), 0).kwargs.get("rollout_id") is None


def test_a_salt_changes_every_attempts_id_and_no_salt_keeps_the_old_ids():
    assert len({rollout_id(None, 0, "a"), rollout_id(None, 0, "b"), rollout_id(None, 1, "a")}) == 3
    plain = int.from_bytes(hashlib.sha256(b"http://x#1").digest()[:6], "big")
    assert rollout_id("http://x", 1) == plain != rollout_id("http://x", 1, "a")


def test_the_offline_lms_requests_carry_the_librarys_digest(index):
    lm = make_lm("offline", index)
    assert attempt_lm(lm, 0).kwargs["rollout_id"] == rollout_id(None, 0, knowledge_digest())
    assert attempt_lm(lm, 1).kwargs["rollout_id"] == rollout_id(None, 1, knowledge_digest())


def test_the_digest_follows_the_theme_bank(tmp_path):
    package = Path(themepage.__file__).parent
    for folder in ("offline", "library"):
        shutil.copytree(package / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    assert digest_of(tmp_path) == knowledge_digest()
    bank = tmp_path / "library" / "theme_bank.toml"
    bank.write_text(bank.read_text(encoding="utf-8").replace('"pancake"', '"pancakes"', 1), encoding="utf-8")
    assert digest_of(tmp_path) != knowledge_digest()


def test_every_try_shows_in_the_lms_own_history(index):
    lm = make_lm("offline", index, cache=False)
    assert attempt_lm(lm, 0).history is lm.history is attempt_lm(lm, 2).history
