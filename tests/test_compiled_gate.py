"""CI gate: every committed compiled program loads with the current code and passes its objective's gate.

Both layouts count: compiled/<objective>/<program>.json (offline engine) and
compiled/<lm-slug>/<objective>/<program>.json (any other LM, loaded for the LM its metadata names).
"""

import json
import sys

import pytest

from themepage.cli.app import main
from themepage.objectives import load_objective, objective_names
from themepage.optimize.compiled_files import COMPILED_DIR, load_compiled
from themepage.optimize.fingerprint import compiled_path, lm_slug
from themepage.programs.registry import LLM_PROGRAMS


def committed_files() -> list[tuple[str, str, str]]:
    """(lm, objective, program) of every committed compiled file, under both layouts."""
    found = [("offline", path.parent.name, path.stem) for path in COMPILED_DIR.glob("*/*.json")]
    for path in COMPILED_DIR.glob("*/*/*.json"):
        lm = json.loads(path.read_text())["metadata"]["themepage"]["lm"]
        assert lm_slug(lm) == path.parent.parent.name, f"{path}: compiled for {lm}, filed under another LM"
        found.append((lm, path.parent.name, path.stem))
    return sorted(found)


FILES = committed_files()
COMMITTED = sorted((objective, program) for lm, objective, program in FILES if lm == "offline")


def test_every_shipped_objective_has_compiled_programs():
    for objective in ("relevance", "discovery", "healthy", "cohesive"):
        for program in LLM_PROGRAMS:
            assert (objective, program) in COMMITTED, f"compiled/{objective}/{program}.json is missing"


@pytest.mark.parametrize("lm, objective, program", FILES)
def test_committed_program_is_current(index, lm, objective, program):
    assert objective in objective_names(), f"{compiled_path(objective, program, COMPILED_DIR, lm)}: no objective file"
    assert program in LLM_PROGRAMS
    module = load_compiled(program, objective, index, lm=lm)  # StaleCompiledProgram when signatures changed
    assert module.objective == objective


@pytest.mark.parametrize("lm, objective, program", FILES)
def test_committed_program_refuses_another_lm(index, lm, objective, program, tmp_path):
    """The same file, filed where another LM's programs live, is refused for that LM."""
    other = "openai/another-model" if lm == "offline" else "offline"
    target = compiled_path(objective, program, tmp_path, other)
    target.parent.mkdir(parents=True)
    target.write_text(compiled_path(objective, program, COMPILED_DIR, lm).read_text())
    from themepage.optimize.errors import StaleCompiledProgram

    with pytest.raises(StaleCompiledProgram, match=f"compiled for LM '{lm}', not '{other}'"):
        load_compiled(program, objective, index, tmp_path, lm=other)


@pytest.mark.parametrize("objective", sorted({objective for objective, _ in COMMITTED}))
def test_gate(monkeypatch, capsys, objective, tmp_path):
    programs = ",".join(sorted(p for o, p in COMMITTED if o == objective))
    out = tmp_path / "eval.json"
    monkeypatch.setattr(sys, "argv", ["themepage", "evaluate", "--objective", objective, "--compiled",
                                      str(COMPILED_DIR), "--gate", "--users", "dev", "--programs", programs,
                                      "--json", str(out)])
    with pytest.raises(SystemExit) as exit_info:
        main()
        raise SystemExit(0)
    err = capsys.readouterr().err
    assert exit_info.value.code in (0, None), err
    assert "gate passed" in err
    floor = load_objective(objective).gate.min_score
    assert all(r["objective_score"] >= floor for r in json.loads(out.read_text())["programs"].values())


def test_gate_fails_below_the_floor(monkeypatch, capsys, tmp_path):
    """A gate set above what the program scores must fail the command."""
    import themepage.objectives as objective_module

    relevance = objective_module.load_objective("relevance")
    strict = objective_module.ObjectiveConfig.model_validate({**relevance.model_dump(), "gate": {"min_score": 0.99}})
    monkeypatch.setattr(objective_module, "load_objective", lambda name, folder=None: strict)
    import themepage.metrics.objective_metric as metric_module

    monkeypatch.setattr(metric_module, "load_objective", lambda name, folder=None: strict)
    monkeypatch.setattr(sys, "argv", ["themepage", "evaluate", "--compiled", str(COMPILED_DIR), "--gate",
                                      "--users", "dev", "--programs", "top-down"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    assert "gate failed" in capsys.readouterr().err
