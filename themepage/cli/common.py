"""What every command shares: option types, the one-line user error, consoles, and wiring helpers.

Command modules import this, never `app.py`; `app.py` registers them. That keeps imports one way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from themepage.constants import OBJECTIVES_DIR
from themepage.lm.redact import redact

console = Console()
err_console = Console(stderr=True)

DataOpt = Annotated[Path, typer.Option("--data", help="Instacart-layout data directory.",
                                       show_default="bundled sample data")]
CacheOpt = Annotated[Path | None, typer.Option("--cache-dir", help="Where derived state is cached.")]
ProgramOpt = Annotated[str, typer.Option("--program", help="top-down, bottoms-up, repurchase or popular.")]
ObjectiveOpt = Annotated[str, typer.Option("--objective", help="Business objective: " + ", ".join(
    sorted(path.stem for path in OBJECTIVES_DIR.glob("*.toml"))) + ".")]
LMOpt = Annotated[str | None, typer.Option("--lm", help="'offline' (default) or any model string dspy.LM accepts.")]
ApiBaseOpt = Annotated[str | None, typer.Option("--api-base", help="Base URL of an OpenAI-compatible server.")]
TimeoutOpt = Annotated[float | None, typer.Option("--lm-timeout", help="Seconds to wait for one LM answer (30).")]
RetriesOpt = Annotated[int | None, typer.Option("--lm-retries", help="Retries of a failed LM call, with backoff (2).")]
DeadlineOpt = Annotated[float | None, typer.Option(
    "--page-deadline", help="Seconds one page may take; steps still running then fall back (60).")]
CompiledOpt = Annotated[Path | None, typer.Option(
    "--compiled", help="Folder of compiled programs: <folder>/[<lm>/]<objective>/<program>.json.")]
DefaultCompiledOpt = Annotated[Path | None, typer.Option(
    "--compiled", help="Folder of compiled programs (default: the committed compiled/).")]
StoreKindOpt = Annotated[str | None, typer.Option(
    "--store-kind", help="The store's kind, e.g. 'hardware store' (default: the data's store.toml, else grocery).")]
NoCompiledOpt = Annotated[bool, typer.Option("--no-compiled", help="Run the bare (uncompiled) program.")]


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def print_error(message: object) -> None:
    """One red `error:` line on stderr; the message is printed literally and with secrets redacted."""
    err_console.print("[red]error:[/red] " + escape(redact(str(message))), highlight=False, soft_wrap=True)


def _index(data: Path, cache_dir: Path | None, store_kind: str | None = None):
    """The data's index, with its store (kind: `store_kind` over the other settings, see store_of_data) attached."""
    from themepage.dataset.store_kind import attach_store
    from themepage.index import CatalogIndex

    store = store_of_data(data, store_kind)
    index = CatalogIndex.open(data, cache_dir)
    attach_store(index, store)
    return index


def store_of_data(data: Path, store_kind: str | None = None):
    """The store of a data directory (flag over THEMEPAGE_STORE_KIND over themepage.toml over store.toml)."""
    from themepage.lm.settings import SettingsError, resolve_store

    try:
        return resolve_store(data, store_kind)
    except SettingsError as exc:
        raise CliError(str(exc)) from None


def lm_settings(lm: str | None = None, api_base: str | None = None, timeout: float | None = None,
                retries: int | None = None, page_deadline: float | None = None):
    """Resolved LM settings (flags over environment over themepage.toml); a bad value is a CliError."""
    from themepage.lm.settings import SettingsError, resolve_lm_settings

    try:
        return resolve_lm_settings(model=lm, api_base=api_base, timeout=timeout, retries=retries,
                                   page_deadline=page_deadline)
    except SettingsError as exc:
        raise CliError(str(exc)) from None


def _lm(index, lm: str | None, api_base: str | None, timeout: float | None, retries: int | None,
        model: str | None = None):
    """The LM from command-line values over environment variables over themepage.toml.

    `model`, when given, replaces the model only (a reflection LM shares the other settings).
    A model other than the offline default is announced on stderr with where each setting came from.
    """
    from themepage.lm.plug import lm_from_settings
    from themepage.lm.settings import SettingsError, describe_lm, resolve_lm_settings_sourced

    try:
        settings, sources = resolve_lm_settings_sourced(model=lm, api_base=api_base, timeout=timeout,
                                                        retries=retries)
        if model:
            settings = settings.model_copy(update={"model": model})
            sources = {**sources, "model": "--reflection-lm"}
        made = lm_from_settings(settings, index)
    except (SettingsError, ValueError) as exc:
        raise CliError(str(exc)) from None
    announcement = describe_lm(settings, sources)
    if announcement:
        err_console.print(escape(announcement), highlight=False, soft_wrap=True)
    return made


def _program(name: str, index, lm: str | None = None, api_base: str | None = None, timeout: float | None = None,
             retries: int | None = None, module=None, page_deadline: float | None = None,
             compiled_from: str | None = None):
    """The page maker for a program name; LLM programs get the resolved LM and the page deadline."""
    from themepage.programs.registry import LLM_PROGRAMS, UnknownProgram, make_program

    try:
        model = _lm(index, lm, api_base, timeout, retries) if name in LLM_PROGRAMS else None
        return make_program(name, index, lm=model, module=module, page_deadline=page_deadline,
                            compiled_from=compiled_from)
    except UnknownProgram as exc:
        raise CliError(str(exc)) from None


@dataclass(frozen=True)
class CompiledChoice:
    """Which compiled programs a command runs: a folder (None = the bare program) and whether the user named it."""

    folder: Path | None
    explicit: bool = True


def compiled_choice(folder: Path | None, bare: bool) -> CompiledChoice:
    """`--compiled DIR` / `--no-compiled` / neither (the committed compiled/ folder, when it has the file)."""
    from themepage.optimize.compiled_files import COMPILED_DIR

    if bare and folder is not None:
        raise CliError("--compiled and --no-compiled contradict each other: give one")
    if bare:
        return CompiledChoice(None)
    return CompiledChoice(folder, explicit=True) if folder is not None else CompiledChoice(COMPILED_DIR, False)


def _load_compiled(compiled: Path | CompiledChoice | None, program: str, objective: str, index,
                   lm: str) -> tuple[object | None, str | None]:
    """The compiled module for an LLM program on LM `lm` and its file, or (None, None) for the bare program.

    A folder the user named must hold a current, safe file. The default folder is used when it has one:
    without a file the bare program runs; a stale file is reported on stderr and the bare program runs;
    an unsafe file is always an error.
    """
    from themepage.optimize.compiled_files import load_compiled
    from themepage.optimize.errors import CompiledFileError, StaleCompiledProgram
    from themepage.optimize.fingerprint import compiled_path
    from themepage.programs.registry import LLM_PROGRAMS

    choice = compiled if isinstance(compiled, CompiledChoice) else CompiledChoice(compiled)
    if choice.folder is None or program not in LLM_PROGRAMS:
        return None, None
    path = compiled_path(objective, program, choice.folder, lm)
    if not choice.explicit and not os.path.lexists(path):  # anything there is checked, never skipped
        return None, None
    try:
        module = load_compiled(program, objective, index, choice.folder, lm=lm)
    except StaleCompiledProgram as exc:
        if choice.explicit:
            raise CliError(str(exc)) from None
        err_console.print("warning: " + escape(redact(str(exc))) + "; running the bare program", highlight=False,
                          soft_wrap=True)
        return None, None
    except (FileNotFoundError, CompiledFileError) as exc:
        raise CliError(str(exc)) from None
    return module, shown_path(path)


def shown_path(path: Path) -> str:
    """A compiled file's path as a page names it: relative to the working directory, or to the folder that holds
    compiled/ (the repository, or the installed package), when inside."""
    from themepage.optimize.compiled_files import COMPILED_DIR

    for base in (Path.cwd(), COMPILED_DIR.resolve().parent):
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


def _progress(disable: bool = False) -> Progress:
    return Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console, transient=False, disable=disable)


def _check_objective(name: str) -> None:
    from themepage.objectives import ObjectiveError, load_objective

    try:
        load_objective(name)
    except ObjectiveError as exc:
        raise CliError(str(exc)) from None
