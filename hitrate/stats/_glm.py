"""The binomial GLM behind :func:`hitrate.stats.seasonal.decompose`: calendar indexes, the spline and contrast
design, the IRLS fit, the iterated outlier test and the year-on-year comparison."""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt
from scipy import stats as sps
from statsmodels.genmod.families import Binomial
from statsmodels.genmod.generalized_linear_model import GLM

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_EPOCH_MONDAY = -3  # 1969-12-29, the Monday of the week holding 1970-01-01 (a Thursday)


def calendar(
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


def natural_spline(x: FloatArray, knots: FloatArray) -> FloatArray:
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


def sum_to_zero(levels: IntArray, n_levels: int) -> FloatArray:
    """Deviation (sum-to-zero) coding: column j is 1 for level j+1, -1 for the last level."""
    x = np.zeros((levels.size, n_levels - 1))
    for j in range(n_levels - 1):
        x[levels == j + 1, j] = 1.0
    x[levels == n_levels, :] = -1.0
    return x


def expit(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


def fit(k: FloatArray, n: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Binomial GLM (logit link) by IRLS: coefficients and their unscaled covariance."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation / convergence: reported in the note
        result = GLM(np.column_stack([k, n - k]), x, family=Binomial()).fit()
    return np.asarray(result.params, dtype=float), np.asarray(result.cov_params(), dtype=float)


def unusual_periods(
    k: FloatArray, n: FloatArray, x: FloatArray, fdr: float, max_rounds: int = 10
) -> npt.NDArray[np.str_]:
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
        beta, cov = fit(k[keep], n[keep], x[keep])
        p_hat = expit(x @ beta)
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


def year_on_year(
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
