"""Where `generate --out`, `batch --out` and `batch --html` write, checked before any work starts.

A path that names a folder, a block device or a socket, or lies in a folder that cannot be written
(`/proc`, `/sys`, a read-only mount), is one `error:` line up front, not a traceback after the pages
are made. An existing character device or FIFO (`/dev/null`, `/dev/stdout`, a named pipe) is written
through, never renamed over; any other path is written to a temporary file beside it and renamed.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from themepage.cli.common import CliError

FILE, STREAM = "file", "stream"
"""An output that is (or will be) a regular file, replaced by rename; one written through as it is."""


def reason(exc: OSError) -> str:
    """An OSError's reason without the path repeated ('No space left on device')."""
    return exc.strerror or str(exc)


def output_kind(path: Path, option: str = "--out") -> str:
    """FILE for a regular file or a new path, STREAM for a character device or FIFO; anything else is an error."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return FILE
    except OSError as exc:
        raise CliError(f"cannot use {option} {path}: {reason(exc)}") from None
    if stat.S_ISREG(mode):
        return FILE
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return STREAM
    what = "a folder" if stat.S_ISDIR(mode) else "a block device" if stat.S_ISBLK(mode) else "not a file"
    raise CliError(f"{option} {path} is {what}: name a file")


def writable_folder(folder: Path, option: str, path: Path) -> None:
    """Make `folder` (and its parents) and check a file can be created in it; else one CliError line."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(dir=folder, prefix=".themepage-probe.", suffix=".tmp")
        os.close(descriptor)
        os.unlink(probe)
    except OSError as exc:
        raise CliError(f"cannot write {option} {path}: cannot create a file in {folder}: {reason(exc)}") from None


def check_output_file(path: Path, option: str = "--out") -> str:
    """The kind of an output file, its folder checked writable when it will be a regular file."""
    kind = output_kind(path, option)
    if kind == FILE:
        writable_folder(path.parent, option, path)
    return kind


def check_output_folder(folder: Path, option: str = "--html") -> None:
    """A folder of output files: a folder or a new path, writable."""
    if folder.exists() and not folder.is_dir():
        raise CliError(f"{option} {folder} is not a folder")
    writable_folder(folder, option, folder)


def write_replacing(path: Path, text: str) -> None:
    """Write `text` as UTF-8: through a character device or FIFO, else via a temporary file renamed over `path`.

    Raises OSError; a failed write leaves `path` as it was and no temporary file.
    """
    if output_kind(path) == STREAM:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    target = Path(os.path.realpath(path))
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644
    descriptor, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(descriptor, mode)  # mkstemp makes it private
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
