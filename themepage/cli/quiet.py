"""Keep third-party logs off stdout, and silence DSPy's and its optimizers' own output for one block.

`logs_off_stdout` holds for a whole command: stdout carries what the command makes (a page as JSON,
a table) and nothing else, so a log handler that would write there (LiteLLM's writes records below
WARNING to stdout, and LITELLM_LOG or a library may raise its verbosity) writes to stderr instead.

`quiet_optimizers` silences DSPy's and its optimizers' own output (tqdm bars, INFO logs, prints) for one block,
then restores it.

`themepage compile` shows its own progress display; without `--verbose`, the optimizers' bars and logs would
bury it (a default compile prints many pages of bars and log lines). Everything changed here
is put back on exit, whatever the exit: loggers' levels, handlers and propagation, tqdm's constructor and
sys.stdout. Warnings are counted, not shown (MIPRO's proposer alone logs one per proposal); errors still show.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import tqdm.std

QUIET_LOGGERS = ("dspy", "gepa", "optuna", "LiteLLM", "litellm", "httpx", "httpcore")
"""Loggers of DSPy, its optimizers (GEPA, MIPRO's optuna) and its HTTP stack: quieted together with their children."""

_DISABLE_POSITION = 10  # `disable` is tqdm.__init__'s 11th positional parameter after self


def _writes_to_stdout(stream: Any, stdouts: tuple[Any, ...]) -> bool:
    if any(stream is out for out in stdouts):
        return True
    try:
        return stream.fileno() == 1
    except (AttributeError, OSError, ValueError):  # no file descriptor: a capture buffer, a closed stream
        return False


@contextlib.contextmanager
def logs_off_stdout() -> Iterator[None]:
    """Inside the block, every logging.StreamHandler (and subclass) that would write a record to stdout writes it
    to stderr instead, whenever the handler was made and whatever stream it picks per record; put back on exit.

    Handlers are swapped at emit time (under the handler's own lock, which `Handler.handle` holds), because
    libraries such as LiteLLM add theirs on import, in the middle of a command, and choose the stream per record.
    """
    original = logging.StreamHandler.emit
    stdouts = (sys.stdout, sys.__stdout__)

    def emit(self: logging.StreamHandler, record: logging.LogRecord) -> None:
        stream = self.stream
        if not _writes_to_stdout(stream, (*stdouts, sys.stdout)):
            original(self, record)
            return
        self.stream = sys.stderr
        try:
            original(self, record)
        finally:
            self.stream = stream

    logging.StreamHandler.emit = emit
    try:
        yield
    finally:
        logging.StreamHandler.emit = original


@dataclass
class Hidden:
    """What the quiet block kept off the screen: the WARNING log records of the quieted loggers."""

    warnings: int = 0


class _HidingHandler(logging.Handler):
    """Stands in for a quieted logger's handlers: counts WARNING records, passes ERROR and above on to them."""

    def __init__(self, hidden: Hidden, replaced: list[logging.Handler]) -> None:
        super().__init__(logging.WARNING)
        self.hidden = hidden
        self.replaced = replaced

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.ERROR:
            self.hidden.warnings += 1
            return
        for handler in self.replaced or [logging.lastResort]:
            if handler is not None and record.levelno >= handler.level:
                handler.handle(record)


def _children_with_levels() -> list[logging.Logger]:
    """Existing children of the quieted loggers that set their own level (which would let INFO through)."""
    return [logging.getLogger(name) for name, logger in logging.Logger.manager.loggerDict.items()
            if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET
            and any(name.startswith(root + ".") for root in QUIET_LOGGERS)]


@contextlib.contextmanager
def _loggers_hidden(hidden: Hidden) -> Iterator[None]:
    roots = [logging.getLogger(name) for name in QUIET_LOGGERS]
    saved = [(logger, logger.level, logger.handlers[:], logger.propagate) for logger in roots]
    children = [(logger, logger.level) for logger in _children_with_levels()]
    try:
        for logger, level, handlers, _ in saved:
            logger.setLevel(max(level, logging.WARNING))
            logger.handlers = [_HidingHandler(hidden, handlers)]
            logger.propagate = False
        for logger, level in children:
            logger.setLevel(max(level, logging.WARNING))
        yield
    finally:
        for logger, level, handlers, propagate in saved:
            logger.setLevel(level)
            logger.handlers = handlers
            logger.propagate = propagate
        for logger, level in children:
            logger.setLevel(level)


@contextlib.contextmanager
def _tqdm_disabled() -> Iterator[None]:
    """Every tqdm bar made inside the block is created disabled (tqdm.auto and gepa's bars share this class)."""
    cls = tqdm.std.tqdm
    original = vars(cls)["__init__"]  # the raw attribute (tqdm wraps it in a partialmethod): restored as it was

    def disabled_init(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > _DISABLE_POSITION:
            args = (*args[:_DISABLE_POSITION], True, *args[_DISABLE_POSITION + 1:])
        else:
            kwargs["disable"] = True
        original.__get__(self, type(self))(*args, **kwargs)

    cls.__init__ = disabled_init
    try:
        yield
    finally:
        cls.__init__ = original


@contextlib.contextmanager
def quiet_optimizers(verbose: bool = False) -> Iterator[Hidden]:
    """Inside the block, DSPy's and the optimizers' bars, log records and prints (random search prints its
    scores to stdout) are kept off the screen; warnings are counted in the `Hidden` it yields, errors still
    show. With `verbose` nothing changes."""
    hidden = Hidden()
    if verbose:
        yield hidden
        return
    with contextlib.ExitStack() as stack:
        stack.enter_context(_loggers_hidden(hidden))
        stack.enter_context(_tqdm_disabled())
        devnull = stack.enter_context(open(os.devnull, "w"))
        stack.enter_context(contextlib.redirect_stdout(devnull))
        yield hidden
