"""Speed work must not change pages: the offline pages of a fixed set of bundled users equal the committed snapshot.

`tests/page_snapshot.json` holds what the shopper sees (titles, rationales, product ids in order, fallbacks) of
both programs under two objectives for the first bundled users, made by the code before the page rules, the
evidence cache and the index lookups were sped up. A change that is meant to change pages rewrites it:
`PYTHONPATH=$PWD python tests/page_snapshot.py --write` (and says so in its commit).
"""

from __future__ import annotations

import json

from page_snapshot import SNAPSHOT, make_snapshot


def test_offline_pages_equal_the_snapshot():
    want = json.loads(SNAPSHOT.read_text())
    got = make_snapshot()
    assert sorted(got) == sorted(want)
    changed = [key for key in want if got[key] != want[key]]
    assert not changed, (f"{len(changed)} of {len(want)} pages changed, first {changed[0]}:\n"
                         f"snapshot {want[changed[0]]}\nnow      {got[changed[0]]}\n"
                         "(if the change is meant, rewrite tests/page_snapshot.json: see tests/page_snapshot.py)")


def test_warm_caches_make_the_same_pages():
    """A second pass in the same process (every per-process cache warm: evidence, pair features, rankings,
    well-seen rows) makes the same pages as the first."""
    assert make_snapshot(users=3) == make_snapshot(users=3)
