"""`themepage evaluate`: score programs on every user's real next basket under an objective."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from themepage.cli.common import (
    ApiBaseOpt,
    CacheOpt,
    CliError,
    CompiledOpt,
    DataOpt,
    DeadlineOpt,
    LMOpt,
    ObjectiveOpt,
    RetriesOpt,
    StoreKindOpt,
    TimeoutOpt,
    _check_objective,
    _index,
    _load_compiled,
    _program,
    _progress,
    console,
    err_console,
    lm_settings,
)
from themepage.constants import BUNDLED_DATA_DIR, DEFAULT_OBJECTIVE


def evaluate(data: DataOpt = BUNDLED_DATA_DIR, cache_dir: CacheOpt = None,
             programs: Annotated[str, typer.Option("--programs", help="Comma-separated program names.")]
             = "top-down,bottoms-up,repurchase,popular",
             users: Annotated[str, typer.Option("--users", help="all, train or dev.")] = "all",
             objective: ObjectiveOpt = DEFAULT_OBJECTIVE,
             compiled: CompiledOpt = None,
             gate: Annotated[bool, typer.Option("--gate", help="Fail when a compiled program scores below "
                                                "its objective's gate.")] = False,
             lm: LMOpt = None, api_base: ApiBaseOpt = None, lm_timeout: TimeoutOpt = None,
             lm_retries: RetriesOpt = None, page_deadline: DeadlineOpt = None, store_kind: StoreKindOpt = None,
             json_out: Annotated[Path | None, typer.Option("--json", help="Write results as JSON here.")] = None,
             report: Annotated[Path | None, typer.Option("--report", help="Write an HTML report here.")] = None
             ) -> None:
    """Score programs on the evaluation cases (each user's real next basket) under an objective."""
    from themepage.cli.quiet import quiet_optimizers
    from themepage.cli.render import results_table
    from themepage.dataset.cases import evaluation_cases
    from themepage.lm.runtime import ProviderUnreachable
    from themepage.metrics.objective_metric import Objective
    from themepage.optimize.evaluation import evaluate_program
    from themepage.programs.registry import LLM_PROGRAMS

    if users not in ("all", "train", "dev"):
        raise CliError(f"unknown user split {users!r}; choose all, train or dev")
    settings = lm_settings(lm, api_base, lm_timeout, lm_retries, page_deadline)
    _check_objective(objective)
    if gate and compiled is None:
        raise CliError("--gate checks compiled programs: give --compiled DIR")
    index = _index(data, cache_dir, store_kind)
    target = Objective.load(objective, index)
    names = [n.strip() for n in programs.split(",") if n.strip()]
    made = {}
    for name in names:
        module, compiled_from = _load_compiled(compiled, name, objective, index, settings.model)
        made[name] = _program(name, index, lm, api_base, lm_timeout, lm_retries, module=module,
                              page_deadline=settings.page_deadline, compiled_from=compiled_from)
    cases = evaluation_cases(index.histories, users)
    recorder = None
    if report:
        from themepage.cli.eval_report import PageRecorder

        recorder = PageRecorder()
        made = {name: recorder.wrap(name, make) for name, make in made.items()}
    results = {}
    with _progress() as progress:
        for name, make in made.items():
            task = progress.add_task(f"evaluating {name}", total=len(cases))
            try:
                with quiet_optimizers():  # dspy.Evaluate's "Average Metric" log lines would break the bars
                    results[name] = evaluate_program(make, cases, target, lambda task=task: progress.advance(task))
            except ProviderUnreachable as exc:
                raise CliError(f"cannot reach the LM provider: {str(exc) or type(exc).__name__}") from None
    label = f"{len(cases)} users ({users}), objective {objective}" + (f", compiled from {compiled}" if compiled else "")
    console.print(results_table(label, results, gate=target.config.gate.min_score,
                                pass_threshold=target.config.pass_threshold))
    if json_out:
        json_out.write_text(json.dumps({"users": len(cases), "objective": objective, "programs": results},
                                       indent=2) + "\n")
    if report and recorder:
        from themepage.dataset.store_kind import store_of
        from themepage.report import report_html, write_document

        write_document(report, report_html(recorder.records(cases, target), meta={"users": label},
                                              store=store_of(index)))
        err_console.print(escape(f"wrote the report to {report}"), highlight=False, soft_wrap=True)
    if gate:
        _check_gate(results, target.config.gate.min_score, objective, LLM_PROGRAMS)


def _check_gate(results: dict[str, dict[str, float]], floor: float, objective: str, llm_programs) -> None:
    """Exit 1 when a compiled (LLM) program scores below the objective's gate."""
    failed = {n: r["objective_score"] for n, r in results.items() if n in llm_programs and
              r["objective_score"] < floor}
    for name, score in failed.items():
        err_console.print(f"[red]gate failed:[/red] {escape(name)} scores {score:.3f} on {escape(objective)}, "
                          f"below the gate {floor:.3f}")
    if failed:
        raise typer.Exit(1)
    err_console.print(f"gate passed: every compiled program scores at least {floor:.3f} on {escape(objective)}")
