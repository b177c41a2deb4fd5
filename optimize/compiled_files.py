"""Compiled programs on disk: state-only JSON, fingerprinted, loaded only after every check passes.

Layout: `compiled/<objective>/<program>.json` for the offline engine, `compiled/<lm-slug>/<objective>/
<program>.json` for any other LM (a compiled program is specific to the LM it was compiled for). Never pickle.
A file is refused, before DSPy sees it, when it is too big, not JSON, shaped unlike what compiling writes
(`UnsafeCompiledFile`), or compiled for another program, objective, LM or signature (`StaleCompiledProgram`,
whose message is the command that recompiles it).
"""

from __future__ import annotations

import json
from pathlib import Path

import dspy

from optimize.compiled_schema import MAX_FILE_BYTES, META_KEY, check_metadata, check_shape
from optimize.errors import StaleCompiledProgram, UnsafeCompiledFile
from optimize.fingerprint import OFFLINE_LM, compiled_path, lm_id, predictor_fingerprints, recompile_command
from optimize.knn import KNN_KEY, rebuild_knn
from optimize.names import DEFAULT_OPTIMIZER
from programs.registry import LLM_PROGRAMS
from themepage.constants import PACKAGE_DIR
from themepage.index.protocol import Index

COMPILED_DIR = PACKAGE_DIR.parent / "compiled"
FORMAT = 1


def save_compiled(module: dspy.Module, path: Path, *, program: str, objective: str, lm: str, optimizer: str,
                  index: Index) -> None:
    """Save the module's state-only JSON with our metadata, plus its knn pool when it is knn-compiled."""
    path = Path(path)
    module.save(str(path))
    state = json.loads(path.read_text())
    fresh = LLM_PROGRAMS[program](index, objective=objective)
    state["metadata"][META_KEY] = {"format": FORMAT, "program": program, "objective": objective, "lm": lm_id(lm),
                                   "optimizer": optimizer, "fingerprints": predictor_fingerprints(fresh)}
    knn = getattr(module, "knn_state", None)
    if knn is not None:
        state[KNN_KEY] = knn
    path.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n")


def read_state(path: Path) -> dict:
    """The file's JSON object; UnsafeCompiledFile for a huge, unreadable or non-JSON file."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UnsafeCompiledFile(f"{path}: refused: {size:,} bytes, more than a compiled program's "
                                 f"{MAX_FILE_BYTES:,}")
    try:
        state = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise UnsafeCompiledFile(f"{path}: refused: not JSON ({exc})") from None
    if not isinstance(state, dict):
        raise UnsafeCompiledFile(f"{path}: refused key '(file)': expected a JSON object")
    return state


def check_current(state: dict, module: dspy.Module, path: Path, *, program: str, objective: str, lm: str) -> None:
    """Refuse a file compiled for another program, objective or LM, or for signatures that have since changed.

    `module` is the fresh (uncompiled) program: its predictors' fingerprints are the current code's.
    """
    if "metadata" not in state:
        raise UnsafeCompiledFile(f"{path}: refused key 'metadata': missing; the file was not written by "
                                 f"`themepage compile`")
    check_metadata(path, state["metadata"])
    saved = state["metadata"][META_KEY]
    how = f"recompile: {recompile_command(objective, program, saved['optimizer'], lm)}"
    if (saved["program"], saved["objective"]) != (program, objective):
        raise StaleCompiledProgram(f"{path}: compiled for {saved['program']} / {saved['objective']}, not "
                                   f"{program} / {objective}; {how}")
    if saved["lm"] != lm_id(lm):
        raise StaleCompiledProgram(f"{path}: compiled for LM {saved['lm']!r}, not {lm_id(lm)!r}; {how}")
    current = predictor_fingerprints(module)
    gone, new = sorted(set(saved["fingerprints"]) - set(current)), sorted(set(current) - set(saved["fingerprints"]))
    if gone or new:
        raise StaleCompiledProgram(f"{path}: compiled for predictors {sorted(saved['fingerprints'])}, the program "
                                   f"now has {sorted(current)}; {how}")
    changed = [name for name in current if saved["fingerprints"][name] != current[name]]
    if changed:
        raise StaleCompiledProgram(f"{path}: the signatures of {changed} changed since it was compiled "
                                   f"(instruction, field names, types or descriptions); {how}")


def load_compiled(program: str, objective: str, index: Index, root: Path = COMPILED_DIR,
                  lm: str = OFFLINE_LM) -> dspy.Module:
    """The compiled program for (objective, program, LM) under `root`, after every check of the file passes.

    FileNotFoundError when there is none; UnsafeCompiledFile or StaleCompiledProgram when it must not load.
    """
    path = compiled_path(objective, program, root, lm)
    if not path.is_file():
        raise FileNotFoundError(f"no compiled program at {path}; run "
                                f"`{recompile_command(objective, program, DEFAULT_OPTIMIZER, lm)}`")
    module = LLM_PROGRAMS[program](index, objective=objective)
    state = read_state(path)
    check_current(state, module, path, program=program, objective=objective, lm=lm)
    fields = {name: list(predictor.signature.fields) for name, predictor in module.named_predictors()}
    check_shape(path, state, fields)
    module.load_state(state)
    return rebuild_knn(module, state[KNN_KEY], objective, index, path) if KNN_KEY in state else module
