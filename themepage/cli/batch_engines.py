"""Run a batch on threads or on Ray: select the users, make the pages in user order, write JSON Lines and HTML.

Both engines call the same `PageJob` maker, so on the same data and LM they write the same pages in
the same order (only the measured timings differ).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.progress import Progress

from themepage.batch_users import UserSelectionError, select_users
from themepage.cli.page_job import PageJob, PageMaker
from themepage.distributed import RayMissing, ray_pages
from themepage.page import Page
from themepage.report import page_html, write_document

ENGINES = ("thread", "ray")


def threaded_pages(make: PageMaker, users: list[int], concurrency: int, on_page: Callable[[], None]) -> Iterator[Page]:
    """Pages for `users` in order, `concurrency` users at a time on this process's threads."""
    def one(user: int) -> Page:
        page = make(user)
        on_page()
        return page

    with ThreadPoolExecutor(concurrency) as pool:
        yield from pool.map(one, users)


def run_batch(job: PageJob, out: Path, html: Path | None, engine: str, address: str | None, users_file: Path | None,
              shard: str | None, concurrency: int, progress: Callable[[], Progress]) -> int:
    """Make and write the batch's pages; returns how many. Bad input raises CliError (one line)."""
    from themepage.cli.app import CliError

    if engine not in ENGINES:
        raise CliError(f"unknown engine {engine!r}; choose thread or ray")
    if address and engine != "ray":
        raise CliError("--address is for --engine ray")
    make = job()  # validates the program, LM and compiled files here, before any worker starts
    try:
        users = select_users(make.index.histories.user_ids, users_file, shard)
    except UserSelectionError as exc:
        raise CliError(str(exc)) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle, progress() as bar:
        task = bar.add_task(f"{job.program} pages ({engine})", total=len(users))

        def advance() -> None:
            bar.advance(task)

        try:
            pages = (threaded_pages(make, users, concurrency, advance) if engine == "thread"
                     else ray_pages(job, users, concurrency, address, on_page=advance))
            for page in pages:
                handle.write(page.model_dump_json() + "\n")
                if html:
                    write_document(html / f"user-{page.user_id}.html", page_html(page, make.index.catalog))
        except RayMissing as exc:
            raise CliError(str(exc)) from None
    return len(users)
