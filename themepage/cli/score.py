"""`themepage score-placements FILE.jsonl`: product fit, near-duplicates, title fit and publishable per placement.

Reads one placement a line, `{"title": ..., "products": [id or {"product_id": id, ...}, ...]}` (other keys
ignored, so a label file or a page's placements work), and prints one JSON line per placement, in input
order: `fit` (one number in [0, 1] per product, in input order), `near_duplicates` (pairs of product ids),
`title_fit` and `publishable` (estimates in [0, 1]), from `themepage.quality`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from themepage.cli.common import CacheOpt, CliError, DataOpt, _index
from themepage.constants import BUNDLED_DATA_DIR


def product_id_of(item) -> int:
    """A product id given as an integer or as an object with an integer `product_id`."""
    value = item.get("product_id") if isinstance(item, dict) else item
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"a product must be an integer id or an object with one, got {json.dumps(item)[:60]}")
    return value


def read_placements(path: Path) -> list[tuple[str, list[int]]]:
    """(title, product ids) per non-blank line; CliError naming file and line on anything else."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    placements = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("title"), str):
                raise ValueError('expected an object with a string "title"')
            if not isinstance(row.get("products"), list):
                raise ValueError('expected a "products" list')
            placements.append((row["title"], [product_id_of(item) for item in row["products"]]))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            raise CliError(f"{path}:{number}: {exc}") from None
    return placements


def score_placements(file: Annotated[Path, typer.Argument(help="JSON Lines: one placement a line.")],
                     data: DataOpt = BUNDLED_DATA_DIR, cache_dir: CacheOpt = None) -> None:
    """Score each placement of FILE: product fit, near-duplicate pairs, title fit, publishable (JSON Lines out)."""
    from themepage.quality import placement_scorer

    placements = read_placements(file)
    scorer = placement_scorer(_index(data, cache_dir))
    for number, (title, ids) in enumerate(placements, start=1):
        unknown = [p for p in ids if p not in scorer.index.catalog]
        if unknown:
            raise CliError(f"{file}: placement {number}: unknown product id {unknown[0]}")
        print(json.dumps(scorer.score(title, ids).as_json()), flush=True)
