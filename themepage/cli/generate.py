"""`themepage generate`: one user's page, as text, JSON or HTML, with one stderr line summing up its fallbacks.

`--out` is checked before the page is made; a page that cannot be written there goes to stdout instead,
so a page that cost LM calls is never lost to a full disk.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from themepage.cli.common import (
    ApiBaseOpt,
    CacheOpt,
    CliError,
    DataOpt,
    DeadlineOpt,
    DefaultCompiledOpt,
    LMOpt,
    NoCompiledOpt,
    ObjectiveOpt,
    ProgramOpt,
    RetriesOpt,
    StoreKindOpt,
    TimeoutOpt,
    _check_objective,
    _index,
    _load_compiled,
    _program,
    compiled_choice,
    console,
    err_console,
    lm_settings,
)
from themepage.cli.out_path import check_output_file, reason, write_replacing
from themepage.cli.output import fallback_line, page_json
from themepage.constants import BUNDLED_DATA_DIR, DEFAULT_OBJECTIVE, DEFAULT_PROGRAM


def generate(user: Annotated[int, typer.Option("--user", help="User id.")],
             data: DataOpt = BUNDLED_DATA_DIR, cache_dir: CacheOpt = None, program: ProgramOpt = DEFAULT_PROGRAM,
             objective: ObjectiveOpt = DEFAULT_OBJECTIVE,
             lm: LMOpt = None, api_base: ApiBaseOpt = None, lm_timeout: TimeoutOpt = None,
             lm_retries: RetriesOpt = None, page_deadline: DeadlineOpt = None,
             compiled: DefaultCompiledOpt = None, no_compiled: NoCompiledOpt = False, store_kind: StoreKindOpt = None,
             format: Annotated[str, typer.Option("--format", help="text, json or html.")] = "text",
             out: Annotated[Path | None, typer.Option("--out", help="Write the page to this file.")] = None) -> None:
    """Generate one user's page from their whole history, with the committed compiled program when there is one."""
    from themepage.cli.render import render_page
    from themepage.dataset.store_kind import store_of
    from themepage.lm.runtime import ProviderUnreachable

    if format not in ("text", "json", "html"):
        raise CliError(f"unknown format {format!r}; choose text, json or html")
    if out and format == "text":
        raise CliError("--out writes json or html: add --format json or --format html")
    settings = lm_settings(lm, api_base, lm_timeout, lm_retries, page_deadline)
    if out:
        check_output_file(out)
    index = _index(data, cache_dir, store_kind)
    if user not in index.histories:
        raise CliError(f"unknown user {user}: no orders with items in {data}")
    _check_objective(objective)
    module, compiled_from = _load_compiled(compiled_choice(compiled, no_compiled), program, objective, index,
                                           settings.model)
    make = _program(program, index, lm, api_base, lm_timeout, lm_retries, module=module,
                    page_deadline=settings.page_deadline, compiled_from=compiled_from)
    try:
        page = make(user, index.histories.get(user), objective=objective)
    except ProviderUnreachable as exc:
        raise CliError(f"cannot reach the LM provider: {str(exc) or type(exc).__name__}") from None
    if format in ("json", "html"):
        from themepage.report import page_html

        text = (page_json(page, indent=2) + "\n" if format == "json"
                else page_html(page, index.catalog, store_of(index)))
        if out:
            _write_or_show(out, text)
        else:
            sys.stdout.write(text)
    else:
        render_page(page, index, console)
    summary = fallback_line(page)
    if summary:
        err_console.print(escape(summary), highlight=False, soft_wrap=True)


def _write_or_show(out: Path, text: str) -> None:
    """Write the page to `out`; when that fails, print it on stdout and stop with one error line."""
    try:
        write_replacing(out, text)
    except OSError as exc:
        sys.stdout.write(text)
        raise CliError(f"cannot write {out}: {reason(exc)}; the page is on stdout instead") from None
