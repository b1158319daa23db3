"""Sums of independent, differently likely outcomes: the Poisson-binomial and its won/lost/open extension.

An open deal ``i`` ends the period won with probability ``w_i``, lost with ``l_i`` and still open with
``1 - w_i - l_i``, independently of the others. The number of wins among ``n`` deals is Poisson-binomial
(:func:`poisson_binomial_pmf`); the pair (wins, losses) has the bivariate distribution of
:func:`outcome_pmf`. Both are computed exactly by convolution, one deal at a time (the product of the deals'
probability generating functions), which needs no approximation and stays accurate for tiny probabilities,
unlike the DFT (characteristic-function) method whose rounding error is about 1e-16 × n in every cell.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hitrate.i18n import Phrase
from hitrate.stats import _checks

FloatArray = npt.NDArray[np.float64]

#: Above this many deals :func:`outcome_pmf` (cost about n³/3) is replaced by a normal approximation.
EXACT_LIMIT = 1500


def _probabilities(values: npt.ArrayLike, name: str, func: str) -> FloatArray:
    p = np.asarray(values, dtype=float).ravel()
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if np.any(bad):
        raise _checks.invalid(name, func, "probabilities", float(p[bad][0]))
    return p


def poisson_binomial_pmf(p: npt.ArrayLike) -> FloatArray:
    """P(number of successes = k), k = 0..n, for independent trials with success probabilities ``p``.

    Exact by convolution: start from the point mass at 0 and, for each trial, mix the distribution shifted by
    one (success, weight ``p_i``) with itself (failure, weight ``1 - p_i``). O(n²) operations.
    """
    probs = _probabilities(p, "p", "poisson_binomial_pmf")
    pmf = np.zeros(probs.size + 1)
    pmf[0] = 1.0
    for k, pi in enumerate(probs, start=1):
        pmf[1 : k + 1] = pmf[1 : k + 1] * (1 - pi) + pmf[:k] * pi
        pmf[0] *= 1 - pi
    return pmf


def outcome_pmf(won: npt.ArrayLike, lost: npt.ArrayLike) -> FloatArray:
    """P(wins = x, losses = l) as an ``(n+1) × (n+1)`` array, for independent deals with outcome probabilities
    ``won`` and ``lost`` (the rest stays open).

    Exact by two-dimensional convolution: the product of the deals' generating functions
    ``(1 - w_i - l_i) + w_i·z + l_i·y``, multiplied in one deal at a time. O(n³/3) operations.
    """
    func = "outcome_pmf"
    w = _probabilities(won, "won", func)
    lo = _probabilities(lost, "lost", func)
    _checks.same_length(func, won=w, lost=lo)
    stay = 1 - w - lo
    if np.any(stay < -1e-12):
        raise _checks.invalid(
            "lost", func, "at_most_one_minus_won", _checks.Shown(f"won + lost = {float((w + lo).max())!r}")
        )
    stay = np.clip(stay, 0.0, 1.0)
    n = w.size
    pmf = np.zeros((n + 1, n + 1))
    pmf[0, 0] = 1.0
    for k in range(n):
        cur = pmf[: k + 1, : k + 1].copy()
        pmf[: k + 1, : k + 1] = cur * stay[k]
        pmf[1 : k + 2, : k + 1] += cur * w[k]
        pmf[: k + 1, 1 : k + 2] += cur * lo[k]
    return pmf


def prob_rate_at_least(
    hits: int, attempts: int, won: npt.ArrayLike, lost: npt.ArrayLike, target: float, *, basis: str = "closed"
) -> tuple[float, float, str]:
    """P(final hit rate ≥ ``target``) and the expected final hits, given ``hits`` of ``attempts`` so far and
    open deals that end the period won (``won``) or lost (``lost``) or stay open.

    ``basis="closed"``: final rate = (hits + X) / (attempts + X + L); ``"cohort"``: the open deals are already
    among the attempts, final rate = (hits + X) / attempts. Returns ``(probability, expected_hits, method)``.
    Exact (convolution) up to :data:`EXACT_LIMIT` open deals; above, the normal approximation to the linear
    statistic ``(1 - g)·X - g·L`` (closed) or ``X`` (cohort), with a continuity correction of half a deal.
    ``method`` is a :class:`~hitrate.stats.phrase.Phrase`: the English ``str`` that renders in any language.
    """
    w = _probabilities(won, "won", "prob_rate_at_least")
    lo = _probabilities(lost, "lost", "prob_rate_at_least")
    g = float(target)
    expected = hits + float(w.sum())
    if basis == "cohort":
        if attempts <= 0:
            return float("nan"), expected, Phrase("stats.no_attempts")
        need = int(np.ceil(g * attempts - 1e-9)) - hits  # wins still needed
        if w.size <= EXACT_LIMIT:
            pmf = poisson_binomial_pmf(w)
            prob = float(pmf[max(need, 0) :].sum()) if need <= w.size else 0.0
            return min(prob, 1.0), expected, Phrase("stats.poisson_binomial_exact")
        mean, var = float(w.sum()), float((w * (1 - w)).sum())
        return _normal_tail(need - 0.5, mean, var), expected, Phrase("stats.poisson_binomial_normal")
    if w.size <= EXACT_LIMIT:
        pmf = outcome_pmf(w, lo)
        x = np.arange(w.size + 1)[:, None]
        losses = np.arange(w.size + 1)[None, :]
        denom = attempts + x + losses
        with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate (no division below)
            ok = (denom > 0) & (hits + x >= g * denom - 1e-12)
        prob = float(pmf[ok].sum())
        if attempts == 0:  # no final rate when nothing closes: count only outcomes with a denominator
            closes = 1.0 - float(pmf[0, 0])
            prob = prob / closes if closes > 0 else float("nan")
        return min(prob, 1.0), expected, Phrase("stats.outcomes_exact")
    a, b = 1 - g, -g
    mean = float((a * w + b * lo).sum())
    var = float((a * a * w + b * b * lo).sum() - ((a * w + b * lo) ** 2).sum())
    gap = g * attempts - hits
    method = Phrase("stats.outcomes_normal", limit=EXACT_LIMIT)
    return _normal_tail(gap - 0.5 * min(a, g), mean, var), expected, method


def _normal_tail(threshold: float, mean: float, var: float) -> float:
    """P(S ≥ threshold) for S normal with this mean and variance (a point mass when the variance is 0)."""
    import math

    if var <= 0:
        return 1.0 if mean >= threshold else 0.0
    return 0.5 * math.erfc((threshold - mean) / math.sqrt(2 * var))
