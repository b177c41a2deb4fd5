"""Bootstrap intervals over users (themepage.report.stats.bootstrap_interval): scipy's percentile bootstrap."""

import numpy as np
import pytest
from scipy.stats import bootstrap

from themepage.report.stats import bootstrap_interval


def test_no_values_have_no_interval():
    assert bootstrap_interval([]) is None


def test_a_degenerate_sample_is_its_own_interval():
    assert bootstrap_interval([0.4] * 5) == pytest.approx((0.4, 0.4, 0.4))
    assert bootstrap_interval([0.7]) == pytest.approx((0.7, 0.7, 0.7))


def test_two_users_span_both_values():
    """Resampling 0.2 and 0.6 gives means 0.2, 0.4, 0.6 with chances 1/4, 1/2, 1/4: the 2.5% and 97.5%
    quantiles are the two values themselves."""
    assert bootstrap_interval([0.6, 0.2]) == pytest.approx((0.4, 0.2, 0.6))


def test_the_interval_holds_the_mean_and_narrows_with_more_users():
    widths = []
    for users in (10, 40, 160):
        values = [0.0, 1.0] * (users // 2)
        interval = bootstrap_interval(values)
        assert interval is not None
        mean, low, high = interval
        assert mean == 0.5 and 0.0 <= low < mean < high <= 1.0
        widths.append(high - low)
    assert widths[0] > widths[1] > widths[2]


def test_the_interval_is_near_the_normal_one_and_repeats():
    values = [0.0] * 50 + [1.0] * 50
    interval = bootstrap_interval(values)
    assert interval is not None
    _, low, high = interval
    half_width = 1.96 * np.sqrt(0.25 / 100)  # the normal approximation
    assert low == pytest.approx(0.5 - half_width, abs=0.03) and high == pytest.approx(0.5 + half_width, abs=0.03)
    assert bootstrap_interval(values) == interval


def test_it_is_scipys_percentile_bootstrap_with_a_fixed_seed():
    values = [0.1, 0.9, 0.3, 0.35, 0.8, 0.05, 0.6]
    expected = bootstrap((np.array(values),), np.mean, n_resamples=500, confidence_level=0.9, method="percentile",
                         rng=np.random.default_rng(3)).confidence_interval
    assert bootstrap_interval(values, samples=500, confidence=0.9, seed=3) == pytest.approx(
        (np.mean(values), expected.low, expected.high))


def test_the_resampling_is_left_to_scipy(monkeypatch):
    import scipy.stats

    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return bootstrap(*args, **kwargs)

    monkeypatch.setattr(scipy.stats, "bootstrap", spy)
    bootstrap_interval([0.2, 0.4, 0.9], samples=100)
    assert [(c["method"], c["n_resamples"]) for c in calls] == [("percentile", 100)]
