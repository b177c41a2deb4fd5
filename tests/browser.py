"""Headless Chromium for the tests: load a local HTML file, dump its DOM, read its console, take a screenshot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
CONSOLE = re.compile(r":CONSOLE[^\]]*\] (.*)")
TIMEOUT = 90


def chromium_or_skip() -> str:
    """The Chromium binary; missing, the test fails under CI (`CI` set) and is skipped elsewhere."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    reason = "headless Chromium is not installed (apt-get install chromium; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _run(binary: str, url: str, *extra: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="themepage-chromium-") as profile:
        return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *extra, url], capture_output=True,
                              text=True, timeout=TIMEOUT, check=False, stdin=subprocess.DEVNULL)


def dump_dom(binary: str, path: Path) -> tuple[str, list[str]]:
    """(the DOM after load, the console messages Chromium logged while loading it)."""
    done = _run(binary, path.resolve().as_uri(), "--enable-logging=stderr", "--v=0", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, CONSOLE.findall(done.stderr)


def screenshot(binary: str, path: Path, png: Path, size: str = "1280,1600") -> bytes:
    done = _run(binary, path.resolve().as_uri(), f"--screenshot={png}", f"--window-size={size}",
                "--hide-scrollbars")
    assert done.returncode == 0 and png.exists(), done.stderr[-2000:]
    return png.read_bytes()
