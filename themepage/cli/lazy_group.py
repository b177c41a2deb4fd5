"""A command group that imports a command's module only when that command runs or shows its own help.

`themepage --help` and `--version` then never import numpy, pydantic, DSPy or litellm, which the command
modules pull in at import. The group's own help lists each command by the docstring of its function, read
from the module's source (`ast`), so the listing matches what the command would show without importing it.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from dataclasses import dataclass
from functools import cache

import typer
from typer.core import TyperCommand

from themepage.cli.usage import TidyCommand, TidyGroup


@dataclass(frozen=True)
class LazyCommand:
    """A command: its name on the command line and the function `module:function` that implements it."""

    name: str
    module: str
    function: str


class CommandSummary(TyperCommand):
    """Stands in for a command in the group's listing: its name and help, no parameters."""

    def __init__(self, entry: LazyCommand) -> None:
        super().__init__(name=entry.name, help=function_docstring(entry.module, entry.function))
        self.entry = entry


@cache
def function_docstring(module: str, function: str) -> str | None:
    """The function's docstring as `inspect.getdoc` gives it, read from the module's source without running it."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    with open(spec.origin, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return ast.get_docstring(node)
    return None


def load_command(entry: LazyCommand) -> TyperCommand:
    """The real typer command for the entry: its module imported, its function made into a command."""
    implementation = getattr(importlib.import_module(entry.module), entry.function)
    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    single.command(entry.name, cls=TidyCommand)(implementation)
    command = typer.main.get_command(single)
    assert isinstance(command, TyperCommand)  # a Typer with one command and no callback is that command
    return command


def lazy_group(entries: tuple[LazyCommand, ...]) -> type[TidyGroup]:
    """A group class that lists `entries` before its own commands and loads one only when it is chosen."""

    class LazyGroup(TidyGroup):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.commands = {**{entry.name: CommandSummary(entry) for entry in entries}, **self.commands}

        def resolve_command(self, ctx, args):
            name, command, rest = super().resolve_command(ctx, args)
            if isinstance(command, CommandSummary):
                entry = command.entry
                command = self.commands[entry.name] = load_command(entry)
            return name, command, rest

    return LazyGroup
