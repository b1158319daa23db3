# ruff: noqa: E501  (the expected error messages are whole sentences, one per case)
"""Tests written against the survivors of mutation testing in ``hitrate/stats/censoring.py`` (docs/testing.md).

Each test holds a behaviour that a surviving mutant changed: the exact error for every validated parameter,
the documented defaults, and numbers held to an independent reference (lifelines, the delta method, a
closed form on a table whose answer is known)."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable

import numpy as np
import pytest

from hitrate.errors import InvalidParameterError
from hitrate.stats import censoring
from hitrate.stats.censoring import aalen_johansen, eventual_rates, median_time_to

CI = aalen_johansen([1, 2], [1, 1], [1, 0], [0, 1])
NAN = float("nan")


def _er(**changed: object) -> Callable[[], object]:
    args: dict[str, object] = dict(
        cohort=[0, 1], n=[3, 2], won=[1, 1], lost=[1, 0], open_cohort=[0, 1], open_age=[1, 2], open_count=[1, 1]
    )
    args.update(changed)
    return lambda: eventual_rates(CI, **args)  # type: ignore[arg-type]


ERRORS: list[tuple[str, Callable[[], object], str]] = [
    ("aj time nan", lambda: aalen_johansen([NAN], [1], [0], [0]), "'time' parameter of aalen_johansen must be finite. Got nan"),
    ("aj time", lambda: aalen_johansen([0, -2], [1, 1], [0, 0], [0, 0]), "'time' parameter of aalen_johansen must be >= 0 (an age). Got -2.0"),
    ("aj won", lambda: aalen_johansen([1], [0.5], [0], [0]), "'won' parameter of aalen_johansen must be non-negative whole counts. Got 0.5"),
    ("aj lost", lambda: aalen_johansen([1], [1], [-1], [0]), "'lost' parameter of aalen_johansen must be non-negative whole counts. Got -1.0"),
    ("aj censored", lambda: aalen_johansen([1], [1], [0], [1.5]), "'censored' parameter of aalen_johansen must be non-negative whole counts. Got 1.5"),
    ("aj len won", lambda: aalen_johansen([1, 2], [1], [0, 0], [0, 0]), "'won' parameter of aalen_johansen must be the same length as 'time' (2). Got length 1"),
    ("aj len lost", lambda: aalen_johansen([1, 2], [1, 1], [0], [0, 0]), "'lost' parameter of aalen_johansen must be the same length as 'time' (2). Got length 1"),
    ("aj len censored", lambda: aalen_johansen([1, 2], [1, 1], [0, 0], [0]), "'censored' parameter of aalen_johansen must be the same length as 'time' (2). Got length 1"),
    ("aj no deal", lambda: aalen_johansen([1, 2], [0, 0], [0, 0], [0, 0]), "'won' parameter of aalen_johansen must be above 0 somewhere: a table needs at least one deal (won, lost or censored). Got no deal at all"),
    ("win_after", lambda: CI.win_after([1.0, float("inf")]), "'age' parameter of win_after must be finite. Got inf"),
    ("median time", lambda: median_time_to([-1], [1]), "'time' parameter of median_time_to must be >= 0 (an age). Got -1.0"),
    ("median time nan", lambda: median_time_to([NAN], [1]), "'time' parameter of median_time_to must be finite. Got nan"),
    ("median events", lambda: median_time_to([1], [-1]), "'events' parameter of median_time_to must be non-negative whole counts. Got -1.0"),
    ("median censored", lambda: median_time_to([1], [1], [0.5]), "'censored' parameter of median_time_to must be non-negative whole counts. Got 0.5"),
    ("median competing", lambda: median_time_to([1], [1], [0], competing=[-1]), "'competing' parameter of median_time_to must be non-negative whole counts. Got -1.0"),
    ("median len events", lambda: median_time_to([1, 2], [1]), "'events' parameter of median_time_to must be the same length as 'time' (2). Got length 1"),
    ("median len censored", lambda: median_time_to([1, 2], [1, 1], [0]), "'censored' parameter of median_time_to must be the same length as 'time' (2). Got length 1"),
    ("median len competing", lambda: median_time_to([1, 2], [1, 1], [0, 0], competing=[0]), "'competing' parameter of median_time_to must be the same length as 'time' (2). Got length 1"),
    ("er confidence", _er(confidence=1.0), "'confidence' parameter of eventual_rates must be in (0, 1). Got 1.0"),
    ("er n_draws", _er(n_draws=0), "'n_draws' parameter of eventual_rates must be a whole number >= 1. Got 0"),
    ("er cohort nan", _er(cohort=[0, NAN]), "'cohort' parameter of eventual_rates must be finite. Got nan"),
    ("er cohort fraction", _er(cohort=[0, 1.5, 2.5], n=[3, 2, 0], won=[1, 1, 0], lost=[1, 0, 0]), "'cohort' parameter of eventual_rates must be integer codes. Got 1.5"),
    ("er cohort repeated", _er(cohort=[1, 1]), "'cohort' parameter of eventual_rates must be distinct codes (each code once). Got [1.0, 1.0]"),
    ("er n", _er(n=[3, -2]), "'n' parameter of eventual_rates must be non-negative whole counts. Got -2.0"),
    ("er won", _er(won=[1, 0.5]), "'won' parameter of eventual_rates must be non-negative whole counts. Got 0.5"),
    ("er lost", _er(lost=[1, -1]), "'lost' parameter of eventual_rates must be non-negative whole counts. Got -1.0"),
    ("er len cohort", _er(cohort=[0, 1, 2]), "'n' parameter of eventual_rates must be the same length as 'cohort' (3). Got length 2"),
    ("er len n", _er(n=[3]), "'n' parameter of eventual_rates must be the same length as 'cohort' (2). Got length 1"),
    ("er len won", _er(won=[1]), "'won' parameter of eventual_rates must be the same length as 'cohort' (2). Got length 1"),
    ("er len lost", _er(lost=[1]), "'lost' parameter of eventual_rates must be the same length as 'cohort' (2). Got length 1"),
    ("er within", _er(n=[2, 2], won=[1, 2], lost=[1, 1]), "'n' parameter of eventual_rates must be at least won + lost for every cohort. Got won=2.0, lost=1.0, n=2.0 for cohort 1"),
    ("er open_cohort", _er(open_cohort=[0, NAN]), "'open_cohort' parameter of eventual_rates must be finite. Got nan"),
    ("er open_age", _er(open_age=[1, NAN]), "'open_age' parameter of eventual_rates must be finite. Got nan"),
    ("er open_count", _er(open_count=[1, -1]), "'open_count' parameter of eventual_rates must be non-negative whole counts. Got -1.0"),
    ("er len open_cohort", _er(open_cohort=[0, 1, 1]), "'open_age' parameter of eventual_rates must be the same length as 'open_cohort' (3). Got length 2"),
    ("er len open_age", _er(open_age=[1]), "'open_age' parameter of eventual_rates must be the same length as 'open_cohort' (2). Got length 1"),
    ("er len open_count", _er(open_count=[1]), "'open_count' parameter of eventual_rates must be the same length as 'open_cohort' (2). Got length 1"),
    ("er unknown", _er(open_cohort=[0, 5]), "'open_cohort' parameter of eventual_rates must be cohorts that appear in 'cohort'. Got 5.0"),
    ("er unknown, no cohorts", _er(cohort=[], n=[], won=[], lost=[], open_cohort=[3], open_age=[1], open_count=[1]), "'open_cohort' parameter of eventual_rates must be cohorts that appear in 'cohort'. Got 3.0"),
    ("er open sum", _er(open_count=[1, 2]), "'open_count' parameter of eventual_rates must be rows that add up to n - won - lost for each cohort. Got cohort 1: open_count sums to 2.0, n - won - lost = 1.0"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "call", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_every_check_names_its_parameter_function_expectation_and_value(
    case: str, call: Callable[[], object], message: str
) -> None:
    """The whole English message: parameter, function, what was expected, the value (the first bad one)."""
    with pytest.raises(InvalidParameterError) as info:
        call()
    assert str(info.value) == f"The {message} instead."
    assert info.value.parameter == message.split("'")[1]


def test_documented_defaults_are_the_defaults() -> None:
    """``confidence=0.95``, ``n_draws=400``, ``seed=0`` (the docstring's), and a call with the defaults equals the
    call that passes them."""
    params = inspect.signature(eventual_rates).parameters
    assert (params["confidence"].default, params["n_draws"].default, params["seed"].default) == (0.95, 400, 0)
    ci = aalen_johansen([0, 3, 7, 12], [0, 4, 6, 3], [0, 5, 2, 6], [9, 2, 1, 0])
    args = (ci, [0, 1], [12, 9], [4, 3], [3, 4], [0, 1, 1], [0, 3, 7], [5, 1, 1])
    default, explicit = eventual_rates(*args), eventual_rates(*args, 0.95, n_draws=400, seed=0)
    other = eventual_rates(*args, 0.95, n_draws=401, seed=0)
    for name in ("eventual_low", "eventual_high"):
        np.testing.assert_array_equal(getattr(default, name), getattr(explicit, name))
    assert str(default.method) == str(explicit.method) and "400 draws" in default.method
    assert "seed 0" in default.method and "0.95 prediction interval" in default.method
    assert not np.array_equal(
        np.r_[default.eventual_low, default.eventual_high], np.r_[other.eventual_low, other.eventual_high]
    ) or str(other.method) != str(default.method)


def test_a_row_without_open_deals_changes_nothing() -> None:
    """An ``open_count`` of 0 is no deal: the result (bootstrap included, same seed) equals the one without it."""
    ci = aalen_johansen([0, 3, 7, 12], [0, 4, 6, 3], [0, 5, 2, 6], [9, 2, 1, 0])
    with_zero = eventual_rates(ci, [0, 1], [12, 9], [4, 3], [3, 4], [0, 0, 1, 1], [0, 2, 3, 7], [5, 0, 1, 1])
    without = eventual_rates(ci, [0, 1], [12, 9], [4, 3], [3, 4], [0, 1, 1], [0, 3, 7], [5, 1, 1])
    for name in ("eventual_rate", "eventual_low", "eventual_high"):
        np.testing.assert_array_equal(getattr(with_zero, name), getattr(without, name))


def test_open_deals_at_the_age_of_the_last_win_cannot_win() -> None:
    """Wins happen only at age 1, losses only at age 2, so a deal still open at age 1 (events at an age come
    before the censorings at that age) has q = 0 in the fit and in EVERY bootstrap resample (the resampled
    table keeps wins at age 1 and losses at age 2): the interval is the point naive = eventual."""
    ci = aalen_johansen([1, 2], [6, 0], [0, 5], [3, 4])
    res = eventual_rates(ci, [0], [10], [2], [5], [0], [1], [3], n_draws=200)
    assert res.eventual_rate[0] == res.naive_rate[0] == 0.2
    assert res.eventual_low[0] == res.eventual_high[0] == 0.2


@pytest.mark.parametrize(("n_draws", "chunk_cells"), [(1, None), (5, 12), (7, 6)])
def test_deals_that_surely_win_give_a_point_interval_in_any_chunking(
    n_draws: int, chunk_cells: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every decided deal of the pooled table was won (30 at age 5), so q(0) = 1 in the fit and in a resample
    unless it draws none of the 30 won deals (probability (10/40)^40 < 1e-24): every draw has all 10 open deals
    winning, whatever the number of draws and however they are cut into chunks (12 cells: chunks of 2, the
    last one 1; 6 cells: chunks of 1)."""
    if chunk_cells is not None:
        monkeypatch.setattr(censoring, "_MAX_CELLS_PER_CHUNK", chunk_cells)
    ci = aalen_johansen([0, 5], [0, 30], [0, 0], [10, 0])
    res = eventual_rates(ci, [0, 1], [40, 3], [30, 1], [0, 2], [0], [0], [10], n_draws=n_draws)
    np.testing.assert_array_equal(res.eventual_low, [1.0, 1 / 3])
    np.testing.assert_array_equal(res.eventual_high, [1.0, 1 / 3])


def test_interval_width_matches_the_delta_method_when_q_is_uncertain() -> None:
    """1,000 open deals, q estimated from 40 decided deals (20 won): the estimation error of q dominates.
    Reference, the normal prediction interval of W with Var W = m q (1 - q) + m² Var q̂, Var q̂ the Collett
    delta-method variance (``var_cif_win``, held to lifelines in test_stats_censoring.py)::

        ci = aalen_johansen([0, 5], [0, 20], [0, 20], [1000, 0])      # q(0) = 0.5, Var q̂ = 0.00625
        width = 2 * 1.96 * sqrt(1000 * 0.25 + 1000**2 * 0.00625) / n  # measured ratio 0.98-1.04, seeds 0-4

    held to ±12% with 2,000 draws. Only the binomial part (one resampled table per chunk) gives a fifth of it."""
    m = 1000
    ci = aalen_johansen([0, 5], [0, 20], [0, 20], [m, 0])
    res = eventual_rates(ci, [0], [m + 10], [5], [5], [0], [0], [m], n_draws=2000, seed=3)
    reference = 2 * 1.959964 * np.sqrt(m * 0.25 + m * m * ci.var_cif_win[-1]) / (m + 10)
    assert ci.var_cif_win[-1] == pytest.approx(0.00625, rel=1e-12)
    assert (res.eventual_high[0] - res.eventual_low[0]) == pytest.approx(reference, rel=0.12)


def test_no_cohorts_gives_empty_results() -> None:
    res = eventual_rates(CI, [], [], [], [], [], [], [])
    assert res.eventual_rate.size == res.eventual_low.size == res.eventual_high.size == res.cohorts.size == 0


def test_a_cohort_without_deals_is_nan_without_warnings() -> None:
    """n = 0: no rate (NaN), and no RuntimeWarning about 0/0."""
    with warnings.catch_warnings(), np.errstate(divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        res = eventual_rates(CI, [0, 1], [0, 2], [0, 1], [0, 1], [], [], [])
    assert np.isnan(res.naive_rate[0]) and np.isnan(res.eventual_low[0]) and np.isnan(res.eventual_high[0])
    assert res.naive_rate[1] == res.eventual_low[1] == res.eventual_high[1] == 0.5
    assert res.cohorts.dtype == np.int64 and res.method.key == "stats.eventual_method"


def test_loss_variance_equals_lifelines_with_events_at_the_first_age() -> None:
    """``var_cif_loss`` (not only ``var_cif_win``) equals lifelines' Collett variance to 1e-9 relative, on data
    whose first age has losses (the S(t_0) = 1 term), ages with a single event and ages with censorings only::

        rng = np.random.default_rng(16)
        age = rng.integers(1, 40, size=60)
        code = np.where(rng.random(60) < 0.3, 0, np.where(age % 2 == 0, 1, 2))   # losses at odd ages
    """
    from lifelines import AalenJohansenFitter

    rng = np.random.default_rng(16)
    age = rng.integers(1, 40, size=60)
    code = np.where(rng.random(60) < 0.3, 0, np.where(age % 2 == 0, 1, 2))
    grid = np.unique(age)
    ci = aalen_johansen(grid, *([((age == a) & (code == k)).sum() for a in grid] for k in (1, 2, 0)))
    assert ci.lost[0] > 0 and np.any(ci.won + ci.lost == 1) and np.any(ci.won + ci.lost == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = AalenJohansenFitter(calculate_variance=True).fit(age, code, event_of_interest=2)
    np.testing.assert_allclose(
        ci.cif_loss, fit.cumulative_density_.iloc[:, 0].reindex(ci.time, method="ffill"), rtol=0, atol=1e-9
    )
    theirs = fit.variance_.reindex(ci.time, method="ffill").to_numpy().ravel()
    known = np.isfinite(theirs)  # lifelines gives NaN once everyone at risk has closed (n = d)
    assert known.sum() >= ci.time.size - 1
    np.testing.assert_allclose(ci.var_cif_loss[known], theirs[known], rtol=1e-9, atol=1e-15)


def test_a_table_that_ends_with_everyone_closing_warns_nothing() -> None:
    """At the last age everyone at risk closes (n = d): the variance term d / (n (n - d)) is 0 by definition,
    computed without a division-by-zero warning."""
    with warnings.catch_warnings(), np.errstate(divide="raise", invalid="raise"):  # a warning shows only once
        warnings.simplefilter("error")
        ci = aalen_johansen([1, 2, 3], [1, 0, 2], [1, 1, 1], [0, 1, 0])
    assert np.all(np.isfinite(ci.var_cif_win)) and ci.survival[-1] == 0.0


def test_everyone_closing_at_the_first_age() -> None:
    """One age, all deals close at it (S = 0 there): q falls back to the share of wins among them, 2/3."""
    ci = aalen_johansen([3], [2], [1], [0])
    np.testing.assert_allclose(ci.win_after([0, 3, 10]), [2 / 3, 2 / 3, 2 / 3], rtol=1e-15)


def test_median_counts_deals_not_rows() -> None:
    """Lower sample median of ages 10 (one deal) and 20 (three deals): 20, as SQL PERCENTILE_DISC(0.5)."""
    assert median_time_to([10, 20], [1, 3]) == 20
    assert median_time_to([20, 10, 20], [2, 1, 1]) == 20


def test_win_after_reads_ages_given_as_decimals() -> None:
    """Ages as ``decimal.Decimal`` (a database's NUMERIC) give what the same ages as floats give."""
    from decimal import Decimal

    ci = aalen_johansen([0, 3, 7, 12], [0, 4, 6, 3], [0, 5, 2, 6], [9, 2, 1, 0])
    np.testing.assert_array_equal(ci.win_after([Decimal(1), Decimal("7.5")]), ci.win_after([1.0, 7.5]))
