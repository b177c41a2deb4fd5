"""Silence DSPy's and its optimizers' own output (tqdm bars, INFO logs, prints) for one block, then restore it.

`themepage compile` shows its own progress display; without `--verbose`, the optimizers' bars and logs would
bury it (one default bottoms-up compile printed about 200 KB of bars and log lines). Everything changed here
is put back on exit, whatever the exit: logger levels, tqdm's constructor and sys.stdout.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

import tqdm.std

QUIET_LOGGERS = ("dspy", "gepa", "optuna", "LiteLLM", "litellm", "httpx", "httpcore")
"""Loggers of DSPy, its optimizers (GEPA, MIPRO's optuna) and its HTTP stack, raised to WARNING while quiet."""

_DISABLE_POSITION = 10  # `disable` is tqdm.__init__'s 11th positional parameter after self


def _quiet_loggers() -> list[logging.Logger]:
    """The named loggers and every existing child of theirs that sets its own level."""
    children = [logging.getLogger(name) for name, logger in logging.Logger.manager.loggerDict.items()
                if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET
                and any(name.startswith(root + ".") for root in QUIET_LOGGERS)]
    return [logging.getLogger(name) for name in QUIET_LOGGERS] + children


@contextlib.contextmanager
def _loggers_at_warning() -> Iterator[None]:
    saved = [(logger, logger.level) for logger in _quiet_loggers()]
    try:
        for logger, level in saved:
            logger.setLevel(max(level, logging.WARNING))
        yield
    finally:
        for logger, level in saved:
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
def quiet_optimizers(verbose: bool = False) -> Iterator[None]:
    """Inside the block, DSPy's and the optimizers' bars, INFO logs and prints (random search prints its
    scores to stdout) are silenced; with `verbose` nothing changes."""
    if verbose:
        yield
        return
    with contextlib.ExitStack() as stack:
        stack.enter_context(_loggers_at_warning())
        stack.enter_context(_tqdm_disabled())
        devnull = stack.enter_context(open(os.devnull, "w"))
        stack.enter_context(contextlib.redirect_stdout(devnull))
        yield
