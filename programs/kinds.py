"""What kind of product each one is, as one vector: its shelf (department, aisle), its name's meaning and
what it is bought with. Products close in this space can share a placement's name; co-purchase alone
put pistachios, paper towels and milk together because one shopper buys them in the same basket."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from themepage.index import CatalogIndex
from themepage.quality.evidence import centred_vectors
from themepage.quality.text import shared_embedder

DEPARTMENT_WEIGHT = 0.8
AISLE_WEIGHT = 1.0
NAME_WEIGHT = 0.8
COPURCHASE_WEIGHT = 0.4
"""Squared-distance shares of each view: two products of one aisle are 0 apart on the shelf views, two of
different departments sqrt(2 * (0.8^2 + 1^2)) apart; names and co-purchase (unit vectors) refine within."""


def one_hot(labels: Sequence[int]) -> np.ndarray:
    """Rows of a 0/1 matrix, one column per distinct label (columns in first-seen order)."""
    columns = {label: i for i, label in enumerate(dict.fromkeys(labels))}
    matrix = np.zeros((len(labels), len(columns)))
    for row, label in enumerate(labels):
        matrix[row, columns[label]] = 1.0
    return matrix


def kind_vectors(index: CatalogIndex, product_ids: Sequence[int]) -> np.ndarray:
    """One row per product: weighted [department one-hot | aisle one-hot | name embedding | co-purchase]."""
    ids = [int(p) for p in product_ids]
    if not ids:
        return np.zeros((0, 0))
    rows = index.rows(ids)
    departments = np.asarray(index.catalog.department_ids)[rows].tolist()
    aisles = np.asarray(index.catalog.aisle_ids)[rows].tolist()
    names = shared_embedder()([index.catalog.name(p) for p in ids])
    return np.hstack([DEPARTMENT_WEIGHT * one_hot(departments), AISLE_WEIGHT * one_hot(aisles),
                      NAME_WEIGHT * names, COPURCHASE_WEIGHT * centred_vectors(index, ids)])
