"""Funnel plots: control limits around an overall hit rate, and which groups lie outside them.

After Spiegelhalter (2005), "Funnel plots for comparing institutional performance", Statistics in
Medicine 24:1185-1202. Each group's hit rate is plotted against its number of attempts; the
control limits around the overall rate ``p0`` narrow as attempts grow, like a funnel. A group
outside them has a rate that chance alone (binomial noise around ``p0``) rarely produces.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from hitrate.stats import _checks
from hitrate.stats.intervals import ArrayLike
from hitrate.stats.multiple import benjamini_hochberg

FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.str_]

#: Flag of a group with no attempts (it has no rate and is not tested).
NO_ATTEMPTS = "no attempts"


def funnel_limits(
    attempts: ArrayLike, p0: float, levels: Iterable[float] = (0.95, 0.998)
) -> dict[float, tuple[FloatArray, FloatArray]]:
    """Funnel-plot control limits around the rate ``p0``: exact binomial, interpolated (Spiegelhalter 2005).

    For ``n`` attempts and a level ``L`` (e.g. 0.95), let ``q = (1 + L)/2`` and ``Y ~ Binomial(n, p0)``.
    The limits are the exact binomial quantiles, interpolated so that they change smoothly with ``n``
    instead of in steps (Spiegelhalter 2005, appendix A.1.1): with ``r`` the ``1 − q`` quantile
    (smallest ``r`` with ``P(Y <= r) >= 1 − q``) and ``a = (P(Y <= r) − (1 − q)) / P(Y = r)``,

        lower = (r − a) / n,

    and, mirrored, with ``r`` the ``q`` quantile and ``a = (P(Y <= r) − q) / P(Y = r)``,

        upper = (r + 1 − a) / n,

    as in Spiegelhalter's own funnel-plot program (the paper's formula ``(r − a)/n`` used for
    both limits puts the upper one up to one hit lower). With this pair a rate ``k/n`` lies
    strictly outside the limits exactly when its one-sided exact binomial tail probability is
    below ``(1 − L)/2``, i.e. when the two-sided p-value of :func:`funnel_flags` is below ``1 − L``:
    the plot and the unadjusted flags (``method="none"``, ``alpha = 1 − L``) agree, and a group
    whose rate is ``p0`` falls outside either limit with probability at most ``(1 − L)/2``. For
    ``p0 = 1/2`` the limits are symmetric, ``upper = 1 − lower``.

    Limits are clipped to [0, 1] (a lower limit of 0 means no rate is too low to be chance). A rate
    ``p0`` of exactly 0 or 1 (a selection where nobody won, or everybody did) is a normal case: chance
    then gives no spread at all, and both limits are ``p0`` itself.
    These are per-group limits: with many groups some fall outside by chance, which
    :func:`funnel_flags` corrects for by false discovery rate.

    Parameters
    ----------
    attempts
        Group sizes ``n`` (whole numbers >= 0), any shape; ``n = 0`` gives NaN limits.
    p0
        The overall (target) hit rate, in [0, 1].
    levels
        Coverage levels of the funnels, each in (0, 1); default 95 % and 99.8 % (about 2 and 3
        standard errors).

    Returns
    -------
    dict
        ``{level: (low, high)}``, limits as proportions, arrays of the shape of ``attempts``.
    """
    where = "funnel_limits"
    p = _checks.unit("p0", p0, where, closed=True)
    n = np.asarray(attempts, dtype=float)
    if not np.all(np.isfinite(n)) or np.any(n < 0) or np.any(n != np.round(n)):
        raise _checks.invalid("attempts", where, "counts", _checks.shown(n))
    out: dict[float, tuple[FloatArray, FloatArray]] = {}
    used = n > 0
    m = np.where(used, n, 1.0)  # placeholder size for n = 0, masked to NaN below
    for level in levels:
        lev = _checks.level("levels", level, where)
        if p in (0.0, 1.0):  # no binomial spread: every group at p0 is exactly p0
            edge = np.where(used, p, np.nan).astype(np.float64)
            out[lev] = (edge, edge.copy())
            continue
        tail = (1.0 - lev) / 2.0
        r_lo = stats.binom.ppf(tail, m, p)
        a_lo = np.clip((stats.binom.cdf(r_lo, m, p) - tail) / stats.binom.pmf(r_lo, m, p), 0.0, 1.0)
        r_hi = stats.binom.ppf(1.0 - tail, m, p)
        a_hi = np.clip((stats.binom.cdf(r_hi, m, p) - (1.0 - tail)) / stats.binom.pmf(r_hi, m, p), 0.0, 1.0)
        low = np.where(used, np.clip((r_lo - a_lo) / m, 0.0, 1.0), np.nan)
        high = np.where(used, np.clip((r_hi + 1.0 - a_hi) / m, 0.0, 1.0), np.nan)
        out[lev] = (np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64))
    return out


def _pooled_rate(k: FloatArray, n: FloatArray, where: str) -> float:
    _checks.some_attempts(n, where, "some_attempts_p0")
    return float(k.sum()) / float(n.sum())


def funnel_flags(
    hits: ArrayLike,
    attempts: ArrayLike,
    p0: float | None = None,
    alpha: float = 0.05,
    method: Literal["fdr", "none"] = "fdr",
) -> tuple[StrArray, FloatArray, FloatArray]:
    """Flag groups whose hit rate is above or below ``p0`` beyond chance: exact binomial tests with FDR control.

    Each group with ``k`` hits in ``n`` attempts is tested against ``p0`` with the two-sided exact
    binomial test, p-value = twice the smaller tail, ``min(1, 2·min(P(Y <= k), P(Y >= k)))`` with
    ``Y ~ Binomial(n, p0)`` (the equal-tailed test that matches :func:`funnel_limits`; it can be
    larger than ``scipy.stats.binomtest``'s default, which sums all outcomes as unlikely as ``k``).

    With ``method="fdr"`` (default) the p-values are adjusted by Benjamini–Hochberg across the
    groups (false discovery rate, Benjamini and Hochberg 1995; Jones, Ohlssen and Spiegelhalter
    2008 for funnel plots) and a group is flagged when its q-value is below ``alpha``: among the
    flags, the expected share of false alarms is at most ``alpha``, and when no group truly
    differs, the chance of any flag at all is at most ``alpha``. With ``method="none"`` the raw
    p-value is used: each group alone has a false-alarm chance of ``alpha``, so with 50 groups at the
    same true rate some group is flagged most of the time. Use it only to match the plot's
    ``1 − alpha`` funnel.

    The tests assume binomial variation only; when :func:`overdispersion` is well above 1 the
    groups vary more than that, and many flags reflect ordinary between-group spread.

    Parameters
    ----------
    hits, attempts
        Per-group counts, whole numbers with ``0 <= hits <= attempts``, same shape.
    p0
        Rate to test against, in [0, 1]; default the pooled rate ``sum(hits) / sum(attempts)``.
    alpha
        Threshold for q-values (or p-values with ``method="none"``), in (0, 1).
    method
        ``"fdr"`` (Benjamini–Hochberg) or ``"none"`` (unadjusted).

    Returns
    -------
    flags
        ``"above"`` or ``"below"`` (flagged; direction of ``k/n`` against ``p0``), ``"within"``,
        or ``"no attempts"`` for a group with ``n = 0``.
    p_values, q_values
        Two-sided exact p-values and Benjamini–Hochberg q-values (NaN where ``n = 0``; the q-values
        are computed whatever ``method`` is).
    """
    where = "funnel_flags"
    _checks.one_of("method", method, ("fdr", "none"), where)
    _checks.level("alpha", alpha, where)
    k, n = _checks.counts(hits, attempts, where)
    rate = _pooled_rate(k, n, where) if p0 is None else _checks.unit("p0", p0, where, closed=True)
    used = n > 0
    lower_tail = stats.binom.cdf(k, n, rate)
    upper_tail = stats.binom.sf(k - 1.0, n, rate)
    p_values = np.where(used, np.minimum(1.0, 2.0 * np.minimum(lower_tail, upper_tail)), np.nan)
    q_values = benjamini_hochberg(p_values)
    score = q_values if method == "fdr" else p_values
    with np.errstate(invalid="ignore", divide="ignore"):
        raw_rate = k / n
    flagged = used & (score < alpha)
    flags = np.where(
        ~used,
        NO_ATTEMPTS,
        np.where(flagged & (raw_rate > rate), "above", np.where(flagged & (raw_rate < rate), "below", "within")),
    ).astype(np.str_)
    return flags, np.asarray(p_values, dtype=np.float64), q_values


def overdispersion(hits: ArrayLike, attempts: ArrayLike, p0: float | None = None) -> float:
    """Overdispersion factor: Pearson chi-square per degree of freedom of the groups around ``p0``.

    ``phi = Σ_g (k_g − n_g·p0)² / (n_g·p0·(1 − p0)) / df``, the mean squared z-score of the groups
    (Spiegelhalter 2005, on over-dispersion), with ``df`` the number of groups with attempts, less one when
    ``p0`` is the pooled rate estimated from the same data. If the groups differ only by binomial
    chance, ``phi`` is about 1 (its spread is about ``√(2/df)``). A value well above 1 (say 1.5 or
    more with dozens of groups) is a warning: the groups truly differ, so binomial funnel limits
    are too narrow and flag many groups for ordinary between-group spread; then read the funnel
    with care, or use shrinkage (:mod:`hitrate.stats.shrinkage`), which models that spread.

    Parameters
    ----------
    hits, attempts
        Per-group counts, whole numbers with ``0 <= hits <= attempts``, same shape; groups with
        no attempts are left out.
    p0
        Reference rate in (0, 1); default the pooled rate.

    Returns
    -------
    float
        ``phi``; NaN when it is undefined: no degrees of freedom (one group with a pooled ``p0``),
        or a pooled rate of exactly 0 or 1 (no hits at all, or only hits).
    """
    where = "overdispersion"
    k, n = _checks.counts(hits, attempts, where)
    rate = _pooled_rate(k, n, where) if p0 is None else _checks.unit("p0", p0, where, closed=False)
    groups = int(np.count_nonzero(n > 0))
    df = groups - 1 if p0 is None else groups
    if df <= 0 or rate <= 0.0 or rate >= 1.0:
        return float("nan")
    used = n > 0
    chi2 = float(np.sum((k[used] - n[used] * rate) ** 2 / (n[used] * rate * (1.0 - rate))))
    return chi2 / df
