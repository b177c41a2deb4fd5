"""Labeled cases cut from order histories: what a program sees (history) and must predict (target).

The evaluation rule: a user's target is their train-set basket if they have one,
else their last prior order with items; their history is every earlier order with
items. Train orders are always a user's last orders, so both branches amount to
"the last order with items is the target". Users with no earlier order are skipped.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict

from themepage.dataset.history import Histories, UserHistory

MIN_TRAINING_CUT = 3
DEV_SHARE = 3
"""One user in DEV_SHARE (by a stable hash of the id) is held out as dev."""


class Case(BaseModel):
    """One labeled example: the history a program sees and the basket it should anticipate."""

    model_config = ConfigDict(frozen=True)

    user_id: int
    history: UserHistory
    target: tuple[int, ...]
    target_order_id: int


def split_of(user_id: int) -> str:
    """'dev' or 'train', fixed per user so no user's orders straddle the split."""
    digest = hashlib.blake2b(str(user_id).encode(), digest_size=4).digest()
    return "dev" if int.from_bytes(digest, "big") % DEV_SHARE == 0 else "train"


def cut(history: UserHistory, k: int) -> Case:
    """The case whose target is the user's k-th order with items (1-based), history the orders before it."""
    target = history.orders[k - 1]
    return Case(user_id=history.user_id, history=UserHistory(user_id=history.user_id, orders=history.orders[:k - 1]),
                target=target.products, target_order_id=target.order_id)


def evaluation_cases(histories: Histories, split: str = "all") -> list[Case]:
    """One case per user with a history, under the evaluation rule; `split` is all, train or dev."""
    cases = []
    for user_id in histories.user_ids:
        if split != "all" and split_of(user_id) != split:
            continue
        full = histories.get(user_id)
        if len(full.orders) >= 2:
            cases.append(cut(full, len(full.orders)))
    return cases


def training_cases(prior_histories: Histories, split: str = "train") -> list[Case]:
    """Every prior order k >= 3 of each user in `split` as a target, the orders before it as history.

    Takes histories of prior orders only (`Histories(dataset, eval_sets=(PRIOR,))`).
    """
    cases = []
    for user_id in prior_histories.user_ids:
        if split != "all" and split_of(user_id) != split:
            continue
        full = prior_histories.get(user_id)
        cases.extend(cut(full, k) for k in range(MIN_TRAINING_CUT, len(full.orders) + 1))
    return cases


def evaluation_case_count(histories: Histories) -> int:
    """How many cases `evaluation_cases(histories)` makes (users with two or more orders), without making them."""
    return int((histories.order_counts() >= 2).sum())


def held_out_order_ids(histories: Histories) -> set[int]:
    """Evaluation targets, kept out of co-purchase and popularity statistics so evaluation never sees them.

    The target order of every case `evaluation_cases` makes (each user's last order with items, where
    they have an earlier one), computed on the columns in one pass instead of one history per user.
    """
    return set(histories.last_order_ids()[histories.order_counts() >= 2].tolist())
