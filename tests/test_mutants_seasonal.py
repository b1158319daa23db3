"""Seasonal decomposition, held word for word and number for number where the mutation run found it loose.

The notes and the method are the user's reading of the result: each scenario below pins both, in English and
Danish, as the catalogues word them (counts, units, the order of the sentences). Every error names its
parameter, the function and the value, exactly. Results without a fit are checked field by field. Numbers
at a non-default confidence are held to statsmodels (GLM, Wilson) and scipy quantiles. All tests are fast: they
run for every mutant of ``hitrate/stats/seasonal.py`` (``make mutate``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats as sps
from statsmodels.genmod.families import Binomial
from statsmodels.genmod.generalized_linear_model import GLM as sm_glm
from statsmodels.stats.proportion import proportion_confint

from hitrate.errors import InvalidParameterError
from hitrate.stats._glm import unusual_periods
from hitrate.stats.seasonal import Decomposition, decompose
from tests.test_stats_seasonal import REF_ATTEMPTS, REF_HITS, REF_MONTHS

MONTHS36 = np.arange(np.datetime64("2020-01"), np.datetime64("2023-01"))


def flat36(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """36 months of 200 attempts at a constant rate of 0.3: ``rng = np.random.default_rng(seed)``,
    ``hits = rng.binomial(200, 0.3, 36)``."""
    rng = np.random.default_rng(seed)
    n = np.full(36, 200)
    return n, rng.binomial(n, 0.3)


def _scenarios() -> dict[str, Callable[[], Decomposition]]:
    n, k = flat36()
    one_high = k.copy()
    one_high[10] = 120
    two = one_high.copy()
    two[25] = 10
    edge = k.copy()
    edge[[0, 12, 24]] = 0
    two_skipped_n, two_skipped_k = REF_ATTEMPTS.copy(), REF_HITS.copy()
    two_skipped_n[5] = two_skipped_k[5] = 0
    # Months 1, 2 and 3 of the year seen once each (the 36 flat months without 2021 and 2022's Jan-Mar).
    keep3 = ~np.isin(np.arange(36), [12, 13, 14, 24, 25, 26])
    keep2 = ~np.isin(np.arange(36), [12, 13, 24, 25])
    keep1 = ~np.isin(np.arange(36), [14, 26])
    weeks = np.datetime64("2019-12-30") + 7 * np.arange(60)
    wn = np.full(60, 80)
    wn[7] = 0
    wk = np.random.default_rng(5).binomial(wn, 0.4)
    return {
        "reference": lambda: decompose(REF_MONTHS, REF_ATTEMPTS, REF_HITS),
        "two skipped": lambda: decompose(REF_MONTHS, two_skipped_n, two_skipped_k),
        "fourteen months": lambda: decompose(REF_MONTHS[:14], REF_ATTEMPTS[:14], REF_HITS[:14]),
        "one month of the year once": lambda: decompose(MONTHS36[keep1], n[keep1], k[keep1]),
        "two months of the year once": lambda: decompose(MONTHS36[keep2], n[keep2], k[keep2]),
        "three months of the year once": lambda: decompose(MONTHS36[keep3], n[keep3], k[keep3]),
        "all lost": lambda: decompose(REF_MONTHS, REF_ATTEMPTS, np.zeros(30)),
        "all hits": lambda: decompose(REF_MONTHS, REF_ATTEMPTS, REF_ATTEMPTS),
        "no attempts": lambda: decompose(REF_MONTHS[:3], [0, 0, 0], [0, 0, 0]),
        "nothing unusual": lambda: decompose(MONTHS36, n, k),
        "one unusual": lambda: decompose(MONTHS36, n, one_high),
        "two unusual": lambda: decompose(MONTHS36, n, two),
        "edge": lambda: decompose(MONTHS36, n, edge),
        "one period": lambda: decompose(REF_MONTHS[:1], [40], [10]),
        "two periods": lambda: decompose(REF_MONTHS[:2], [40, 40], [10, 20]),
        "three periods": lambda: decompose(REF_MONTHS[:3], [40, 40, 40], [10, 20, 15]),
        "weeks": lambda: decompose(weeks, wn, wk, period="week"),
    }


SCENARIOS = _scenarios()

OVERDISPERSED = (
    "The months vary more than chance alone would make them (dispersion {d}), so the intervals of the factors "
    "are widened by a factor {w}."
)
OVERDISPERSED_DA = (
    "Disse måneder varierer mere, end tilfældigheder alene ville give (dispersion {d}), så faktorernes "
    "intervaller er gjort bredere med en faktor {w}."
)
SHORT = "fewer than two full yearly cycles, so no seasonal factors are estimated; the trend is shown alone."
SHORT_DA = "færre end to hele årscyklusser, så der estimeres ingen sæsonfaktorer; trenden vises alene."
UNOBSERVED = "not observed in at least two periods, so no seasonal factors are estimated; the trend is shown alone."
UNOBSERVED_DA = "ikke set i mindst to perioder, så der estimeres ingen sæsonfaktorer; trenden vises alene."
SKIPPED1, SKIPPED1_DA = "1 month with no attempts was skipped.", "1 måned uden forsøg blev sprunget over."

NOTES: dict[str, tuple[str, str]] = {
    "reference": (
        f"{SKIPPED1} {OVERDISPERSED.format(d='1.06', w='1.03')}",
        f"{SKIPPED1_DA} {OVERDISPERSED_DA.format(d='1,06', w='1,03')}",
    ),
    "two skipped": (
        f"2 months with no attempts were skipped. {OVERDISPERSED.format(d='1.14', w='1.07')}",
        f"2 måneder uden forsøg blev sprunget over. {OVERDISPERSED_DA.format(d='1,14', w='1,07')}",
    ),
    "fourteen months": (
        f"Only 14 months of data: {SHORT} {SKIPPED1}",
        f"Kun 14 måneder med data: {SHORT_DA} {SKIPPED1_DA}",
    ),
    "one month of the year once": (f"Month 3 of the year is {UNOBSERVED}", f"Måned 3 i året er {UNOBSERVED_DA}"),
    "two months of the year once": (
        f"Months 1 and 2 of the year are {UNOBSERVED}",
        f"Måneder 1 og 2 i året er {UNOBSERVED_DA}",
    ),
    "three months of the year once": (
        f"Months 1, 2 and 3 of the year are {UNOBSERVED}",
        f"Måneder 1, 2 og 3 i året er {UNOBSERVED_DA}",
    ),
    "all lost": (
        f"Every attempt was lost: there is nothing to decompose. {SKIPPED1}",
        f"Hvert forsøg blev tabt: der er intet at dekomponere. {SKIPPED1_DA}",
    ),
    "all hits": (
        f"Every attempt was a hit: there is nothing to decompose. {SKIPPED1}",
        f"Hvert forsøg blev vundet: der er intet at dekomponere. {SKIPPED1_DA}",
    ),
    "no attempts": (
        "No month has any attempts: there is nothing to decompose.",
        "Ingen måned har nogen forsøg: der er intet at dekomponere.",
    ),
    "nothing unusual": (
        "36 months (3.0 yearly cycles) decomposed; nothing unusual.",
        "36 måneder (3,0 årscyklusser) dekomponeret; intet usædvanligt.",
    ),
    "one unusual": (
        f"{OVERDISPERSED.format(d='2.69', w='1.64')} 1 month is unusual for its trend and season: 2020-11 (high).",
        f"{OVERDISPERSED_DA.format(d='2,69', w='1,64')} 1 måned er usædvanlig i forhold til sin trend og sæson: "
        "2020-11 (høj).",
    ),
    "two unusual": (
        f"{OVERDISPERSED.format(d='5.65', w='2.38')} 2 months are unusual for their trend and season: "
        "2020-11 (high) and 2022-02 (low).",
        f"{OVERDISPERSED_DA.format(d='5,65', w='2,38')} 2 måneder er usædvanlige i forhold til deres trend og "
        "sæson: 2020-11 (høj) og 2022-02 (lav).",
    ),
    "edge": (
        "Month 1 of the year had no hits (or only hits) every time, so the factor is at the edge of what the data "
        "allow and its interval is not reliable.",
        "Måned 1 i året havde ingen vundne (eller kun vundne) hver gang, så faktoren ligger på grænsen af, hvad "
        "data tillader, og dens interval er ikke pålideligt.",
    ),
    "one period": (f"Only 1 month of data: {SHORT}", f"Kun 1 måned med data: {SHORT_DA}"),
    "two periods": (
        f"Only 2 months of data: {SHORT} 2 months are unusual for their trend and season: 2021-03 (low) and "
        "2021-04 (high).",
        f"Kun 2 måneder med data: {SHORT_DA} 2 måneder er usædvanlige i forhold til deres trend og sæson: "
        "2021-03 (lav) og 2021-04 (høj).",
    ),
    "three periods": (
        f"Only 3 months of data: {SHORT} 3 months are unusual for their trend and season: 2021-03 (low), "
        "2021-04 (high) and 2021-05 (low).",
        f"Kun 3 måneder med data: {SHORT_DA} 3 måneder er usædvanlige i forhold til deres trend og sæson: "
        "2021-03 (lav), 2021-04 (høj) og 2021-05 (lav).",
    ),
    "weeks": (
        f"Only 60 weeks of data: {SHORT} 1 week with no attempts was skipped.",
        f"Kun 60 uger med data: {SHORT_DA} 1 uge uden forsøg blev sprunget over.",
    ),
}

GLM = "binomial GLM (logit link) on the aggregated counts with "
TAIL = (
    ", fitted by IRLS (statsmodels); quasi-binomial dispersion for the intervals; unusual periods by deletion "
    "Pearson residuals with Benjamini-Hochberg; year on year by Newcombe's interval and a two-proportion z-test"
)
SEASON = "a month-of-year effect (sum-to-zero contrasts) and "
SPLINE = "a natural cubic spline trend in time with {df} degrees of freedom"
METHODS: dict[str, str] = {
    "reference": GLM + SEASON + SPLINE.format(df=3) + TAIL,
    "two skipped": GLM + SEASON + SPLINE.format(df=3) + TAIL,
    "fourteen months": GLM + SPLINE.format(df=2) + TAIL,
    "one month of the year once": GLM + SPLINE.format(df=4) + TAIL,
    "all lost": GLM + SEASON + SPLINE.format(df=3) + TAIL,
    "all hits": GLM + SEASON + SPLINE.format(df=3) + TAIL,
    "no attempts": "none (no attempts)",
    "nothing unusual": GLM + SEASON + SPLINE.format(df=4) + TAIL,
    "one period": GLM + "a constant level" + TAIL,
    "two periods": GLM + "a constant level" + TAIL,
    "three periods": GLM + "a natural cubic spline trend in time with 1 degree of freedom" + TAIL,
    "weeks": GLM + SPLINE.format(df=2) + TAIL,
}


@pytest.mark.parametrize("name", list(NOTES))
def test_the_note_word_for_word_in_both_languages(name: str) -> None:
    d = SCENARIOS[name]()
    english, danish = NOTES[name]
    assert str(d.note) == english
    assert d.note.render("da") == danish


@pytest.mark.parametrize("name", list(METHODS))
def test_the_method_word_for_word(name: str) -> None:
    assert str(SCENARIOS[name]().method) == METHODS[name]


def test_the_method_names_the_weekly_season() -> None:
    n = np.full(110, 100)
    k = np.random.default_rng(2).binomial(n, 0.3)
    d = decompose(np.datetime64("2019-12-30") + 7 * np.arange(110), n, k, period="week")
    assert "an ISO-week-of-year effect (sum-to-zero contrasts) and a natural cubic spline" in str(d.method)
    assert d.period == "week" and d.seasonal_factors is not None and len(d.seasonal_factors) == 52


# ---- results without a fit, field by field -----------------------------------------------------------
@pytest.mark.parametrize("name", ["no attempts", "all lost", "all hits"])
def test_a_result_without_a_fit_field_by_field(name: str) -> None:
    d = SCENARIOS[name]()
    n = np.asarray(d.attempts)
    obs = n > 0
    assert d.period == "month"
    assert d.attempts.dtype == np.float64 and d.hits.dtype == np.float64
    expected_n = {"no attempts": [0.0, 0.0, 0.0]}.get(name, REF_ATTEMPTS.astype(float).tolist())
    assert d.attempts.tolist() == expected_n
    expected_k = {"no attempts": [0.0] * 3, "all lost": [0.0] * 30}.get(name, REF_ATTEMPTS.astype(float).tolist())
    assert d.hits.tolist() == expected_k
    np.testing.assert_array_equal(d.period_of_year, (np.arange(d.attempts.size) + 2) % 12 + 1)
    np.testing.assert_array_equal(d.adjusted_rate, d.rate)
    assert d.trend.dtype == np.float64
    if name == "no attempts":
        assert np.isnan(d.trend).all() and d.cycles == 0.0
    else:
        np.testing.assert_array_equal(d.trend, 1.0 if name == "all hits" else 0.0)
        assert d.cycles == 30 / 12
    np.testing.assert_array_equal(d.remainder[obs], 0.0)
    assert np.isnan(d.remainder[~obs]).all() and np.isnan(d.rate[~obs]).all()
    assert d.unusual.dtype == np.dtype("<U4") and d.unusual.tolist() == [""] * n.size
    assert d.dispersion == 1.0
    assert d.seasonal_factors is d.seasonal_factor_low is d.seasonal_factor_high is d.seasonal_rate_effect is None


def test_counts_come_back_as_floats_from_integer_input() -> None:
    d = decompose(list(REF_MONTHS.astype(str)), REF_ATTEMPTS.tolist(), REF_HITS.tolist())
    assert d.attempts.dtype == np.float64 and d.hits.dtype == np.float64
    np.testing.assert_array_equal(d.attempts, REF_ATTEMPTS)
    np.testing.assert_array_equal(d.hits, REF_HITS)


# ---- dates -------------------------------------------------------------------------------------------
def test_iso_strings_and_time_deltas_are_dates() -> None:
    """ISO strings and day counts (timedelta64, days since 1970-01-01) name the same months as datetime64."""
    ref = decompose(REF_MONTHS, REF_ATTEMPTS, REF_HITS)
    for dates in (REF_MONTHS.astype("datetime64[D]").astype(str), REF_MONTHS.astype("datetime64[D]").astype("M8[s]")):
        d = decompose(dates, REF_ATTEMPTS, REF_HITS)
        assert d.seasonal_factors == pytest.approx(ref.seasonal_factors, rel=1e-12)
    days = REF_MONTHS.astype("datetime64[D]").astype(np.int64).astype("timedelta64[D]")
    d = decompose(days, REF_ATTEMPTS, REF_HITS)
    np.testing.assert_array_equal(d.period_of_year, ref.period_of_year)
    assert d.seasonal_factors == pytest.approx(ref.seasonal_factors, rel=1e-12)


def test_the_trend_does_not_depend_on_where_time_starts() -> None:
    """Seven months around 1970-01 (time indexes -3..3, so hi + lo = 0) give the trend of the same counts in
    2021: the spline is fitted on rescaled time."""
    n, k = [40, 50, 45, 60, 55, 50, 40], [10, 15, 12, 20, 22, 18, 16]
    early = decompose(np.arange(np.datetime64("1969-10"), np.datetime64("1970-05")), n, k)
    late = decompose(np.arange(np.datetime64("2021-10"), np.datetime64("2022-05")), n, k)
    assert np.isfinite(early.trend).all()
    np.testing.assert_allclose(early.trend, late.trend, rtol=1e-9)


# ---- errors ------------------------------------------------------------------------------------------
M3 = np.arange(np.datetime64("2021-03"), np.datetime64("2021-06"))
D = "datetime64[D]"
ERRORS: list[tuple[str, Callable[[], object], str, str]] = [
    ("not dates", lambda: decompose(["2021-03-01", "soon"], [1, 1], [0, 0]), "period_start",
     "must be dates (numpy datetime64). Got dtype <U10 instead."),
    ("2-D", lambda: decompose(np.array([["2021-01-01"]], dtype=D), [1], [1]), "period_start",
     "must be one-dimensional (1-D). Got shape (1, 1) instead."),
    ("NaT", lambda: decompose(np.array(["2021-01-01", "NaT"], dtype=D), [1, 1], [1, 1]), "period_start",
     "must be dates without NaT (missing dates). Got NaT instead."),
    ("attempts shape", lambda: decompose(M3, [1, 1], [0, 0, 0]), "attempts",
     "must be one entry per period (3). Got shape (2,) instead."),
    ("hits shape", lambda: decompose(M3, [1, 1, 1], [0, 0]), "hits",
     "must be one entry per period (3). Got shape (2,) instead."),
    ("attempts NaN", lambda: decompose(M3, [1, np.nan, 1], [0, 0, 0]), "attempts",
     "must be finite and >= 0. Got [1.0, nan, 1.0] instead."),
    ("attempts negative", lambda: decompose(M3, [1, -2, 1], [0, 0, 0]), "attempts",
     "must be finite and >= 0. Got [1.0, -2.0, 1.0] instead."),
    ("hits negative", lambda: decompose(M3, [1, 2, 1], [0, -1, 0]), "hits",
     "must be finite and >= 0. Got [0.0, -1.0, 0.0] instead."),
    ("hits infinite", lambda: decompose(M3, [1, 2, 1], [0, np.inf, 0]), "hits",
     "must be finite and >= 0. Got [0.0, inf, 0.0] instead."),
    ("hits above attempts", lambda: decompose(M3, [1, 2, 1], [0, 1, 2]), "hits",
     "must be at most 'attempts' in every entry. Got hits=2 > attempts=1 at position 2 instead."),
    ("duplicate months",
     lambda: decompose(np.array(["2021-03-01", "2021-04-02", "2021-03-15", "2021-05-01", "2021-05-09"], dtype=D),
                       [3] * 5, [1] * 5),
     "period_start", "must be dates that name each month once. Got duplicates: ['2021-03', '2021-05'] instead."),
    ("duplicate weeks",
     lambda: decompose(np.array(["2021-03-01", "2021-03-02"], dtype=D), [3, 3], [1, 2], period="week"),
     "period_start", "must be dates that name each week once. Got duplicates: ['2021-W09'] instead."),
    ("confidence", lambda: decompose(M3, [1, 1, 1], [0, 0, 0], confidence=0.0), "confidence",
     "must be in (0, 1). Got 0.0 instead."),
    ("period", lambda: decompose(M3, [1, 1, 1], [0, 0, 0], period="day"), "period",
     "must be 'month' or 'week'. Got 'day' instead."),
]  # fmt: skip
ERRORS_DA = {
    "not dates": "skal være datoer (numpy datetime64). Fik dtype <U10.",
    "NaT": "skal være datoer uden NaT (manglende datoer). Fik NaT.",
    "duplicate months": "skal være datoer, der nævner hver måned én gang. Fik duplicates: ['2021-03', '2021-05'].",
    "duplicate weeks": "skal være datoer, der nævner hver uge én gang. Fik duplicates: ['2021-W09'].",
    "hits above attempts": "skal være højst 'attempts' i hver værdi. Fik hits=2 > attempts=1 at position 2.",
}


@pytest.mark.parametrize(("case", "call", "parameter", "tail"), ERRORS, ids=[e[0] for e in ERRORS])
def test_every_error_word_for_word(case: str, call: Callable[[], object], parameter: str, tail: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        call()
    assert info.value.parameter == parameter
    assert str(info.value) == f"The '{parameter}' parameter of decompose {tail}"
    if case in ERRORS_DA:
        assert info.value.render("da") == f"Parameteren '{parameter}' til decompose {ERRORS_DA[case]}"


# ---- numbers at a non-default confidence -------------------------------------------------------------
def _statsmodels_fit(months: np.ndarray, n: np.ndarray, k: np.ndarray, df: int) -> tuple[object, np.ndarray]:
    """The reference of test_stats_seasonal: patsy ``C(month, Sum)`` + ``cr(t, df=df, constraints='center')``."""
    idx = months.astype(np.int64)
    data = pd.DataFrame({"hits": k, "misses": n - k, "month": idx % 12 + 1, "t": (idx - idx[0]).astype(float)})
    ref = smf.glm(
        f"hits + misses ~ C(month, Sum) + cr(t, df={df}, constraints='center')", data=data, family=Binomial()
    ).fit()
    names = [f"C(month, Sum)[S.{m}]" for m in range(1, 12)]
    effects = np.append(ref.params[names].to_numpy(), -ref.params[names].sum())
    contrast = np.vstack([np.eye(11), -np.ones(11)])
    cov = ref.cov_params().loc[names, names].to_numpy()
    return ref, np.column_stack([effects, np.sqrt(np.diag(contrast @ cov @ contrast.T))])


@pytest.mark.parametrize(("outlier", "overdispersed"), [(None, False), (120, True), (85, True)])
def test_an_80_percent_decomposition_matches_statsmodels_and_scipy(outlier: int | None, overdispersed: bool) -> None:
    """Confidence 0.8 on the flat 36 months (``flat36()``: dispersion floored at 1, normal quantile), or on the
    same months with 2020-11 at 120 or 85 of 200 (overdispersed, dispersion 2.69 or 1.12: Student t on the residual
    degrees of freedom).
    Wilson intervals from statsmodels ``proportion_confint(method="wilson", alpha=0.2)``; factor intervals
    ``exp(effect ± q·se·sqrt(φ))``; tolerance rtol 1e-5 (IRLS convergence)."""
    n, k = flat36()
    if outlier is not None:
        k = k.copy()
        k[10] = outlier
    d = decompose(MONTHS36, n, k, confidence=0.8)
    ref, eff = _statsmodels_fit(MONTHS36, n, k, df=4)
    phi = max(1.0, ref.pearson_chi2 / ref.df_resid)
    assert (phi > 1) == overdispersed
    assert d.dispersion == pytest.approx(phi, rel=1e-6)
    q = sps.t.ppf(0.9, ref.df_resid) if phi > 1 else sps.norm.ppf(0.9)
    low = {m + 1: float(np.exp(eff[m, 0] - q * eff[m, 1] * np.sqrt(phi))) for m in range(12)}
    high = {m + 1: float(np.exp(eff[m, 0] + q * eff[m, 1] * np.sqrt(phi))) for m in range(12)}
    assert d.seasonal_factor_low == pytest.approx(low, rel=1e-5)
    assert d.seasonal_factor_high == pytest.approx(high, rel=1e-5)
    wl, wh = proportion_confint(k, n, alpha=0.2, method="wilson")
    np.testing.assert_allclose(d.ci_low, wl, rtol=1e-9)
    np.testing.assert_allclose(d.ci_high, wh, rtol=1e-9)
    np.testing.assert_allclose(d.remainder, ref.resid_pearson, rtol=1e-6, atol=1e-8)


def test_a_period_of_one_attempt_is_fitted_and_has_its_pearson_residual() -> None:
    """A month with a single attempt (binomial variance p(1-p) < 1) is in the fit like any other: its rate, its
    Pearson residual as statsmodels ``resid_pearson`` (rtol 1e-6) and the trend degrees of freedom."""
    n, k = flat36()
    n, k = n.copy(), k.copy()
    n[5], k[5] = 1, 1
    d = decompose(MONTHS36, n, k)
    assert d.rate[5] == 1.0 and "skipped" not in d.note
    ref, _ = _statsmodels_fit(MONTHS36, n, k, df=4)
    np.testing.assert_allclose(d.remainder, ref.resid_pearson, rtol=1e-6, atol=1e-8)
    assert d.dispersion == pytest.approx(max(1.0, ref.pearson_chi2 / ref.df_resid), rel=1e-6)


def test_a_constant_model_on_two_periods_has_the_dispersion_of_one_residual_degree_of_freedom() -> None:
    """Two months, 10/40 and 20/40: one parameter (the pooled rate 30/80), one residual degree of freedom, so
    the dispersion is Pearson's chi-square itself: sum((k - n p)² / (n p (1-p)))."""
    d = decompose(REF_MONTHS[:2], [40, 40], [10, 20])
    p = 30 / 80
    chi2 = sum((kk - 40 * p) ** 2 / (40 * p * (1 - p)) for kk in (10, 20))
    assert d.dispersion == pytest.approx(chi2, rel=1e-9)
    np.testing.assert_allclose(d.trend, p, rtol=1e-9)


def test_a_month_of_the_year_without_attempts_at_the_end_of_the_year() -> None:
    """December with no attempts in any year: month 12 is unobserved, so no factors (not a singular fit)."""
    n, k = flat36()
    n, k = n.copy(), k.copy()
    n[11::12] = k[11::12] = 0
    d = decompose(MONTHS36, n, k)
    assert d.seasonal_factors is None
    assert str(d.note).startswith("Month 12 of the year is not observed in at least two periods")


def test_a_sparse_long_series_spends_its_degrees_of_freedom_on_the_season_first() -> None:
    """2010 and 2021 only (24 months spanning 12 years): the trend would get 1 + 12 degrees of freedom, but
    24 - 2 - 11 = 11 remain after the intercept, the 11 seasonal contrasts and one residual degree of freedom."""
    months = np.concatenate(
        [np.arange(np.datetime64("2010-01"), np.datetime64("2011-01")),
         np.arange(np.datetime64("2021-01"), np.datetime64("2022-01"))]
    )  # fmt: skip
    n = np.full(24, 100)
    k = np.random.default_rng(4).binomial(n, 0.35)
    d = decompose(months, n, k)
    assert d.cycles == 144 / 12
    assert "a natural cubic spline trend in time with 11 degrees of freedom" in str(d.method)
    assert d.seasonal_factors is not None


# ---- the trend alone ---------------------------------------------------------------------------------
def test_a_trend_without_season_matches_patsy_cr() -> None:
    """Fourteen months (no factors): the trend is statsmodels' GLM on ``cr(t, df=2, constraints='center')``
    alone (patsy's natural cubic regression spline, the same model as decompose's), rtol 1e-6."""
    months, n, k = REF_MONTHS[:14], REF_ATTEMPTS[:14], REF_HITS[:14]
    d = decompose(months, n, k)
    obs = n > 0
    idx = months.astype(np.int64)
    data = pd.DataFrame({"hits": k[obs], "misses": (n - k)[obs], "t": (idx - idx[0])[obs].astype(float)})
    ref = smf.glm("hits + misses ~ cr(t, df=2, constraints='center')", data=data, family=Binomial()).fit()
    np.testing.assert_allclose(d.trend[obs], ref.fittedvalues, rtol=1e-6)
    np.testing.assert_allclose(d.remainder[obs], ref.resid_pearson, rtol=1e-6, atol=1e-8)


def test_the_trend_is_linear_in_log_odds_beyond_the_last_observed_month() -> None:
    """A natural spline is linear beyond its boundary knots: months after the last one with attempts (given with
    zero attempts) get a trend whose log-odds have zero second differences (to 1e-9)."""
    n, k = REF_ATTEMPTS.copy(), REF_HITS.copy()
    n[-6:] = k[-6:] = 0
    d = decompose(REF_MONTHS, n, k)
    tail = d.trend[-7:]
    logit = np.log(tail / (1 - tail))
    np.testing.assert_allclose(np.diff(logit, 2), 0.0, atol=1e-9)
    assert abs(logit[-1] - logit[0]) > 1e-3  # not flat: the slope at the boundary carries on


# ---- the outlier test ----------------------------------------------------------------------------------
def _deletion_p_values(k: np.ndarray, n: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The documented first-round statistic from statsmodels' GLM: leverage ``h`` from ``get_influence()``,
    Pearson residual ``r``, ``r² / (1 − h)`` against the dispersion without the period
    ``φ₍ᵢ₎ = (Σ r² − r²/(1 − h)) / (m − p − 1)`` floored at 1; two-sided Student t on m − p − 1 degrees of
    freedom when φ₍ᵢ₎ > 1, else normal."""
    res = sm_glm(np.column_stack([k, n - k]), x, family=Binomial()).fit()
    h = res.get_influence().hat_matrix_diag
    r = res.resid_pearson
    m, p = x.shape
    r2 = r**2 / (1 - h)
    df = m - p - 1
    phi_raw = (np.sum(r**2) - r2) / df
    stat = np.sqrt(r2 / np.maximum(phi_raw, 1))
    return np.where(phi_raw > 1, 2 * sps.t.sf(stat, df), 2 * sps.norm.sf(stat)), phi_raw


@pytest.mark.parametrize(("seed", "shift", "overdispersed"), [(0, 25, False), (1, 25, True), (5, -40, True)])
def test_the_outlier_test_flags_exactly_at_its_benjamini_hochberg_threshold(
    seed: int, shift: int, overdispersed: bool
) -> None:
    """24 periods of 200 attempts on a logit-linear trend, ``rng = np.random.default_rng(seed)``,
    ``k = rng.binomial(200, expit(-0.8 + 0.5 t))`` with t = i/24, and period 7 moved by ``shift`` hits.
    Benjamini-Hochberg flags the smallest p-value p₍₁₎ when ``fdr >= m p₍₁₎``: at m p₍₁₎ (1 ∓ 1e-6)
    nothing, then period 7 alone is flagged (high or low by its sign). This holds the p-value of
    ``unusual_periods`` to the statsmodels reference at a relative 1e-6, in both regimes (φ₍ᵢ₎ above 1:
    Student t; below: normal)."""
    rng = np.random.default_rng(seed)
    m = 24
    t = np.arange(m) / m
    x = np.column_stack([np.ones(m), t])
    n = np.full(m, 200.0)
    k = rng.binomial(200, 1 / (1 + np.exp(-(-0.8 + 0.5 * t)))).astype(float)
    k[7] += shift
    p, phi_raw = _deletion_p_values(k, n, x)
    assert int(np.argmin(p)) == 7 and (phi_raw[7] > 1) == overdispersed
    assert (unusual_periods(k, n, x, p[7] * m * (1 - 1e-6)) == "").all()
    flagged = unusual_periods(k, n, x, p[7] * m * (1 + 1e-6))
    expected = [""] * m
    expected[7] = "high" if shift > 0 else "low"
    assert flagged.tolist() == expected


def test_one_period_has_dispersion_one_and_no_warning() -> None:
    """One month with attempts among three: a constant level with no residual degree of freedom, so the
    dispersion is 1 (nothing to estimate it from); the empty months are kept, and nothing warns."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = decompose(REF_MONTHS[:3], [0, 40, 0], [0, 10, 0])
    assert d.dispersion == 1.0
    np.testing.assert_allclose(d.trend, 0.25, rtol=1e-9)
    assert d.remainder[1] == pytest.approx(0.0, abs=1e-9) and np.isnan(d.remainder[[0, 2]]).all()


def test_a_december_with_no_hits_is_at_the_edge() -> None:
    n, k = flat36()
    k = k.copy()
    k[[11, 23, 35]] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # its factor's interval is unbounded: exp overflows to inf, silently
        d = decompose(MONTHS36, n, k)
    assert "Month 12 of the year had no hits (or only hits) every time" in str(d.note)
    assert d.seasonal_factor_high is not None and d.seasonal_factor_high[12] == np.inf


def test_a_one_attempt_period_without_a_fit_has_remainder_zero() -> None:
    d = decompose(REF_MONTHS[:3], [1, 5, 0], [0, 0, 0])
    assert d.remainder[:2].tolist() == [0.0, 0.0] and np.isnan(d.remainder[2])


def test_year_on_year_of_two_months_without_hits_is_no_difference() -> None:
    """Both months of a pair with no hits (or only hits): difference 0 and the z-test's p-value 1 (a pooled rate
    of 0 or 1 has no standard error: no evidence of a difference)."""
    for hits in (np.zeros(30), REF_ATTEMPTS):
        d = decompose(REF_MONTHS, REF_ATTEMPTS, hits)
        has = np.isfinite(d.yoy_p)
        assert has.sum() == 17  # the second year's 18 months less the pair of 2021-05 (no attempts)
        assert d.yoy_p[has].tolist() == [1.0] * 17 and d.yoy_difference[has].tolist() == [0.0] * 17


def test_iso_weeks_on_every_weekday() -> None:
    """One date per week, each on a different weekday (Monday to Sunday in turn), across two ISO-year ends
    (2020 has a week 53): the period of year is ``datetime.date.isocalendar()``'s week, and the labels name the
    ISO year and week."""
    import datetime as dt

    days = np.datetime64("2019-12-23") + 7 * np.arange(110) + np.arange(110) % 7
    iso = [dt.date.fromisoformat(str(x)).isocalendar() for x in days]
    n = np.full(110, 50)
    n[[5, 60]] = 0
    d = decompose(days, n, np.where(n > 0, 20, 0), period="week")
    assert d.period_of_year.tolist() == [w for _, w, _ in iso]
    assert str(d.note).endswith("2 weeks with no attempts were skipped.")
    with pytest.raises(InvalidParameterError, match=r"duplicates: \['2020-W53'\]"):
        decompose(np.array(["2020-12-28", "2021-01-03"], dtype="datetime64[D]"), [1, 1], [0, 0], period="week")


def test_a_period_that_fits_itself_is_never_unusual() -> None:
    """A design column that is 1 for period 0 alone gives it leverage 1: its residual is 0 whatever its count,
    it cannot be tested, and it is never flagged, even at a false-discovery rate of 0.5."""
    m = 12
    x = np.column_stack([np.ones(m), np.arange(m) / m, np.eye(m)[0]])
    n = np.full(m, 100.0)
    k = np.array([90, 30, 31, 29, 33, 30, 28, 32, 31, 30, 29, 30], dtype=float)
    assert unusual_periods(k, n, x, 0.5)[0] == ""


def test_a_month_with_only_hits_is_at_the_edge_and_an_empty_month_warns_nothing() -> None:
    """December won every time: the edge note names it. The reference series (2021-05 without attempts) is
    decomposed with factors and no warning (its adjusted rate, 0/0, is masked)."""
    n, k = flat36()
    k = k.copy()
    k[[11, 23, 35]] = n[[11, 23, 35]]
    assert "Month 12 of the year had no hits (or only hits) every time" in str(decompose(MONTHS36, n, k).note)
    with warnings.catch_warnings(), np.errstate(divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        d = decompose(REF_MONTHS, REF_ATTEMPTS, REF_HITS)
    assert d.seasonal_factors is not None and np.isnan(d.adjusted_rate[2])
