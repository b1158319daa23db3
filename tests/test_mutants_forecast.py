"""hitrate.stats.forecast held to closed forms and hand computations, at its edges: tests written to kill the
survivors of mutation testing (docs/testing.md). All fast (unit level, no store)."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import pytest
from scipy import stats as sps

from hitrate.stats import forecast as sf
from hitrate.stats.shrinkage import fit_beta_binomial

MONTHS = np.arange(np.datetime64("2021-01"), np.datetime64("2024-01"))  # 36 months, t = 0..35
DAYS = ((MONTHS + 1).astype("datetime64[D]") - MONTHS.astype("datetime64[D]")).astype(float)
AHEAD = [dt.date(2024, 1, 1), dt.date(2024, 4, 1), dt.date(2024, 11, 1)]  # t = 36, 39, 46


# ---- AgeCurves -----------------------------------------------------------------------------------------------
def test_curves_are_read_by_group_and_age_zero_before_the_grid_and_flat_after_it() -> None:
    """``at``: ``curve[group, age]``, 0 below age 0, the last value past the grid; ``still_open`` at age a is
    ``1 - win(a - 1) - loss(a - 1)``, 1 at age 0 (and below); ``survival`` ``1 - win - loss``."""
    win = np.array([[0.1, 0.3, 0.5], [0.0, 0.2, 0.25]])
    loss = np.array([[0.2, 0.2, 0.3], [0.4, 0.5, 0.5]])
    curves = sf.AgeCurves(win, loss, 7.0)
    group = np.array([0, 0, 0, 0, 1, 1, 1], dtype=np.int64)
    age = [-2, -1, 0, 2, 1, 3, 40]
    np.testing.assert_array_equal(curves.at(win, group, age), [0.0, 0.0, 0.1, 0.5, 0.2, 0.25, 0.25])
    np.testing.assert_array_equal(curves.at(loss, group, age), [0.0, 0.0, 0.2, 0.3, 0.5, 0.5, 0.5])
    expected = [1.0, 1.0, 1.0, 1 - 0.3 - 0.2, 1 - 0.0 - 0.4, 1 - 0.25 - 0.5, 1 - 0.25 - 0.5]
    np.testing.assert_allclose(curves.still_open(group, age), expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(curves.still_open(group[[0, 4]], [1, 2]), [1 - 0.1 - 0.2, 1 - 0.2 - 0.5], atol=1e-15)
    np.testing.assert_allclose(curves.survival, 1.0 - win - loss, rtol=0, atol=0)
    # far below the grid (not a negative index from the end) and ages given as floats (whole days)
    np.testing.assert_array_equal(curves.at(win, group[:2], [-40, 1.0]), [0.0, 0.3])


# ---- age_curves, strata_curves, prior_strength ---------------------------------------------------------------
def test_shrunk_curves_at_two_ages_equal_the_pseudo_deal_formula() -> None:
    """Two groups, events at ages 0 and 3 (and a negative age, counted at 0). With ``s`` pseudo-deals spread as
    the pooled table (``T`` its total), the table of group g at age a is ``x_g(a) + s · x(a) / T``; the
    Aalen–Johansen win incidence is then, with ``R`` the deals at risk at age 0,
    ``W(0) = w(0) / R`` and ``W(3) = W(0) + (1 - (w(0) + l(0)) / R) · w(3) / R(3)``, R every deal of the table,
    ``R(3) = R - w(0) - l(0) - c(0)``.
    Written out by hand below; the returned strength is ``s`` as a float."""
    group = [0, 0, 1, 1, 0]
    age = [0, 3, 0, 3, -4]
    won, lost, cens = [2, 1, 10, 5], [1, 2, 20, 4], [1, 0, 3, 0]
    won, lost, cens = won + [1], lost + [0], cens + [0]  # the row at age -4 counts at age 0: one more win
    s = 13
    curves = sf.age_curves(group, age, won, lost, cens, 2, strength=s)
    pooled = {"w": [13, 6], "l": [21, 6], "c": [4, 0]}  # ages 0 and 3, both groups
    total = sum(map(sum, pooled.values()))
    tables = {0: {"w": [3, 1], "l": [1, 2], "c": [1, 0]}, 1: {"w": [10, 5], "l": [20, 4], "c": [3, 0]}}
    for g, table in tables.items():
        x = {k: [table[k][i] + s * pooled[k][i] / total for i in (0, 1)] for k in "wlc"}
        risk0 = sum(map(sum, x.values()))
        risk3 = risk0 - x["w"][0] - x["l"][0] - x["c"][0]
        w0, l0 = x["w"][0] / risk0, x["l"][0] / risk0
        survive = 1 - w0 - l0
        expected_win = [w0, w0, w0, w0 + survive * x["w"][1] / risk3]
        expected_loss = [l0, l0, l0, l0 + survive * x["l"][1] / risk3]
        np.testing.assert_allclose(curves.win[g], expected_win, rtol=1e-13)
        np.testing.assert_allclose(curves.loss[g], expected_loss, rtol=1e-13)
    assert curves.strength == 13.0 and isinstance(curves.strength, float)


def test_counts_given_as_decimals_give_the_same_curves() -> None:
    """Won, lost and censored counts as ``decimal.Decimal`` (a database's NUMERIC sums) are counted as floats."""
    from decimal import Decimal

    group, age, won, lost, cens = [0, 1, 1], [1, 2, 0], [1, 2, 0], [0, 1, 3], [1, 0, 0]
    reference = sf.age_curves(group, age, won, lost, cens, 2, strength=3.0)
    decimals = [[Decimal(v) for v in values] for values in (won, lost, cens)]
    other = sf.age_curves(group, age, *decimals, 2, strength=3.0)
    np.testing.assert_array_equal(other.win, reference.win)
    np.testing.assert_array_equal(other.loss, reference.loss)


def test_no_rows_give_an_empty_grid_and_the_default_strength() -> None:
    """No events: one age (0) per group, nothing won or lost (no 0/0 from spreading pseudo-deals over an empty
    table), the default prior strength (fewer than three groups with decided deals)."""
    with warnings.catch_warnings(), np.errstate(divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        curves = sf.age_curves([], [], [], [], [], 2)
        groups, cells = sf.strata_curves([], [], [], [], [], [], 1, 0)
    assert curves.strength == sf.DEFAULT_STRENGTH == 50.0
    for c in (curves, groups, cells):
        assert c.win.shape == c.loss.shape == (len(c.win), 1)
        np.testing.assert_array_equal(np.r_[c.win.ravel(), c.loss.ravel()], 0.0)
    assert (len(curves.win), len(groups.win), len(cells.win)) == (2, 1, 1)
    assert groups.strength == cells.strength == 50.0


def test_a_single_deal_is_spread_over_a_group_without_deals() -> None:
    """One deal (won at age 2) in group 0, none in group 1, 5 pseudo-deals: group 1's table is the pooled one
    scaled (a total of 1 deal is enough to spread), so its win incidence from age 2 is 1."""
    curves = sf.age_curves([0], [2], [1], [0], [0], 2, strength=5.0)
    np.testing.assert_array_equal(curves.win, [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    # half a pseudo-deal: fewer than one deal at risk, still divided by what is at risk
    half = sf.age_curves([0], [2], [1], [0], [0], 2, strength=0.5)
    np.testing.assert_array_equal(half.win, [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])


def test_prior_strength_is_the_beta_binomial_fit_over_groups_with_decided_deals() -> None:
    """Three groups with decided deals (a fourth without any is left out): the empirical-Bayes strength of
    :func:`hitrate.stats.shrinkage.fit_beta_binomial` (held to references in tests/test_stats_shrinkage.py);
    two such groups: :data:`DEFAULT_STRENGTH`; a group with one decided deal counts; groups that agree exactly:
    at the cap, 1e6."""
    won, decided = np.array([3.0, 30.0, 0.0, 9.0]), np.array([20.0, 40.0, 0.0, 30.0])
    reference = fit_beta_binomial(won[[0, 1, 3]], decided[[0, 1, 3]], max_strength=1e6).strength
    assert 1 < reference < 1e6
    assert sf.prior_strength(won, decided) == pytest.approx(reference, rel=1e-12)
    assert sf.prior_strength(won[:3], decided[:3]) == 50.0
    one = fit_beta_binomial(np.array([3.0, 30.0, 1.0]), np.array([20.0, 40.0, 1.0]), max_strength=1e6).strength
    assert sf.prior_strength(np.array([3.0, 30.0, 1.0]), np.array([20.0, 40.0, 1.0])) == one != 50.0
    same = np.array([5.0, 5.0, 5.0]), np.array([10.0, 10.0, 10.0])
    capped = fit_beta_binomial(*same, max_strength=1e6).strength
    assert 999_000 < capped <= 1e6 and sf.prior_strength(*same) == capped
    curves = sf.age_curves([0, 1, 2, 3], [1, 1, 1, 1], won, decided - won, [0, 0, 0, 0], 4)
    assert curves.strength == pytest.approx(reference, rel=1e-12)


def test_cells_are_shrunk_to_their_groups_table_at_every_age() -> None:
    """Cells within groups, two ages: cell c gets ``s_c`` pseudo-deals spread as its group's shrunk table
    (total over ages and outcomes ``T_g``): ``x_c(a) + s_c · y_g(a) / T_g``, with ``y_g = x_g + s · x / T``.
    With one event age per outcome the Aalen–Johansen incidences are written out by hand."""
    group, cell = [0, 0, 1, 1], [1, 0, 2, 2]
    age = [2, 0, 0, 2]
    won, lost, cens = [3, 1, 4, 0], [0, 2, 0, 6], [1, 0, 0, 0]
    s, sc = 5.0, 9.0
    groups, cells = sf.strata_curves(group, cell, age, won, lost, cens, 2, 3, strength=s, cell_strength=sc)
    # group tables (w, l, c) by age 0 and 2, then shrunk
    x = {0: np.array([[1, 3], [2, 0], [0, 1]], float), 1: np.array([[4, 0], [0, 6], [0, 0]], float)}
    pooled = x[0] + x[1]
    y = {g: x[g] + s * pooled / pooled.sum() for g in (0, 1)}
    cell_x = {0: np.array([[1, 0], [2, 0], [0, 0]], float), 1: np.array([[0, 3], [0, 0], [0, 1]], float)}
    cell_x[2] = x[1]
    parent = {0: 0, 1: 0, 2: 1}

    def incidence(t: np.ndarray) -> tuple[list[float], list[float]]:
        risk0 = t.sum()
        w0, l0 = t[0, 0] / risk0, t[1, 0] / risk0
        risk2 = risk0 - t[:, 0].sum()
        surv = 1 - w0 - l0
        return [w0, w0, w0 + surv * t[0, 1] / risk2], [l0, l0, l0 + surv * t[1, 1] / risk2]

    for g in (0, 1):
        win, loss = incidence(y[g])
        np.testing.assert_allclose(groups.win[g], win, rtol=1e-13)
        np.testing.assert_allclose(groups.loss[g], loss, rtol=1e-13)
    for c in (0, 1, 2):
        t = cell_x[c] + sc * y[parent[c]] / y[parent[c]].sum()
        win, loss = incidence(t)
        np.testing.assert_allclose(cells.win[c], win, rtol=1e-13)
        np.testing.assert_allclose(cells.loss[c], loss, rtol=1e-13)
    assert (groups.strength, cells.strength) == (5.0, 9.0)


def test_the_cells_strength_is_fitted_on_the_cells_win_shares() -> None:
    """``cell_strength=None``: the beta-binomial strength of the cells' (won, decided), not the groups'."""
    group, cell = [0, 0, 0, 1], [0, 1, 2, 3]
    won, lost = np.array([3, 30, 9, 4]), np.array([17, 10, 21, 4])
    groups, cells = sf.strata_curves(group, cell, [1, 1, 1, 1], won, lost, [0, 0, 0, 0], 2, 4, strength=2.0)
    reference = fit_beta_binomial(won.astype(float), (won + lost).astype(float), max_strength=1e6).strength
    assert cells.strength == pytest.approx(reference, rel=1e-12) and groups.strength == 2.0


# ---- arrival_model -------------------------------------------------------------------------------------------
def _arrivals(per_day: np.ndarray, months: np.ndarray = MONTHS) -> tuple[np.ndarray, np.ndarray]:
    days = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(float)
    return per_day * days, days


def _overdispersion(counts: np.ndarray, days: np.ndarray, factor: np.ndarray, moy: np.ndarray) -> float:
    """The documented method of moments, by hand: each interior month t against the centred three-month mean
    of the adjusted rates times its factor and days; the last 12 of them; ``Σ(1.5 (c - μ)² - μ) / Σ μ²``,
    floored at 0."""
    adjusted = counts / days / factor[moy]
    pairs = []
    for t in range(1, counts.size - 1):
        mu = (adjusted[t - 1] + adjusted[t] + adjusted[t + 1]) / 3 * factor[moy[t]] * days[t]
        pairs.append((counts[t], mu))
    pairs = [(c, mu) for c, mu in pairs[-12:] if mu > 0]
    return max(sum(1.5 * (c - mu) ** 2 - mu for c, mu in pairs) / sum(mu * mu for _, mu in pairs), 0.0)


def test_a_noise_free_seasonal_series_gives_back_its_factors_and_level() -> None:
    """Rate per day ``L · f(month)`` with geometric mean of f 1, 36 months: the centred 2×12 moving average of
    a 12-periodic series is ``L · mean(f)``, so every ratio is ``f(m) / mean(f)`` and the normalised factors are
    f itself; the level is L, the trend 0, the forecast ``L · f(month ahead)``; the counts equal their fitted
    means, so the overdispersion is only the level's own, ``(1 / (30.4 L)) / 3``."""
    f = np.array([0.6, 0.8, 1.3, 1.1, 0.9, 1.5, 0.7, 1.0, 1.2, 0.95, 1.4, 1.05])
    f /= np.exp(np.log(f).mean())
    level = 7.0
    counts, days = _arrivals(level * f[MONTHS.astype(int) % 12])
    model = sf.arrival_model(counts, days, MONTHS, AHEAD)
    assert model.seasonal and model.trend
    np.testing.assert_allclose(model.per_day, level * f[[0, 3, 10]], rtol=1e-12)
    assert model.alpha == pytest.approx(1 / (30.4 * level) / 3, rel=1e-9)


@pytest.mark.parametrize(("n_months", "level"), [(24, 0.04), (40, 3.0)])
def test_any_history_of_two_years_or_more_gives_back_a_noise_free_season(n_months: int, level: float) -> None:
    """The same at exactly 24 months (each month of the year covered once by the moving average) and a rate of
    0.04 a day (about one deal a month, so a centred average below 1), and at 40 months (the last 36 used)."""
    f = np.array([0.6, 0.8, 1.3, 1.1, 0.9, 1.5, 0.7, 1.0, 1.2, 0.95, 1.4, 1.05])
    f /= np.exp(np.log(f).mean())
    months = np.arange(np.datetime64("2024-01") - n_months, np.datetime64("2024-01"))
    counts, days = _arrivals(level * f[months.astype(int) % 12], months)
    model = sf.arrival_model(counts, days, months, AHEAD)
    assert model.seasonal and model.trend
    np.testing.assert_allclose(model.per_day, level * f[[0, 3, 10]], rtol=1e-12)


def test_months_given_as_first_days_and_counts_as_decimals() -> None:
    """``months`` as ``datetime64[D]`` first days (as documented) and counts and days as ``decimal.Decimal`` (a
    database's NUMERIC) give the same model as months and floats."""
    from decimal import Decimal

    rng = np.random.default_rng(5)
    counts, days = _arrivals(rng.uniform(2.0, 9.0, 36).round(), MONTHS)
    counts = counts.round()
    reference = sf.arrival_model(counts, days, MONTHS, AHEAD)
    other = sf.arrival_model(
        [Decimal(int(c)) for c in counts], [Decimal(int(d)) for d in days], MONTHS.astype("datetime64[D]"), AHEAD
    )
    np.testing.assert_allclose(other.per_day, reference.per_day, rtol=1e-13)
    assert other.alpha == pytest.approx(reference.alpha, rel=1e-13)
    assert (other.seasonal, other.trend) == (reference.seasonal, reference.trend) == (True, True)


def test_the_seasonal_factors_are_the_classical_multiplicative_ones() -> None:
    """A noisy 30-month series (all months > 0): factor of month m = geometric mean over the covered months of
    ``rate / (centred 2×12 moving average)``, then divided by the geometric mean of the 12; the forecast is the
    mean of the last three adjusted rates × the trend × the factor. All written out by hand."""
    rng = np.random.default_rng(17)
    months = MONTHS[6:]  # 2021-07 .. 2023-12
    rate = rng.uniform(2.0, 9.0, months.size)
    rate[5] = 0.0  # a month without deals 25 months back: the last 24 are what must all have deals
    counts, days = _arrivals(rate, months)
    moy = months.astype(int) % 12
    ratios: dict[int, list[float]] = {m: [] for m in range(12)}
    for t in range(6, rate.size - 6):
        window = rate[t - 6 : t + 7]
        centred = (0.5 * window[0] + window[1:-1].sum() + 0.5 * window[-1]) / 12
        ratios[int(moy[t])].append(rate[t] / centred)
    raw = np.array([math.exp(np.mean(np.log(ratios[m]))) if ratios[m] else 1.0 for m in range(12)])
    factor = raw / math.exp(np.log(raw).mean())
    adjusted = rate / factor[moy]
    slope = np.polyfit(np.arange(24.0), np.log(adjusted[-24:]), 1)[0]
    level = adjusted[-3:].mean()
    steps = np.array([36, 39, 46]) - 34
    model = sf.arrival_model(counts, days, months, AHEAD)
    assert model.seasonal and model.trend
    np.testing.assert_allclose(model.per_day, level * np.exp(slope * steps) * factor[[0, 3, 10]], rtol=1e-10)
    alpha = _overdispersion(counts, days, factor, moy)
    assert alpha > 0
    assert model.alpha == pytest.approx(alpha + (1 / (30.4 * level) + alpha) / 3, rel=1e-10)


def test_a_pure_exponential_trend_is_recovered_exactly() -> None:
    """Rate ``A e^{b t}``: every ratio to the centred moving average is the same constant, so the factors are
    1; the log-linear slope over the last 24 months is b; the level the mean of the last three rates; the
    forecast ``level · e^{b (t - 34)}`` (34: the centre of the last three months)."""
    b, t = 0.04, np.arange(36.0)
    counts, days = _arrivals(3.0 * np.exp(b * t))
    model = sf.arrival_model(counts, days, MONTHS, AHEAD)
    level = 3.0 * np.exp(b * np.array([33.0, 34.0, 35.0])).mean()
    np.testing.assert_allclose(model.per_day, level * np.exp(b * (np.array([36, 39, 46]) - 34)), rtol=1e-9)


def test_a_short_history_has_no_season_and_no_trend() -> None:
    """23 months (one short of two years): no seasonal factors, no trend; the rate is the mean of the last three
    months' rates per day, for every month ahead; the overdispersion by the same method of moments."""
    rng = np.random.default_rng(3)
    months = MONTHS[-23:]
    counts, days = _arrivals(rng.uniform(1.0, 6.0, 23), months)
    model = sf.arrival_model(counts, days, months, AHEAD)
    assert not model.seasonal and not model.trend
    level = (counts[-3:] / days[-3:]).mean()
    np.testing.assert_allclose(model.per_day, [level] * 3, rtol=1e-13)
    alpha = _overdispersion(counts, days, np.ones(12), months.astype(int) % 12)
    assert model.alpha == pytest.approx(alpha + (1 / (30.4 * level) + alpha) / 3, rel=1e-12)


def test_two_years_with_an_empty_month_have_a_trend_but_no_season() -> None:
    """24 months, one of the last 24 without deals: no seasonal factors (they need every month), but a trend
    (the log of the empty month's rate floored at 1e-9)."""
    counts, days = _arrivals(np.full(24, 4.0), MONTHS[-24:])
    counts[5] = 0.0
    model = sf.arrival_model(counts, days, MONTHS[-24:], AHEAD[:1])
    assert model.trend and not model.seasonal
    y = np.log(np.maximum(counts / days, 1e-9))
    slope = np.polyfit(np.arange(24.0), y, 1)[0]
    assert model.per_day[0] == pytest.approx(4.0 * np.exp(slope * 2), rel=1e-12)


def test_a_month_without_deals_in_the_moving_average_window_is_left_out_of_its_factor() -> None:
    """36 months, month t = 8 (in the first year, covered by the moving average) without deals: its ratio 0 is
    left out of its month's factor (the geometric mean of the other two); written out by hand."""
    rng = np.random.default_rng(8)
    rate = rng.uniform(2.0, 9.0, 36)
    rate[8] = 0.0
    counts, days = _arrivals(rate)
    moy = MONTHS.astype(int) % 12
    ratios: dict[int, list[float]] = {m: [] for m in range(12)}
    for t in range(6, 30):
        window = rate[t - 6 : t + 7]
        ratio = rate[t] / ((0.5 * window[0] + window[1:-1].sum() + 0.5 * window[-1]) / 12)
        if ratio > 0:
            ratios[int(moy[t])].append(ratio)
    raw = np.array([math.exp(np.mean(np.log(ratios[m]))) for m in range(12)])
    factor = raw / math.exp(np.log(raw).mean())
    adjusted = rate / factor[moy]
    slope = np.polyfit(np.arange(24.0), np.log(adjusted[-24:]), 1)[0]
    expected = adjusted[-3:].mean() * np.exp(slope * (np.array([36, 39, 46]) - 34)) * factor[[0, 3, 10]]
    np.testing.assert_allclose(sf.arrival_model(counts, days, MONTHS, AHEAD).per_day, expected, rtol=1e-10)


def test_the_overdispersion_of_rare_deals_and_of_a_single_month() -> None:
    """Months of 0 to 2 deals (fitted means below 1 count too); a single month (of 1 or 10 deals): no interior
    month, only the level's share ``(1 / (30.4 L)) / 3``; one month of deals then 15 without: the fitted means
    of the last 12 interior months are all 0, so no overdispersion and (level 0) no level share."""
    months = MONTHS[-14:]
    counts, days = _arrivals(np.zeros(14), months)
    counts[:] = [1, 0, 2, 0, 0, 1, 1, 0, 2, 1, 0, 0, 1, 2]
    model = sf.arrival_model(counts, days, months, AHEAD[:1])
    level = (counts[-3:] / days[-3:]).mean()
    alpha = _overdispersion(counts, days, np.ones(12), months.astype(int) % 12)
    assert model.alpha == pytest.approx(alpha + (1 / (30.4 * level) + alpha) / 3, rel=1e-12)
    for n in (1.0, 10.0):
        one = sf.arrival_model([n], [31.0], MONTHS[-1:], AHEAD[:1])
        assert one.per_day[0] == n / 31 and one.alpha == pytest.approx(1 / (30.4 * n / 31) / 3, rel=1e-12)
    quiet = sf.arrival_model([5.0] + [0.0] * 15, [30.0] * 16, MONTHS[-16:], AHEAD[:1])
    assert (quiet.per_day[0], quiet.alpha) == (0.0, 0.0)


def test_few_months_have_no_overdispersion_and_no_deals_give_zero() -> None:
    """Five months: three interior ones, fewer than four, so only the level's share of the overdispersion;
    no deals at all (or no months): zero arrivals and zero overdispersion."""
    counts, days = _arrivals(np.array([1.0, 5.0, 2.0, 6.0, 3.0]), MONTHS[-5:])
    model = sf.arrival_model(counts, days, MONTHS[-5:], AHEAD[:2])
    level = (counts[-3:] / days[-3:]).mean()
    assert model.alpha == pytest.approx((1 / (30.4 * level)) / 3, rel=1e-12)
    six = sf.arrival_model(*_arrivals(np.array([1.0, 5.0, 2.0, 6.0, 3.0, 9.0]), MONTHS[-6:]), MONTHS[-6:], AHEAD)
    c6, d6 = _arrivals(np.array([1.0, 5.0, 2.0, 6.0, 3.0, 9.0]), MONTHS[-6:])
    alpha6 = _overdispersion(c6, d6, np.ones(12), MONTHS[-6:].astype(int) % 12)
    level6 = (c6[-3:] / d6[-3:]).mean()
    assert alpha6 > 0 and six.alpha == pytest.approx(alpha6 + (1 / (30.4 * level6) + alpha6) / 3, rel=1e-12)
    for counts in ([0.0] * 24, []):
        empty = sf.arrival_model(counts, [31.0] * len(counts), MONTHS[: len(counts)], AHEAD[:2])
        np.testing.assert_array_equal(empty.per_day, [0.0, 0.0])
        assert (empty.alpha, empty.seasonal, empty.trend) == (0.0, False, False)


# ---- count_interval ------------------------------------------------------------------------------------------
def _quantiles(values: np.ndarray, pmf: np.ndarray, level: float) -> tuple[float, float]:
    """The smallest value whose cdf reaches (1 - level)/2 (floored at 0) and (1 + level)/2."""
    order = np.argsort(values)
    cdf = np.cumsum(pmf[order])
    lo = values[order][np.argmax(cdf >= (1 - level) / 2 - 1e-12)]
    hi = values[order][np.argmax(cdf >= (1 + level) / 2 - 1e-12)]
    return max(float(lo), 0.0), float(hi)


def test_the_exact_interval_with_an_estimation_error_equals_a_brute_force_sum() -> None:
    """Σ Binomial + Poisson (alpha 0) + a normal error of variance 4 rounded to the nearest integer (offset j
    with probability Φ((j + ½)/2) − Φ((j − ½)/2) for |j| <= 12): the distribution of the sum built value by
    value with scipy, the quantiles read off it."""
    n, p, mean, extra, level = [4, 9], [0.6, 0.15], 3.5, 4.0, 0.9
    base = np.array([1.0])
    for ni, pi in zip(n, p, strict=True):
        base = np.convolve(base, sps.binom.pmf(np.arange(ni + 1), ni, pi))
    base = np.convolve(base, sps.poisson.pmf(np.arange(60), mean))
    dist: dict[int, float] = {}
    for k, pk in enumerate(base):
        for j in range(-12, 13):
            w = sps.norm.cdf((j + 0.5) / 2) - sps.norm.cdf((j - 0.5) / 2)
            dist[k + j] = dist.get(k + j, 0.0) + pk * w
    values = np.array(list(dist), dtype=float)
    expected = _quantiles(values, np.array(list(dist.values())), level)
    low, high, method = sf.count_interval(n, p, mean, 0.0, level, extra=extra)
    assert method == "exact" and (low, high) == expected


@pytest.mark.parametrize(("mean", "extra", "level"), [(0.8, 0.09, 0.5), (0.8, 0.8, 0.6), (2.0, 0.0, 0.7)])
def test_small_new_deal_counts_and_small_errors_are_kept(mean: float, extra: float, level: float) -> None:
    """The same brute-force sum with a new-deal mean below 1 and an error variance below 1 (0.09: offsets
    -2..2 only); no error at all is no convolution (and no division by a zero standard deviation)."""
    n, p = [3, 2], [0.5, 0.25]
    base = np.convolve(sps.binom.pmf(np.arange(4), 3, 0.5), sps.binom.pmf(np.arange(3), 2, 0.25))
    base = np.convolve(base, sps.poisson.pmf(np.arange(40), mean))
    shift = math.ceil(6 * math.sqrt(extra)) if extra else 0
    dist: dict[int, float] = {}
    for k, pk in enumerate(base):
        for j in range(-shift, shift + 1):
            w = sps.norm.cdf((j + 0.5) / math.sqrt(extra)) - sps.norm.cdf((j - 0.5) / math.sqrt(extra)) if extra else 1
            dist[k + j] = dist.get(k + j, 0.0) + pk * w
    expected = _quantiles(np.array(list(dist), dtype=float), np.array(list(dist.values())), level)
    with warnings.catch_warnings(), np.errstate(divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        assert sf.count_interval(n, p, mean, 0.0, level, extra=extra) == (*expected, "exact")
    assert sf.count_interval([1], [0.5], 0.0, 0.0, 0.9, extra=4.0)[0] == 0.0  # floored at 0


def test_the_exact_interval_of_open_deals_alone_and_probabilities_clipped() -> None:
    """No new deals: the Poisson-binomial alone (scipy's binomial when the probabilities are equal); a
    probability outside [0, 1] counts as its end (1.2 as 1, -0.3 as 0)."""
    assert sf.count_interval([10], [0.3], 0.0, 0.2, 0.8) == (
        float(sps.binom.ppf(0.1, 10, 0.3)),
        float(sps.binom.ppf(0.9, 10, 0.3)),
        "exact",
    )
    assert sf.count_interval([3, 4, 5], [1.2, -0.3, 0.5], 0.0, 0.0, 0.5) == (
        3 + float(sps.binom.ppf(0.25, 5, 0.5)),
        3 + float(sps.binom.ppf(0.75, 5, 0.5)),
        "exact",
    )


def test_a_negative_binomial_and_a_poisson_of_new_deals_equal_scipy() -> None:
    """New deals alone: NB(mean 12, alpha 0.5) is ``scipy.stats.nbinom(2, 2 / 14)``; alpha at or below 1e-12 is
    the Poisson (at exactly 1e-12 too); the convolution is not truncated before the 1 - 1e-9 quantile (heavy
    tailed too, alpha 4)."""
    assert sf.count_interval([], [], 12.0, 0.5, 0.98)[:2] == (
        float(sps.nbinom.ppf(0.01, 2, 2 / 14)),
        float(sps.nbinom.ppf(0.99, 2, 2 / 14)),
    )
    for alpha in (0.0, 1e-12):
        assert sf.count_interval([], [], 12.0, alpha, 0.98)[:2] == (
            float(sps.poisson.ppf(0.01, 12.0)),
            float(sps.poisson.ppf(0.99, 12.0)),
        )
    # the widest interval the convolution allows: every value up to the 1 - 1e-9 quantile is kept
    for alpha in (0.5, 4.0):
        r = 1 / alpha
        top = sf.count_interval([], [], 12.0, alpha, 1 - 2e-9)[1]
        assert top == float(sps.nbinom.ppf(1 - 1e-9, r, r / (r + 12)))


@pytest.mark.parametrize(
    ("n", "p", "mean", "alpha", "extra", "level"),
    [
        ([600, 900, 400], [0.1, 0.45, 0.8], 40.0, 0.2, 9.0, 0.8),
        ([362, 206, 85], [0.81, 0.8, 0.16], 5.0, 1.0, 4.0, 0.99),
    ],
)
def test_the_normal_interval_is_cornish_fisher_on_the_cumulants_from_scipy(
    n: list[int], p: list[float], mean: float, alpha: float, extra: float, level: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above :data:`EXACT_LIMIT` open deals: ``round(κ1 + √κ2 (z + (z² − 1) γ / 6))`` floored at 0, with the
    cumulants summed from scipy's mean, variance and skewness of each binomial and of the negative binomial
    (κ3 = skew · var^1.5), plus ``extra`` in κ2. The second case is skewed enough that each cumulant's terms
    move a rounded quantile."""
    k = np.zeros(3)
    r = 1 / alpha
    parts = [sps.binom(ni, pi) for ni, pi in zip(n, p, strict=True)] + [sps.nbinom(r, r / (r + mean))]
    for dist in parts:
        m, v, s = (float(x) for x in dist.stats(moments="mvs"))
        k += [m, v, s * v**1.5]
    k[1] += extra
    gamma = k[2] / k[1] ** 1.5
    expected = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        z = sps.norm.ppf(q)
        expected.append(float(round(k[0] + math.sqrt(k[1]) * (z + (z * z - 1) * gamma / 6))))
    assert sum(n) <= sf.EXACT_LIMIT
    monkeypatch.setattr(sf, "EXACT_LIMIT", sum(n) - 1)
    assert sf.count_interval(n, p, mean, alpha, level, extra=extra) == (*expected, "normal")


def test_the_exact_limit_is_inclusive_and_a_degenerate_sum_is_a_point(monkeypatch: pytest.MonkeyPatch) -> None:
    """At exactly :data:`EXACT_LIMIT` open deals the interval is exact; above it normal; certain deals (p 0 or
    1) with no new deals and no error have variance 0: the point (κ1, κ1). Wins cannot be negative: the lower
    normal quantile of a sum near 0 is floored at 0."""
    monkeypatch.setattr(sf, "EXACT_LIMIT", 5)
    assert sf.count_interval([2, 3], [0.5, 0.5], 0.0, 0.0, 0.8)[2] == "exact"
    assert sf.count_interval([2, 4], [1.0, 0.0], 0.0, 0.0, 0.8) == (2.0, 2.0, "normal")
    low, high, method = sf.count_interval([6], [0.05], 0.0, 0.0, 0.98)
    assert (low, method) == (0.0, "normal") and high >= 1


def test_the_documented_limit_and_default_strength() -> None:
    assert (sf.EXACT_LIMIT, sf.DEFAULT_STRENGTH) == (2000, 50.0)


# ---- amount_interval -----------------------------------------------------------------------------------------
def test_an_amount_without_spread_or_mean_is_a_point() -> None:
    """A variance or a mean of 0 (or below) gives the point ``(mean, mean)``; otherwise the gamma of that mean and
    variance at ``(1 ∓ level) / 2``."""
    assert sf.amount_interval(0.0, 5.0, 0.8) == (0.0, 0.0)
    assert sf.amount_interval(-1.0, 5.0, 0.8) == (-1.0, -1.0)
    assert sf.amount_interval(5.0, 0.0, 0.8) == (5.0, 5.0)
    assert sf.amount_interval(5.0, -2.0, 0.8) == (5.0, 5.0)
    assert sf.amount_interval(0.5, 0.4, 0.8) == pytest.approx(tuple(sps.gamma.ppf([0.1, 0.9], 0.625, scale=0.8)))
    low, high = sf.amount_interval(10.0, 50.0, 0.6)
    assert (low, high) == pytest.approx(tuple(sps.gamma.ppf([0.2, 0.8], 2.0, scale=5.0)), rel=1e-12)
