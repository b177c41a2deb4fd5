"""`themepage users`: who has a history to make a page from, and how many orders each has."""

from __future__ import annotations

from themepage.cli.common import CacheOpt, DataOpt, _index, _progress, console
from themepage.constants import BUNDLED_DATA_DIR

PROGRESS_FROM = 10_000
"""Show a progress bar from this many users on (the full data has about 206,000)."""


def users(data: DataOpt = BUNDLED_DATA_DIR, cache_dir: CacheOpt = None) -> None:
    """List the users with a history (orders with items) and their order counts, in user order."""
    histories = _index(data, cache_dir).histories
    ids = histories.user_ids
    counts = []
    with _progress(disable=len(ids) < PROGRESS_FROM) as progress:
        task = progress.add_task("counting orders", total=len(ids))
        for user in ids:
            counts.append(len(histories.get(user).orders))
            progress.advance(task)
    console.print(f"{'user':>8}  {'orders':>6}", highlight=False)
    for user, count in zip(ids, counts, strict=True):
        console.print(f"{user:>8}  {count:>6}", highlight=False)
    console.print(f"{len(ids):,} users with a history, {sum(counts):,} orders with items", highlight=False)
