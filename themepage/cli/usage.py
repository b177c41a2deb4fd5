"""Usage as a person reads it: usage errors as one line, and help without typer's type noise.

typer >= 0.2x carries its own copy of click as `typer._click`; older typer uses the `click` package.
Catching the other copy's exceptions never matches, so the module typer actually uses is looked up.
Its help also shows `<bool>` after plain flags and `{source}` for a required argument in the usage line;
`TidyCommand` and `TidyGroup` show flags bare and arguments as click always has (`SOURCE`, `[FILE]`).
"""

from __future__ import annotations

import re
from types import ModuleType

from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from themepage.cli.common import err_console

ARGUMENT_PIECE = re.compile(r"([{\[])([a-z][\w-]*)([}\]])(\.\.\.)?")
"""A usage-line piece typer >= 0.2x makes for an argument: `{source}` (required) or `[file]` (optional)."""


def click_module() -> ModuleType:
    """The click that typer raises its exceptions from."""
    try:
        from typer import _click  # type: ignore[attr-defined]  # typer's own copy (newer typer)
    except ImportError:
        import click as _click
    return _click


def exception_types(name: str, *ours: type[BaseException]) -> tuple[type[BaseException], ...]:
    """typer's own class for Abort or Exit plus click's, when that click has one (typer's copy has none)."""
    theirs = getattr(click_module().exceptions, name, None)
    return tuple({*ours, *([theirs] if isinstance(theirs, type) else [])})


def missing_command_line(context) -> str:
    """'missing command; choose one of: batch, data, ... (see: themepage --help)'."""
    names = ", ".join(context.command.list_commands(context))
    return f"missing command; choose one of: {names} (see: {context.command_path} --help)"


def usage_line(exc: Exception) -> str:
    """'No such option: --usr (Possible options: --user) (see: themepage generate --help)'."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)  # type: ignore[union-attr]
    message = " ".join(message.split())
    context = getattr(exc, "ctx", None)
    if context is not None and getattr(context, "command_path", None):
        message += f" (see: {context.command_path} --help)"
    return message


def show_usage_error(exc: Exception) -> int:
    """Print the error as one line on stderr; return the exit code."""
    context = getattr(exc, "ctx", None)
    no_command = type(exc).__name__ == "NoArgsIsHelpError" and context is not None
    line = missing_command_line(context) if no_command else usage_line(exc)
    err_console.print("[red]error:[/red] " + escape(line), highlight=False, soft_wrap=True)
    return getattr(exc, "exit_code", 2) or 2


def classic_usage_piece(piece: str) -> str:
    """`{source}` -> `SOURCE`, `[file]...` -> `[FILE]...`; anything else (`[OPTIONS]`, `SOURCE`) unchanged."""
    match = ARGUMENT_PIECE.fullmatch(piece)
    if match is None:
        return piece
    opening, name, closing, repeat = match.groups()
    shown = name.upper() if opening == "{" else f"[{name.upper()}]"
    return shown + (repeat or "")


class TidyParams:
    """Help without a value type after a flag (it takes none), and click's usage line for arguments."""

    def get_params(self, ctx):
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""  # typer >= 0.2x shows a metavar in place of the type; click ignores it for flags
        return params

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [classic_usage_piece(piece) for piece in super().collect_usage_pieces(ctx)]  # type: ignore[misc]


class TidyCommand(TidyParams, TyperCommand):
    """A typer command with tidy help."""


class TidyGroup(TidyParams, TyperGroup):
    """A typer group with tidy help."""
