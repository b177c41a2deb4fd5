"""Compiled files are untrusted input: only what compiling writes loads; stale or foreign files are refused.

DSPy's loader copies unknown predictor keys onto the predictor and restores a saved LM, so a file could
redirect every request (with the shoppers' histories and the Authorization header) or switch an offline
batch to a hosted model. Each hostile file here must be refused with one line naming the file and the key.
"""

import json
import sys

import dspy
import pytest

import themepage.programs.modules as modules
from themepage.cli.app import main
from themepage.optimize.compiled_files import load_compiled, save_compiled
from themepage.optimize.compiled_schema import MAX_FILE_BYTES
from themepage.optimize.errors import StaleCompiledProgram, UnsafeCompiledFile
from themepage.optimize.fingerprint import compiled_path, lm_slug, predictor_fingerprints
from themepage.programs.top_down import TopDownProgram
from themepage.signatures.top_down import FillTheme

OBJECTIVE = "discovery"


@pytest.fixture
def saved(index, tmp_path):
    """(root, path, state) of a valid compiled top-down file (the fresh program, saved as compile saves it)."""
    path = compiled_path(OBJECTIVE, "top-down", tmp_path)
    path.parent.mkdir(parents=True)
    save_compiled(TopDownProgram(index, objective=OBJECTIVE), path, program="top-down", objective=OBJECTIVE,
                  lm="offline", optimizer="gepa", index=index)
    return tmp_path, path, json.loads(path.read_text())


def write(path, state):
    path.write_text(json.dumps(state))


def test_a_file_as_compiling_writes_it_loads(index, saved):
    root, _, _ = saved
    assert load_compiled("top-down", OBJECTIVE, index, root).objective == OBJECTIVE


def set_key(state, dotted, value):
    """Set a key by its dotted path; the first two parts may be a predictor name (it holds a dot)."""
    parts = dotted.split(".")
    if ".".join(parts[:2]) in state:
        parts = [".".join(parts[:2]), *parts[2:]]
    *parents, last = parts
    node = state
    for part in parents:
        node = node[part]
    node[last] = value


HOSTILE = [
    ("planner.plan.config", {"api_base": "http://127.0.0.1:9/v1"}, "planner.plan.config"),
    ("filler.fill.lm", {"model": "openai/gpt-4o-mini"}, "filler.fill.lm"),
    ("backdoor", {"anything": 1}, "backdoor"),
    ("filter.check.demos", "not a list", "filter.check.demos"),
    ("filter.check.demos", [["a", "list"]], "filter.check.demos[0]"),
    ("filter.check.demos", [{"kept_ids": [1], "api_base": "http://x"}], "filter.check.demos[0].api_base"),
    ("filter.check.demos", [{"augmented": "yes"}], "filter.check.demos[0].augmented"),
    ("filler.fill.traces", [{"x": 1}], "filler.fill.traces"),
    ("filler.fill.signature.instructions", ["not", "text"], "filler.fill.signature.instructions"),
    ("filler.fill.signature.extra", "x", "filler.fill.signature.extra"),
    ("metadata.themepage.optimizer", 7, "metadata.themepage.optimizer"),
    ("metadata.surprise", {}, "metadata.surprise"),
]


@pytest.mark.parametrize("key, value, named", HOSTILE, ids=[h[0] + ":" + type(h[1]).__name__ for h in HOSTILE])
def test_hostile_keys_are_refused_naming_file_and_key(index, saved, key, value, named):
    root, path, state = saved
    set_key(state, key, value)
    write(path, state)
    with pytest.raises(UnsafeCompiledFile) as refused:
        load_compiled("top-down", OBJECTIVE, index, root)
    message = str(refused.value)
    assert str(path) in message and f"refused key '{named}'" in message and "\n" not in message


def test_a_redirecting_file_sends_nothing_anywhere(index, saved, monkeypatch):
    """The api_base example end to end: refused before any predictor is touched, so no LM is ever built."""
    root, path, state = saved
    state["filler.fill"]["config"] = {"api_base": "http://127.0.0.1:9/v1"}
    write(path, state)
    built = []
    monkeypatch.setattr(dspy.LM, "__init__", lambda self, *a, **k: built.append(a) or None)
    with pytest.raises(UnsafeCompiledFile):
        load_compiled("top-down", OBJECTIVE, index, root)
    assert built == []


def test_non_json_and_non_object_files_are_refused(index, saved):
    root, path, _ = saved
    path.write_text("{not json")
    with pytest.raises(UnsafeCompiledFile, match="not JSON"):
        load_compiled("top-down", OBJECTIVE, index, root)
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(UnsafeCompiledFile, match="not JSON"):
        load_compiled("top-down", OBJECTIVE, index, root)
    path.write_text("[1, 2, 3]")
    with pytest.raises(UnsafeCompiledFile, match="expected a JSON object"):
        load_compiled("top-down", OBJECTIVE, index, root)


def test_a_huge_file_is_refused_unread(index, saved):
    root, path, state = saved
    text = json.dumps(state)
    path.write_text(text[:-1] + " " * (MAX_FILE_BYTES + 1 - len(text)) + "}")
    with pytest.raises(UnsafeCompiledFile, match="more than a compiled program's"):
        load_compiled("top-down", OBJECTIVE, index, root)


def test_a_file_without_our_metadata_is_refused(index, saved):
    root, path, state = saved
    del state["metadata"]["themepage"]
    write(path, state)
    with pytest.raises(UnsafeCompiledFile, match="metadata.themepage"):
        load_compiled("top-down", OBJECTIVE, index, root)


# ----- stale: the code's signatures, the program, the LM -------------------------------------------------------

@pytest.mark.parametrize("changed", [FillTheme.with_instructions("Pick products. A new instruction."),
                                     FillTheme.with_updated_fields("product_ids", type_=list[str]),
                                     FillTheme.with_updated_fields("num_products", desc="a new description")],
                         ids=["docstring", "type", "description"])
def test_a_changed_signature_makes_the_file_stale_with_the_command_to_recompile(index, saved, monkeypatch, changed):
    root, path, _ = saved
    monkeypatch.setattr(modules, "FillTheme", changed)
    with pytest.raises(StaleCompiledProgram) as stale:
        load_compiled("top-down", OBJECTIVE, index, root)
    message = str(stale.value)
    assert "['filler.fill']" in message and str(path) in message
    assert message.endswith("recompile: themepage compile --objective discovery --program top-down --optimizer gepa")


def test_fingerprints_cover_instruction_types_and_descriptions(index):
    plain = predictor_fingerprints(TopDownProgram(index))
    assert set(plain) == {"planner.plan", "filler.fill", "filter.check"}
    assert predictor_fingerprints(TopDownProgram(index)) == plain  # deterministic


def test_a_file_compiled_for_another_program_or_lm_is_refused(index, saved, tmp_path):
    root, path, state = saved
    with pytest.raises(StaleCompiledProgram, match="compiled for LM 'offline', not 'openai/smollm2'"):
        other = compiled_path(OBJECTIVE, "top-down", root, "openai/smollm2")
        other.parent.mkdir(parents=True)
        other.write_text(path.read_text())
        load_compiled("top-down", OBJECTIVE, index, root, lm="openai/smollm2")
    state["metadata"]["themepage"]["objective"] = "healthy"
    write(path, state)
    with pytest.raises(StaleCompiledProgram, match="compiled for top-down / healthy, not top-down / discovery"):
        load_compiled("top-down", OBJECTIVE, index, root)


def test_layout_and_slugs(tmp_path):
    assert compiled_path("healthy", "top-down", tmp_path) == tmp_path / "healthy" / "top-down.json"
    assert compiled_path("healthy", "top-down", tmp_path, "themepage/offline") == tmp_path / "healthy" / "top-down.json"
    assert compiled_path("healthy", "top-down", tmp_path, "openai/smollm2") == (
        tmp_path / "openai-smollm2" / "healthy" / "top-down.json")
    assert lm_slug("ollama_chat/Llama3.1:8b") == "ollama_chat-llama3.1-8b"
    assert lm_slug("../../etc/passwd") == "etc-passwd"


def test_cli_prints_a_refused_file_as_one_line_and_exits_2(saved, monkeypatch, capsys):
    root, path, state = saved
    state["planner.plan"]["lm"] = {"model": "openai/gpt-4o-mini"}
    write(path, state)
    monkeypatch.setattr(sys, "argv", ["themepage", "evaluate", "--objective", OBJECTIVE, "--compiled", str(root),
                                      "--users", "dev", "--programs", "top-down"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2
    assert "refused key 'planner.plan.lm'" in err and len(err.splitlines()) == 1
