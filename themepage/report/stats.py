"""The numbers an evaluation report shows: recall@K curves and bootstrap intervals over users.

Recall here is the definition of `themepage.metrics.ranking.recall_at_k` (a page read in order, a repeated
product counting once at its first position, 0 for an empty basket), computed for every K at once;
the core cannot import `metrics/`, and a test checks both agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from themepage.constants import SEED

BOOTSTRAP_SAMPLES = 2000
CONFIDENCE = 0.95


def recall_curve(ranked: Sequence[int], target: Iterable[int], max_k: int) -> list[float]:
    """recall@1 .. recall@max_k of one page against one basket."""
    wanted = set(target)
    seen: set[int] = set()
    hits, curve = 0, []
    distinct = [p for p in ranked if not (p in seen or seen.add(p))]
    for k in range(1, max_k + 1):
        if k <= len(distinct) and distinct[k - 1] in wanted:
            hits += 1
        curve.append(hits / len(wanted) if wanted else 0.0)
    return curve


def mean_recall_curve(pages: Iterable[tuple[Sequence[int], Iterable[int]]], max_k: int) -> list[float]:
    """The mean over users of their recall@K curves; an empty list of users gives zeros."""
    curves = [recall_curve(ranked, target, max_k) for ranked, target in pages]
    return np.mean(curves, axis=0).tolist() if curves else [0.0] * max_k


def bootstrap_interval(values: Sequence[float], samples: int = BOOTSTRAP_SAMPLES, confidence: float = CONFIDENCE,
                       seed: int = SEED) -> tuple[float, float, float] | None:
    """(mean, low, high): the mean and its percentile bootstrap interval, resampling users; None if no values.

    `scipy.stats.bootstrap` with method="percentile": `samples` resamples of the users with replacement,
    the (1 - confidence) / 2 and (1 + confidence) / 2 quantiles of their means. Seeded, so reports repeat.
    One user has nothing to resample: the interval is the value itself.
    """
    from scipy.stats import bootstrap  # scipy.stats loads slowly; only a report with intervals needs it

    data = np.asarray([float(v) for v in values], dtype=float)
    if data.size == 0:
        return None
    mean = float(data.mean())
    if data.size == 1:
        return mean, mean, mean
    result = bootstrap((data,), np.mean, n_resamples=samples, confidence_level=confidence, method="percentile",
                       vectorized=True, rng=np.random.default_rng(seed))
    return mean, float(result.confidence_interval.low), float(result.confidence_interval.high)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (linear interpolation), 0 for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else 0.0
