"""Row normalising: the one helper every score that compares vectors by cosine uses."""

from __future__ import annotations

import numpy as np


def unit_rows(matrix: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """Rows scaled to unit length (a 1-D input is one row), as `dtype`; all-zero rows stay zero."""
    matrix = np.atleast_2d(np.asarray(matrix, dtype=dtype))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def cosine_to(rows: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Cosine of each row to one anchor vector, in [-1, 1]; zeros where a row or the anchor is zero."""
    if len(rows) == 0:
        return np.zeros(0)
    return unit_rows(rows) @ unit_rows(anchor)[0]
