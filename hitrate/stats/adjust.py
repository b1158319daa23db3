"""Adjust hit rates for lead quality and mix by indirect standardisation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hitrate.i18n import Phrase
from hitrate.stats import _checks
from hitrate.stats.intervals import ArrayLike

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_CALLER = "indirect_standardise"


@dataclass(frozen=True)
class Adjusted:
    """Mix-adjusted hit rates, one entry per group, in ``groups`` order (``np.unique(group_index)``).

    Attributes
    ----------
    groups
        The group codes, sorted ascending.
    observed
        Hits of the group, summed over its strata.
    expected
        Hits the group would have had at the pooled rate of each stratum it worked:
        ``sum_s n_gs * p_s``.
    quality_index
        ``observed / expected``: 1 means "as good as everyone else on the same leads", 1.2 means
        20 % more hits than its lead mix predicts (an indirectly standardised ratio, like a
        standardised mortality ratio). NaN where ``expected == 0``.
    quality_low, quality_high
        Exact Poisson (Garwood) confidence interval for the observed count, divided by ``expected``.
    adjusted_rate
        ``quality_index * overall_rate``, clipped to [0, 1]: the group's hit rate had it worked the
        overall lead mix with its own quality.
    adjusted_low, adjusted_high
        The quality interval scaled the same way and clipped to [0, 1].
    overall_rate
        ``sum(hits) / sum(attempts)`` over all cells.
    method
        The method, in words (a :class:`~hitrate.stats.phrase.Phrase`).
    """

    groups: IntArray
    observed: FloatArray
    expected: FloatArray
    quality_index: FloatArray
    quality_low: FloatArray
    quality_high: FloatArray
    adjusted_rate: FloatArray
    adjusted_low: FloatArray
    adjusted_high: FloatArray
    overall_rate: float
    method: Phrase


def _codes(name: str, values: ArrayLike, size: int | None) -> IntArray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise _checks.invalid(name, _CALLER, "one_dimensional", _checks.Shown(f"shape {arr.shape}"))
    if size is not None and arr.shape[0] != size:
        raise _checks.invalid(name, _CALLER, "one_per_cell", _checks.Shown(f"{arr.shape[0]} entries"), size=size)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        try:
            as_float = arr.astype(float)
        except (TypeError, ValueError):
            as_float = np.full(arr.shape, np.nan)
        bad = ~np.isfinite(as_float) | (as_float != np.round(as_float))
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise _checks.invalid(name, _CALLER, "integer_codes", _checks.Shown(f"{arr[i].item()!r} in cell {i}"))
    return arr.astype(np.int64)


def _counts(name: str, values: ArrayLike, size: int) -> FloatArray:
    arr = np.asarray(values, dtype=float)
    if arr.shape != (size,):
        raise _checks.invalid(name, _CALLER, "one_per_cell", _checks.Shown(f"shape {arr.shape}"), size=size)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise _checks.invalid(name, _CALLER, "counts", _checks.Shown(f"{float(arr[i])!r} in cell {i}"))
    return arr


def garwood_interval(observed: ArrayLike, confidence: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """Exact Poisson (Garwood 1936) confidence interval for observed counts (vectorised).

    ``low = chi2.ppf(α/2, 2k) / 2`` (0 when ``k == 0``) and ``high = chi2.ppf(1 − α/2, 2k + 2) / 2``
    with ``α = 1 − confidence``: the central interval obtained by inverting two one-sided exact
    Poisson tests, so it covers the mean at least ``confidence`` of the time. Equal to
    ``statsmodels.stats.rates.confint_poisson(k, 1, method="exact-c")``.
    """
    from scipy.stats import chi2

    _checks.level("confidence", confidence, "garwood_interval")
    k = np.asarray(observed, dtype=float)
    alpha = 1 - confidence
    low = np.where(k > 0, chi2.ppf(alpha / 2, np.where(k > 0, 2 * k, 1.0)) / 2, 0.0)
    high = chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def indirect_standardise(
    group_index: ArrayLike,
    stratum_index: ArrayLike,
    attempts: ArrayLike,
    hits: ArrayLike,
    confidence: float = 0.95,
) -> Adjusted:
    """Lead-quality index and mix-adjusted hit rate per group by indirect standardisation.

    A group that works mostly weak leads has a low raw hit rate even if it sells as well as
    anyone on each kind of lead. Indirect standardisation separates the two: each stratum s
    (e.g. a lead source × segment combination) gets a reference rate pooled over all groups,
    ``p_s = Σ_g k_gs / Σ_g n_gs``; a group's expected hits are what it would have won at those
    rates on its own lead mix, ``E_g = Σ_s n_gs · p_s``; and its quality index is
    ``O_g / E_g`` with ``O_g = Σ_s k_gs`` its observed hits (the same construction as a
    standardised mortality ratio). Because the reference rates are pooled, ``Σ_g E_g = Σ_g O_g``
    and the expected-weighted mean of the indexes is exactly 1.

    Interval: the exact Poisson (Garwood) interval for the observed count ``O_g`` (via chi-square
    quantiles, see :func:`garwood_interval`), divided by ``E_g``. As in the usual SMR methods it
    treats ``E_g`` as fixed, ignoring the sampling error of the reference rates (small when the
    group is a small part of each stratum, understated when one group dominates a stratum), and
    it treats hits as Poisson, which is conservative for rates far from 0.

    Adjusted rate: ``quality_index × overall_rate`` with ``overall_rate = Σ k / Σ n``, the hit
    rate the group would have on the overall lead mix; its interval is the quality interval
    scaled by the same factor. This product is not bounded by 1 (a group that wins everything in
    strata where others rarely win can exceed it), so the adjusted rate and its bounds are clipped
    to [0, 1]; ``quality_index`` keeps the unclipped ratio.

    Groups with ``expected == 0`` (no attempts, or only attempts in strata where nobody scored a
    hit) get NaN for the index, the adjusted rate and their bounds.

    Parameters
    ----------
    group_index, stratum_index
        Integer codes of the group and of the stratum of each cell (one entry per cell of the
        group × stratum cross-tab). Repeated (group, stratum) pairs are summed.
    attempts, hits
        Whole counts per cell, ``0 <= hits <= attempts``.
    confidence
        Confidence level of the intervals, in (0, 1).

    Returns
    -------
    Adjusted
        Arrays aligned with ``np.unique(group_index)``.

    Raises
    ------
    hitrate.errors.InvalidParameterError
        (a ``ValueError``) If the arrays differ in length or are not 1-D, codes are not integers, counts are
        negative or fractional, hits exceed attempts, or ``confidence`` is not in (0, 1); the
        message names the parameter and its value.

    Examples
    --------
    Two groups, two strata (weak, strong): A has 8/80 weak and 10/20 strong, B has 4/20 weak and
    30/80 strong. Pooled rates are 12/100 = 0.12 and 40/100 = 0.40, so
    ``E_A = 80·0.12 + 20·0.40 = 17.6`` and ``E_B = 20·0.12 + 80·0.40 = 34.4``; the quality indexes
    are 18/17.6 ≈ 1.023 and 34/34.4 ≈ 0.988, although the raw rates are 0.18 and 0.34.

    >>> r = indirect_standardise([0, 0, 1, 1], [0, 1, 0, 1], [80, 20, 20, 80], [8, 10, 4, 30])
    >>> r.expected.round(6).tolist(), r.quality_index.round(4).tolist()
    ([17.6, 34.4], [1.0227, 0.9884])
    """
    _checks.level("confidence", confidence, _CALLER)
    g_codes = _codes("group_index", group_index, None)
    size = g_codes.shape[0]
    s_codes = _codes("stratum_index", stratum_index, size)
    n = _counts("attempts", attempts, size)
    k = _counts("hits", hits, size)
    if np.any(k > n):
        bad = int(np.flatnonzero(k > n)[0])
        got = _checks.Shown(f"hits={float(k[bad])!r} > attempts={float(n[bad])!r} in cell {bad}")
        raise _checks.invalid("hits", _CALLER, "at_most_attempts", got)

    groups, g = np.unique(g_codes, return_inverse=True)
    strata, s = np.unique(s_codes, return_inverse=True)
    stratum_n = np.bincount(s, weights=n, minlength=strata.size)
    stratum_k = np.bincount(s, weights=k, minlength=strata.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_s = np.where(stratum_n > 0, stratum_k / stratum_n, 0.0)
    observed = np.bincount(g, weights=k, minlength=groups.size).astype(np.float64)
    expected = np.bincount(g, weights=n * p_s[s], minlength=groups.size).astype(np.float64)

    total_n = float(n.sum())
    overall = float(k.sum()) / total_n if total_n > 0 else float("nan")

    obs_low, obs_high = garwood_interval(observed, confidence)
    has_e = expected > 0
    safe_e = np.where(has_e, expected, 1.0)
    quality = np.where(has_e, observed / safe_e, np.nan)
    q_low = np.where(has_e, obs_low / safe_e, np.nan)
    q_high = np.where(has_e, obs_high / safe_e, np.nan)

    return Adjusted(
        groups=groups.astype(np.int64),
        observed=observed,
        expected=expected,
        quality_index=quality,
        quality_low=q_low,
        quality_high=q_high,
        adjusted_rate=np.clip(quality * overall, 0.0, 1.0),
        adjusted_low=np.clip(q_low * overall, 0.0, 1.0),
        adjusted_high=np.clip(q_high * overall, 0.0, 1.0),
        overall_rate=overall,
        method=Phrase("stats.indirect_method"),
    )
