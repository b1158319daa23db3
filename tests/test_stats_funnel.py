"""Tests for hitrate.stats.funnel: funnel-plot control limits, flags with FDR control, overdispersion."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests

from hitrate.stats.funnel_plot import NO_ATTEMPTS, funnel_flags, funnel_limits, overdispersion

# Exact binomial limits with Spiegelhalter's interpolation, computed in exact rational arithmetic
# (no scipy) with:
#
#     from fractions import Fraction
#     from math import comb
#
#     def limits(n, p0, level):
#         p = Fraction(p0)
#         pmf = [comb(n, y) * p**y * (1 - p) ** (n - y) for y in range(n + 1)]
#         cdf = [sum(pmf[: y + 1]) for y in range(n + 1)]
#         tail = (1 - Fraction(level)) / 2
#         r = next(y for y in range(n + 1) if cdf[y] >= tail)
#         low = (r - (cdf[r] - tail) / pmf[r]) / n
#         r = next(y for y in range(n + 1) if cdf[y] >= 1 - tail)
#         high = (r + 1 - (cdf[r] - (1 - tail)) / pmf[r]) / n
#         return float(max(low, 0)), float(min(high, 1))
HAND_LIMITS = [
    (20, 0.3, 0.95, 0.08117650598067584, 0.5372551465951471),
    (20, 0.3, 0.998, 0.0014773166882814952, 0.6636996793479673),
    (100, 0.25, 0.95, 0.16235496649599843, 0.3423232495931444),
    (100, 0.25, 0.998, 0.11956716731812833, 0.3956066228064442),
    (57, 0.6, 0.95, 0.4618850239959878, 0.7343489892233005),
    (57, 0.6, 0.998, 0.38753177923831134, 0.8030919022549509),
    (400, 0.05, 0.95, 0.028404315774872093, 0.07372200055469512),
    (400, 0.05, 0.998, 0.0183660554745364, 0.08798532971094826),
]


@pytest.mark.parametrize(("n", "p0", "level", "low", "high"), HAND_LIMITS)
def test_limits_match_hand_computed_exact_quantiles(n: int, p0: float, level: float, low: float, high: float) -> None:
    got_low, got_high = funnel_limits([n], p0, levels=(level,))[level]
    assert got_low[0] == pytest.approx(low, rel=1e-9)
    assert got_high[0] == pytest.approx(high, rel=1e-9)


def test_limits_shape_keys_and_empty_groups() -> None:
    n = np.array([[0, 10], [100, 1000]])
    limits = funnel_limits(n, 0.3)
    assert list(limits) == [0.95, 0.998]
    for low, high in limits.values():
        assert low.shape == high.shape == (2, 2)
        assert np.isnan(low[0, 0]) and np.isnan(high[0, 0])
        assert np.all(np.isfinite(low[n > 0]))
    # 99.8 % funnel is wider than the 95 % one
    assert np.all(limits[0.998][0][n > 0] <= limits[0.95][0][n > 0])
    assert np.all(limits[0.998][1][n > 0] >= limits[0.95][1][n > 0])


def test_limits_contain_p0_and_narrow_as_attempts_grow() -> None:
    n = np.arange(1, 2001)
    for p0 in (0.02, 0.2, 0.5, 0.85):
        for level, (low, high) in funnel_limits(n, p0).items():
            assert np.all((low >= 0) & (low <= p0) & (p0 <= high) & (high <= 1)), (p0, level)
            width = high - low
            # smooth, not monotone step by step, but four times the attempts is always narrower
            assert np.all(width[3::4][: len(n) // 4 - 1] < width[: len(n) // 4 - 1] + 1e-12)
            assert width[-1] < width[99] < width[9]
            # the width shrinks like 1/sqrt(n): 2000 attempts vs 500 halves it, within 10 %
            assert width[1999] / width[499] == pytest.approx(0.5, rel=0.1)


def test_limits_are_symmetric() -> None:
    """The lower and upper formulas mirror each other: limits for p0 and 1 - p0 are reflections."""
    n = np.arange(1, 300)
    for p0 in (0.5, 0.13):
        for level in (0.95, 0.998):
            low, high = funnel_limits(n, p0, (level,))[level]
            low_m, high_m = funnel_limits(n, 1 - p0, (level,))[level]
            assert np.allclose(low, 1 - high_m, atol=1e-9)
            assert np.allclose(high, 1 - low_m, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 500), st.floats(0.001, 0.999), st.floats(0.5, 0.999))
def test_outside_the_funnel_iff_exact_test_rejects(n: int, p0: float, level: float) -> None:
    """A rate k/n is strictly outside the level-L funnel exactly when its raw p-value is below 1 - L."""
    low, high = funnel_limits([n], p0, (level,))[level]
    k = np.arange(n + 1)
    outside = (k / n < low[0]) | (k / n > high[0])
    flags, p, _ = funnel_flags(k, np.full(n + 1, n), p0=p0, alpha=1 - level, method="none")
    assert np.array_equal(outside, p < 1 - level)
    assert np.array_equal(outside, flags != "within")


def test_p_values_match_scipy_binomtest_one_sided_tails() -> None:
    """Two-sided p = min(1, 2 * smaller one-sided tail), the tails from scipy.stats.binomtest."""
    rng = np.random.default_rng(3)
    n = rng.integers(1, 300, size=40)
    k = rng.binomial(n, 0.3)
    _, p, _ = funnel_flags(k, n, p0=0.27)
    for ki, ni, pi in zip(k, n, p, strict=True):
        less = stats.binomtest(int(ki), int(ni), 0.27, alternative="less").pvalue
        greater = stats.binomtest(int(ki), int(ni), 0.27, alternative="greater").pvalue
        assert pi == pytest.approx(min(1.0, 2 * min(less, greater)), rel=1e-9, abs=1e-300)


def test_q_values_are_benjamini_hochberg() -> None:
    rng = np.random.default_rng(4)
    n = rng.integers(10, 500, size=60)
    k = rng.binomial(n, rng.uniform(0.2, 0.4, size=60))
    n[5] = 0
    k[5] = 0
    flags, p, q = funnel_flags(k, n)
    assert np.isnan(p[5]) and np.isnan(q[5]) and flags[5] == NO_ATTEMPTS
    keep = n > 0
    ref = multipletests(p[keep], alpha=0.05, method="fdr_bh")[1]
    assert np.allclose(q[keep], ref, rtol=1e-12)


def test_default_p0_is_the_pooled_rate() -> None:
    k, n = np.array([10, 30, 5, 0]), np.array([100, 150, 20, 0])
    a = funnel_flags(k, n)
    b = funnel_flags(k, n, p0=45 / 270)
    assert np.array_equal(a[0], b[0]) and np.allclose(a[1][:3], b[1][:3]) and np.allclose(a[2][:3], b[2][:3])


def test_false_alarms_under_the_null_fdr_versus_raw() -> None:
    """50 groups all Binomial(n, 0.25), n from 20 to 400, 300 seeds.

    With Benjamini-Hochberg the share of seeds with ANY flag stays near alpha = 0.05 (under the
    complete null the false discovery rate is the chance of any false alarm); with raw p-values
    most seeds raise at least one false alarm. Seen: 0.05 (FDR) and 0.86 (raw).
    """
    any_fdr = any_raw = 0
    for seed in range(300):
        rng = np.random.default_rng(seed)
        n = rng.integers(20, 401, size=50)
        k = rng.binomial(n, 0.25)
        flags, _, _ = funnel_flags(k, n, alpha=0.05)
        raw, _, _ = funnel_flags(k, n, alpha=0.05, method="none")
        any_fdr += bool(np.any(flags != "within"))
        any_raw += bool(np.any(raw != "within"))
    assert any_fdr / 300 <= 0.05 + 0.03
    assert any_raw / 300 >= 0.6


def test_truly_different_groups_are_flagged_with_direction() -> None:
    rng = np.random.default_rng(11)
    n = rng.integers(50, 300, size=40)
    p = np.full(40, 0.2)
    n[0], p[0] = 1500, 0.3  # truly higher, large
    n[1], p[1] = 1500, 0.12  # truly lower, large
    n[2], p[2] = 8, 0.6  # higher but tiny: not enough evidence
    k = rng.binomial(n, p)
    k[2] = 5
    flags, p_values, q_values = funnel_flags(k, n)
    assert flags[0] == "above" and flags[1] == "below"
    assert flags[2] == "within" and p_values[2] < 0.05 < q_values[2]
    assert np.sum(flags[3:] != "within") <= 1


def test_degenerate_p0() -> None:
    flags, p, _ = funnel_flags([0, 0, 0], [5, 10, 0])  # pooled rate 0
    assert list(flags) == ["within", "within", NO_ATTEMPTS] and np.allclose(p[:2], 1.0)
    flags, p, _ = funnel_flags([0, 2], [5, 10], p0=0.0)
    assert list(flags) == ["within", "above"] and p[1] == 0.0


def test_overdispersion_hand_value_and_behaviour() -> None:
    k, n = np.array([10, 30, 5, 0]), np.array([100, 150, 20, 0])
    p0 = 45 / 270
    chi2 = sum((ki - ni * p0) ** 2 / (ni * p0 * (1 - p0)) for ki, ni in [(10, 100), (30, 150), (5, 20)])
    assert overdispersion(k, n) == pytest.approx(chi2 / 2)
    chi2_given = sum((ki - ni * 0.2) ** 2 / (ni * 0.2 * 0.8) for ki, ni in [(10, 100), (30, 150), (5, 20)])
    assert overdispersion(k, n, p0=0.2) == pytest.approx(chi2_given / 3)
    binomial, spread = [], []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        n = rng.integers(50, 500, size=40)
        binomial.append(overdispersion(rng.binomial(n, 0.3), n))
        spread.append(overdispersion(rng.binomial(n, rng.beta(6, 14, size=40)), n))
    assert np.mean(binomial) == pytest.approx(1.0, abs=0.1)
    assert np.mean(spread) > 5
    assert np.isnan(overdispersion([3], [10]))
    assert np.isnan(overdispersion([0, 0], [10, 20]))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: funnel_limits([10], 1.5), r"'p0' parameter of funnel_limits must be in \[0, 1\]\. Got 1\.5 instead\."),
        (lambda: funnel_limits([10], 0.3, levels=(1.5,)), r"'levels' parameter of funnel_limits .* Got 1\.5 instead\."),
        (lambda: funnel_limits([2.5], 0.3), "'attempts' parameter of funnel_limits"),
        (
            lambda: funnel_flags([1], [2], alpha=0.0),
            r"'alpha' parameter of funnel_flags must be in \(0, 1\)\. Got 0\.0",
        ),
        (lambda: funnel_flags([1], [2], method="bonferroni"), "'method' parameter of funnel_flags"),
        (lambda: funnel_flags([1], [2], p0=1.2), r"'p0' parameter of funnel_flags must be in \[0, 1\]"),
        (lambda: funnel_flags([3], [2]), "0 <= hits <= attempts"),
        (lambda: funnel_flags([0], [0]), "at least one group with attempts"),
        (lambda: overdispersion([1, 2], [3]), "same shape"),
    ],
)
def test_errors_name_the_parameter(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]
