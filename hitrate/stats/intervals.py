"""Confidence intervals for a binomial proportion."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from hitrate.stats import _checks

ArrayLike = npt.ArrayLike


def wilson_interval(
    hits: ArrayLike, attempts: ArrayLike, confidence: float = 0.95
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Wilson score interval for hits out of attempts (vectorised).

    The interval of Wilson (1927): the set of p whose score test is not rejected,

        centre = (k + z²/2) / (n + z²),  half = z·√(k(n−k)/n + z²/4) / (n + z²),

    with z the standard-normal quantile for ``confidence``. Unlike the Wald interval it stays
    inside [0, 1] and keeps close to nominal coverage for small n and rates near 0 or 1.
    Equal to ``statsmodels.stats.proportion.proportion_confint(k, n, method="wilson")``.
    Groups with no attempts get NaN bounds.

    Raises :class:`~hitrate.errors.InvalidParameterError` (a ``ValueError``) when ``confidence`` is not in
    (0, 1) or some group has hits below 0 or above its attempts.
    """
    _checks.level("confidence", confidence, "wilson_interval")
    k = np.asarray(hits, dtype=float)
    n = np.asarray(attempts, dtype=float)
    if np.any(k < 0) or np.any(k > n):
        got = _checks.Shown(f"hits={_checks.shown(k)!r}, attempts={_checks.shown(n)!r}")
        raise _checks.invalid("hits", "wilson_interval", "hits_between", got)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (k + z2 / 2) / (n + z2)
        half = z * np.sqrt(k * (n - k) / n + z2 / 4) / (n + z2)
        low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    # Pin the exact ends: no hits -> 0, all hits -> 1 (guards against rounding just inside).
    low = np.where((n > 0) & (k == 0), 0.0, low)
    high = np.where((n > 0) & (k == n), 1.0, high)
    return low, high
