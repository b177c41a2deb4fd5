"""`themepage compile`: optimize a program for one objective and save it as state-only JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optimize.names import DEFAULT_OPTIMIZER
from themepage.cli.common import (
    ApiBaseOpt,
    CacheOpt,
    CliError,
    DataOpt,
    LMOpt,
    ProgramOpt,
    RetriesOpt,
    TimeoutOpt,
    _check_objective,
    _index,
    _lm,
    console,
)
from themepage.constants import (
    BUNDLED_DATA_DIR,
    COMPILE_TRAIN_EXAMPLES,
    COMPILE_VAL_EXAMPLES,
    DEFAULT_OBJECTIVE,
    DEFAULT_PROGRAM,
)


def compile_command(objective: Annotated[str, typer.Option(help="Business objective to compile for.")]
                    = DEFAULT_OBJECTIVE,
                    program: ProgramOpt = DEFAULT_PROGRAM,
                    optimizer: Annotated[str, typer.Option(help="bootstrap, random-search, knn, gepa or mipro.")]
                    = DEFAULT_OPTIMIZER,
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
                             "--lm).")] = None) -> None:
    """Compile a program for an objective against trainsets/, and save state-only JSON."""
    from metrics.objective_metric import Objective
    from optimize.compile_sets import compile_sets
    from optimize.compiled_files import COMPILED_DIR, save_compiled
    from optimize.errors import CompileError
    from optimize.evaluation import evaluate_module
    from optimize.fingerprint import compiled_path, lm_id
    from optimize.optimizers import compile_program
    from programs.registry import LLM_PROGRAMS
    from themepage.adapter import default_adapter
    from themepage.settings import OFFLINE_NAMES

    _check_objective(objective)
    if program not in LLM_PROGRAMS:
        raise CliError(f"only LLM programs compile ({', '.join(LLM_PROGRAMS)}), not {program!r}")
    index = _index(data, cache_dir)
    model = _lm(index, lm, api_base, lm_timeout, lm_retries)
    offline = model.model in {f"themepage/{n}" for n in OFFLINE_NAMES} | OFFLINE_NAMES
    model_name = lm_id(model.model)
    reflector = _lm(index, lm, api_base, lm_timeout, lm_retries, model=reflection_lm) if reflection_lm else None
    target = Objective.load(objective, index)
    trainset, valset = compile_sets(index, train_size, val_size)
    adapter = default_adapter()
    with console.status(f"compiling {program} for {objective} with {optimizer} "
                        f"({len(trainset)} train, {len(valset)} val examples)"):
        try:
            module = compile_program(program, target, index, model, optimizer, trainset, valset, offline,
                                     reflector, adapter)
        except CompileError as exc:
            raise CliError(str(exc)) from None
    before = evaluate_module(LLM_PROGRAMS[program](index, objective=objective), valset, target.metric, model, adapter)
    after = evaluate_module(module, valset, target.metric, model, adapter)
    path = out or compiled_path(objective, program, COMPILED_DIR, model_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_compiled(module, path, program=program, objective=objective, lm=model_name, optimizer=optimizer, index=index)
    console.print(f"{objective} score on {len(valset)} validation examples: uncompiled {before:.3f} -> compiled "
                  f"{after:.3f}; saved {path}")
