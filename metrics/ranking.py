"""Ranking metrics of a page against the real next basket.

A page is read placement by placement, left to right; a product shown twice
counts once, at its first position. Relevance is binary: in the basket or not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def first_occurrences(product_ids: Iterable[int]) -> list[int]:
    """The products in reading order with repeats removed."""
    seen: set[int] = set()
    return [p for p in product_ids if not (p in seen or seen.add(p))]


def recall_at_k(ranked: Sequence[int], target: Iterable[int], k: int) -> float:
    """Share of the basket found in the first k distinct products; in [0, 1], 0 for an empty basket."""
    target = set(target)
    if not target:
        return 0.0
    return len(set(first_occurrences(ranked)[:k]) & target) / len(target)


def ndcg_at_k(ranked: Sequence[int], target: Iterable[int], k: int) -> float:
    """Normalized discounted cumulative gain with binary gains (Jarvelin & Kekalainen, 2002); in [0, 1].

    DCG = sum over hits at 0-based rank i < k of 1 / log2(i + 2); IDCG places min(k, |basket|) hits first.
    """
    target = set(target)
    if not target:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, p in enumerate(first_occurrences(ranked)[:k]) if p in target)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(target))))
    return dcg / ideal
