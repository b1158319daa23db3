"""Tests for hitrate.stats.compare: difference of two proportions and period-over-period flags."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency, fisher_exact
from statsmodels.stats import proportion as sm_proportion
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from hitrate.stats.compare import (
    Difference,
    _newcombe,
    benjamini_hochberg,
    change_flags,
    compare_proportions,
)

# Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score), 95 %.
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_TABLE_II)
def test_newcombe_interval_matches_published_table(
    counts: tuple[int, int, int, int], published: tuple[float, float]
) -> None:
    d = compare_proportions(*counts)
    assert d.low == pytest.approx(published[0], abs=5e-5)
    assert d.high == pytest.approx(published[1], abs=5e-5)
    sm_low, sm_high = confint_proportions_2indep(*counts, method="newcomb", compare="diff")
    assert d.low == pytest.approx(float(sm_low), abs=1e-12)
    assert d.high == pytest.approx(float(sm_high), abs=1e-12)


def test_worked_example_fields() -> None:
    d = compare_proportions(56, 70, 48, 80)
    assert isinstance(d, Difference)
    assert (d.hits_a, d.attempts_a, d.hits_b, d.attempts_b) == (56, 70, 48, 80)
    assert d.rate_a == 0.8 and d.rate_b == 0.6
    assert d.difference == pytest.approx(0.2)
    # all expected cells >= 5 -> Pearson chi-square without continuity correction
    chi2, p, _, _ = chi2_contingency([[56, 14], [48, 32]], correction=False)
    assert d.p_value == pytest.approx(p, rel=1e-10)
    assert d.p_value == pytest.approx(0.008045, abs=1e-6)
    assert "Newcombe" in d.method and "Pearson" in d.method


def test_small_expected_cell_switches_to_fisher() -> None:
    # expected hits per arm = 10 * 3/20 = 1.5 < 5 -> Fisher exact
    d = compare_proportions(3, 10, 0, 10)
    assert d.p_value == pytest.approx(fisher_exact([[3, 7], [0, 10]]).pvalue, rel=1e-12)
    pearson = chi2_contingency([[3, 7], [0, 10]], correction=False)[1]
    assert abs(d.p_value - pearson) > 0.1  # the rule matters here
    assert "Fisher" in d.method


def test_zero_and_full_arms() -> None:
    d = compare_proportions(0, 12, 12, 12)
    assert d.difference == -1.0 and d.low == pytest.approx(-1.0) and -1.0 < d.high < 0
    sm = confint_proportions_2indep(0, 12, 12, 12, method="newcomb", compare="diff")
    assert (d.low, d.high) == pytest.approx((float(sm[0]), float(sm[1])), abs=1e-12)
    # expected cells are all 6 >= 5, so the Pearson test applies (chi-square 24 on 1 df)
    assert d.p_value == pytest.approx(chi2_contingency([[0, 12], [12, 0]], correction=False)[1], rel=1e-10)
    tiny = compare_proportions(0, 4, 4, 4)  # expected cells 2 < 5 -> Fisher
    assert tiny.p_value == pytest.approx(fisher_exact([[0, 4], [4, 0]]).pvalue, rel=1e-12)
    assert (tiny.low, tiny.high) == pytest.approx(
        tuple(float(x) for x in confint_proportions_2indep(0, 4, 4, 4, method="newcomb", compare="diff")), abs=1e-12
    )
    same = compare_proportions(0, 30, 0, 50)
    assert same.difference == 0.0 and same.p_value == 1.0 and same.low < 0 < same.high
    full = compare_proportions(40, 40, 50, 50)
    assert full.p_value == 1.0 and np.isfinite([full.low, full.high]).all()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0, 0, 3, 10), "'attempts_a'.*> 0.*Got 0"),
        ((3, 10, 0, 0), "'attempts_b'.*> 0.*Got 0"),
        ((11, 10, 3, 10), "'hits_a'.*hits_a=11.0, attempts_a=10.0"),
        ((-1, 10, 3, 10), "'hits_a'"),
        ((3, 10, 3, -2), "'attempts_b'"),
        ((3.5, 10, 3, 10), "'hits_a'.*whole"),
    ],
)
def test_errors_name_the_argument(args: tuple[float, float, float, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        compare_proportions(*args)  # type: ignore[arg-type]


def test_confidence_is_validated_and_used() -> None:
    with pytest.raises(ValueError, match="'confidence'.*1.5"):
        compare_proportions(1, 10, 2, 10, confidence=1.5)
    narrow = compare_proportions(56, 70, 48, 80, confidence=0.80)
    wide = compare_proportions(56, 70, 48, 80, confidence=0.99)
    sm = confint_proportions_2indep(56, 70, 48, 80, method="newcomb", compare="diff", alpha=0.01)
    assert (wide.low, wide.high) == pytest.approx((float(sm[0]), float(sm[1])), abs=1e-12)
    assert wide.low < narrow.low < narrow.high < wide.high


arm = st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning:statsmodels")
@settings(max_examples=200, deadline=None)
@given(arm, arm, st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_matches_statsmodels_and_scipy(a: tuple[int, int], b: tuple[int, int], confidence: float) -> None:
    (k1, n1), (k2, n2) = a, b
    d = compare_proportions(k1, n1, k2, n2, confidence)
    sm_low, sm_high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff", alpha=1 - confidence)
    assert d.low == pytest.approx(float(sm_low), abs=1e-9)
    assert d.high == pytest.approx(float(sm_high), abs=1e-9)
    assert -1.0 <= d.low <= d.difference <= d.high <= 1.0
    # p-value: the documented rule, checked against scipy / statsmodels
    pooled = (k1 + k2) / (n1 + n2)
    expected = [n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)]
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    if min(expected) < 5:
        assert d.p_value == pytest.approx(fisher_exact(table).pvalue, rel=1e-9, abs=1e-15)
        assert "Fisher" in d.method
    else:
        assert d.p_value == pytest.approx(chi2_contingency(table, correction=False)[1], rel=1e-7, abs=1e-15)
        score = sm_proportion.test_proportions_2indep(k1, n1, k2, n2, method="score", compare="diff", correction=False)
        assert d.p_value == pytest.approx(float(score.pvalue), rel=1e-7, abs=1e-15)
        assert "Pearson" in d.method
    # swapping the arms mirrors the interval and keeps the p-value
    s = compare_proportions(k2, n2, k1, n1, confidence)
    assert (s.low, s.high) == pytest.approx((-d.high, -d.low), abs=1e-12)
    assert s.p_value == pytest.approx(d.p_value, rel=1e-12)


def test_newcombe_coverage_near_nominal() -> None:
    """Simulated coverage of the 95 % interval for p1 = 0.3, p2 = 0.5, n = 40 and 25 (vectorised)."""
    rng = np.random.default_rng(3)
    sims = 20000
    k1 = rng.binomial(40, 0.3, sims).astype(float)
    k2 = rng.binomial(25, 0.5, sims).astype(float)
    low, high = _newcombe(k1, np.full(sims, 40.0), k2, np.full(sims, 25.0), 0.95)
    coverage = np.mean((low <= -0.2) & (high >= -0.2))
    assert 0.93 < coverage < 0.975


# ----------------------------------------------------------------------------- change_flags


def test_change_flags_first_period_and_directions() -> None:
    hits = [50, 52, 90, 88, 40]
    attempts = [200, 200, 200, 200, 200]
    diff, low, high, p, flag = change_flags(hits, attempts)
    assert np.isnan([diff[0], low[0], high[0], p[0]]).all() and flag[0] == ""
    np.testing.assert_allclose(diff[1:], [0.01, 0.19, -0.01, -0.24], atol=1e-12)
    assert flag.tolist() == ["", "", "up", "", "down"]
    # each period vs the previous one, as compare_proportions does, interval at 1 - alpha
    for t in range(1, 5):
        d = compare_proportions(hits[t], attempts[t], hits[t - 1], attempts[t - 1], confidence=0.95)
        assert (low[t], high[t]) == pytest.approx((d.low, d.high), abs=1e-12)
        assert diff[t] == pytest.approx(d.difference, abs=1e-12)


def test_change_flags_apply_benjamini_hochberg() -> None:
    """65/100 after 50/100 is 'significant' alone (p ~ 0.03) but not after BH over 4 comparisons."""
    alone = compare_proportions(65, 100, 50, 100)
    assert alone.p_value < 0.05
    diff, _, _, p, flag = change_flags([50, 50, 50, 50, 65], [100] * 5)
    raw = [compare_proportions(h, 100, 50, 100).p_value for h in (50, 50, 50, 65)]
    np.testing.assert_allclose(p[1:], multipletests(raw, method="fdr_bh")[1], rtol=1e-12)
    assert p[4] == pytest.approx(min(1.0, alone.p_value * 4))
    assert p[4] > 0.05
    assert flag.tolist() == [""] * 5
    # with only that one comparison the same change is flagged
    assert change_flags([50, 65], [100, 100])[4].tolist() == ["", "up"]


def test_change_flags_alpha_is_used() -> None:
    hits, attempts = [50, 65], [100, 100]
    p = change_flags(hits, attempts)[3][1]
    assert 0.01 < p < 0.05
    _, low, high, _, flag = change_flags(hits, attempts, alpha=0.01)
    assert flag.tolist() == ["", ""]
    d99 = compare_proportions(65, 100, 50, 100, confidence=0.99)  # intervals at confidence 1 - alpha
    assert (low[1], high[1]) == pytest.approx((d99.low, d99.high), abs=1e-12)
    with pytest.raises(ValueError, match="'alpha'.*0"):
        change_flags(hits, attempts, alpha=0.0)


def test_change_flags_empty_periods_and_short_series() -> None:
    diff, low, high, p, flag = change_flags([50, 0, 5, 90], [100, 0, 10, 100])
    assert np.isnan(diff[[0, 1, 2]]).all() and np.isnan(p[[0, 1, 2]]).all()
    assert np.isfinite([diff[3], low[3], high[3], p[3]]).all()
    # the only valid comparison (90/100 vs 5/10) is not diluted by the empty ones in the BH step
    assert p[3] == pytest.approx(compare_proportions(90, 100, 5, 10).p_value, rel=1e-12)
    assert flag.tolist() == ["", "", "", "up"]
    one = change_flags([3], [10])
    assert np.isnan(one[0]).all() and one[4].tolist() == [""]
    empty = change_flags([], [])
    assert all(x.size == 0 for x in empty)


@pytest.mark.parametrize(
    ("hits", "attempts", "match"),
    [
        ([1, 2], [3], "'attempts'.*same shape as 'hits'"),
        ([[1, 2]], [[3, 3]], "1-D"),
        ([4, 2], [3, 3], "'hits'.*hits=\\[4.0, 2.0\\]"),
        ([1, 2], [3, -3], "'attempts'"),
    ],
)
def test_change_flags_errors(hits: list[object], attempts: list[object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        change_flags(hits, attempts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 1)), max_size=30))
def test_benjamini_hochberg_matches_statsmodels(values: list[float | None]) -> None:
    p = np.array([np.nan if v is None else v for v in values], dtype=float)
    q = benjamini_hochberg(p)
    keep = ~np.isnan(p)
    assert np.array_equal(np.isnan(q), ~keep)
    if keep.any():
        np.testing.assert_allclose(q[keep], multipletests(p[keep], method="fdr_bh")[1], rtol=1e-12, atol=1e-15)
        assert np.all(q[keep] >= p[keep] * (1 - 1e-12))


def test_fisher_two_sided_equals_scipy() -> None:
    """Reference: ``scipy.stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue`` on 2,000 random tables
    (arms of 1-80 attempts, seed 5), including 0/n and n/n arms."""
    import numpy as np
    from scipy.stats import fisher_exact

    from hitrate.stats.compare import _fisher_two_sided

    rng = np.random.default_rng(5)
    for _ in range(2_000):
        n1, n2 = (int(v) for v in rng.integers(1, 80, 2))
        k1, k2 = int(rng.integers(0, n1 + 1)), int(rng.integers(0, n2 + 1))
        expected = fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
        assert abs(_fisher_two_sided(k1, n1, k2, n2) - expected) < 1e-12


def test_change_flags_of_many_series_at_once_equal_each_series_alone() -> None:
    """``groups=`` compares and adjusts every series on its own: the same arrays as one call per series
    (the per-group loop ``rates --period`` ran before), on 40 seeded series of 1 to 30 periods, some periods
    empty and some small enough for Fisher's test."""
    rng = np.random.default_rng(5)
    hits, attempts, labels, alone = [], [], [], []
    for g in range(40):
        size = int(rng.integers(1, 31))
        n = rng.integers(0, 60, size)
        k = rng.binomial(n, rng.uniform(0.1, 0.6))
        hits.append(k), attempts.append(n), labels.append(np.full(size, g)), alone.append(change_flags(k, n))
    together = change_flags(np.concatenate(hits), np.concatenate(attempts), groups=np.concatenate(labels))
    for i in range(5):
        expected = np.concatenate([a[i] for a in alone])
        if expected.dtype.kind == "f":
            np.testing.assert_array_equal(together[i], expected)
        else:
            assert together[i].tolist() == expected.tolist()


def test_benjamini_hochberg_per_group_equals_each_group_alone() -> None:
    rng = np.random.default_rng(9)
    p = rng.uniform(0, 0.2, 300)
    p[rng.integers(0, 300, 30)] = np.nan
    groups = rng.integers(0, 12, 300)
    together = benjamini_hochberg(p, groups)
    for g in range(12):
        np.testing.assert_array_equal(together[groups == g], benjamini_hochberg(p[groups == g]))
