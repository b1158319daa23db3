"""Compare two hit rates: difference of two independent proportions, and period-over-period change flags."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hitrate.i18n import Message, Phrase
from hitrate.stats import _checks
from hitrate.stats.intervals import ArrayLike, wilson_interval
from hitrate.stats.multiple import benjamini_hochberg

FloatArray = npt.NDArray[np.float64]

#: Fisher's exact test replaces the Pearson chi-square test when any expected cell count of the
#: 2x2 table (hits and misses in each arm, under the pooled rate) is below this value.
FISHER_BELOW_EXPECTED = 5.0


@dataclass(frozen=True)
class Difference:
    """Difference of two hit rates, ``rate_a - rate_b``, with interval and two-sided p-value.

    Attributes
    ----------
    hits_a, attempts_a, hits_b, attempts_b
        The counts compared.
    rate_a, rate_b
        ``hits / attempts`` in each arm.
    difference
        ``rate_a - rate_b``.
    low, high
        Newcombe hybrid score interval for the difference (Newcombe 1998, method 10) at the
        requested confidence level.
    p_value
        Two-sided p-value for "the two rates are equal": Pearson chi-square test without continuity
        correction, or Fisher's exact test when any expected cell count is below 5 (see
        :func:`compare_proportions`).
    method
        The interval and the test used, in words (a :class:`~hitrate.stats.phrase.Phrase`: English as a
        ``str``, any language with ``render``).
    """

    hits_a: int
    attempts_a: int
    hits_b: int
    attempts_b: int
    rate_a: float
    rate_b: float
    difference: float
    low: float
    high: float
    p_value: float
    method: Phrase


def _newcombe(
    k1: FloatArray, n1: FloatArray, k2: FloatArray, n2: FloatArray, confidence: float
) -> tuple[FloatArray, FloatArray]:
    """Newcombe method-10 bounds for ``k1/n1 - k2/n2`` (vectorised; NaN where an arm has no attempts)."""
    l1, u1 = wilson_interval(k1, n1, confidence)
    l2, u2 = wilson_interval(k2, n2, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1 = k1 / n1
        p2 = k2 / n2
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def _fisher_two_sided(k1: int, n1: int, k2: int, n2: int) -> float:
    """Fisher's exact test, two-sided, as ``scipy.stats.fisher_exact``: the probability, under the
    hypergeometric distribution of the first arm's hits given the margins, of every table no more likely
    than the one observed (relative tolerance 1e-7). Written with ``math.lgamma`` because importing
    ``scipy.stats`` costs about a second on every ``rates --period`` command."""
    hits = k1 + k2
    lo, hi = max(0, hits - n2), min(hits, n1)
    x = np.arange(lo, hi + 1, dtype=float)

    def log_choose(n: float, k: np.ndarray) -> np.ndarray:
        return np.array([math.lgamma(n + 1) - math.lgamma(v + 1) - math.lgamma(n - v + 1) for v in np.ravel(k)])

    log_pmf = log_choose(n1, x) + log_choose(n2, hits - x) - log_choose(n1 + n2, np.asarray([float(hits)]))
    pmf = np.exp(log_pmf - log_pmf.max())
    observed = pmf[k1 - lo]
    total = pmf.sum()
    return float(min(1.0, pmf[pmf <= observed * (1 + 1e-7)].sum() / total))


def _two_by_two_p(
    k1: FloatArray, n1: FloatArray, k2: FloatArray, n2: FloatArray
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Two-sided p-value for equal rates and whether Fisher's test was used (vectorised).

    Pearson chi-square without continuity correction, z² = (p1 − p2)² / (p̄(1 − p̄)(1/n1 + 1/n2))
    with the pooled rate p̄, referred to chi-square with 1 degree of freedom; Fisher's exact test
    for the tables that have an expected cell count below :data:`FISHER_BELOW_EXPECTED`. Entries
    where an arm has no attempts are NaN.
    """
    valid = (n1 > 0) & (n2 > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = n1 + n2
        pooled = (k1 + k2) / total
        expected = np.stack([n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)])
        use_fisher = valid & np.any(expected < FISHER_BELOW_EXPECTED, axis=0)
        z2 = (k1 / n1 - k2 / n2) ** 2 / (pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    # Chi-square survival with 1 degree of freedom is erfc(√(z²/2)): plain math, so the rates path imports
    # no scipy (scipy.stats costs about a second per command).
    z2 = np.where(use_fisher | ~valid, 0.0, z2)
    sf = np.array([math.erfc(math.sqrt(v / 2)) if np.isfinite(v) else np.nan for v in z2.ravel()]).reshape(z2.shape)
    p = np.where(valid & ~use_fisher, sf, np.nan)
    for i in np.flatnonzero(use_fisher):
        p[i] = _fisher_two_sided(int(k1[i]), int(n1[i]), int(k2[i]), int(n2[i]))
    return np.asarray(p, dtype=np.float64), np.asarray(use_fisher, dtype=np.bool_)


def compare_proportions(
    hits_a: int, attempts_a: int, hits_b: int, attempts_b: int, confidence: float = 0.95
) -> Difference:
    """Difference of two independent hit rates with a Newcombe hybrid score interval and a p-value.

    The difference is ``rate_a - rate_b``. Its interval is Newcombe's hybrid score interval
    (Newcombe 1998, "Interval estimation for the difference between independent proportions",
    method 10): with Wilson score intervals ``[l1, u1]`` and ``[l2, u2]`` for each rate,

        low  = d − √((p1 − l1)² + (u2 − p2)²),   high = d + √((u1 − p1)² + (p2 − l2)²).

    It stays inside [−1, 1], works for 0/n and n/n arms and keeps close to nominal coverage in
    small samples. Equal to ``statsmodels.stats.proportion.confint_proportions_2indep(...,
    method="newcomb", compare="diff")`` and to Newcombe's Table II (e.g. 56/70 vs 48/80 gives
    0.0524 to 0.3339).

    The two-sided p-value tests "the two rates are equal". Rule: the Pearson chi-square test
    without continuity correction (identical to the score test for a zero difference,
    ``test_proportions_2indep(..., method="score")``) when every expected cell count of the 2x2
    table under the pooled rate is at least 5; otherwise Fisher's exact test (two-sided, as in
    ``scipy.stats.fisher_exact``). The interval and the test are separate methods, so near the
    5 % boundary an interval that just excludes 0 may come with a p-value just above 0.05.

    Parameters
    ----------
    hits_a, attempts_a
        Hits and attempts of arm A (whole counts, ``0 <= hits_a <= attempts_a``, ``attempts_a > 0``).
    hits_b, attempts_b
        The same for arm B.
    confidence
        Confidence level of the interval, in (0, 1).

    Returns
    -------
    Difference

    Raises
    ------
    hitrate.errors.InvalidParameterError
        (a ``ValueError``) If an arm has no attempts, counts are negative or fractional, hits exceed
        attempts, or ``confidence`` is not in (0, 1); the message names the parameter and its value.
    """
    where = "compare_proportions"
    _checks.level("confidence", confidence, where)
    for name, value in (("attempts_a", attempts_a), ("attempts_b", attempts_b)):
        if value == 0:
            raise _checks.invalid(name, where, "some_attempt", value)
    k1, n1 = _checks.counts([hits_a], [attempts_a], where, ("hits_a", "attempts_a"))
    k2, n2 = _checks.counts([hits_b], [attempts_b], where, ("hits_b", "attempts_b"))
    low, high = _newcombe(k1, n1, k2, n2, confidence)
    p, fisher = _two_by_two_p(k1, n1, k2, n2)
    rate_a = float(k1[0] / n1[0])
    rate_b = float(k2[0] / n2[0])
    return Difference(
        hits_a=int(k1[0]),
        attempts_a=int(n1[0]),
        hits_b=int(k2[0]),
        attempts_b=int(n2[0]),
        rate_a=rate_a,
        rate_b=rate_b,
        difference=rate_a - rate_b,
        low=float(low[0]),
        high=float(high[0]),
        p_value=float(p[0]),
        method=Phrase("stats.difference_method", test=Message("stats.fisher" if fisher[0] else "stats.pearson")),
    )


def change_flags(
    hits: ArrayLike, attempts: ArrayLike, alpha: float = 0.05, groups: ArrayLike | None = None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, npt.NDArray[np.str_]]:
    """Period-over-period change of a hit-rate series, with Benjamini–Hochberg-adjusted flags.

    Each period is compared with the one before it exactly as :func:`compare_proportions` does
    (period t is arm A, period t−1 arm B): the difference ``rate[t] − rate[t−1]``, its Newcombe
    hybrid score interval at confidence ``1 − alpha``, and the two-sided p-value (Pearson
    chi-square without continuity correction, Fisher's exact test when an expected cell is below 5).

    Because a long series makes many comparisons, the p-values are adjusted with the
    Benjamini–Hochberg false-discovery-rate procedure over all the comparisons in the series
    (:func:`benjamini_hochberg`), and a period is flagged ``"up"`` or ``"down"`` (direction of the
    difference) only when its ADJUSTED p-value is below ``alpha``; otherwise ``""``. The returned
    ``p_value`` is the adjusted one, so ``flag != ""`` exactly when ``p_value < alpha``. The
    intervals are per-comparison (not adjusted for multiplicity).

    The first period has no predecessor: NaN difference, bounds and p-value, flag ``""``. A
    comparison that involves a period with no attempts is treated the same way and does not count
    towards the Benjamini–Hochberg adjustment.

    Parameters
    ----------
    hits, attempts
        1-D arrays of whole counts in period order, ``0 <= hits <= attempts``.
    alpha
        False discovery rate for the flags, in (0, 1); the intervals use confidence ``1 − alpha``.
    groups
        Several series at once: the label of the series each row belongs to (rows in series order, each series
        in period order). Each series is compared and adjusted on its own, exactly as if passed alone; the
        work is one vectorised pass over all of them (a ``rates --by rep --period month`` of 12,000 rows).

    Returns
    -------
    difference, low, high, p_value, flag
        Arrays as long as the series: ``rate[t] − rate[t−1]``, its interval, the BH-adjusted
        p-value and the flag (``"up"``, ``"down"`` or ``""``).
    """
    where = "change_flags"
    _checks.level("alpha", alpha, where)
    k = np.asarray(hits, dtype=float)
    if k.ndim != 1:
        raise _checks.invalid("hits", where, "one_dimensional", _checks.Shown(f"shape {k.shape}"))
    k, n = _checks.counts(k, attempts, where)
    size = k.shape[0]
    difference = np.full(size, np.nan)
    low = np.full(size, np.nan)
    high = np.full(size, np.nan)
    raw_p = np.full(size, np.nan)
    labels = np.zeros(size, dtype=np.int64) if groups is None else np.asarray(groups).ravel()
    if len(labels) != size:
        shown = _checks.Shown(f"length {len(labels)}")
        raise _checks.invalid("groups", where, "same_length", shown, other="hits", length=size)
    if size > 1:
        # period t against t-1 of the same series; a series' first period has no predecessor
        pair = np.flatnonzero((labels[1:] == labels[:-1]) & (n[1:] > 0) & (n[:-1] > 0)) + 1
        k1, n1, k2, n2 = k[pair], n[pair], k[pair - 1], n[pair - 1]
        lo, hi = _newcombe(k1, n1, k2, n2, 1 - alpha)
        p, _ = _two_by_two_p(k1, n1, k2, n2)
        difference[pair] = k1 / n1 - k2 / n2
        low[pair], high[pair], raw_p[pair] = lo, hi, p
    adjusted = benjamini_hochberg(raw_p, labels)
    significant = adjusted < alpha  # NaN compares False
    flag = np.where(significant & (difference > 0), "up", np.where(significant & (difference < 0), "down", ""))
    return difference, low, high, adjusted, flag.astype(np.str_)
