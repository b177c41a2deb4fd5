"""Optional extras in the tests (Ray, llama.cpp, the packaged model, headless Chromium): one rule for all.

A test that needs something the README's plain install (`pip install -e ".[test]"`) does not bring skips with
the reason elsewhere, and fails when `CI` is set (`.ci/run` installs every extra), so CI never passes by skipping.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from types import ModuleType

import pytest


def missing_extra(reason: str) -> None:
    """Fail under CI, skip elsewhere, with `reason` (what is missing and how to install it)."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


def require_module(name: str, install: str) -> ModuleType:
    """The module `name`, imported; when its package is not installed, `missing_extra` with the command that
    installs it. An installed package that fails to import (a missing submodule, a broken dependency) is an error."""
    package = name.partition(".")[0]
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.partition(".")[0] != package or _installed(package):
            raise
        missing_extra(f"{package} is not installed ({install}; .ci/run installs it)")
        raise  # not reached: missing_extra raises


def _installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except ValueError:  # None in sys.modules: imports of it are blocked
        return False
