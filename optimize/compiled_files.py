"""Compiled programs on disk: state-only JSON, fingerprinted, loaded only after every check passes.

Layout: `compiled/<objective>/<program>.json` for the offline engine, `compiled/<lm-slug>/<objective>/
<program>.json` for any other LM (a compiled program is specific to the LM it was compiled for). Never pickle.
A file is refused, before DSPy sees it, when it is too big, not JSON, shaped unlike what compiling writes
(`UnsafeCompiledFile`), or compiled for another program, objective, LM or signature (`StaleCompiledProgram`,
whose message is the command that recompiles it).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import dspy

from themepage.constants import PACKAGE_DIR
from themepage.index.protocol import Index
from themepage.optimize.compiled_schema import (
    FORMAT,
    MAX_FILE_BYTES,
    META_KEY,
    check_depth,
    check_metadata,
    check_shape,
    finite_number,
    refuse_constant,
)
from themepage.optimize.errors import StaleCompiledProgram, UnsafeCompiledFile
from themepage.optimize.fingerprint import OFFLINE_LM, compiled_path, lm_id, predictor_fingerprints, recompile_command
from themepage.optimize.knn import KNN_KEY, rebuild_knn
from themepage.optimize.names import DEFAULT_OPTIMIZER
from themepage.programs.registry import LLM_PROGRAMS

COMPILED_DIR = PACKAGE_DIR / "compiled"
__all__ = ["COMPILED_DIR", "FORMAT", "check_current", "load_compiled", "read_state", "save_compiled"]
_KINDS = ((stat.S_ISDIR, "is a directory"), (stat.S_ISFIFO, "is a FIFO (named pipe)"),
          (stat.S_ISCHR, "is a character device"), (stat.S_ISBLK, "is a block device"),
          (stat.S_ISSOCK, "is a socket"))


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


def not_a_file(mode: int) -> str:
    """What a path that is not a regular file is, in words ("is a directory", ...)."""
    return next((words for test, words in _KINDS if test(mode)), "is not a regular file")


def read_bytes(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; UnsafeCompiledFile for anything else.

    Opened without blocking (a FIFO would wait for a writer) and checked on the open descriptor, so a path
    swapped after a check cannot slip through; never more than MAX_FILE_BYTES + 1 bytes are read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise UnsafeCompiledFile(f"{path}: refused: is a directory, not a compiled program file") from None
    except OSError as exc:
        raise UnsafeCompiledFile(f"{path}: refused: cannot be read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeCompiledFile(f"{path}: refused: {not_a_file(info.st_mode)}, not a compiled program file")
        if info.st_size > MAX_FILE_BYTES:
            raise UnsafeCompiledFile(f"{path}: refused: {info.st_size:,} bytes, more than a compiled program's "
                                     f"{MAX_FILE_BYTES:,}")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise UnsafeCompiledFile(f"{path}: refused: more than a compiled program's {MAX_FILE_BYTES:,} bytes")
    return data


def read_state(path: Path) -> dict:
    """The file's JSON object; UnsafeCompiledFile for a huge, unreadable, non-regular or non-JSON file.

    Strict JSON: NaN, Infinity and numbers beyond a float are refused, and so is nesting deeper than
    compiling writes.
    """
    data = read_bytes(path)
    try:
        state = json.loads(data, parse_constant=refuse_constant, parse_float=finite_number)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise UnsafeCompiledFile(f"{path}: refused: not JSON ({str(exc)[:200]})") from None
    if not isinstance(state, dict):
        raise UnsafeCompiledFile(f"{path}: refused key '(file)': expected a JSON object")
    check_depth(path, state)
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
    if not os.path.lexists(path):
        raise FileNotFoundError(f"no compiled program at {path}; run "
                                f"`{recompile_command(objective, program, DEFAULT_OPTIMIZER, lm)}`")
    if not path.exists():
        raise UnsafeCompiledFile(f"{path}: refused: a link to nothing ({os.readlink(path)})")
    module = LLM_PROGRAMS[program](index, objective=objective)
    state = read_state(path)
    check_current(state, module, path, program=program, objective=objective, lm=lm)
    fields = {name: list(predictor.signature.fields) for name, predictor in module.named_predictors()}
    check_shape(path, state, fields)
    module.load_state(state)
    return rebuild_knn(module, state[KNN_KEY], objective, index, path) if KNN_KEY in state else module
