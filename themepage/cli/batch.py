"""`themepage batch`: a page for every user with a history, without losing work, on threads or on Ray.

One failing user is recorded and the run goes on; an unreachable provider stops the run within
seconds. Every finished page is appended at once to `<out>.partial` (see `batch_file`), so Ctrl-C,
kill -9 or a full disk loses no finished page; `--resume` keeps the checked pages of `--out` and of
the partial file and makes the rest; the final file appears in user order, renamed over `--out`, only
when the run got through its users. Output paths are checked before any page is made. `--users FILE`
and `--shard i/n` pick the users, so any scheduler can split the work; both engines call the same
`PageJob` maker.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from themepage.cli.batch_file import PartialPages, StreamPages, final_temp_path, partial_path
from themepage.cli.batch_pages import Run
from themepage.cli.batch_ray import RayMissing, ray_pages
from themepage.cli.batch_resume import BatchFileError, Found, MadeFor, read_finished
from themepage.cli.batch_summary import finished, stopped
from themepage.cli.batch_users import UserSelectionError, select_users
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
    lm_settings,
)
from themepage.cli.out_path import FILE, STREAM, check_output_file, check_output_folder, reason
from themepage.cli.page_job import PageJob
from themepage.constants import BUNDLED_DATA_DIR, DEFAULT_OBJECTIVE, DEFAULT_PROGRAM
from themepage.dataset.store_kind import store_of
from themepage.lm.redact import redact
from themepage.page import Page
from themepage.report import page_html

ENGINES = ("thread", "ray")


@dataclass
class Outcome:
    """What became of one user: a page, an error (the run goes on) or an unreachable provider (it stops)."""

    user: int
    page: Page | None = None
    error: str | None = None
    unreachable: str | None = None


def batch(out: Annotated[Path, typer.Option("--out", help="Output JSON Lines file.")],
          data: DataOpt = BUNDLED_DATA_DIR, cache_dir: CacheOpt = None, program: ProgramOpt = DEFAULT_PROGRAM,
          objective: ObjectiveOpt = DEFAULT_OBJECTIVE,
          lm: LMOpt = None, api_base: ApiBaseOpt = None, lm_timeout: TimeoutOpt = None,
          lm_retries: RetriesOpt = None, page_deadline: DeadlineOpt = None, compiled: DefaultCompiledOpt = None,
          no_compiled: NoCompiledOpt = False, store_kind: StoreKindOpt = None,
          concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64,
                                                   help="Users made at once (per worker with --engine ray).")] = 4,
          resume: Annotated[bool, typer.Option("--resume", help="Keep the pages already in --out and in "
                                               "<out>.partial; make the rest.")] = False,
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
    kind = _check_paths(out, resume, html)
    job = PageJob(data, cache_dir, program, objective, lm, api_base, lm_timeout, lm_retries,
                  compiled_choice(compiled, no_compiled),
                  settings.page_deadline, store_kind)
    make = job()  # validates the program, LM and compiled files here, before any worker starts
    from themepage.dataset.cache import fingerprint

    store = store_of(make.index)
    made_for = MadeFor(program, objective, settings.model, fingerprint(data), store.kind)
    try:
        users = select_users(make.index.histories.user_ids, users_file, shard)
    except UserSelectionError as exc:
        raise CliError(str(exc)) from None
    sink = _open_sink(out, kind)
    try:
        found = _kept(out, sink, users, make.index, made_for) if resume else {}
        kept = set(found)
        todo = [user for user in users if user not in kept]
        run = Run(sink, made_for, found, html, lambda page: page_html(page, make.index.catalog, store))
        with _progress() as progress:
            task = progress.add_task(f"{program} pages ({engine})", total=len(todo))

            def advance() -> None:
                progress.advance(task)

            ordered = kind == STREAM or engine == "ray"
            stop = run.pages(lambda: _run(make, todo, concurrency, advance, ordered=ordered) if engine == "thread"
                             else _run_on_ray(job, todo, concurrency, address, advance))
        if stop is None and kind == FILE:
            stop = run.finish(out, users, kept)
    except RayMissing as exc:
        sink.close()
        raise CliError(str(exc)) from None
    except BaseException:
        sink.close()  # a defect or a second Ctrl-C: the pages made stay in the partial file
        raise
    if stop is not None:
        sink.close()
        stopped(stop, sink.added, sink.path if kind == FILE else None, out)
    if kind == STREAM:
        sink.close()
    finished(out, run.tally, run.failed, max_fallback_share, html)


def _check_paths(out: Path, resume: bool, html: Path | None) -> str:
    """The output's kind, every path checked before any work: one error line for a path that cannot be used."""
    kind = check_output_file(out)
    if kind == STREAM and resume:
        raise CliError(f"--resume needs --out to be a regular file; {out} is written through")
    if kind == FILE and partial_path(out).exists() and not resume:
        raise CliError(f"{partial_path(out)} holds the pages of a run that stopped: add --resume to keep them "
                       "(or delete it to start over)")
    if html is not None:
        check_output_folder(html)
    return kind


def _open_sink(out: Path, kind: str) -> PartialPages | StreamPages:
    """The partial file beside `out` (a stale final temporary file removed), or `out` itself to write through."""
    try:
        if kind == STREAM:
            return StreamPages(out)
        sink = PartialPages(partial_path(out))
        final_temp_path(out.resolve()).unlink(missing_ok=True)  # left by a kill during the last rename
        return sink
    except BatchFileError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write {partial_path(out) if kind == FILE else out}: {reason(exc)}") from None


def _kept(out: Path, sink: PartialPages | StreamPages, users: list[int], index, made_for: MadeFor) -> dict[int, Found]:
    """The checked pages of the old output and of the partial file, by user."""
    sources = [path for path in (out, sink.path) if path.is_file()]
    try:
        return read_finished(sources, users, index.histories, index.catalog, made_for, partial=sink.path)
    except BatchFileError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot read {out} to resume: {reason(exc)}") from None


def _run(make_page, users: list[int], concurrency: int, advance, ordered: bool = True):
    """Outcomes in user order (or in the order they finish: at one thread, user order too); after the provider
    proves unreachable, the users not yet started are skipped. Closing the generator cancels the users not started
    yet."""
    from themepage.lm.runtime import ProviderUnreachable

    stop = threading.Event()
    finished: queue.SimpleQueue[Future] = queue.SimpleQueue()

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
        futures = [pool.submit(one, user) for user in users]
        for future in futures:
            future.add_done_callback(finished.put)
        try:
            for number in range(len(futures)):
                yield (futures[number] if ordered else finished.get()).result()
        finally:
            stop.set()
            for future in futures:
                future.cancel()


def _run_on_ray(job: PageJob, users: list[int], concurrency: int, address: str | None, advance):
    """Outcomes in user order from Ray actors, each opening the job once."""
    pages = ray_pages(job, users, concurrency, address, on_page=advance)
    try:
        yield from (Outcome(user, page=page) for user, page in zip(users, pages, strict=True))
    finally:
        pages.close()  # kills the actors
