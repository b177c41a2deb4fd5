"""Which users a batch makes pages for: all, those listed in a file, and one shard of them.

`--users FILE` and `--shard i/n` let any scheduler split a batch: shard i of n takes every n-th
user starting at the i-th (0-based), so the n shards are disjoint, cover every user and keep the
users' order; concatenating shards 0..n-1 in turn is not the full order, but each line names its user.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path


class UserSelectionError(ValueError):
    """A users file or shard spec the batch cannot use (one-line message)."""


def parse_shard(spec: str) -> tuple[int, int]:
    """'i/n' -> (i, n) with 0 <= i < n."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", spec)
    if not match:
        raise UserSelectionError(f"bad shard {spec!r}: write i/n, e.g. 0/4 (0-based)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or index >= count:
        raise UserSelectionError(f"bad shard {spec!r}: need 0 <= i < n")
    return index, count


def read_users_file(path: Path) -> list[int]:
    """User ids, one a line; blank lines and '#' comments ignored; repeats kept once, in file order."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserSelectionError(f"cannot read users file {path}: {exc.strerror or exc}") from None
    users: list[int] = []
    for number, line in enumerate(text.splitlines(), 1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        if not value.isdigit():
            raise UserSelectionError(f"{path}:{number}: not a user id: {value[:40]!r}")
        users.append(int(value))
    if not users:
        raise UserSelectionError(f"{path}: no user ids")
    return list(dict.fromkeys(users))


def select_users(known: Sequence[int], users_file: Path | None = None, shard: str | None = None) -> list[int]:
    """The batch's users: the file's (each must be known) or every known user, then the shard's share."""
    users = [int(u) for u in known]
    if users_file is not None:
        listed = read_users_file(users_file)
        unknown = sorted(set(listed) - set(users))
        if unknown:
            shown = ", ".join(map(str, unknown[:5])) + (" ..." if len(unknown) > 5 else "")
            raise UserSelectionError(f"{len(unknown)} users in {users_file} have no history: {shown}")
        users = listed
    if shard is not None:
        index, count = parse_shard(shard)
        users = users[index::count]
    return users
