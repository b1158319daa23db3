"""Seasonal decomposition of a hit-rate series: trend, period-of-year odds factors, remainder.

The input is a short aggregated series (one entry per month or ISO week: attempts and hits);
the model is a binomial GLM fitted to those counts. See :func:`decompose`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt
from scipy import stats as sps
from statsmodels.genmod.families import Binomial
from statsmodels.genmod.generalized_linear_model import GLM

from hitrate.stats.intervals import wilson_interval

__all__ = ["Decomposition", "decompose"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_PERIODS_PER_CYCLE = {"month": 12, "week": 52}
_LEVELS = {"month": 12, "week": 52}  # ISO week 53 is pooled with week 52 for the seasonal effect
_EPOCH_MONDAY = -3  # 1969-12-29, the Monday of the week holding 1970-01-01 (a Thursday)


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
        What was done and what to watch for, in plain words.
    method:
        The model, in plain words.
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
    note: str
    method: str


# ---- calendar helpers ------------------------------------------------------------------------
def _as_dates(period_start: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
    arr = np.asarray(period_start)
    if arr.dtype.kind != "M":
        try:
            arr = arr.astype("datetime64[D]")
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"The 'period_start' parameter of decompose must hold dates (numpy datetime64). Got dtype {arr.dtype}."
            ) from exc
    if arr.ndim != 1:
        raise ValueError(f"The 'period_start' parameter of decompose must be one-dimensional. Got shape {arr.shape}.")
    if np.any(np.isnat(arr)):
        raise ValueError("The 'period_start' parameter of decompose must not contain NaT (missing dates).")
    return arr.astype("datetime64[D]")


def _calendar(
    dates: npt.NDArray[np.datetime64], period: str
) -> tuple[IntArray, IntArray, IntArray, IntArray, list[str]]:
    """Per period: time index (months or weeks since the epoch), period of year, seasonal level,
    key of the same period one year earlier (in the time-index space for months, year*100+week
    for weeks), own key, and a label."""
    if period == "month":
        index = dates.astype("datetime64[M]").astype(np.int64)
        poy = index % 12 + 1
        labels = [str(m) for m in index.astype("datetime64[M]")]
        return index, poy, poy.copy(), index.copy(), labels
    days = dates.astype(np.int64)
    weekday = (days + 3) % 7  # Monday = 0 (1970-01-01 was a Thursday)
    monday = days - weekday
    thursday = monday + 3  # the ISO year is the year of the week's Thursday
    iso_year = thursday.astype("datetime64[D]").astype("datetime64[Y]")
    jan1 = iso_year.astype("datetime64[D]").astype(np.int64)
    week = (thursday - jan1) // 7 + 1
    year = iso_year.astype(np.int64) + 1970
    index = (monday - _EPOCH_MONDAY) // 7
    labels = [f"{y}-W{w:02d}" for y, w in zip(year.tolist(), week.tolist(), strict=True)]
    return index, week, np.minimum(week, 52), year * 100 + week, labels


def _natural_spline(x: FloatArray, knots: FloatArray) -> FloatArray:
    """Natural cubic spline basis without the constant (Hastie, Tibshirani & Friedman, eq. 5.4).

    With K knots it has K - 1 columns: x and d_k(x) - d_{K-1}(x) for k = 1..K-2, where
    d_k(x) = ((x - ξ_k)₊³ - (x - ξ_K)₊³) / (ξ_K - ξ_k). Cubic between knots, linear beyond the
    boundary knots.
    """
    k = knots.size
    cols = [x]
    if k > 2:
        last = knots[-1]

        def d(j: int) -> FloatArray:
            out: FloatArray = (np.clip(x - knots[j], 0, None) ** 3 - np.clip(x - last, 0, None) ** 3) / (
                last - knots[j]
            )
            return out

        d_last = d(k - 2)
        cols.extend(d(j) - d_last for j in range(k - 2))
    return np.column_stack(cols)


def _sum_to_zero(levels: IntArray, n_levels: int) -> FloatArray:
    """Deviation (sum-to-zero) coding: column j is 1 for level j+1, -1 for the last level."""
    x = np.zeros((levels.size, n_levels - 1))
    for j in range(n_levels - 1):
        x[levels == j + 1, j] = 1.0
    x[levels == n_levels, :] = -1.0
    return x


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _expit(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


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
    if period not in _PERIODS_PER_CYCLE:
        raise ValueError(f"The 'period' parameter of decompose must be 'month' or 'week'. Got {period!r}.")
    if not 0 < confidence < 1:
        raise ValueError(f"The 'confidence' parameter of decompose must be in (0, 1). Got {confidence!r}.")
    dates = _as_dates(period_start)
    n = np.asarray(attempts, dtype=float)
    k = np.asarray(hits, dtype=float)
    for name, arr in (("attempts", n), ("hits", k)):
        if arr.shape != dates.shape:
            raise ValueError(
                f"The '{name}' parameter of decompose must have one entry per period "
                f"({dates.size}). Got shape {arr.shape}."
            )
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"The '{name}' parameter of decompose must be finite and >= 0. Got {arr.tolist()!r}.")
    bad = np.flatnonzero(k > n)
    if bad.size:
        raise ValueError(
            f"The 'hits' parameter of decompose must not exceed 'attempts'. "
            f"Got hits={k[bad[0]]:g} > attempts={n[bad[0]]:g} at position {bad[0]}."
        )

    index, poy, level, key, labels = _calendar(dates, period)
    if np.unique(index).size != index.size:
        dup = [labels[i] for i in range(index.size) if np.sum(index == index[i]) > 1]
        raise ValueError(
            f"The 'period_start' parameter of decompose must name each {period} once. Got duplicates: "
            f"{sorted(set(dup))!r}."
        )
    obs = n > 0
    rate = np.where(obs, k / np.where(obs, n, 1.0), np.nan)
    ci_low, ci_high = wilson_interval(k, n, confidence)
    yoy = _year_on_year(k, n, rate, ci_low, ci_high, key, period, obs)
    unit = "months" if period == "month" else "weeks"
    if not np.any(obs):
        return _without_fit(
            period, poy, n, k, rate, ci_low, ci_high, np.full(n.size, np.nan), yoy, 0.0,
            f"No {unit[:-1]} has any attempts: there is nothing to decompose.", "none (no attempts)",
        )  # fmt: skip
    span = int(index[obs].max() - index[obs].min() + 1)
    cycles = span / _PERIODS_PER_CYCLE[period]
    n_obs = int(obs.sum())
    notes: list[str] = []
    if n_obs < n.size:
        skipped = n.size - n_obs
        noun, verb = (unit[:-1], "was") if skipped == 1 else (unit, "were")
        notes.append(f"{skipped} {noun} with no attempts {verb} skipped.")

    # ---- can the seasonal effects be estimated? ----
    n_levels = _LEVELS[period]
    seen = np.bincount(level[obs], minlength=n_levels + 1)[1:]
    season = True
    if cycles < 2:
        season = False
        notes.insert(
            0,
            f"Only {span} {unit} of data: fewer than two full yearly cycles, so no seasonal factors are "
            "estimated; the trend is shown alone.",
        )
    elif np.any(seen < 2):
        season = False
        missing = [str(i + 1) for i in np.flatnonzero(seen < 2)]
        what = ("Month" if period == "month" else "Week") + ("s" if len(missing) > 1 else "")
        notes.insert(
            0,
            f"{what} {_join(missing)} of the year {'are' if len(missing) > 1 else 'is'} not observed in at least "
            "two periods, so no seasonal factors are estimated; the trend is shown alone.",
        )

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
        trend_x = _natural_spline(x, knots)
    else:
        trend_x = np.zeros((x.size, 0))
    design = np.column_stack([np.ones_like(x), trend_x])
    n_trend_cols = design.shape[1]
    if season:
        design = np.column_stack([design, _sum_to_zero(level, n_levels)])

    k_obs, n_obs_arr = k[obs], n[obs]
    total_k, total_n = float(k_obs.sum()), float(n_obs_arr.sum())
    trend_desc = (
        f"a natural cubic spline trend in time with {df_trend} degree{'s' if df_trend != 1 else ''} of freedom"
        if df_trend >= 1
        else "a constant level"
    )
    season_desc = (
        f"{'a month' if period == 'month' else 'an ISO-week'}-of-year effect (sum-to-zero contrasts) and "
        if season
        else ""
    )
    method = (
        f"binomial GLM (logit link) on the aggregated counts with {season_desc}{trend_desc}, fitted by IRLS "
        "(statsmodels); quasi-binomial dispersion for the intervals; unusual periods by deletion Pearson "
        "residuals with Benjamini-Hochberg; year on year by Newcombe's interval and a two-proportion z-test"
    )

    if total_k == 0 or total_k == total_n:
        # No variation at all: the logit model has no finite fit.
        notes.insert(0, f"Every attempt was {'lost' if total_k == 0 else 'a hit'}: there is nothing to decompose.")
        trend = np.full(n.size, total_k / total_n)
        return _without_fit(period, poy, n, k, rate, ci_low, ci_high, trend, yoy, cycles, " ".join(notes), method)

    # ---- fit ----
    x_obs = design[obs]
    beta, cov = _fit(k_obs, n_obs_arr, x_obs)
    df_resid = n_obs - design.shape[1]
    p_obs = _expit(x_obs @ beta)
    var_obs = n_obs_arr * p_obs * (1 - p_obs)
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = np.where(var_obs > 0, (k_obs - n_obs_arr * p_obs) / np.sqrt(var_obs), 0.0)
    chi2 = float(np.sum(pearson**2))
    dispersion = max(1.0, chi2 / df_resid) if df_resid > 0 else 1.0
    if dispersion > 1 and season:
        notes.append(
            f"The {unit} vary more than chance alone would make them (dispersion {dispersion:.2f}), "
            f"so the intervals of the factors are widened by a factor {np.sqrt(dispersion):.2f}."
        )

    eta_trend = design[:, :n_trend_cols] @ beta[:n_trend_cols]
    trend = _expit(eta_trend)

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
        rate_effect = dict(zip(keys, (_expit(m + effects) - _expit(np.array(m))).tolist(), strict=True))
        f = np.exp(effects)[level - 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            adjusted = np.where(obs, k / (k + f * (n - k)), np.nan)
        edge = [
            str(j)
            for j in range(1, n_levels + 1)
            if np.all(k_obs[level[obs] == j] == 0) or np.all(k_obs[level[obs] == j] == n_obs_arr[level[obs] == j])
        ]
        if edge:
            notes.append(
                f"{'Month' if period == 'month' else 'Week'}{'s' if len(edge) > 1 else ''} {_join(edge)} of the year "
                "had no hits (or only hits) every time, so the factor is at the edge of what the data allow and "
                "its interval is not reliable."
            )

    remainder = np.full(n.size, np.nan)
    remainder[obs] = pearson
    unusual = np.full(n.size, "", dtype="<U4")
    unusual[obs] = _unusual(k_obs, n_obs_arr, x_obs, 1 - confidence)
    flagged = [f"{labels[i]} ({unusual[i]})" for i in np.argsort(index) if unusual[i]]
    if flagged:
        notes.append(
            f"{len(flagged)} {unit[:-1] if len(flagged) == 1 else unit} {'is' if len(flagged) == 1 else 'are'} "
            f"unusual for {'its' if len(flagged) == 1 else 'their'} trend and season: {_join(flagged)}."
        )
    if not notes:
        notes.append(f"{n_obs} {unit} ({cycles:.1f} yearly cycles) decomposed; nothing unusual.")

    return Decomposition(
        period=period,
        period_of_year=poy,
        attempts=n,
        hits=k,
        rate=rate,
        ci_low=ci_low,
        ci_high=ci_high,
        trend=trend,
        seasonal_factors=factors,
        seasonal_factor_low=factor_low,
        seasonal_factor_high=factor_high,
        seasonal_rate_effect=rate_effect,
        adjusted_rate=adjusted,
        remainder=remainder,
        unusual=unusual,
        yoy_difference=yoy[0],
        yoy_low=yoy[1],
        yoy_high=yoy[2],
        yoy_p=yoy[3],
        cycles=cycles,
        dispersion=dispersion,
        note=" ".join(notes),
        method=method,
    )


def _without_fit(
    period: str,
    poy: IntArray,
    n: FloatArray,
    k: FloatArray,
    rate: FloatArray,
    ci_low: FloatArray,
    ci_high: FloatArray,
    trend: FloatArray,
    yoy: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    cycles: float,
    note: str,
    method: str,
) -> Decomposition:
    """The result when there is nothing to fit (no attempts, or no variation in the outcome)."""
    obs = n > 0
    return Decomposition(
        period=period,
        period_of_year=poy,
        attempts=n,
        hits=k,
        rate=rate,
        ci_low=ci_low,
        ci_high=ci_high,
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


def _fit(k: FloatArray, n: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Binomial GLM (logit link) by IRLS: coefficients and their unscaled covariance."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation / convergence: reported in the note
        result = GLM(np.column_stack([k, n - k]), x, family=Binomial()).fit()
    return np.asarray(result.params, dtype=float), np.asarray(result.cov_params(), dtype=float)


def _unusual(k: FloatArray, n: FloatArray, x: FloatArray, fdr: float, max_rounds: int = 10) -> npt.NDArray[np.str_]:
    """Iterated mean-shift outlier test with Benjamini-Hochberg (see :func:`decompose`).

    Each round fits the model without the periods flagged so far and computes, for every
    period, a deletion statistic: for a period in the fit, its Pearson residual over
    ``sqrt(φ₍ᵢ₎ (1 - h))`` (one-step deletion, φ₍ᵢ₎ the dispersion without it); for a period
    left out, its prediction residual over ``sqrt(φ (1 + h))``. ``h = w xᵀ (XᵀWX)⁻¹ x``.
    Rounds stop when the flagged set no longer changes.
    """
    m, n_par = x.shape
    flagged = np.zeros(m, dtype=bool)
    reject = flagged
    pearson = np.zeros(m)
    for _ in range(max_rounds):
        keep = ~flagged
        beta, cov = _fit(k[keep], n[keep], x[keep])
        p_hat = _expit(x @ beta)
        w = n * p_hat * (1 - p_hat)
        with np.errstate(divide="ignore", invalid="ignore"):
            pearson = np.where(w > 0, (k - n * p_hat) / np.sqrt(w), 0.0)
        h = w * np.einsum("ij,jk,ik->i", x, cov, x)
        df_keep = int(keep.sum()) - n_par
        chi2 = float(np.sum(pearson[keep] ** 2))
        free = keep & (1 - h > 1e-8)  # a period that fits itself exactly cannot be tested
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(keep, pearson**2 / np.where(free, 1 - h, np.inf), pearson**2 / (1 + h))
        # Dispersion without the period (periods in the fit) or of the fit (periods left out).
        df_ref = np.where(keep, df_keep - 1, df_keep)
        chi2_ref = np.where(keep, chi2 - r2, chi2)
        with np.errstate(divide="ignore", invalid="ignore"):
            phi_raw = np.where(df_ref >= 1, chi2_ref / np.maximum(df_ref, 1), 1.0)
        phi = np.maximum(phi_raw, 1.0)
        stat = np.sqrt(r2 / phi)
        p_value = np.where(phi_raw > 1, 2 * sps.t.sf(stat, np.maximum(df_ref, 1)), 2 * sps.norm.sf(stat))
        p_value = np.where(free | ~keep, p_value, 1.0)
        # Benjamini-Hochberg step-up across the periods.
        order = np.argsort(p_value)
        passed = p_value[order] <= fdr * np.arange(1, m + 1) / m
        n_reject = int(np.max(np.flatnonzero(passed)) + 1) if np.any(passed) else 0
        reject = np.zeros(m, dtype=bool)
        reject[order[:n_reject]] = True
        if np.array_equal(reject, flagged):
            break
        # Refit without them only while the model stays estimable with a residual degree of freedom.
        if int((~reject).sum()) - n_par < 2 or np.linalg.matrix_rank(x[~reject]) < n_par:
            break
        kept_k, kept_n = k[~reject], n[~reject]
        if kept_k.sum() == 0 or kept_k.sum() == kept_n.sum():
            break
        flagged = reject
    out = np.full(m, "", dtype="<U4")
    out[reject & (pearson > 0)] = "high"
    out[reject & (pearson < 0)] = "low"
    return out


def _year_on_year(
    k: FloatArray,
    n: FloatArray,
    rate: FloatArray,
    low: FloatArray,
    high: FloatArray,
    key: IntArray,
    period: str,
    obs: npt.NDArray[np.bool_],
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Difference from the same period one year earlier: Newcombe interval and pooled z-test p."""
    where = {int(kk): i for i, kk in enumerate(key.tolist()) if obs[i]}
    back = 12 if period == "month" else 100  # months back, or one ISO year back in year*100+week
    prev = np.array([where.get(int(kk) - back, -1) for kk in key.tolist()], dtype=np.int64)
    has = obs & (prev >= 0)
    j = np.where(has, prev, 0)
    diff = np.where(has, rate - rate[j], np.nan)
    # Newcombe (1998) hybrid score interval, method 10, from the two Wilson intervals.
    lo = diff - np.sqrt((rate - low) ** 2 + (high[j] - rate[j]) ** 2)
    hi = diff + np.sqrt((high - rate) ** 2 + (rate[j] - low[j]) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (k + k[j]) / (n + n[j])
        se = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n[j]))
        z = np.where(se > 0, diff / se, 0.0)
    p = 2 * sps.norm.sf(np.abs(z))
    return diff, np.where(has, lo, np.nan), np.where(has, hi, np.nan), np.where(has, p, np.nan)
