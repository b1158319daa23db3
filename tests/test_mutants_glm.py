"""The outlier test of hitrate.stats._glm at its edges: tests written to kill the survivors of mutation testing
(docs/testing.md). All fast (unit level)."""

from __future__ import annotations

import numpy as np
import pytest

from hitrate.stats import _glm
from hitrate.stats._glm import unusual_periods
from tests.test_mutants_seasonal import _deletion_p_values


def test_a_period_of_three_attempts_all_won_is_flagged_high() -> None:
    """Twelve periods of 100 attempts with 5 hits and one of 3 attempts with 3 hits, a constant rate: the small
    period's binomial variance ``n p (1 − p)`` is about 0.15 (below 1), yet its residual counts. Its first-round
    p-value (the statsmodels reference of ``_deletion_p_values``) is far below the Benjamini-Hochberg threshold
    at a false-discovery rate of 0.05, and it is the only period flagged."""
    k = np.array([5.0] * 12 + [3.0])
    n = np.array([100.0] * 12 + [3.0])
    x = np.ones((13, 1))
    p, _ = _deletion_p_values(k, n, x)
    assert int(np.argmin(p)) == 12 and p[12] * 13 < 0.05 and np.sort(p)[1] * 13 / 2 > 0.05
    assert unusual_periods(k, n, x, 0.05).tolist() == [""] * 12 + ["high"]


def test_the_outlier_rounds_stop_after_ten(monkeypatch: pytest.MonkeyPatch) -> None:
    """At most ten rounds by default. A fit that alternates between a rate of 0.05 and of 0.5 (a test double
    for ``fit``) makes the flagged set change every round: at 0.05 the two periods of 50 hits in 100 are
    flagged high, at 0.5 nothing (the 18 others are all 45 below it, so the dispersion explains them). The
    tenth fit is at 0.5: nothing is flagged, and ``fit`` was called ten times."""
    calls: list[int] = []

    def alternating(k: np.ndarray, n: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(len(k))
        rate = 0.05 if len(calls) % 2 else 0.5
        return np.array([np.log(rate / (1 - rate))]), np.array([[1e-4]])

    monkeypatch.setattr(_glm, "fit", alternating)
    k = np.array([50.0, 50.0] + [5.0] * 18)
    n = np.full(20, 100.0)
    x = np.ones((20, 1))
    assert _glm.unusual_periods(k, n, x, 0.05, max_rounds=1).tolist() == ["high"] * 2 + [""] * 18
    calls.clear()
    assert _glm.unusual_periods(k, n, x, 0.05).tolist() == [""] * 20
    assert calls == [20, 18] * 5


def test_with_one_residual_degree_of_freedom_the_statistic_is_students_t_on_one() -> None:
    """Three periods of 200 attempts (64, 170 and 85 hits), a constant rate: each period's dispersion without it
    has one degree of freedom, and for the middle one it is above 1 (4.43), so its p-value is the two-sided
    Student t on 1 degree of freedom (0.1198, the statsmodels reference of ``_deletion_p_values``). At
    ``fdr = 3 p (1 ∓ 1e-4)`` nothing, then the middle period alone is flagged; with two periods left the model
    has a single residual degree of freedom, so it is not refitted."""
    k, n, x = np.array([64.0, 170.0, 85.0]), np.full(3, 200.0), np.ones((3, 1))
    p, phi_raw = _deletion_p_values(k, n, x)
    assert int(np.argmin(p)) == 1 and phi_raw[1] > 1 and p[1] == pytest.approx(0.1198, abs=1e-4)
    assert np.sort(p)[1] > 2 * p[1]
    assert unusual_periods(k, n, x, 3 * p[1] * (1 - 1e-4)).tolist() == ["", "", ""]
    assert unusual_periods(k, n, x, 3 * p[1] * (1 + 1e-4)).tolist() == ["", "high", ""]


def test_no_refit_when_the_periods_left_have_no_hits() -> None:
    """Ten periods without hits and one with 50 of 100: the busy period is flagged high, and the ten left have
    no hits, so the model is not refitted (a fit to no hits at all does not exist): the first round's answer."""
    k, n, x = np.array([0.0] * 10 + [50.0]), np.full(11, 100.0), np.ones((11, 1))
    assert unusual_periods(k, n, x, 0.05).tolist() == [""] * 10 + ["high"]


def test_the_second_round_tests_the_periods_left_against_their_own_fit() -> None:
    """Period 10 (50 of 100) is flagged in the first round; the ten others (one hit among them, in period 1)
    are refitted alone. In the second round period 1's p-value is the statsmodels reference on those ten
    periods (``_deletion_p_values``), and with period 10 first (its prediction p-value is far smaller) it is
    second of the eleven: flagged when ``p₁ · 11 / 2 <= 0.05``, and no third period passes."""
    k = np.array([0.0, 1.0] + [0.0] * 8 + [50.0])
    n, x = np.full(11, 100.0), np.ones((11, 1))
    p, _ = _deletion_p_values(k[:10], n[:10], x[:10])
    assert int(np.argmin(p)) == 1 and p[1] * 11 / 2 <= 0.05 and np.sort(p)[1] * 11 / 3 > 0.05
    assert unusual_periods(k, n, x, 0.05).tolist() == ["", "high"] + [""] * 8 + ["high"]


def test_a_month_without_hits_is_left_out_and_then_a_low_month_shows() -> None:
    """Twelve periods of 100 attempts: one with no hits, one with 15, ten around 30. The first round flags only
    the empty period (the 15's p-value, ``_deletion_p_values`` on all twelve, is second but above its
    Benjamini-Hochberg threshold 2 · 0.05 / 12); refitted without it, the 15's p-value (the reference on the
    eleven others) is below it: both are flagged low."""
    k = np.array([0.0, 15.0, 30, 31, 29, 33, 30, 28, 32, 31, 30, 29])
    n, x = np.full(12, 100.0), np.ones((12, 1))
    first, _ = _deletion_p_values(k, n, x)
    second, _ = _deletion_p_values(k[1:], n[1:], x[1:])
    assert np.argsort(first)[:2].tolist() == [0, 1] and first[0] * 12 <= 0.05 < first[1] * 12 / 2
    assert int(np.argmin(second)) == 0 and second[0] * 12 / 2 <= 0.05 < np.sort(second)[1] * 12 / 3
    assert unusual_periods(k, n, x, 0.05).tolist() == ["low", "low"] + [""] * 10


@pytest.mark.parametrize(
    ("hits", "n_par", "first", "second"),
    [
        ([35, 0, 9, 13, 15], 2, 0, 1),
        ([11, 11, 10, 7, 5, 7, 80, 13, 0, 11, 12, 13], 1, 6, 8),
    ],
)
def test_a_second_round_flags_what_the_first_fit_hid(hits: list[int], n_par: int, first: int, second: int) -> None:
    """Periods of 100 attempts (a constant rate, or a linear trend in log-odds over i/m). The first round flags
    ``first`` alone (the reference p-values of ``_deletion_p_values`` on all periods: only the smallest passes
    Benjamini-Hochberg at 0.05); refitted without it, ``second`` is the smallest reference p-value of the periods
    left and passes at rank 2 (``first``'s prediction p-value is rank 1), no third does. Five periods with a
    trend: after the first flag two residual degrees of freedom remain, enough to refit. Twelve: the hits left
    (100) equal the attempts flagged, a coincidence the refit must not depend on."""
    k = np.array(hits, dtype=float)
    m = k.size
    n, x = np.full(m, 100.0), np.column_stack([np.ones(m), np.arange(m) / m])[:, :n_par]
    p1, _ = _deletion_p_values(k, n, x)
    assert int(np.argmin(p1)) == first and p1[first] * m <= 0.05 < np.sort(p1)[1] * m / 2
    kept = np.flatnonzero(np.arange(m) != first)
    p2, _ = _deletion_p_values(k[kept], n[kept], x[kept])
    assert kept[int(np.argmin(p2))] == second and p2.min() * m / 2 <= 0.05 < np.sort(p2)[1] * m / 3
    expected = [""] * m
    expected[first] = "high" if k[first] > k[kept].mean() else "low"
    expected[second] = "high" if k[second] > k[kept].mean() else "low"
    assert unusual_periods(k, n, x, 0.05).tolist() == expected


@pytest.mark.parametrize("own_hits", [90.0, 50.0, 1.0])
def test_a_period_with_its_own_column_is_never_unusual(own_hits: float) -> None:
    """A design column that is 1 for period 0 alone fits it exactly: its residual is 0 (to rounding) and its
    leverage 1, so it cannot be tested. At 50 of 100 hits ``1 − h`` comes out exactly 0.0 in floating point
    with a residual of −3e-15: only the guard on ``1 − h`` keeps it from an infinite statistic."""
    m = 12
    x = np.column_stack([np.ones(m), np.arange(m) / m, np.eye(m)[0]])
    n = np.full(m, 100.0)
    k = np.array([own_hits, 30, 31, 29, 33, 30, 28, 32, 31, 30, 29, 30])
    assert unusual_periods(k, n, x, 0.5).tolist() == [""] * m


def test_year_on_year_with_an_empty_month_divides_nothing_by_zero() -> None:
    """Months 0, 1, 12, 13 (keys in months), months 0 and 12 without attempts: only 13 against 1 is compared
    (difference 0.5 − 0.3, the pooled z-test ``z = d / sqrt(p̄(1 − p̄)(1/n + 1/n'))`` by hand), the others are NaN,
    and the empty months' 0/0 and 1/0 are computed without a floating-point error."""
    from scipy import stats as sps

    k, n = np.array([0.0, 3.0, 0.0, 5.0]), np.array([0.0, 10.0, 0.0, 10.0])
    rate = np.where(n > 0, k / np.where(n > 0, n, 1.0), np.nan)
    low, high = rate - 0.1, rate + 0.1
    with np.errstate(divide="raise", invalid="raise"):
        diff, lo, hi, p = _glm.year_on_year(k, n, rate, low, high, np.array([0, 1, 12, 13]), "month", n > 0)
    pooled = 8 / 20
    z = 0.2 / np.sqrt(pooled * (1 - pooled) * (1 / 10 + 1 / 10))
    assert np.isnan(diff[[0, 1, 2]]).all() and np.isnan(p[[0, 1, 2]]).all()
    assert diff[3] == pytest.approx(0.2) and p[3] == pytest.approx(2 * sps.norm.sf(z), rel=1e-12)
    assert (lo[3], hi[3]) == pytest.approx((0.2 - np.sqrt(0.02), 0.2 + np.sqrt(0.02)))
