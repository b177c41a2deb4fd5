"""`themepage batch`: a page for every user with a history, without losing work, on threads or on Ray.

One failing user is recorded and the run goes on; an unreachable provider stops the run within
seconds; pages are written in user order to a temporary file renamed at the end; `--resume` keeps
the pages already in the output file and makes the rest. `--users FILE` and `--shard i/n` pick the
users, so any scheduler can split the work; both engines call the same `PageJob` maker.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from themepage.batch_users import UserSelectionError, select_users
from themepage.cli.batch_file import AtomicLines, BatchFileError, existing_lines, read_finished
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
    _progress,
    compiled_choice,
    err_console,
    lm_settings,
)
from themepage.cli.output import fallback_causes, page_json, summarize_counts
from themepage.cli.page_job import PageJob
from themepage.constants import BUNDLED_DATA_DIR, DEFAULT_OBJECTIVE, DEFAULT_PROGRAM
from themepage.distributed import RayMissing, ray_pages
from themepage.page import Page
from themepage.redact import redact
from themepage.report import page_html, write_document
from themepage.store import store_of

INTERRUPTED = "interrupted"
ENGINES = ("thread", "ray")


@dataclass
class Outcome:
    """What became of one user: a page, an error (the run goes on) or an unreachable provider (it stops)."""

    user: int
    page: Page | None = None
    error: str | None = None
    unreachable: str | None = None


@dataclass
class Tally:
    """What the output file holds at the end, for the summary."""

    written: int = 0
    new: int = 0
    with_fallbacks: int = 0
    causes: Counter[str] | None = None

    def add(self, page: Page, new: bool) -> None:
        self.written += 1
        self.new += new
        if page.stats.fallbacks:
            self.with_fallbacks += 1
            self.causes = (self.causes or Counter()) + fallback_causes(page.stats.fallbacks)


def batch(out: Annotated[Path, typer.Option("--out", help="Output JSON Lines file.")],
          data: DataOpt = BUNDLED_DATA_DIR, cache_dir: CacheOpt = None, program: ProgramOpt = DEFAULT_PROGRAM,
          objective: ObjectiveOpt = DEFAULT_OBJECTIVE,
          lm: LMOpt = None, api_base: ApiBaseOpt = None, lm_timeout: TimeoutOpt = None,
          lm_retries: RetriesOpt = None, page_deadline: DeadlineOpt = None, compiled: DefaultCompiledOpt = None,
          no_compiled: NoCompiledOpt = False, store_kind: StoreKindOpt = None,
          concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64,
                                                   help="Users made at once (per worker with --engine ray).")] = 4,
          resume: Annotated[bool, typer.Option("--resume", help="Keep the pages already in --out; make the "
                                               "rest.")] = False,
          max_fallback_share: Annotated[float | None, typer.Option(
              "--max-fallback-share", min=0.0, max=1.0,
              help="Exit 1 when a larger share of pages than this took a fallback.")] = None,
          html: Annotated[Path | None, typer.Option("--html", help="Also write one HTML page per user here.")] = None,
          engine: Annotated[str, typer.Option("--engine", help="thread or ray.")] = "thread",
          address: Annotated[str | None, typer.Option("--address", help="Ray cluster address (ray engine).")] = None,
          users_file: Annotated[Path | None, typer.Option("--users", help="File of user ids, one a line.")] = None,
          shard: Annotated[str | None, typer.Option("--shard", help="Only shard i/n of the users (0-based).")] = None
          ) -> None:
    """A page for every user with a history, one JSON Page per line (in user order), with a progress bar."""
    if engine not in ENGINES:
        raise CliError(f"unknown engine {engine!r}; choose thread or ray")
    if address and engine != "ray":
        raise CliError("--address is for --engine ray")
    settings = lm_settings(lm, api_base, lm_timeout, lm_retries, page_deadline)
    _check_objective(objective)
    job = PageJob(data, cache_dir, program, objective, lm, api_base, lm_timeout, lm_retries,
                  compiled_choice(compiled, no_compiled),
                  settings.page_deadline, store_kind)
    make = job()  # validates the program, LM and compiled files here, before any worker starts
    try:
        users = select_users(make.index.histories.user_ids, users_file, shard)
        finished = read_finished(out, users) if resume and out.exists() else {}
    except (UserSelectionError, BatchFileError) as exc:
        raise CliError(str(exc)) from None
    todo = [user for user in users if user not in finished]
    store = store_of(make.index)

    def written(page: Page) -> None:
        if html:
            write_document(html / f"user-{page.user_id}.html", page_html(page, make.index.catalog, store))

    tally, failed = Tally(), []
    sink = AtomicLines(out)
    try:
        with _progress() as progress:
            task = progress.add_task(f"{program} pages ({engine})", total=len(todo))

            def advance() -> None:
                progress.advance(task)

            outcomes = (_run(make, todo, concurrency, advance) if engine == "thread"
                        else _run_on_ray(job, todo, concurrency, address, advance))
            try:
                stopped = _write(sink, users, finished, out if finished else None, outcomes, tally, failed,
                                 written)
            finally:
                outcomes.close()  # cancels the users not started yet
    except RayMissing as exc:
        sink.discard()
        raise CliError(str(exc)) from None
    except BaseException:
        sink.discard()  # a defect, not a stop: the output file stays as it was
        raise
    sink.discard() if stopped and tally.new == 0 else sink.commit()
    _summarize(out, tally, failed, stopped, max_fallback_share, html)


def _run(make_page, users: list[int], concurrency: int, advance):
    """Outcomes in user order; after the provider proves unreachable, the users not yet started are skipped."""
    from programs.runtime import ProviderUnreachable

    stop = threading.Event()

    def one(user: int) -> Outcome | None:
        if stop.is_set():
            return None
        try:
            return Outcome(user, page=make_page(user))
        except ProviderUnreachable as exc:
            stop.set()
            return Outcome(user, unreachable=redact(str(exc)) or type(exc).__name__)
        except Exception as exc:  # one user's failure must not lose the others' pages
            return Outcome(user, error=redact(f"{type(exc).__name__}: {exc}"))
        finally:
            advance()

    with ThreadPoolExecutor(concurrency) as pool:
        yield from pool.map(one, users)


def _run_on_ray(job: PageJob, users: list[int], concurrency: int, address: str | None, advance):
    """Outcomes in user order from Ray actors, each opening the job once."""
    pages = ray_pages(job, users, concurrency, address, on_page=advance)
    yield from (Outcome(user, page=page) for user, page in zip(users, pages, strict=True))


def _write(sink: AtomicLines, users: list[int], finished: dict[int, Page], previous: Path | None, outcomes,
           tally: Tally, failed: list[tuple[int, str]], written) -> str | None:
    """Kept and new pages in user order; returns why the run stopped early, or None."""
    kept = existing_lines(previous) if previous else iter(())
    stopped = None
    for user in users:
        if user in finished:
            sink.write(next(kept))
            tally.add(finished[user], new=False)
            continue
        if stopped:
            continue
        try:
            outcome = next(outcomes)
        except KeyboardInterrupt:
            stopped = INTERRUPTED
            continue
        if outcome is None or outcome.unreachable:
            stopped = (outcome.unreachable if outcome else None) or "provider unreachable"
            continue
        if outcome.page is None:
            failed.append((user, outcome.error or "unknown error"))
            continue
        sink.write(page_json(outcome.page) + "\n")
        written(outcome.page)
        tally.add(outcome.page, new=True)
    return stopped


def _summarize(out: Path, tally: Tally, failed: list[tuple[int, str]], stopped: str | None,
               max_share: float | None, html: Path | None = None) -> None:
    """The closing lines on stderr, and the exit code they imply."""
    if stopped and stopped != INTERRUPTED and tally.new == 0:
        raise CliError(f"cannot reach the LM provider: {stopped}; no page made, {out} left as it was")
    line = f"wrote {tally.written} pages to {out}" + (f" and {tally.new} HTML pages to {html}" if html else "")
    if tally.written != tally.new:
        line += f" ({tally.written - tally.new} kept, {tally.new} new)"
    if tally.with_fallbacks:
        line += f"; {tally.with_fallbacks} with fallbacks: {summarize_counts(tally.causes or Counter())}"
    err_console.print(escape(line), highlight=False, soft_wrap=True)
    if stopped == INTERRUPTED:
        raise KeyboardInterrupt
    if stopped:
        raise CliError(f"cannot reach the LM provider: {stopped}; stopped after {tally.new} new pages "
                       f"(rerun with --resume to continue)")
    if failed:
        listed = "; ".join(f"user {user}: {error}" for user, error in failed)
        err_console.print(f"[red]{len(failed)} users failed:[/red] {escape(listed)}", highlight=False,
                          soft_wrap=True)
    share = tally.with_fallbacks / tally.written if tally.written else 0.0
    if max_share is not None and share > max_share:
        err_console.print(f"[red]fallback share {share:.2f} is above --max-fallback-share {max_share:.2f}[/red]")
    if failed or (max_share is not None and share > max_share):
        raise typer.Exit(1)
