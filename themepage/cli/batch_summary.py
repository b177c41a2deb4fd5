"""The closing lines of `themepage batch` on stderr, and the exit code they imply.

A run that got through its users says what the output holds (kept and new pages, fallbacks, failed
users). A run that stopped early says why, how many new pages it made, where they are kept and how to
continue (`--resume`); on Ctrl-C it ends with exit 130, otherwise with one `error:` line (exit 2).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.markup import escape

from themepage.cli.common import CliError, err_console
from themepage.cli.output import fallback_causes, summarize_counts
from themepage.page import Page

INTERRUPTED, UNREACHABLE, UNWRITABLE = "interrupted", "unreachable", "unwritable"


@dataclass(frozen=True)
class Stop:
    """Why a run stopped before its last user: Ctrl-C, an unreachable provider, or a file it cannot write."""

    kind: str
    detail: str = ""


@dataclass
class Tally:
    """What the output file holds at the end, for the summary."""

    written: int = 0
    new: int = 0
    with_fallbacks: int = 0
    causes: Counter[str] = field(default_factory=Counter)
    html: int = 0

    def add(self, page: Page, new: bool) -> None:
        self.written += 1
        self.new += new
        if page.stats.fallbacks:
            self.with_fallbacks += 1
            self.causes += fallback_causes(page.stats.fallbacks)


def say(line: str) -> None:
    err_console.print(escape(line), highlight=False, soft_wrap=True)


def stopped(stop: Stop, new: int, kept_in: Path | None, out: Path) -> None:
    """The closing line of a run that stopped early; raises KeyboardInterrupt (exit 130) or CliError (exit 2).

    `kept_in` is the partial file holding the run's pages, or None when they were written through `out`.
    """
    if kept_in is None:
        where = f"{new} new pages written to {out}"
    elif new:
        where = f"{new} new pages kept in {kept_in} (rerun with --resume to continue)"
    elif kept_in.exists():
        where = f"no new page; {kept_in} keeps the earlier pages (rerun with --resume to continue)"
    else:
        where = f"no page made, {out} left as it was"
    if stop.kind == INTERRUPTED:
        say(f"stopped: {where}")
        raise KeyboardInterrupt
    if stop.kind == UNREACHABLE:
        raise CliError(f"cannot reach the LM provider: {stop.detail}; " + (
            where if not new else f"stopped after {where}"))
    raise CliError(f"{stop.detail}; stopped after {where}")


def finished(out: Path, tally: Tally, failed: list[tuple[int, str]], max_share: float | None,
             html: Path | None = None) -> None:
    """The closing lines of a run that got through its users; raises typer.Exit(1) on failures or fallbacks."""
    line = f"wrote {tally.written} pages to {out}" + (f" and {tally.html} HTML pages to {html}" if html else "")
    if tally.written != tally.new:
        line += f" ({tally.written - tally.new} kept, {tally.new} new)"
    if tally.with_fallbacks:
        line += f"; {tally.with_fallbacks} with fallbacks: {summarize_counts(tally.causes)}"
    say(line)
    if failed:
        listed = "; ".join(f"user {user}: {error}" for user, error in failed)
        err_console.print(f"[red]{len(failed)} users failed:[/red] {escape(listed)}", highlight=False,
                          soft_wrap=True)
    share = tally.with_fallbacks / tally.written if tally.written else 0.0
    if max_share is not None and share > max_share:
        err_console.print(f"[red]fallback share {share:.2f} is above --max-fallback-share {max_share:.2f}[/red]")
    if failed or (max_share is not None and share > max_share):
        raise typer.Exit(1)
