"""One batch run's pages: appended to the sink as they finish, then (for a file output) the final file.

A page that cannot be written (partial file or HTML page) stops the run like Ctrl-C does: what was
made stays in the partial file for `--resume`.
"""

from __future__ import annotations

from pathlib import Path

from themepage.cli.batch_file import PartialPages, StreamPages, write_final
from themepage.cli.batch_resume import Found, MadeFor, read_page
from themepage.cli.batch_summary import INTERRUPTED, UNREACHABLE, UNWRITABLE, Stop, Tally
from themepage.cli.out_path import reason
from themepage.cli.output import page_json
from themepage.page import Page
from themepage.report import write_document


class Run:
    """The pages of one run: appended to the sink as they finish, then (file outputs) the final file."""

    def __init__(self, sink: PartialPages | StreamPages, made_for: MadeFor, found: dict[int, Found],
                 html: Path | None, render):
        self.sink, self.made_for, self.found, self.html, self.render = sink, made_for, found, html, render
        self.tally, self.failed = Tally(), []

    def pages(self, outcomes_of) -> Stop | None:
        """Take every outcome; returns why the run stopped early, or None."""
        stop, outcomes = None, outcomes_of()
        try:
            for outcome in outcomes:
                if outcome is None:
                    continue  # not started: the provider proved unreachable
                if outcome.unreachable:
                    stop = stop or Stop(UNREACHABLE, outcome.unreachable)
                elif outcome.page is None:
                    self.failed.append((outcome.user, outcome.error or "unknown error"))
                else:
                    stop = self._take(outcome.page)
                    if stop:
                        break
        except KeyboardInterrupt:
            stop = Stop(INTERRUPTED)
        finally:
            outcomes.close()  # cancels the users not started yet
        return stop

    def _take(self, page: Page) -> Stop | None:
        """Append a new page (and its HTML page); a write that fails stops the run."""
        try:
            offset = self.sink.append(page_json(page, made_for=self.made_for.record()) + "\n")
        except OSError as exc:
            return Stop(UNWRITABLE, f"cannot write {self.sink.path}: {reason(exc)}")
        self.found[page.user_id] = Found(self.sink.path, offset)
        if isinstance(self.sink, StreamPages):  # a file output counts its pages in `finish`
            self.tally.add(page, new=True)
        return self._html(page)

    def _html(self, page: Page) -> Stop | None:
        if self.html is None:
            return None
        path = self.html / f"user-{page.user_id}.html"
        try:
            write_document(path, self.render(page))
        except OSError as exc:
            return Stop(UNWRITABLE, f"cannot write {path}: {reason(exc)}")
        self.tally.html += 1
        return None

    def finish(self, out: Path, users: list[int], kept: set[int]) -> Stop | None:
        """The final file from the kept and new pages, in user order; the partial file then goes.

        A kept page without its HTML page (its run stopped at that write) gets one on the way.
        """
        def counted(user: int, line: bytes) -> None:
            page = read_page(line, f"{out} (user {user})", self.made_for)
            self.tally.add(page, new=user not in kept)
            if self.html is not None and user in kept and not (self.html / f"user-{user}.html").exists():
                stop = self._html(page)
                if stop:
                    raise _Stopped(stop)

        try:
            write_final(out, users, self.found, counted)
        except _Stopped as exc:
            return exc.stop
        except OSError as exc:
            return Stop(UNWRITABLE, f"cannot write {out}: {reason(exc)}")
        self.sink.finish()
        return None


class _Stopped(Exception):
    """Carries a Stop out of the final file's writing (which then removes its temporary file)."""

    def __init__(self, stop: Stop):
        super().__init__(stop.detail)
        self.stop = stop
