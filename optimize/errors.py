"""Errors of compiling and of loading compiled files; each message is one line that names the file or the cause."""

from __future__ import annotations


class CompileError(ValueError):
    """A compile request that cannot run (unknown optimizer, missing optional dependency, ...)."""


class CompiledFileError(ValueError):
    """A compiled file that must not be loaded; the CLI prints the message as one line and exits 2."""


class UnsafeCompiledFile(CompiledFileError):
    """A compiled file holding something compiling never writes (an LM, an endpoint, an unknown key, ...)."""


class StaleCompiledProgram(CompiledFileError):
    """A compiled file saved for other signatures, another LM or another optimizer setting: recompile it."""
