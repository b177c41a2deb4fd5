"""Headless Chromium for the tests: load a local HTML file, dump its DOM, read its console, take a screenshot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from optional_extras import missing_extra

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
CONSOLE = re.compile(r":CONSOLE[^\]]*\] (.*)")
TIMEOUT = 90


BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
PACKAGE_BINARIES = (Path("/usr/lib/chromium/chromium"), Path("/usr/lib/chromium-browser/chromium-browser"))
"""Where Debian's and Ubuntu's packages put the browser itself; some setups link nothing onto PATH."""


def find_chromium() -> str | None:
    """A Chromium binary on PATH, else in its package's own folder; None when there is none."""
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return next((str(path) for path in PACKAGE_BINARIES if path.is_file() and os.access(path, os.X_OK)), None)


def chromium_or_skip() -> str:
    """The Chromium binary; missing, the test fails under CI (`CI` set) and is skipped elsewhere."""
    found = find_chromium()
    if found:
        return found
    missing_extra("headless Chromium is not installed (apt-get install chromium; .ci/run installs it)")


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
