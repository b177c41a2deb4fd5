"""Whether a new compile replaces the compiled file already at its path.

A committed compiled file is replaced only by a program that scores higher on the same validation
examples (or when the user forces it), so recompiling to no gain leaves the checkout unchanged. A file
that no longer loads (stale signatures, another program or LM, unsafe, not JSON) counts as no file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dspy

from themepage.index.protocol import Index
from themepage.optimize.compiled_files import check_current, read_state
from themepage.optimize.compiled_schema import check_shape
from themepage.optimize.errors import CompiledFileError
from themepage.optimize.knn import KNN_KEY, rebuild_knn
from themepage.programs.registry import LLM_PROGRAMS

SCORE_TOLERANCE = 1e-9
"""Scores closer than this are equal: a rerun's float noise does not make a program better."""


@dataclass(frozen=True)
class ExistingFile:
    """What is at the target path: a loaded program, no file (`module` and `problem` None), or a file that no
    longer loads (`problem` says why)."""

    module: dspy.Module | None = None
    problem: str | None = None


def load_file(path: Path, *, program: str, objective: str, index: Index, lm: str) -> dspy.Module:
    """The compiled program in the file at `path`, after the checks `load_compiled` makes on its own layout."""
    module = LLM_PROGRAMS[program](index, objective=objective)
    state = read_state(path)
    check_current(state, module, path, program=program, objective=objective, lm=lm)
    check_shape(path, state, {name: list(p.signature.fields) for name, p in module.named_predictors()})
    module.load_state(state)
    return rebuild_knn(module, state[KNN_KEY], objective, index, path) if KNN_KEY in state else module


def existing_file(path: Path, *, program: str, objective: str, index: Index, lm: str) -> ExistingFile:
    """The program already saved at `path`, if any still loads for this program, objective and LM."""
    if not path.exists():
        return ExistingFile()
    try:
        return ExistingFile(module=load_file(path, program=program, objective=objective, index=index, lm=lm))
    except (CompiledFileError, OSError, ValueError, KeyError, TypeError) as exc:  # DSPy's load_state raises these
        return ExistingFile(problem=str(exc) or type(exc).__name__)


def replaces(new_score: float, existing_score: float | None) -> bool:
    """A new program replaces the existing one only when it scores higher (no existing score: always)."""
    return existing_score is None or new_score > existing_score + SCORE_TOLERANCE
