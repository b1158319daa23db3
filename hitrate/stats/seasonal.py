"""Seasonal decomposition of a hit-rate series: trend, period-of-year odds factors, remainder.

The input is a short aggregated series (one entry per month or ISO week: attempts and hits);
the model is a binomial GLM fitted to those counts. See :func:`decompose`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from hitrate.i18n import Joined, Message, Phrase
from hitrate.stats import _checks
from hitrate.stats._glm import calendar, expit, fit, natural_spline, sum_to_zero, unusual_periods, year_on_year
from hitrate.stats.intervals import wilson_interval

__all__ = ["Decomposition", "decompose"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_PERIODS_PER_CYCLE = {"month": 12, "week": 52}
_LEVELS = {"month": 12, "week": 52}  # ISO week 53 is pooled with week 52 for the seasonal effect
_CALLER = "decompose"


@dataclass(frozen=True, eq=False)
class Decomposition:
    """A hit-rate series split into trend, seasonal odds factors and remainder.

    All arrays are aligned with the input periods, in the input order. Periods with no
    attempts are kept in place but skipped by the fit: their rate, interval, adjusted rate,
    remainder and year-on-year values are NaN and they are never unusual (their ``trend`` is
    still given, read off the fitted curve).

    Attributes
    ----------
    period:
        ``"month"`` or ``"week"``.
    period_of_year:
        Month of the year (1..12) or ISO week number (1..53) of each period.
    attempts, hits:
        The counts, as floats.
    rate:
        ``hits / attempts``.
    ci_low, ci_high:
        Wilson score interval for each period's rate at the requested confidence.
    trend:
        Fitted trend on the rate scale with the seasonal effects at their geometric mean
        (the inverse logit of intercept + spline).
    seasonal_factors:
        Period of year -> multiplicative factor on the ODDS of a hit; their geometric mean is
        exactly 1, so a factor of 1.2 means 20 % higher odds than a typical period of the
        year. ``None`` when there are fewer than two full cycles (see ``note``). For weeks the
        keys are 1..52: week 53 shares the factor of week 52.
    seasonal_factor_low, seasonal_factor_high:
        Interval for each factor at the requested confidence (Wald on the log-odds scale,
        widened for overdispersion); ``None`` with the factors.
    seasonal_rate_effect:
        The factors on the rate scale, for people: the rate a typical period of the series
        would have in that period of the year minus the rate it has without the seasonal
        effect, ``expit(m + log f) - expit(m)``, where ``m`` is the mean fitted trend on the
        log-odds scale over the periods with attempts. A value of 0.03 reads "about 3
        percentage points above a typical period". ``None`` with the factors.
    adjusted_rate:
        Seasonally adjusted rate: the observed odds divided by the period's factor, turned
        back into a rate, ``hits / (hits + factor * misses)``. Equal to ``rate`` when no
        factors are estimated.
    remainder:
        Pearson residuals of the fit, ``(hits - attempts * p) / sqrt(attempts * p * (1 - p))``
        with ``p`` the fitted rate (trend and season).
    unusual:
        ``"high"``, ``"low"`` or ``""``: periods whose rate is out of line with their trend
        and season, by an iterated mean-shift outlier test on the deletion (externally
        studentised) Pearson residual, with Benjamini-Hochberg false-discovery control at
        ``1 - confidence`` across the periods (see :func:`decompose`).
    yoy_difference, yoy_low, yoy_high:
        Rate minus the rate of the same period one year earlier (same month, or same ISO
        week of the previous ISO year), with Newcombe's hybrid score interval built from the
        two Wilson intervals. NaN when that earlier period is absent or has no attempts.
    yoy_p:
        Two-sided p-value of the pooled two-proportion z-test (Pearson's chi-square test
        without continuity correction) of equal rates in the two periods; NaN likewise.
    cycles:
        Number of seasonal cycles spanned: periods from the first to the last period with
        attempts (inclusive), divided by 12 (months) or 52 (weeks, so two ISO years of 52
        weeks make exactly two cycles).
    dispersion:
        Quasi-binomial dispersion used for the intervals: Pearson chi-square over residual
        degrees of freedom, floored at 1 (1 means plain binomial variation).
    note:
        What was done and what to watch for, in plain words (a :class:`~hitrate.stats.phrase.Phrase`).
    method:
        The model, in plain words (a :class:`~hitrate.stats.phrase.Phrase`).
    """

    period: str
    period_of_year: IntArray
    attempts: FloatArray
    hits: FloatArray
    rate: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    trend: FloatArray
    seasonal_factors: dict[int, float] | None
    seasonal_factor_low: dict[int, float] | None
    seasonal_factor_high: dict[int, float] | None
    seasonal_rate_effect: dict[int, float] | None
    adjusted_rate: FloatArray
    remainder: FloatArray
    unusual: npt.NDArray[np.str_]
    yoy_difference: FloatArray
    yoy_low: FloatArray
    yoy_high: FloatArray
    yoy_p: FloatArray
    cycles: float
    dispersion: float
    note: Phrase
    method: Phrase


# ---- input and words -------------------------------------------------------------------------
def _as_dates(period_start: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
    arr = np.asarray(period_start)
    if arr.dtype.kind != "M":
        try:
            arr = arr.astype("datetime64[D]")
        except (TypeError, ValueError) as exc:
            raise _checks.invalid("period_start", _CALLER, "dates", _checks.Shown(f"dtype {arr.dtype}")) from exc
    if arr.ndim != 1:
        raise _checks.invalid("period_start", _CALLER, "one_dimensional", _checks.Shown(f"shape {arr.shape}"))
    if np.any(np.isnat(arr)):
        raise _checks.invalid("period_start", _CALLER, "no_missing_dates", _checks.Shown("NaT"))
    return arr.astype("datetime64[D]")


def _counts(n: FloatArray, k: FloatArray, dates: npt.NDArray[np.datetime64]) -> None:
    """The error unless attempts and hits have one finite entry >= 0 per period, hits at most attempts."""
    for name, arr in (("attempts", n), ("hits", k)):
        if arr.shape != dates.shape:
            raise _checks.invalid(name, _CALLER, "one_per_period", _checks.Shown(f"shape {arr.shape}"), n=dates.size)
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise _checks.invalid(name, _CALLER, "finite_non_negative", arr.tolist())
    bad = np.flatnonzero(k > n)
    if bad.size:
        got = _checks.Shown(f"hits={k[bad[0]]:g} > attempts={n[bad[0]]:g} at position {bad[0]}")
        raise _checks.invalid("hits", _CALLER, "at_most_attempts", got)


def _listed(items: list[str] | list[Message]) -> str | Message:
    """``5``, ``5 and 7``, ``1, 2 and 3`` (in the language of the sentence around it)."""
    if len(items) == 1:
        return items[0]
    return Message("stats.and_list", head=Joined(items[:-1]), last=items[-1])


def _unit(period: str, count: int = 2, title: bool = False) -> Message:
    """``month``/``months``/``Month``/``Months`` (or weeks), for ``count`` of them."""
    return Message(f"stats.{period}{'' if count == 1 else 's'}{'_title' if title else ''}")


def _method(period: str, season: bool, df_trend: int) -> Phrase:
    """The model in words: the seasonal effect (if any) and the trend."""
    trend = (
        Message("stats.spline_trend" if df_trend != 1 else "stats.spline_trend_one", df=df_trend)
        if df_trend >= 1
        else Message("stats.constant_level")
    )
    if season:
        trend = Message("stats.season_and_trend", season=Message(f"stats.season_{period}"), trend=trend)
    return Phrase("stats.glm_method", model=trend)


# ---- the decomposition -----------------------------------------------------------------------
def decompose(
    period_start: npt.ArrayLike,
    attempts: npt.ArrayLike,
    hits: npt.ArrayLike,
    *,
    period: str = "month",
    confidence: float = 0.95,
) -> Decomposition:
    """Split a monthly or weekly hit-rate series into trend, seasonal odds factors and remainder.

    The method is a binomial generalised linear model (logit link) fitted by iteratively
    reweighted least squares (statsmodels ``GLM`` with ``Binomial()``) to the aggregated
    counts, hits out of attempts per period::

        logit(p_t) = intercept + spline(t) + season[period of year of t]

    * **Seasonal effect**: one effect per month of the year (or ISO week 1..52; week 53 occurs
      in only about one ISO year in six and is pooled with week 52), with sum-to-zero
      (deviation) contrasts, so ``exp(effect)`` are multiplicative factors on the odds of a
      hit whose geometric mean is exactly 1. Odds factors rather than rate factors, because
      on the log-odds scale a seasonal push adds the same amount whatever the level of the
      trend, and the rate stays inside [0, 1].
    * **Trend**: a natural cubic spline in time with ``1 + floor(cycles)`` degrees of freedom
      (knots at equally spaced quantiles of the observed times, linear beyond the first and
      last). About one degree of freedom per year lets the trend bend once a year at most, so
      it follows slow drifts (growth, hiring, mix) but cannot reproduce a yearly wave and
      steal it from the seasonal effects; it is the same model as patsy's
      ``cr(t, df=..., constraints="center")``. It is reduced when the series is too short to
      leave a residual degree of freedom.
    * **Overdispersion**: monthly rates usually vary more than binomial chance (changes of mix
      from month to month). The dispersion is estimated quasi-binomially as Pearson
      chi-square over residual degrees of freedom, floored at 1; the factor intervals are
      Wald intervals on the log-odds scale with standard errors multiplied by its square root
      and Student-t quantiles on the residual degrees of freedom (normal quantiles when the
      dispersion is 1).
    * **Fewer than two full cycles** (less than 24 months or 104 weeks spanned), or a period
      of the year not observed in at least two periods: no seasonal factors are estimated
      (all ``None``), the trend is fitted alone and ``note`` says why.
    * **Unusual periods**: a mean-shift outlier test per period, iterated. Its statistic is the
      deletion (externally studentised) Pearson residual, the one-step approximation of
      refitting without that period (Williams 1987): ``r / sqrt(φ₍ᵢ₎ (1 - h))`` with ``h`` the
      leverage and ``φ₍ᵢ₎`` the dispersion without the period (floored at 1), referred to
      Student t on the residual degrees of freedom minus one (normal when the floor applies).
      The p-values go through Benjamini-Hochberg across the periods at a false-discovery rate
      of ``1 - confidence``. The periods found are then left out of the fit and the test is
      repeated on every period (a period left out is judged by its prediction residual,
      ``r / sqrt(φ (1 + h))``), until the set found no longer changes: one extreme month
      pulls its month-of-year effect towards it and would otherwise make the same month of
      the other years look unusual the other way. The periods kept are ``"high"`` or
      ``"low"`` by the sign of their residual. Under pure binomial variation about 2 % of
      36-month series get any period flagged (simulation when written). The trend, factors
      and remainder still come from the fit to all periods: give a period known to be wrong
      zero attempts to leave it out.
    * **Year on year**: see :class:`Decomposition` (Newcombe's hybrid score interval and the
      pooled two-proportion z-test; the two can disagree right at the edge of significance).

    Parameters
    ----------
    period_start:
        One date per period (``datetime64``, or ISO date strings); any date inside the period
        identifies it, as it is truncated to the month or ISO week. Any order; periods must be
        distinct and gaps are allowed.
    attempts, hits:
        Counts per period, ``0 <= hits <= attempts``. Periods with no attempts are skipped.
    period:
        ``"month"`` (period of year = calendar month) or ``"week"`` (ISO week).
    confidence:
        Level of every interval; ``1 - confidence`` is the false-discovery rate for ``unusual``.

    Returns
    -------
    Decomposition

    Raises
    ------
    ValueError
        On a bad parameter, naming it and its value.
    """
    _checks.one_of("period", period, tuple(_PERIODS_PER_CYCLE), _CALLER)
    _checks.level("confidence", confidence, _CALLER)
    dates = _as_dates(period_start)
    n = np.asarray(attempts, dtype=float)
    k = np.asarray(hits, dtype=float)
    _counts(n, k, dates)

    index, poy, level, key, labels = calendar(dates, period)
    if np.unique(index).size != index.size:
        dup = [labels[i] for i in range(index.size) if np.sum(index == index[i]) > 1]
        got = _checks.Shown(f"duplicates: {sorted(set(dup))!r}")
        raise _checks.invalid("period_start", _CALLER, "each_period_once", got, period=_unit(period, 1))
    obs = n > 0
    rate = np.where(obs, k / np.where(obs, n, 1.0), np.nan)
    ci_low, ci_high = wilson_interval(k, n, confidence)
    yoy = year_on_year(k, n, rate, ci_low, ci_high, key, period, obs)
    if not np.any(obs):
        note = Phrase("stats.no_period_attempts", unit=_unit(period, 1))
        trend = np.full(n.size, np.nan)
        return _without_fit(period, poy, n, k, rate, (ci_low, ci_high), trend, yoy, 0.0, note, Phrase("stats.no_fit"))
    span = int(index[obs].max() - index[obs].min() + 1)
    cycles = span / _PERIODS_PER_CYCLE[period]
    n_obs = int(obs.sum())
    notes: list[Message] = []
    if n_obs < n.size:
        skipped = n.size - n_obs
        said = "stats.skipped_one" if skipped == 1 else "stats.skipped"
        notes.append(Message(said, n=skipped, unit=_unit(period, skipped)))

    # ---- can the seasonal effects be estimated? ----
    n_levels = _LEVELS[period]
    seen = np.bincount(level[obs], minlength=n_levels + 1)[1:]
    season = True
    if cycles < 2:
        season = False
        notes.insert(0, Message("stats.too_short", span=span, unit=_unit(period, span)))
    elif np.any(seen < 2):
        season = False
        missing = [str(i + 1) for i in np.flatnonzero(seen < 2)]
        said = "stats.unobserved_one" if len(missing) == 1 else "stats.unobserved"
        notes.insert(0, Message(said, what=_unit(period, len(missing), title=True), items=_listed(missing)))

    # ---- design ----
    t = index.astype(float)
    t_obs = t[obs]
    lo, hi = float(t_obs.min()), float(t_obs.max())
    x = (t - lo) / (hi - lo) if hi > lo else np.zeros_like(t)
    n_season = n_levels - 1 if season else 0
    df_trend = int(min(1 + np.floor(cycles), n_obs - 2 - n_season, np.unique(t_obs).size - 1))
    df_trend = max(df_trend, 0)
    if df_trend >= 1:
        knots = np.percentile(x[obs], np.linspace(0, 100, df_trend + 1))
        trend_x = natural_spline(x, knots)
    else:
        trend_x = np.zeros((x.size, 0))
    design = np.column_stack([np.ones_like(x), trend_x])
    n_trend_cols = design.shape[1]
    if season:
        design = np.column_stack([design, sum_to_zero(level, n_levels)])

    k_obs, n_obs_arr = k[obs], n[obs]
    total_k, total_n = float(k_obs.sum()), float(n_obs_arr.sum())
    method = _method(period, season, df_trend)

    if total_k == 0 or total_k == total_n:
        # No variation at all: the logit model has no finite fit.
        notes.insert(0, Message("stats.all_lost" if total_k == 0 else "stats.all_hits"))
        trend = np.full(n.size, total_k / total_n)
        return _without_fit(period, poy, n, k, rate, (ci_low, ci_high), trend, yoy, cycles, _note(notes), method)

    # ---- fit ----
    x_obs = design[obs]
    beta, cov = fit(k_obs, n_obs_arr, x_obs)
    df_resid = n_obs - design.shape[1]
    p_obs = expit(x_obs @ beta)
    var_obs = n_obs_arr * p_obs * (1 - p_obs)
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = np.where(var_obs > 0, (k_obs - n_obs_arr * p_obs) / np.sqrt(var_obs), 0.0)
    chi2 = float(np.sum(pearson**2))
    dispersion = max(1.0, chi2 / df_resid) if df_resid > 0 else 1.0
    if dispersion > 1 and season:
        notes.append(
            Message("stats.overdispersed", unit=_unit(period), dispersion=dispersion, widen=float(np.sqrt(dispersion)))
        )

    eta_trend = design[:, :n_trend_cols] @ beta[:n_trend_cols]
    trend = expit(eta_trend)

    factors = factor_low = factor_high = rate_effect = None
    adjusted = rate.copy()
    if season:
        contrast = np.vstack([np.eye(n_levels - 1), -np.ones(n_levels - 1)])
        effects = contrast @ beta[n_trend_cols:]
        se = np.sqrt(np.einsum("ij,jk,ik->i", contrast, cov[n_trend_cols:, n_trend_cols:], contrast) * dispersion)
        q = (
            float(sps.t.ppf(0.5 + confidence / 2, df_resid))
            if dispersion > 1
            else NormalDist().inv_cdf(0.5 + confidence / 2)
        )
        keys = range(1, n_levels + 1)
        factors = dict(zip(keys, np.exp(effects).tolist(), strict=True))
        with np.errstate(over="ignore"):  # a factor at the edge (see the note) has an unbounded interval
            factor_low = dict(zip(keys, np.exp(effects - q * se).tolist(), strict=True))
            factor_high = dict(zip(keys, np.exp(effects + q * se).tolist(), strict=True))
        m = float(eta_trend[obs].mean())
        rate_effect = dict(zip(keys, (expit(m + effects) - expit(np.array(m))).tolist(), strict=True))
        f = np.exp(effects)[level - 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            adjusted = np.where(obs, k / (k + f * (n - k)), np.nan)
        edge = [
            str(j)
            for j in range(1, n_levels + 1)
            if np.all(k_obs[level[obs] == j] == 0) or np.all(k_obs[level[obs] == j] == n_obs_arr[level[obs] == j])
        ]
        if edge:
            notes.append(Message("stats.at_edge", what=_unit(period, len(edge), title=True), items=_listed(edge)))

    remainder = np.full(n.size, np.nan)
    remainder[obs] = pearson
    unusual = np.full(n.size, "", dtype="<U4")
    unusual[obs] = unusual_periods(k_obs, n_obs_arr, x_obs, 1 - confidence)
    flagged = [
        Message("stats.unusual_period", label=labels[i], direction=Message(f"stats.{unusual[i]}"))
        for i in np.argsort(index)
        if unusual[i]
    ]
    if flagged:
        many = "stats.unusual_one" if len(flagged) == 1 else "stats.unusual"
        notes.append(Message(many, n=len(flagged), unit=_unit(period, len(flagged)), items=_listed(flagged)))
    if not notes:
        notes.append(Message("stats.nothing_unusual", n=n_obs, unit=_unit(period), cycles=cycles))

    base = _without_fit(period, poy, n, k, rate, (ci_low, ci_high), trend, yoy, cycles, _note(notes), method)
    return dataclasses.replace(
        base,
        seasonal_factors=factors,
        seasonal_factor_low=factor_low,
        seasonal_factor_high=factor_high,
        seasonal_rate_effect=rate_effect,
        adjusted_rate=adjusted,
        remainder=remainder,
        unusual=unusual,
        dispersion=dispersion,
    )


def _note(notes: list[Message]) -> Phrase:
    """The notes as one paragraph."""
    return Phrase(Joined(notes, " "))


def _without_fit(
    period: str,
    poy: IntArray,
    n: FloatArray,
    k: FloatArray,
    rate: FloatArray,
    ci: tuple[FloatArray, FloatArray],
    trend: FloatArray,
    yoy: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    cycles: float,
    note: Phrase,
    method: Phrase,
) -> Decomposition:
    """The result when there is nothing to fit (no attempts, or no variation in the outcome); the fitted
    result replaces its seasonal fields."""
    obs = n > 0
    return Decomposition(
        period=period,
        period_of_year=poy,
        attempts=n,
        hits=k,
        rate=rate,
        ci_low=ci[0],
        ci_high=ci[1],
        trend=trend,
        seasonal_factors=None,
        seasonal_factor_low=None,
        seasonal_factor_high=None,
        seasonal_rate_effect=None,
        adjusted_rate=rate.copy(),
        remainder=np.where(obs, 0.0, np.nan),
        unusual=np.full(n.size, "", dtype="<U4"),
        yoy_difference=yoy[0],
        yoy_low=yoy[1],
        yoy_high=yoy[2],
        yoy_p=yoy[3],
        cycles=cycles,
        dispersion=1.0,
        note=note,
        method=method,
    )
