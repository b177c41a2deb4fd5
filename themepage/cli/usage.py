"""Usage errors (unknown option or command, missing or bad value) as one line, whichever click typer uses.

typer >= 0.2x carries its own copy of click as `typer._click`; older typer uses the `click` package.
Catching the other copy's exceptions never matches, so the module typer actually uses is looked up.
"""

from __future__ import annotations

from types import ModuleType

from rich.markup import escape

from themepage.cli.common import err_console


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
