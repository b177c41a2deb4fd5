"""Compiled files are bounded: demo count and size, JSON strictness and depth, and what the path may be.

Demos reach every LM request, so a file of sixteen 110 kB demos made every planner request megabytes long;
a FIFO, a link to /dev/zero or a directory at the compiled path was reported as "no compiled program".
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from test_compiled_files import OBJECTIVE, saved, write  # noqa: F401  (saved: the fixture, by name)

from themepage.cli.common import CliError, CompiledChoice, _load_compiled
from themepage.optimize import compiled_schema as limits
from themepage.optimize.compiled_files import load_compiled
from themepage.optimize.errors import UnsafeCompiledFile

COMMITTED = Path(__file__).resolve().parent.parent / "compiled"


def refused(index, root) -> str:
    with pytest.raises(UnsafeCompiledFile) as error:
        load_compiled("top-down", OBJECTIVE, index, root)
    message = str(error.value)
    assert "\n" not in message
    return message


def planner_demo(chars: int) -> dict:
    return {"augmented": True, "user_context": "x" * chars, "objective_guidance": "g", "num_themes": 1,
            "themes": []}


# ----- demos ------------------------------------------------------------------------------------------------

def test_sixteen_huge_demos_are_refused(index, saved):
    root, path, state = saved
    state["planner.plan"]["demos"] = [planner_demo(110_000) for _ in range(16)]
    write(path, state)
    assert "refused key 'planner.plan.demos'" in refused(index, root)


def test_too_many_small_demos_are_refused(index, saved):
    root, path, state = saved
    state["planner.plan"]["demos"] = [planner_demo(10) for _ in range(limits.MAX_DEMOS + 1)]
    write(path, state)
    assert f"at most {limits.MAX_DEMOS} demos" in refused(index, root)


def test_one_demo_field_over_the_limit_is_refused_by_name(index, saved):
    root, path, state = saved
    state["planner.plan"]["demos"] = [planner_demo(limits.MAX_DEMO_FIELD + 1)]
    write(path, state)
    assert "refused key 'planner.plan.demos[0].user_context'" in refused(index, root)


def test_a_non_text_demo_field_counts_as_its_json(index, saved):
    root, path, state = saved
    demo = planner_demo(10)
    demo["themes"] = [{"title": "t" * 1000}] * (limits.MAX_DEMO_FIELD // 1000)
    state["planner.plan"]["demos"] = [demo]
    write(path, state)
    assert "refused key 'planner.plan.demos[0].themes'" in refused(index, root)


def test_a_demo_over_the_limit_in_total_is_refused(index, saved):
    root, path, state = saved
    demo = planner_demo(limits.MAX_DEMO_FIELD)
    demo["objective_guidance"] = "y" * limits.MAX_DEMO_FIELD
    demo["themes"] = "z" * 10
    state["planner.plan"]["demos"] = [demo]
    write(path, state)
    assert "refused key 'planner.plan.demos[0]'" in refused(index, root)


def test_demos_at_the_limits_load(index, saved):
    root, path, state = saved
    state["planner.plan"]["demos"] = [planner_demo(limits.MAX_DEMO_FIELD) for _ in range(limits.MAX_DEMOS)]
    write(path, state)
    assert len(load_compiled("top-down", OBJECTIVE, index, root).planner.plan.demos) == limits.MAX_DEMOS


def test_committed_files_are_far_below_the_limits():
    """The limits leave room: every committed file is under a quarter of each (and a real compile is too)."""
    files = sorted(COMMITTED.rglob("*.json"))
    assert files
    for file in files:
        assert file.stat().st_size * 4 < limits.MAX_FILE_BYTES
        for name, predictor in json.loads(file.read_text()).items():
            if not isinstance(predictor, dict) or "demos" not in predictor:
                continue
            demos = predictor["demos"]
            assert len(demos) * 4 <= limits.MAX_DEMOS, (file, name)
            for demo in demos:
                sizes = [len(v) if isinstance(v, str) else len(json.dumps(v, ensure_ascii=False))
                         for v in demo.values()]
                assert max(sizes) * 4 < limits.MAX_DEMO_FIELD and sum(sizes) * 4 < limits.MAX_DEMO, (file, name)


# ----- strict JSON ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_not_json(index, saved, literal):
    root, path, state = saved
    state["metadata"]["themepage"]["format"] = "@"
    path.write_text(json.dumps(state).replace('"@"', literal))
    assert "not JSON" in refused(index, root)


@pytest.mark.parametrize("value", [1.0, 2, True, "1", None])
def test_format_must_be_exactly_the_integer_one(index, saved, value):
    root, path, state = saved
    state["metadata"]["themepage"]["format"] = value
    write(path, state)
    assert "refused key 'metadata.themepage.format'" in refused(index, root)


@pytest.mark.parametrize("key", ["metadata.themepage.format", "planner.plan.demos"])
def test_deep_nesting_is_refused(index, saved, key):
    root, path, state = saved
    deep = "[" * 900 + "]" * 900
    predictor, _, field = key.rpartition(".")
    target = state["metadata"]["themepage"] if predictor == "metadata.themepage" else state[predictor]
    target[field] = "@"
    path.write_text(json.dumps(state).replace('"@"', deep))
    assert f"nested more than {limits.MAX_DEPTH} deep" in refused(index, root)


@pytest.mark.parametrize("key, value", [("program", "top-down\nwarning: forged"), ("objective", "x" * 500),
                                        ("lm", "openai/gpt 4o"), ("optimizer", "evil"),
                                        ("fingerprints", {"planner.plan": "not a hash"})])
def test_metadata_names_are_checked_strictly(index, saved, key, value):
    root, path, state = saved
    state["metadata"]["themepage"][key] = value
    write(path, state)
    assert f"refused key 'metadata.themepage.{key}'" in refused(index, root)


# ----- what the path is -------------------------------------------------------------------------------------

def replace_with(path: Path, kind: str) -> None:
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    else:
        path.symlink_to(path.parent / "nothing-here.json")


KINDS = {"fifo": "is a FIFO (named pipe)", "zero": "is a character device", "directory": "is a directory",
         "broken": "a link to nothing"}


def load_in_thread(index, root) -> BaseException | None:
    """load_compiled in a thread, so a regression that blocks on a FIFO fails instead of hanging the suite."""
    outcome: list[BaseException | None] = []

    def run():
        try:
            load_compiled("top-down", OBJECTIVE, index, root)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 (handed to the test)
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    assert outcome, "loading blocked"
    return outcome[0]


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_path_that_is_not_a_regular_file_says_what_it_is(index, saved, kind):
    root, path, _ = saved
    replace_with(path, kind)
    error = load_in_thread(index, root)
    assert isinstance(error, UnsafeCompiledFile), error
    assert KINDS[kind] in str(error) and "no compiled program" not in str(error)


@pytest.mark.parametrize("explicit", [True, False], ids=["--compiled", "default folder"])
def test_the_cli_refuses_a_fifo_in_any_compiled_folder(index, saved, explicit):
    """The default folder skips a missing file, never a FIFO or a directory (those are errors too)."""
    root, path, _ = saved
    replace_with(path, "fifo")
    with pytest.raises(CliError, match="is a FIFO"):
        _load_compiled(CompiledChoice(root, explicit), "top-down", OBJECTIVE, index, "offline")


def test_a_file_growing_past_the_cap_is_read_no_further(index, saved, monkeypatch):
    """The size is checked on what is read, not only on what stat said."""
    root, path, state = saved
    write(path, state)
    monkeypatch.setattr("themepage.optimize.compiled_files.MAX_FILE_BYTES", 100)
    monkeypatch.setattr(os, "fstat", lambda fd, real=os.fstat: os.stat_result((*real(fd)[:6], 0, *real(fd)[7:])))
    assert "more than a compiled program's 100 bytes" in refused(index, root)
