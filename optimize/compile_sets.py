"""The examples a compile trains and validates on: a temporal hold-out that never holds an evaluated basket."""

from __future__ import annotations

import itertools

import dspy
import numpy as np

from themepage.constants import COMPILE_TRAIN_EXAMPLES, COMPILE_VAL_EXAMPLES
from themepage.dataset.cases import Case, held_out_order_ids
from themepage.index.protocol import Index
from themepage.trainsets.loader import SPLITS, read_cases, to_example


def spread(examples: list[dspy.Example], n: int) -> list[dspy.Example]:
    """n examples taken evenly across the list (covering many users), deterministically."""
    if len(examples) <= n:
        return list(examples)
    return [examples[i] for i in np.linspace(0, len(examples) - 1, n).round().astype(int)]


def recent_cuts(cases: list[Case], n: int) -> list[Case]:
    """n cases, every shopper's latest first: each user's last cut, then each user's second-to-last, and so on.

    Candidates mostly differ in how they treat particular shoppers, so validation weighs shoppers equally
    and, like evaluation, looks at each one's most recent orders.
    """
    by_user: dict[int, list[Case]] = {}
    for case in cases:
        by_user.setdefault(case.user_id, []).append(case)
    latest_first = [sorted(found, key=lambda c: -len(c.history.orders)) for found in by_user.values()]
    rounds = (found[i] for i in range(max(map(len, latest_first), default=0)) for found in latest_first
              if i < len(found))
    return list(itertools.islice(rounds, n))


def compile_sets(index: Index, train_size: int = COMPILE_TRAIN_EXAMPLES,
                 val_size: int = COMPILE_VAL_EXAMPLES) -> tuple[list[dspy.Example], list[dspy.Example]]:
    """(trainset, valset) for compiling, a temporal hold-out: no set holds any user's evaluated basket.

    The valset holds every shopper's most recent earlier orders (`recent_cuts`, train and dev users), the
    trainset (demos, GEPA's reflection minibatches) train users' next most recent ones. Evaluation then scores
    each user's next basket, which compiling never saw, and demos never come from dev users.
    """
    evaluated = held_out_order_ids(index.histories)
    cases = {split: [c for c in read_cases(split) if c.target_order_id not in evaluated] for split in SPLITS}
    valset = recent_cuts(cases["train"] + cases["dev"], val_size)
    chosen = {(c.user_id, c.target_order_id) for c in valset}
    train = [c for c in cases["train"] if (c.user_id, c.target_order_id) not in chosen]
    return [to_example(c) for c in recent_cuts(train, train_size)], [to_example(c) for c in valset]
