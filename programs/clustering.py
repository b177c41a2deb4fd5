"""Balanced k-means: split a page's products into placements of equal size by co-purchase vectors."""

from __future__ import annotations

import numpy as np

from themepage.constants import SEED

ITERATIONS = 12


def _init_centres(vectors: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii, 2007), deterministic for a given seed."""
    centres = [vectors[0]]
    for _ in range(1, k):
        distance = np.min([np.sum((vectors - c) ** 2, axis=1) for c in centres], axis=0)
        total = distance.sum()
        choice = rng.choice(len(vectors), p=distance / total) if total > 0 else len(centres) % len(vectors)
        centres.append(vectors[choice])
    return np.array(centres)


def _assign(vectors: np.ndarray, centres: np.ndarray, capacity: int) -> np.ndarray:
    """Greedy capacitated assignment: closest (point, centre) pairs first, no centre over capacity."""
    distance = ((vectors[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    labels = np.full(len(vectors), -1)
    load = np.zeros(len(centres), dtype=int)
    for flat in np.argsort(distance, axis=None, kind="stable"):
        point, centre = divmod(int(flat), len(centres))
        if labels[point] < 0 and load[centre] < capacity:
            labels[point] = centre
            load[centre] += 1
    return labels


def balanced_kmeans(vectors: np.ndarray, k: int, seed: int = SEED) -> list[list[int]]:
    """Indices of `vectors` in k groups of (nearly) equal size, each group in input order."""
    n = len(vectors)
    k = max(1, min(k, n))
    if n == 0:
        return []
    capacity = -(-n // k)
    rng = np.random.default_rng(seed)
    centres = _init_centres(vectors, k, rng)
    labels = _assign(vectors, centres, capacity)
    for _ in range(ITERATIONS):
        centres = np.array([vectors[labels == c].mean(axis=0) if np.any(labels == c) else centres[c]
                            for c in range(k)])
        new = _assign(vectors, centres, capacity)
        if np.array_equal(new, labels):
            break
        labels = new
    return [np.flatnonzero(labels == c).tolist() for c in range(k) if np.any(labels == c)]


def improve_by_swaps(vectors: np.ndarray, groups: list[list[int]], rounds: int = 200) -> list[list[int]]:
    """Swap pairs of points between groups while a swap lowers the summed squared distance to the centres.

    Greedy capacitated assignment leaves the last points wherever room is left; each swap keeps the group
    sizes and strictly lowers the cost against the current centres, so the loop ends.
    """
    labels = np.full(len(vectors), -1)
    for g, members in enumerate(groups):
        labels[members] = g
    if len(groups) < 2:
        return [sorted(g) for g in groups]
    for _ in range(rounds):
        centres = np.array([vectors[labels == g].mean(axis=0) for g in range(len(groups))])
        distance = ((vectors[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        own = distance[np.arange(len(vectors)), labels]
        cross = distance[:, labels]  # cross[a, b] = distance of a to b's centre
        gain = own[:, None] + own[None, :] - cross - cross.T
        gain[labels[:, None] == labels[None, :]] = 0.0
        a, b = divmod(int(np.argmax(gain)), len(vectors))
        if gain[a, b] <= 1e-9:
            break
        labels[a], labels[b] = labels[b], labels[a]
    return [np.flatnonzero(labels == g).tolist() for g in range(len(groups))]
