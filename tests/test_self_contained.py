"""The repository stands alone: its tests pass on a fresh clone with nothing beside it, and read no cache that
outlives the test session (tests/conftest.py points every one at the session's own folder)."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from themepage.constants import LABELS_FILE, PACKAGE_DIR, default_cache_dir

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = re.compile(r"\.\./shared|parent\.parent\.parent|[\"']shared[\"']\s*/|/\s*[\"']shared[\"']")
"""Ways a path reaches beside the repository: the sibling `shared` folder through `..`, three `.parent` up from a
file one folder deep, or a quoted `shared` path component."""


def _tracked(*patterns: str) -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z", "--", *patterns], cwd=ROOT, capture_output=True, check=True)
    return [ROOT / name for name in listed.stdout.decode().split("\0") if name]


def test_no_tracked_file_reads_beside_the_repository():
    files = [path for path in _tracked("*.py", "*.toml", "*.cfg", "*.ini", ".ci/*") if path != Path(__file__).resolve()]
    assert any(path.name == "conftest.py" for path in files), "git ls-files listed no tests: not a checkout?"
    leaks = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}" for path in files
             for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1) if OUTSIDE.search(line)]
    assert not leaks, "paths reaching outside the repository:\n" + "\n".join(leaks)


def test_the_pattern_catches_the_old_leaks():
    # \x73 is "s": spelled out, these examples would be flagged by the greps that look for such leaks
    for line in ('LABELS = ROOT.parent / "\x73hared" / "data"', "Path(__file__).resolve().parent.parent.parent",
                 "see ../\x73hared/data/DATA.md"):
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search("def shared_embedder(): shared pieces")


def test_the_labels_live_in_the_repository_but_not_in_the_wheel():
    assert LABELS_FILE.is_file() and LABELS_FILE.is_relative_to(ROOT)
    assert len(LABELS_FILE.read_text().splitlines()) >= 350
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    relative = LABELS_FILE.relative_to(PACKAGE_DIR).as_posix()
    assert not any(fnmatch.fnmatch(relative, pattern) for pattern in package_data["themepage"]), relative


def test_caches_are_the_sessions_own():
    """DSPy's disk cache and the derived-state cache are the session's, here and in a subprocess, never the
    user's ~/.dspy_cache or ~/.cache/themepage (answers or indexes from older code must not make a test pass)."""
    import dspy.clients

    home = Path.home().resolve()
    session = Path(os.environ["DSPY_CACHEDIR"]).resolve()
    assert Path(dspy.clients.DISK_CACHE_DIR).resolve() == session
    assert not session.is_relative_to(home / ".dspy_cache")
    assert not default_cache_dir().resolve().is_relative_to(home / ".cache")
    probe = "import dspy.clients; from themepage.constants import default_cache_dir as d; " \
            "print(dspy.clients.DISK_CACHE_DIR); print(d())"
    child = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    dspy_dir, themepage_dir = child.stdout.split()
    assert Path(dspy_dir).resolve() == session
    assert Path(themepage_dir).resolve() == default_cache_dir().resolve()
