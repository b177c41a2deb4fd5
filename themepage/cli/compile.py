"""`themepage compile`: optimize a program for one objective and save it as state-only JSON."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from themepage.cli.common import (
    ApiBaseOpt,
    CacheOpt,
    CliError,
    DataOpt,
    LMOpt,
    ObjectiveOpt,
    ProgramOpt,
    RetriesOpt,
    TimeoutOpt,
    _check_objective,
    _index,
    _lm,
    console,
    err_console,
    shown_path,
)
from themepage.cli.phases import Phases
from themepage.cli.quiet import quiet_optimizers
from themepage.constants import (
    BUNDLED_DATA_DIR,
    COMPILE_TRAIN_EXAMPLES,
    COMPILE_VAL_EXAMPLES,
    DEFAULT_OBJECTIVE,
    DEFAULT_PROGRAM,
    GEPA_METRIC_CALLS,
)
from themepage.optimize.names import DEFAULT_OPTIMIZER

if TYPE_CHECKING:
    import dspy

    from themepage.index import CatalogIndex
    from themepage.metrics.objective_metric import Objective

METRIC_CALLS, PAGES = "metric calls", "pages"
"""What the progress display counts: the optimizer's metric calls (GEPA's budget unit: one per page scored), then
the validation pages scored."""


@dataclass
class CompileJob:
    """What a compile works with, once loaded: the index, the LMs, the objective and the examples."""

    index: CatalogIndex
    model: dspy.LM
    model_name: str
    offline: bool
    reflector: dspy.LM | None
    target: Objective
    trainset: list[dspy.Example]
    valset: list[dspy.Example]
    adapter: dspy.Adapter


def _ticking_metric(metric: Callable[..., Any], phases: Phases) -> Callable[..., Any]:
    """The objective's metric, ticking the display once per page it scores. GEPA's feedback calls for one predictor
    (`pred_name` given) rescore a page already counted, and GEPA's budget does not count them either. The
    signature is kept: DSPy inspects a metric's parameters."""

    @wraps(metric)
    def ticking(gold, pred, trace=None, pred_name=None, pred_trace=None):
        score = metric(gold, pred, trace, pred_name, pred_trace)
        if pred_name is None:
            phases.tick(METRIC_CALLS)
        return score

    return ticking


def _load(phases: Phases, objective: str, data: Path, cache_dir: Path | None, lm: str | None, api_base: str | None,
          lm_timeout: float | None, lm_retries: int | None, reflection_lm: str | None, train_size: int,
          val_size: int) -> CompileJob:
    """The catalog index, LMs, objective and compile sets; the objective's metric ticks the progress display. Pages
    are made under the adapter `generate` uses for the LM (constrained outputs where its server takes them), so
    what compiling scores is what the compiled program will do."""
    from themepage.lm.settings import OFFLINE_NAMES
    from themepage.lm.structured import adapter_for
    from themepage.metrics.objective_metric import Objective
    from themepage.optimize.compile_sets import compile_sets
    from themepage.optimize.fingerprint import lm_id

    with phases.phase("loading the catalog, the LM and the examples"):
        index = _index(data, cache_dir)
        model = _lm(index, lm, api_base, lm_timeout, lm_retries)
        reflector = _lm(index, lm, api_base, lm_timeout, lm_retries, model=reflection_lm) if reflection_lm else None
        target = Objective.load(objective, index)
        target.metric = _ticking_metric(target.metric, phases)  # an instance attribute over the method
        trainset, valset = compile_sets(index, train_size, val_size)
    offline = model.model in {f"themepage/{n}" for n in OFFLINE_NAMES} | OFFLINE_NAMES
    return CompileJob(index=index, model=model, model_name=lm_id(model.model), offline=offline, reflector=reflector,
                      target=target, trainset=trainset, valset=valset, adapter=adapter_for(model))


def _optimize(phases: Phases, job: CompileJob, program: str, optimizer: str, budget: int) -> dspy.Module:
    """The compiled module; the display counts the optimizer's metric calls (against GEPA's budget for gepa)."""
    from themepage.optimize.errors import CompileError
    from themepage.optimize.optimizers import compile_program

    with phases.phase(f"compiling with {optimizer} ({len(job.trainset)} train, {len(job.valset)} val examples)",
                      total=budget if optimizer == "gepa" else None, unit=METRIC_CALLS):
        try:
            return compile_program(program, job.target, job.index, job.model, optimizer, job.trainset, job.valset,
                                   job.offline, job.reflector, job.adapter, budget=budget)
        except CompileError as exc:
            raise CliError(str(exc)) from None


def _score(phases: Phases, job: CompileJob, description: str, module: dspy.Module) -> float:
    """The module's mean objective score on the validation examples."""
    from themepage.optimize.evaluation import evaluate_module

    with phases.phase(description, total=len(job.valset), unit=PAGES):
        return evaluate_module(module, job.valset, job.target.metric, job.model, job.adapter,
                               on_example=lambda: phases.tick(PAGES))


def _target(out: Path | None, job: CompileJob, program: str, objective: str) -> Path:
    """--out, else the committed file for this objective, program and LM."""
    from themepage.optimize.compiled_files import COMPILED_DIR
    from themepage.optimize.fingerprint import compiled_path

    return out or compiled_path(objective, program, COMPILED_DIR, job.model_name)


def _existing_score(phases: Phases, job: CompileJob, path: Path, program: str, objective: str) -> float | None:
    """The validation score of the program already saved at `path`; None when there is none or it no longer
    loads (said on stderr: it is replaced like a missing file)."""
    from themepage.optimize.replacing import existing_file

    if not path.exists():
        return None
    with phases.phase("loading the existing compiled file"):
        existing = existing_file(path, program=program, objective=objective, index=job.index, lm=job.model_name)
    if existing.problem:
        err_console.print(escape(f"replacing a compiled file that no longer loads: {existing.problem}"),
                          highlight=False, soft_wrap=True)
    if existing.module is None:
        return None
    return _score(phases, job, "scoring the existing compiled file", existing.module)


def _save_atomically(module: dspy.Module, path: Path, job: CompileJob, program: str, objective: str,
                     optimizer: str) -> None:
    """Save to a temporary file beside the target, then rename: an interrupted save leaves no half-written file."""
    from themepage.optimize.compiled_files import save_compiled

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.partial.json")
    try:
        save_compiled(module, partial, program=program, objective=objective, lm=job.model_name, optimizer=optimizer,
                      index=job.index)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _closing_line(path: Path, what: str, scores: str, saved: bool, existing_score: float | None) -> str:
    """'saved PATH: ...', or 'kept PATH: ..., not better than the kept file's SCORE (use --force to replace)'."""
    shown = shown_path(path)
    if not saved:
        return (f"kept {shown}: {what}; {scores}, not better than the kept file's {existing_score:.3f} "
                f"(use --force to replace)")
    replaced = f", better than the replaced file's {existing_score:.3f}" if existing_score is not None else ""
    return f"saved {shown}: {what}; {scores}{replaced}"


def compile_command(objective: ObjectiveOpt = DEFAULT_OBJECTIVE,
                    program: ProgramOpt = DEFAULT_PROGRAM,
                    optimizer: Annotated[str, typer.Option(
                        help="bootstrap, random-search, knn, gepa, mipro or teacher.")] = DEFAULT_OPTIMIZER,
                    out: Annotated[Path | None, typer.Option("--out", help="Where to save the compiled JSON.")] = None,
                    train_size: Annotated[int, typer.Option(help="Training examples: train users' recent orders.")]
                    = COMPILE_TRAIN_EXAMPLES,
                    val_size: Annotated[int, typer.Option(
                        help="Validation examples: every user's latest orders before the evaluated one.")]
                    = COMPILE_VAL_EXAMPLES,
                    data: DataOpt = BUNDLED_DATA_DIR, cache_dir: CacheOpt = None,
                    lm: LMOpt = None, api_base: ApiBaseOpt = None, lm_timeout: TimeoutOpt = None,
                    lm_retries: RetriesOpt = None,
                    reflection_lm: Annotated[str | None, typer.Option(
                        help="Model that writes new instructions for gepa and mipro (real LMs; mipro defaults to "
                             "--lm).")] = None,
                    budget: Annotated[int, typer.Option(
                        min=1, help="Most pages gepa may score while it searches (its cost: about a second a page "
                                    "on the offline engine).")] = GEPA_METRIC_CALLS,
                    force: Annotated[bool, typer.Option(
                        "--force", help="Replace the existing compiled file even when the new program scores no "
                                        "higher on the validation examples.")] = False,
                    verbose: Annotated[bool, typer.Option(
                        "--verbose", help="Show DSPy's and the optimizers' own progress bars and INFO logs.")]
                    = False) -> None:
    """Compile a program for an objective against trainsets/, and save state-only JSON.

    An existing compiled file is replaced only by a program that scores higher on the same validation examples
    (or with --force); one that no longer loads is replaced. One progress display on stderr; DSPy's own bars and
    INFO logs only with --verbose. Ends with one line: what was saved or kept, and the scores.
    """
    from themepage.optimize.replacing import replaces
    from themepage.programs.registry import LLM_PROGRAMS

    _check_objective(objective)
    if program not in LLM_PROGRAMS:
        raise CliError(f"only LLM programs compile ({', '.join(LLM_PROGRAMS)}), not {program!r}")
    with Phases(err_console, live=err_console.is_terminal and not verbose) as phases, \
            quiet_optimizers(verbose) as hidden:
        job = _load(phases, objective, data, cache_dir, lm, api_base, lm_timeout, lm_retries, reflection_lm,
                    train_size, val_size)
        module = _optimize(phases, job, program, optimizer, budget)
        uncompiled = LLM_PROGRAMS[program](job.index, objective=objective)
        before = _score(phases, job, "scoring the uncompiled program", uncompiled)
        after = _score(phases, job, "scoring the compiled program", module)
        path = _target(out, job, program, objective)
        existing_score = None if force else _existing_score(phases, job, path, program, objective)
        saved = replaces(after, existing_score)
        if saved:
            with phases.phase("saving"):
                _save_atomically(module, path, job, program, objective, optimizer)
    if hidden.warnings:
        err_console.print(f"{hidden.warnings} warnings from DSPy and the optimizers not shown (--verbose shows them)",
                          highlight=False, soft_wrap=True)
    scores = f"score on {len(job.valset)} validation examples {before:.3f} -> {after:.3f}"
    line = _closing_line(path, f"{objective} / {program} / {optimizer}", scores, saved, existing_score)
    console.print(escape(f"{line}; {phases.elapsed() / 60:.1f} min"), highlight=False, soft_wrap=True)
