"""One progress display for a long command made of phases (load, compile, score, save), on stderr.

On a terminal it is one Rich progress display: a row per phase with its count (against a total when the phase
has one) and elapsed time. Elsewhere (CI logs, a pipe) or next to other libraries' bars, it prints one plain
line as each phase ends instead of redrawing.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


def duration(seconds: float) -> str:
    """`42s` under a minute, `3m 05s` above."""
    whole = int(round(seconds))
    return f"{whole}s" if whole < 60 else f"{whole // 60}m {whole % 60:02d}s"


class Phases:
    """Phases of one command on `console`: a live Rich display when `live`, else a plain line per finished phase.

    `tick(unit)` counts one unit of work (a metric call, a page) in the running phase when that phase counts
    this unit: a knn-compiled program calls the metric while it makes a page, and a page is what scoring counts.
    """

    def __init__(self, console: Console, live: bool) -> None:
        self.console = console
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._task: TaskID | None = None
        self._count = 0
        self._total: int | None = None
        self._unit = ""
        self._progress = Progress(SpinnerColumn(finished_text="done"), TextColumn("{task.description}", markup=False),
                                  BarColumn(), TextColumn("{task.fields[counted]}", markup=False), TimeElapsedColumn(),
                                  console=console, transient=False, redirect_stdout=False, redirect_stderr=False,
                                  disable=not live)
        self.live = live

    def __enter__(self) -> Phases:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def elapsed(self) -> float:
        """Seconds since the display was made."""
        return time.monotonic() - self.started

    @contextlib.contextmanager
    def phase(self, description: str, total: int | None = None, unit: str = "") -> Iterator[None]:
        """A phase: shown while it runs, its count and time printed (plain) or left complete (live) when it ends."""
        started = time.monotonic()
        with self._lock:
            self._count = 0
            self._total, self._unit = total, unit
            self._task = self._progress.add_task(description, total=total, counted=self._counted())
        try:
            yield
        finally:
            with self._lock:
                task, counted, self._task = self._task, self._counted(), None
        if task is not None:  # finished without an exception: a full bar, the count as it ended
            self._progress.update(task, total=1, completed=1, counted=counted)
        if not self.live:
            counted = f": {counted}" if counted else ""
            self.console.print(escape(f"{description}{counted} ({duration(time.monotonic() - started)})"),
                               highlight=False, soft_wrap=True)

    def _counted(self) -> str:
        """`12/64 pages`, `12 metric calls` without a total, or nothing for a phase without a unit."""
        if not self._unit:
            return ""
        return f"{self._count}/{self._total} {self._unit}" if self._total else f"{self._count} {self._unit}"

    def tick(self, unit: str | None = None) -> None:
        """One more unit of work in the running phase; ignored between phases or when it counts another unit."""
        with self._lock:
            if self._task is None or unit not in (None, self._unit):
                return
            self._count += 1
            self._progress.update(self._task, completed=self._count, counted=self._counted())
