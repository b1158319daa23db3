"""Numbers of funnel_plot.py, adjust.py and shrinkage.py at the edges the mutation run found unpinned: groups of
one attempt, a reference rate of exactly 0 or 1, groups without attempts, labels of mixed types. Each is held to
the documented formula computed by hand (brute force, stated in the docstring) or to scipy. Fast: they run for
every mutant of those modules."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from hitrate.stats import change_flags, funnel_flags, funnel_limits, overdispersion, shrink, shrink_within
from hitrate.stats.adjust import indirect_standardise

HITS = np.array([0, 1, 3, 9, 0])
ATTEMPTS = np.array([0, 1, 10, 20, 4])  # a group without attempts and one with a single attempt


def _phi(k: np.ndarray, n: np.ndarray, p: float, df: int) -> float:
    """``Σ (k − n p)² / (n p (1 − p)) / df`` over the groups with attempts (the docstring's formula)."""
    used = n > 0
    return float(np.sum((k[used] - n[used] * p) ** 2 / (n[used] * p * (1 - p)))) / df


def test_overdispersion_counts_every_group_with_an_attempt() -> None:
    """Pooled: p = 13/35, df = 4 groups with attempts − 1; given p0 = 0.3: df = 4."""
    assert overdispersion(HITS, ATTEMPTS) == pytest.approx(_phi(HITS, ATTEMPTS, 13 / 35, 3), rel=1e-12)
    assert overdispersion(HITS, ATTEMPTS, p0=0.3) == pytest.approx(_phi(HITS, ATTEMPTS, 0.3, 4), rel=1e-12)
    # One group and a given p0: one degree of freedom, a number; with the pooled rate: none, NaN.
    assert overdispersion([3], [10], p0=0.5) == pytest.approx((3 - 5) ** 2 / 2.5, rel=1e-12)
    assert np.isnan(overdispersion([3], [10]))


@pytest.mark.parametrize("hits", [[0, 0], [4, 6]])
def test_overdispersion_of_a_pooled_rate_at_0_or_1_is_nan_without_a_warning(hits: list[int]) -> None:
    with warnings.catch_warnings(), np.errstate(divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        assert np.isnan(overdispersion(hits, [4, 6]))


def test_funnel_limits_at_a_rate_of_0_or_1_and_for_empty_groups() -> None:
    for p0 in (0.0, 1.0):
        limits = funnel_limits([5, 0], p0)
        assert sorted(limits) == [0.95, 0.998]
        for low, high in limits.values():
            assert low[0] == high[0] == p0 and np.isnan(low[1]) and np.isnan(high[1])
            assert low.dtype == high.dtype == np.float64
    low, high = funnel_limits([0, 50], 0.3)[0.95]
    assert np.isnan(low[0]) and np.isnan(high[0])
    # Spiegelhalter's interpolated exact limits at n = 50, p = 0.3, q = 0.975 (scipy quantiles).
    r_lo, r_hi = stats.binom.ppf(0.025, 50, 0.3), stats.binom.ppf(0.975, 50, 0.3)
    a_lo = (stats.binom.cdf(r_lo, 50, 0.3) - 0.025) / stats.binom.pmf(r_lo, 50, 0.3)
    a_hi = (stats.binom.cdf(r_hi, 50, 0.3) - 0.975) / stats.binom.pmf(r_hi, 50, 0.3)
    assert low[1] == pytest.approx((r_lo - a_lo) / 50, rel=1e-12)
    assert high[1] == pytest.approx((r_hi + 1 - a_hi) / 50, rel=1e-12)


def test_funnel_flags_of_an_empty_group_are_nan() -> None:
    with warnings.catch_warnings(), np.errstate(divide="raise", invalid="raise"):
        warnings.simplefilter("error")  # the empty group's rate, 0/0, is masked without a warning
        flags, p_values, q_values = funnel_flags([1, 0, 30], [2, 0, 40], p0=0.3)
    assert flags.tolist()[1] not in ("above", "below")
    assert np.isnan(p_values[1]) and np.isnan(q_values[1])
    assert p_values.dtype == np.float64 and flags.tolist()[2] == "above"
    expected = min(1.0, 2 * min(stats.binom.cdf(30, 40, 0.3), stats.binom.sf(29, 40, 0.3)))
    assert p_values[2] == pytest.approx(expected, rel=1e-9)


def test_indirect_standardisation_with_a_one_attempt_stratum() -> None:
    """Cells (group, stratum, n, k): (0, 0, 10, 3), (1, 0, 10, 5), (0, 1, 1, 1). Stratum rates 8/20 and 1/1;
    E_0 = 10·0.4 + 1·1 = 5, E_1 = 4; O = 4, 5."""
    r = indirect_standardise([0, 1, 0], [0, 0, 1], [10, 10, 1], [3, 5, 1])
    assert r.expected.tolist() == pytest.approx([5.0, 4.0], rel=1e-12)
    assert r.quality_index.tolist() == pytest.approx([4 / 5, 5 / 4], rel=1e-12)
    assert r.overall_rate == pytest.approx(9 / 21, rel=1e-12)
    one = indirect_standardise([0], [0], [1], [1])
    assert one.overall_rate == 1.0 and one.adjusted_rate.tolist() == [1.0]


def test_shrink_within_keys_labels_as_given_and_counts_one_attempt_groups() -> None:
    """Parents 1 (an int) and "b": three groups of parent 1, one with a single attempt, give it its own prior at
    min_groups = 3 (the beta-binomial fit of those three groups); "b" borrows the prior of all groups."""
    hits, attempts = [1, 3, 5, 2], [1, 10, 12, 8]
    _, _, _, priors = shrink_within(hits, attempts, [1, 1, 1, "b"])
    assert list(priors) == [1, "b"]
    from hitrate.stats import fit_beta_binomial

    own = fit_beta_binomial([1, 3, 5], [1, 10, 12])
    assert (priors[1].alpha, priors[1].beta) == pytest.approx((own.alpha, own.beta), rel=1e-9)
    overall = fit_beta_binomial(hits, attempts)
    assert (priors["b"].alpha, priors["b"].beta) == pytest.approx((overall.alpha, overall.beta), rel=1e-9)
    assert str(priors["b"].method) == (
        f"{overall.method}; fitted on all groups: this parent has fewer than 3 groups with attempts"
    )
    mean, _, _ = shrink([2], [8], overall)
    assert mean[0] == pytest.approx((overall.alpha + 2) / (overall.alpha + overall.beta + 8), rel=1e-12)


def test_counts_from_a_sql_numeric_column_are_numbers() -> None:
    """A NUMERIC column read through a database driver arrives as ``decimal.Decimal``: the functions read the
    counts as floats and give the results of the same counts given as ints."""
    from decimal import Decimal

    from hitrate.stats.adjust import garwood_interval

    def dec(values: list[int]) -> list[Decimal]:
        return [Decimal(v) for v in values]

    for got, want in zip(garwood_interval(dec([0, 3, 10])), garwood_interval([0, 3, 10]), strict=True):
        np.testing.assert_array_equal(got, want)
    as_decimal = indirect_standardise([0, 1, 0], [0, 0, 1], dec([10, 10, 1]), dec([3, 5, 1]))
    np.testing.assert_array_equal(as_decimal.expected, [5.0, 4.0])
    np.testing.assert_array_equal(
        as_decimal.quality_high, indirect_standardise([0, 1, 0], [0, 0, 1], [10, 10, 1], [3, 5, 1]).quality_high
    )
    low, high = funnel_limits(dec([5, 0]), 0.3)[0.95]
    want_low, want_high = funnel_limits([5, 0], 0.3)[0.95]
    np.testing.assert_array_equal(low, want_low)
    np.testing.assert_array_equal(high, want_high)


def test_an_empty_stratum_gives_no_warning() -> None:
    """A stratum whose cells have no attempts has no reference rate; it adds nothing to the expected hits and
    nothing warns (0/0 is masked)."""
    with warnings.catch_warnings(), np.errstate(divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        r = indirect_standardise([0, 1, 0], [0, 0, 1], [10, 10, 0], [3, 5, 0])
    np.testing.assert_allclose(r.expected, [4.0, 4.0], rtol=1e-12)


def test_benjamini_hochberg_reads_missing_and_decimal_p_values() -> None:
    """A missing p-value given as ``None`` (a database NULL) is NaN, left out of m; ``decimal.Decimal`` values (a
    NUMERIC column) are read as floats. By hand: m = 3, sorted 0.01, 0.03, 0.04 → q = min(0.03, 0.045, 0.04),
    min(0.045, 0.04), 0.04."""
    from decimal import Decimal

    from hitrate.stats import benjamini_hochberg

    q = benjamini_hochberg([Decimal("0.03"), None, 0.01, Decimal("0.04")])
    np.testing.assert_allclose(q, [0.04, np.nan, 0.03, 0.04], rtol=1e-12)


def test_change_flags_compares_periods_of_one_attempt_and_warns_nothing_for_empty_ones() -> None:
    """A period of a single attempt is compared like any other (1/1 then 0/1: a difference of −1, Fisher's
    p-value 1); a period without attempts gives NaN for both comparisons it is in, without a 0/0 warning."""
    with warnings.catch_warnings(), np.errstate(divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        difference, low, high, p, flag = change_flags([1, 0, 0, 2], [1, 1, 0, 4])
    np.testing.assert_array_equal(difference, [np.nan, -1.0, np.nan, np.nan])
    assert np.isfinite([low[1], high[1]]).all() and np.isnan(np.r_[low[2:], high[2:], p[2:]]).all()
    assert p[1] == 1.0 and flag.tolist() == ["", "", "", ""]


def test_change_flags_flags_only_below_alpha() -> None:
    """``flag != ""`` exactly when the adjusted p-value is below ``alpha``: at ``alpha`` equal to it, no flag; at
    the next float above, the period is flagged (up: 40/50 after 10/50). One comparison, so the adjusted p-value
    is the raw one."""
    hits, attempts = [10, 40], [50, 50]
    q = change_flags(hits, attempts)[3][1]
    assert 0 < q < 1e-6
    assert change_flags(hits, attempts, alpha=q)[4].tolist() == ["", ""]
    assert change_flags(hits, attempts, alpha=float(np.nextafter(q, 1)))[4].tolist() == ["", "up"]


def test_each_table_picks_its_own_test_and_five_expected_is_enough_for_pearson() -> None:
    """Fisher's exact test only for the tables with an expected cell below 5, table by table: in the series
    1/3, 2/4, 40/50, 10/50 the first two comparisons use Fisher (``scipy.stats.fisher_exact``), the last Pearson
    (``scipy.stats.chi2_contingency(correction=False)``); the adjusted p-values are
    ``statsmodels.stats.multitest.multipletests(method="fdr_bh")`` of those. 3/10 against 7/10 has every
    expected cell exactly 5: Pearson."""
    from scipy.stats import chi2_contingency, fisher_exact
    from statsmodels.stats.multitest import multipletests

    from hitrate.stats import compare_proportions

    def table(a: int, n: int, b: int, m: int) -> list[list[int]]:
        return [[a, n - a], [b, m - b]]

    raw = [
        fisher_exact(table(2, 4, 1, 3))[1],
        fisher_exact(table(40, 50, 2, 4))[1],
        chi2_contingency(table(10, 50, 40, 50), correction=False)[1],
    ]
    p = change_flags([1, 2, 40, 10], [3, 4, 50, 50])[3]
    np.testing.assert_allclose(p[1:], multipletests(raw, method="fdr_bh")[1], rtol=1e-9)
    five = compare_proportions(3, 10, 7, 10)
    assert five.p_value == pytest.approx(chi2_contingency(table(3, 10, 7, 10), correction=False)[1], rel=1e-12)
    assert "Pearson" in str(five.method)


def test_no_hits_anywhere_gives_the_jeffreys_posterior_and_the_cap_must_exceed_the_floor() -> None:
    """No hits in 5 + 5 attempts: ``Beta(K + 1/2, N − K + 1/2)`` = Beta(0.5, 10.5), strength N + 1 = 11 (the
    docstring); a ``max_strength`` of exactly ``MIN_STRENGTH`` is refused (it must lie above it)."""
    from hitrate.errors import InvalidParameterError
    from hitrate.stats import fit_beta_binomial
    from hitrate.stats.shrinkage import MIN_STRENGTH

    for cap in (None, 1e6):  # the default cap is N + 1 itself
        prior = fit_beta_binomial([0, 0], [5, 5], max_strength=cap)
        assert (prior.alpha, prior.beta, prior.strength) == pytest.approx((0.5, 10.5, 11.0), rel=1e-12)
        assert prior.complete_pooling
    with pytest.raises(InvalidParameterError):
        fit_beta_binomial([1, 2], [3, 4], max_strength=MIN_STRENGTH)


def test_a_strength_below_the_cap_is_not_complete_pooling() -> None:
    """The maximum-likelihood strength of these five groups is about 6.65; with ``max_strength`` 1.5 times that
    the optimum lies inside the bounds, so it is the same strength and no complete pooling (the cap is not
    reached: only a strength within 1e-6 in log of the cap counts as at the cap)."""
    from hitrate.stats import fit_beta_binomial

    k, n = [3, 30, 9, 15, 22], [20, 40, 30, 35, 40]
    free = fit_beta_binomial(k, n)
    assert 6.6 < free.strength < 6.7 and not free.complete_pooling
    capped = fit_beta_binomial(k, n, max_strength=1.5 * free.strength)
    assert capped.strength == pytest.approx(free.strength, rel=1e-6) and not capped.complete_pooling
