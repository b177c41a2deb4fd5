"""Write and read the labeled example files: one JSON case per line, split by user.

`train.jsonl` holds every cut (prior order k >= 3 as target) of the train users;
`dev.jsonl` the same for the dev users. The loader returns `dspy.Example`s whose
inputs are `user_id` and `history`; `target` is the label.
"""

from __future__ import annotations

from pathlib import Path

import dspy

from themepage.dataset import Histories
from themepage.dataset.cases import Case, training_cases
from themepage.dataset.model import PRIOR, Dataset

TRAINSETS_DIR = Path(__file__).resolve().parent
SPLITS = ("train", "dev")


def cases_for(dataset: Dataset, split: str) -> list[Case]:
    return training_cases(Histories(dataset, eval_sets=(PRIOR,)), split)


def write_trainsets(dataset: Dataset, folder: Path = TRAINSETS_DIR) -> dict[str, int]:
    """Write `<split>.jsonl` for each split; returns the number of cases written per split."""
    counts = {}
    for split in SPLITS:
        cases = cases_for(dataset, split)
        (folder / f"{split}.jsonl").write_text("".join(case.model_dump_json() + "\n" for case in cases))
        counts[split] = len(cases)
    return counts


def read_cases(split: str, folder: Path = TRAINSETS_DIR) -> list[Case]:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    path = folder / f"{split}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; write it with `themepage trainsets`")
    return [Case.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()]


def to_example(case: Case) -> dspy.Example:
    return dspy.Example(user_id=case.user_id, history=case.history, target=list(case.target)).with_inputs(
        "user_id", "history")


def load_examples(split: str = "train", folder: Path = TRAINSETS_DIR, limit: int | None = None) -> list[dspy.Example]:
    """The split's labeled examples, in file order (deterministic)."""
    cases = read_cases(split, folder)
    return [to_example(case) for case in cases[:limit]]
