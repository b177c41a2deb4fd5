"""What each library theme's row can hold: the distinct products its queries find by name that fit its title.

Not a test: a script (about ten seconds), for whoever edits `themepage/library/theme_bank.toml`.

    cd /work/main && .venv/bin/python bench/library_rows.py                      # counts over every grocery theme
    cd /work/main && .venv/bin/python bench/library_rows.py --ids pancake-sunday  # ... and the products of these

A library theme's row holds what its queries find by a word of the product's own name in its aisles
(`programs.retrieval.query_hits`), at a fit of at least MIN_TITLE_FIT under its title, no two of them near-duplicates
by the page rules' measure (ROW_DUPLICATE_CHANCE), and at most one other product (`row_bound`). A theme with fewer
than a row's worth of such products makes a short row. Whether each listed product truly belongs is a reader's
call: the fit model rates many aisle-mates kindly (the labels, `themepage/data/DATA.md`, are the check).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from themepage.constants import (  # noqa: E402
    BUNDLED_DATA_DIR,
    CANDIDATES_PER_THEME,
    PRODUCTS_PER_PLACEMENT,
    ROW_DUPLICATE_CHANCE,  # noqa: E402
)
from themepage.dataset.history import UserHistory  # noqa: E402
from themepage.index import CatalogIndex  # noqa: E402
from themepage.library.theme_bank import load_theme_bank  # noqa: E402
from themepage.page import Theme  # noqa: E402
from themepage.programs.retrieval import FIT_DEPTH, gather, query_hits  # noqa: E402
from themepage.programs.rules.duplicates import EvidenceCache  # noqa: E402
from themepage.programs.rules.row_lengths import MIN_TITLE_FIT  # noqa: E402
from themepage.quality import placement_scorer  # noqa: E402

POOL = 400
"""Candidates read per theme (retrieval's order, no shopper): deep enough to reach every query's finds."""


def distinct_finds(theme: Theme, index: CatalogIndex, cache: EvidenceCache) -> list[tuple[int, float]]:
    """(product, fit) of the distinct fitting products the theme's queries find, in retrieval order."""
    found = query_hits(index, theme, FIT_DEPTH * CANDIDATES_PER_THEME)
    order = [p for p in gather(index, theme, UserHistory(user_id=0), POOL) if p in found]
    row: list[tuple[int, float]] = []
    for product, fit in zip(order, cache.fits(theme.title, order) if order else [], strict=True):
        ids = [p for p, _ in row]
        if fit >= MIN_TITLE_FIT and not cache.near_duplicates_of(product, [*ids, product], ROW_DUPLICATE_CHANCE,
                                                                 across_rows=False):
            row.append((product, fit))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", default="", help="comma-separated theme ids whose products to list")
    args = parser.parse_args()
    index = CatalogIndex.open(BUNDLED_DATA_DIR)
    cache = EvidenceCache(placement_scorer(index))
    listed = {i for i in args.ids.split(",") if i}
    counts = {}
    for bank_theme in load_theme_bank():
        if "personal" in bank_theme.tags:
            continue
        theme = Theme(title=bank_theme.title, queries=list(bank_theme.queries), aisles=list(bank_theme.aisles))
        row = distinct_finds(theme, index, cache)
        counts[bank_theme.id] = len(row)
        if bank_theme.id in listed:
            print(f"{bank_theme.id}: {bank_theme.title!r}, queries {bank_theme.queries}: {len(row)} distinct")
            for product, fit in row:
                print(f"    {fit:.2f}  {index.catalog.name(product)}  [{index.catalog.aisle(product)}]")
    full = PRODUCTS_PER_PLACEMENT
    spread = collections.Counter(min(n, full) for n in counts.values())
    print(f"{len(counts)} grocery themes; distinct fitting products found by name ({full} = {full} or more): "
          f"{dict(sorted(spread.items()))}")
    print(f"a full row ({full}+): {sum(n >= full for n in counts.values())}; half a row or more: "
          f"{sum(n >= full // 2 for n in counts.values())}")
    print("shortest:", ", ".join(f"{i} {n}" for i, n in sorted(counts.items(), key=lambda x: x[1])[:12]))


if __name__ == "__main__":
    main()
