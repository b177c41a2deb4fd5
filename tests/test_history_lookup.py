"""History lookups stay slices at Kaggle scale: no copy of the item table per order (issue #12, 32M rows)."""

from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np

from themepage.constants import BUNDLED_DATA_DIR
from themepage.dataset import Histories, read_dataset

FILLER_ROWS = 2_000_000


def _with_filler_items(dataset):
    """The dataset with FILLER_ROWS extra int32 item rows of orders no user has (the columns' own dtypes kept)."""
    prior = dataset.prior
    start = int(dataset.orders.order_ids.max()) + 1
    extra = {"order_ids": np.arange(start, start + FILLER_ROWS), "product_ids": np.ones(FILLER_ROWS),
             "add_to_cart": np.ones(FILLER_ROWS), "reordered": np.zeros(FILLER_ROWS)}
    columns = {f.name: np.concatenate([getattr(prior, f.name), extra[f.name].astype(np.int32)])
               for f in dataclasses.fields(prior)}
    return dataclasses.replace(dataset, prior=dataclasses.replace(prior, **{k: v.astype(np.int32)
                                                                            for k, v in columns.items()}))


def test_a_history_lookup_allocates_nothing_like_the_item_table():
    dataset = read_dataset(BUNDLED_DATA_DIR)
    plain, big = Histories(dataset), Histories(_with_filler_items(dataset))
    user = plain.user_ids[0]
    tracemalloc.start()
    try:
        history = big.get(user)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert history == plain.get(user)
    assert peak < FILLER_ROWS  # one int64 copy of the item orders would be 8 bytes a row


def test_user_ids_outside_the_column_dtype_are_absent():
    histories = Histories(_with_filler_items(read_dataset(BUNDLED_DATA_DIR)))
    assert 2**40 not in histories and -(2**40) not in histories
    assert histories.user_ids[0] in histories
