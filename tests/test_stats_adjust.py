"""Tests for hitrate.stats.adjust: indirect standardisation of hit rates for lead mix."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2, gamma

from hitrate.stats import adjust
from hitrate.stats.adjust import Adjusted, garwood_interval, indirect_standardise


def test_hand_computed_two_groups_two_strata() -> None:
    """Two groups x two strata (0 = weak leads, 1 = strong leads), computed by hand.

    Generating code / arithmetic::

        group A: stratum 0  8/80, stratum 1 10/20   -> raw 18/100 = 0.18
        group B: stratum 0  4/20, stratum 1 30/80   -> raw 34/100 = 0.34
        p_0 = (8 + 4) / (80 + 20) = 0.12,  p_1 = (10 + 30) / (20 + 80) = 0.40
        E_A = 80*0.12 + 20*0.40 = 17.6,    E_B = 20*0.12 + 80*0.40 = 34.4   (sum 52 = 18 + 34)
        Q_A = 18/17.6 = 1.0227272727,      Q_B = 34/34.4 = 0.9883720930
        overall = 52/200 = 0.26
        adjusted_A = 0.26*18/17.6 = 0.2659090909,  adjusted_B = 0.26*34/34.4 = 0.2569767442
        Q interval = [chi2.ppf(0.025, 2O)/2, chi2.ppf(0.975, 2O+2)/2] / E
            O = 18: [10.6679, 28.4478] / 17.6,  O = 34: [23.5460, 47.5116] / 34.4
    """
    r = indirect_standardise([0, 0, 1, 1], [0, 1, 0, 1], [80, 20, 20, 80], [8, 10, 4, 30])
    assert isinstance(r, Adjusted)
    np.testing.assert_array_equal(r.groups, [0, 1])
    np.testing.assert_allclose(r.observed, [18, 34])
    np.testing.assert_allclose(r.expected, [17.6, 34.4], rtol=1e-12)
    np.testing.assert_allclose(r.quality_index, [18 / 17.6, 34 / 34.4], rtol=1e-12)
    assert r.overall_rate == pytest.approx(0.26)
    np.testing.assert_allclose(r.adjusted_rate, [0.2659090909, 0.2569767442], rtol=1e-9)
    np.testing.assert_allclose(r.quality_low * r.expected, [10.6679, 23.5460], atol=5e-4)
    np.testing.assert_allclose(r.quality_high * r.expected, [28.4478, 47.5116], atol=5e-4)
    np.testing.assert_allclose(r.adjusted_low, r.quality_low * 0.26, rtol=1e-12)
    np.testing.assert_allclose(r.adjusted_high, r.quality_high * 0.26, rtol=1e-12)
    assert "indirect standardisation" in r.method and "Garwood" in r.method


def test_docstring_example_runs() -> None:
    result = doctest.testmod(adjust, verbose=False)
    assert result.attempted >= 1
    assert result.failed == 0


def test_garwood_matches_published_table() -> None:
    """Exact Poisson 95 % limits as tabulated (e.g. Ulm 1990; Garwood 1936)."""
    low, high = garwood_interval([0, 1, 2, 10])
    np.testing.assert_allclose(low, [0.0, 0.0253, 0.2422, 4.7954], atol=1e-4)
    np.testing.assert_allclose(high, [3.6889, 5.5716, 7.2247, 18.3904], atol=1e-4)


def test_quality_interval_is_garwood_over_expected_and_matches_statsmodels() -> None:
    from statsmodels.stats.rates import confint_poisson

    rng = np.random.default_rng(7)
    groups = np.repeat(np.arange(6), 3)
    strata = np.tile(np.arange(3), 6)
    attempts = rng.integers(1, 60, size=groups.size)
    hits = rng.binomial(attempts, np.tile([0.05, 0.2, 0.6], 6))
    hits[groups == 0] = 0  # a group with no hits: lower bound 0
    for confidence in (0.9, 0.95, 0.99):
        r = indirect_standardise(groups, strata, attempts, hits, confidence)
        alpha = 1 - confidence
        # gamma-quantile form of the same interval
        g_low = np.where(r.observed > 0, gamma.ppf(alpha / 2, np.maximum(r.observed, 1e-300)), 0.0)
        g_high = gamma.ppf(1 - alpha / 2, r.observed + 1)
        np.testing.assert_allclose(r.quality_low, g_low / r.expected, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(r.quality_high, g_high / r.expected, rtol=1e-10)
        for i in range(r.groups.size):
            sm_low, sm_high = confint_poisson(r.observed[i], r.expected[i], method="exact-c", alpha=alpha)
            assert r.quality_low[i] == pytest.approx(float(sm_low), rel=1e-9, abs=1e-12)
            assert r.quality_high[i] == pytest.approx(float(sm_high), rel=1e-9)
        assert r.quality_low[0] == 0.0
        assert r.quality_high[0] == pytest.approx(chi2.ppf(1 - alpha / 2, 2) / 2 / r.expected[0])


def test_same_skill_different_mix_gives_same_quality() -> None:
    """KEY: equal true rates per stratum, opposite lead mixes -> raw rates far apart, quality ~1 for both.

    Group 0 works 900 weak leads (p = 0.1) and 100 strong ones (p = 0.5); group 1 the reverse.
    Raw rates are about 0.14 and 0.46. Over 200 seeds the two quality intervals must overlap in at
    least 95 % of seeds, each must cover 1 in at least 90 % of seeds, and the mean index must be
    within 0.02 of 1. (The crude ratio raw / overall would be about 0.47 and 1.53 and fail all three.)
    """
    groups = np.array([0, 0, 1, 1])
    strata = np.array([0, 1, 0, 1])
    attempts = np.array([900, 100, 100, 900])
    p = np.array([0.1, 0.5, 0.1, 0.5])
    seeds = 200
    overlap = 0
    covers = np.zeros(2)
    indexes = np.empty((seeds, 2))
    for seed in range(seeds):
        hits = np.random.default_rng(seed).binomial(attempts, p)
        raw = np.array([hits[:2].sum(), hits[2:].sum()]) / 1000
        assert raw[1] - raw[0] > 0.25  # the mixes really make the raw rates differ
        r = indirect_standardise(groups, strata, attempts, hits)
        overlap += int(r.quality_low[0] <= r.quality_high[1] and r.quality_low[1] <= r.quality_high[0])
        covers += (r.quality_low <= 1) & (r.quality_high >= 1)
        indexes[seed] = r.quality_index
    assert overlap >= 0.95 * seeds
    assert np.all(covers >= 0.90 * seeds)
    np.testing.assert_allclose(indexes.mean(axis=0), [1.0, 1.0], atol=0.02)


def test_truly_better_group_has_quality_above_one() -> None:
    """A group with 1.5x the odds of a hit in every stratum is clearly > 1 in large samples.

    The better group works mostly weak leads, so its RAW rate (about 0.26) is below that of a
    base-skill group working mostly strong leads (about 0.40); the quality index must reverse that.
    """
    base_p = np.array([0.1, 0.3, 0.5])
    odds = 1.5 * base_p / (1 - base_p)
    better_p = odds / (1 + odds)
    # group 0: base skill, even mix; group 1: better, mostly weak leads; group 2: base, mostly strong leads
    groups = np.repeat([0, 1, 2], 3)
    strata = np.tile([0, 1, 2], 3)
    attempts = np.array([3000, 3000, 3000, 6000, 3000, 1000, 1000, 3000, 6000])
    p = np.concatenate([base_p, better_p, base_p])
    for seed in range(20):
        hits = np.random.default_rng(seed).binomial(attempts, p)
        raw = np.bincount(groups, weights=hits) / np.bincount(groups, weights=attempts)
        assert raw[2] > raw[1] + 0.1
        r = indirect_standardise(groups, strata, attempts, hits)
        assert r.quality_low[1] > 1.0
        assert r.quality_index[1] > 1.08
        assert np.all(r.quality_high[[0, 2]] < r.quality_low[1])
        assert r.adjusted_rate[1] > r.adjusted_rate[2]


def test_expected_zero_gives_nan_without_crash() -> None:
    # group 5 only works stratum 1 where nobody hits; group 6 has a cell with no attempts
    r = indirect_standardise([4, 4, 5, 6], [0, 1, 1, 0], [10, 10, 7, 0], [3, 0, 0, 0])
    np.testing.assert_array_equal(r.groups, [4, 5, 6])
    np.testing.assert_array_equal(r.expected[1:], [0.0, 0.0])
    for field in ("quality_index", "quality_low", "quality_high", "adjusted_rate", "adjusted_low", "adjusted_high"):
        values = getattr(r, field)
        assert np.isnan(values[1:]).all(), field
        assert np.isfinite(values[0]), field


def test_all_zero_and_empty_inputs_do_not_crash() -> None:
    r = indirect_standardise([0, 1], [0, 0], [0, 0], [0, 0])
    assert np.isnan(r.overall_rate) and np.isnan(r.quality_index).all()
    empty = indirect_standardise([], [], [], [])
    assert empty.groups.size == 0 and np.isnan(empty.overall_rate)


def test_adjusted_rate_is_clipped_but_quality_is_not() -> None:
    # group 0 wins everything in stratum 0, where group 1 rarely wins; stratum 1 is very high-rate
    r = indirect_standardise([0, 1, 1], [0, 0, 1], [10, 90, 1000], [10, 0, 900])
    assert r.quality_index[0] == pytest.approx(10.0)  # E = 10 * 10/100 = 1
    assert r.overall_rate * r.quality_index[0] > 1
    assert r.adjusted_rate[0] == 1.0 and r.adjusted_high[0] == 1.0
    assert r.adjusted_low[0] <= r.adjusted_rate[0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hits": [5, 1]}, "'hits'.*hits=5.0 > attempts=4.0"),
        ({"hits": [-1, 1]}, "'hits'"),
        ({"attempts": [4.5, 3]}, "'attempts'"),
        ({"attempts": [4, 3, 2]}, "'attempts'"),
        ({"stratum_index": [0]}, "'stratum_index'"),
        ({"group_index": [0.5, 1]}, "'group_index'"),
        ({"confidence": 1.0}, "'confidence'.*1.0"),
    ],
)
def test_errors_name_the_parameter(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"group_index": [0, 1], "stratum_index": [0, 0], "attempts": [4, 3], "hits": [1, 1]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        indirect_standardise(**args)  # type: ignore[arg-type]


@st.composite
def crosstabs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    cells = draw(
        st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5)), min_size=1, max_size=25, unique=True),
    )
    attempts = np.array(draw(st.lists(st.integers(0, 200), min_size=len(cells), max_size=len(cells))))
    fractions = draw(st.lists(st.floats(0, 1), min_size=len(cells), max_size=len(cells)))
    hits = np.floor(attempts * np.array(fractions)).astype(int)
    g, s = (np.array(x) for x in zip(*cells, strict=True))
    return g, s, attempts, hits


@settings(max_examples=150, deadline=None)
@given(crosstabs())
def test_expected_sums_to_observed(tab: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> None:
    g, s, n, k = tab
    r = indirect_standardise(g, s, n, k)
    assert r.expected.sum() == pytest.approx(r.observed.sum(), rel=1e-9, abs=1e-9)
    assert r.observed.sum() == k.sum()
    finite = np.isfinite(r.quality_index)
    assert np.all(r.quality_low[finite] <= r.quality_index[finite])
    assert np.all(r.quality_index[finite] <= r.quality_high[finite])
    np.testing.assert_array_equal(r.groups, np.unique(g))


@settings(max_examples=100, deadline=None)
@given(crosstabs(), st.randoms(use_true_random=False))
def test_permuting_cells_changes_nothing(tab: tuple[np.ndarray, ...], rnd: object) -> None:
    g, s, n, k = tab
    order = np.arange(g.size)
    rnd.shuffle(order)  # type: ignore[attr-defined]
    a = indirect_standardise(g, s, n, k)
    b = indirect_standardise(g[order], s[order], n[order], k[order])
    assert a.overall_rate == b.overall_rate or (np.isnan(a.overall_rate) and np.isnan(b.overall_rate))
    for field in ("groups", "observed", "expected", "quality_index", "quality_low", "quality_high", "adjusted_rate"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=1e-12, atol=1e-12, err_msg=field)
