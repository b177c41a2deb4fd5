"""`themepage trainsets`: rewrite the labeled example files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from themepage.cli.common import DataOpt, console
from themepage.constants import BUNDLED_DATA_DIR


def trainsets(data: DataOpt = BUNDLED_DATA_DIR,
              out: Annotated[Path | None, typer.Option("--out", help="Folder for train.jsonl and dev.jsonl.")] = None
              ) -> None:
    """Write the labeled example files (every prior order k >= 3 as a target), split by user."""
    from themepage.dataset import read_dataset
    from themepage.trainsets.loader import TRAINSETS_DIR, write_trainsets

    folder = out or TRAINSETS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    counts = write_trainsets(read_dataset(data), folder)
    console.print(", ".join(f"{split}: {n} examples" for split, n in counts.items()) + f" -> {folder}",
                  markup=False)
