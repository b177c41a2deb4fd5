"""The batch's page files: a partial file that survives any stop, and the final file that appears at the end.

Each finished page is appended to `<out>.partial` as one line, written straight to the file (so a
kill -9 keeps it), in the order pages finish; a second batch on the same output is refused while the
first holds the file's lock. A run that stops early (Ctrl-C, an unreachable provider, a full disk)
leaves the partial file for `--resume`. A run that gets through its users writes the final file in
user order from the partial file and the pages kept from the old output, to a temporary file beside
it renamed over `--out`, then drops the partial file. An `--out` that is a character device or FIFO
gets the pages written through it in user order instead: no partial file, no rename.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from themepage.cli.batch_resume import BatchFileError, Found

TORN_SCAN = 1 << 16
"""Bytes read at a time from the end of a partial file, looking for its last complete line."""


def partial_path(out: Path) -> Path:
    """The partial file of an output file: `<out>.partial`, beside it."""
    return out.with_name(out.name + ".partial")


def final_temp_path(out: Path) -> Path:
    """The temporary file the final output is written to before its rename (a fixed name: a leftover is reused)."""
    return out.with_name(f".{out.name}.tmp")


def complete_size(descriptor: int, size: int) -> int:
    """The length of a file up to the end of its last complete line (a line cut short by a kill excluded)."""
    end = size
    while end > 0:
        start = max(0, end - TORN_SCAN)
        chunk = os.pread(descriptor, end - start, start)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        end = start
    return 0


class PartialPages:
    """`<out>.partial`, opened for appending under an exclusive lock; a torn last line is cut off on opening."""

    def __init__(self, path: Path):
        self.path, self.existed = path, path.exists()
        self.descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(self.descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.descriptor)
            raise BatchFileError(f"another batch is writing {path}; wait for it or use another --out") from None
        self.size = complete_size(self.descriptor, os.fstat(self.descriptor).st_size)
        os.ftruncate(self.descriptor, self.size)
        self.added = 0

    def append(self, line: str) -> int:
        """Write one page line; returns its offset. On failure the file is cut back to its last whole line."""
        data, offset = line.encode("utf-8"), self.size
        try:
            written = 0
            while written < len(data):
                written += os.write(self.descriptor, data[written:])
        except OSError:
            os.ftruncate(self.descriptor, offset)
            raise
        self.size += len(data)
        self.added += 1
        return offset

    def close(self) -> None:
        """Release the file; one that holds no page is removed."""
        if self.descriptor < 0:
            return
        if os.fstat(self.descriptor).st_size == 0:
            self.path.unlink(missing_ok=True)
        os.close(self.descriptor)
        self.descriptor = -1

    def finish(self) -> None:
        """The final file is in place: remove the partial file, then release it."""
        self.path.unlink(missing_ok=True)
        os.close(self.descriptor)
        self.descriptor = -1


class StreamPages:
    """An output written through as it is (a character device or FIFO): lines in user order, nothing renamed."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = open(path, "wb", buffering=0)  # noqa: SIM115 - closed by close()
        self.added = 0

    def append(self, line: str) -> int:
        self.handle.write(line.encode("utf-8"))
        self.added += 1
        return 0

    def close(self) -> None:
        self.handle.close()

    finish = close


def write_final(out: Path, users: list[int], found: dict[int, Found], on_line: Callable[[int, bytes], None]) -> None:
    """The found pages in user order, to a temporary file beside `out` renamed over it (through a symlink).

    Raises OSError; the temporary file is removed on any failure and `out` stays as it was.
    """
    target = Path(os.path.realpath(out))
    temp = final_temp_path(target)
    handles: dict[Path, object] = {}
    try:
        with open(temp, "wb") as sink:
            for user in users:
                place = found.get(user)
                if place is None:
                    continue
                source = handles.get(place.path) or handles.setdefault(place.path, place.path.open("rb"))
                source.seek(place.offset)  # type: ignore[attr-defined]
                line = source.readline()  # type: ignore[attr-defined]
                line = line if line.endswith(b"\n") else line + b"\n"
                sink.write(line)
                on_line(user, line)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    finally:
        for handle in handles.values():
            handle.close()  # type: ignore[attr-defined]
