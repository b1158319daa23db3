"""Empirical-Bayes shrinkage of hit rates: a beta prior fitted across groups, then beta posteriors.

The model (beta-binomial): each group ``g`` has a true rate ``p_g ~ Beta(alpha, beta)`` and
``hits_g ~ Binomial(attempts_g, p_g)``. :func:`fit_beta_binomial` estimates ``(alpha, beta)`` by
maximising the beta-binomial marginal likelihood of the aggregated counts; :func:`shrink` then
gives each group its posterior ``Beta(alpha + hits, beta + attempts - hits)``: a rate pulled
towards the overall mean, strongly for groups with few attempts, hardly for groups with many.
:func:`shrink_within` fits one prior per parent (e.g. reps within their team).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, special, stats

from hitrate.i18n import Message, Phrase
from hitrate.stats import _checks
from hitrate.stats.intervals import ArrayLike

FloatArray = npt.NDArray[np.float64]

#: Smallest prior strength (alpha + beta) the fit may return. Data where every group has either
#: no hits or only hits (e.g. 0/4, 5/5, 0/3) push the maximum-likelihood strength towards 0 (a
#: U-shaped prior with all its mass at 0 and 1); the fit stops here instead.
MIN_STRENGTH = 1e-3


@dataclass(frozen=True)
class BetaPrior:
    """A ``Beta(alpha, beta)`` prior for the groups' true hit rates, fitted by :func:`fit_beta_binomial`.

    Attributes
    ----------
    alpha, beta
        Shape parameters, both > 0. The prior counts as ``alpha`` hits and ``beta`` misses.
    n_groups
        Number of groups the prior was fitted on (groups with at least one attempt).
    log_likelihood
        Beta-binomial marginal log-likelihood of those groups at ``(alpha, beta)``, including the
        binomial coefficients: equal to ``scipy.stats.betabinom.logpmf(hits, attempts, alpha,
        beta).sum()``.
    converged
        Whether the optimiser reported convergence (always True for the closed-form cases).
    method
        How the prior was obtained, in words (a :class:`~hitrate.stats.phrase.Phrase`).
    complete_pooling
        True when the data show no between-group variation beyond binomial noise, so the fit
        stopped at the largest allowed strength: every group is then shrunk almost all the way to
        the pooled rate. See :func:`fit_beta_binomial`.
    """

    alpha: float
    beta: float
    n_groups: int
    log_likelihood: float
    converged: bool
    method: Phrase | str
    complete_pooling: bool = False

    @property
    def mean(self) -> float:
        """Prior mean hit rate, ``alpha / (alpha + beta)``."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def strength(self) -> float:
        """Prior strength ``alpha + beta``: how many attempts the prior is worth."""
        return self.alpha + self.beta


def _log_likelihood(k: FloatArray, n: FloatArray, a: float, b: float) -> float:
    """Beta-binomial log-likelihood: sum of log C(n, k) + betaln(k + a, n - k + b) - betaln(a, b)."""
    log_choose = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    return float(np.sum(log_choose + special.betaln(k + a, n - k + b) - special.betaln(a, b)))


def fit_beta_binomial(hits: ArrayLike, attempts: ArrayLike, max_strength: float | None = None) -> BetaPrior:
    """Fit a beta prior to groups' hit rates by beta-binomial maximum likelihood (empirical Bayes).

    Maximises the beta-binomial marginal log-likelihood over ``alpha, beta > 0``,

        ℓ(α, β) = Σ_g [log C(n_g, k_g) + log B(k_g + α, n_g − k_g + β) − log B(α, β)],

    (``B`` the beta function, ``k`` hits, ``n`` attempts) with scipy's SLSQP (bounded, with the
    analytic gradient), in the parameters ``logit(mean)`` and ``log(strength)`` (mean = α/(α+β),
    strength = α+β), started from the method-of-moments estimate (Kleinman 1973). Groups with no
    attempts carry no information and are ignored.

    Degenerate data, handled without error:

    * **No variation beyond chance** (all groups at the same rate, or rates less spread than
      binomial noise alone would give, which is common with few groups): the likelihood keeps
      rising as the strength grows (the maximum is a single common rate), so the fit stops at
      ``max_strength`` and sets ``complete_pooling=True``: every group is shrunk (almost) to the
      pooled rate. The default cap is the total number of attempts plus one, so the prior never
      claims more information than the data it came from and a posterior interval is then about
      as wide as the interval of the pooled rate; pass ``max_strength=1e6`` for a near-point prior.
    * **One group**: the same case: the prior sits on that group's own rate with the strength of
      its own attempts (so :func:`shrink` counts its data twice). A prior needs several groups;
      for one group use :func:`hitrate.stats.wilson_interval`.
    * **All groups with no hits** (or all with only hits): the maximum-likelihood mean is exactly
      0 (or 1), where a beta prior degenerates and the spread cannot be estimated at all. The prior
      is then the Jeffreys posterior of the pooled rate, ``Beta(K + 1/2, N − K + 1/2)`` (``K``
      total hits, ``N`` total attempts), with ``complete_pooling=True``: rates near 0 (or 1), with
      an upper (or lower) bound set by the total attempts.
    * **One attempt per group**: the spread is not identifiable (the likelihood does not depend
      on the strength); the fit returns complete pooling.
    * **Polarised groups** (each group has no hits or only hits, but both kinds occur): the
      likelihood rises as the strength falls to 0, so the fit stops at ``MIN_STRENGTH`` (1e-3);
      posteriors are then close to the raw rates.

    Parameters
    ----------
    hits, attempts
        Per-group counts, whole numbers with ``0 <= hits <= attempts``, same shape.
    max_strength
        Largest allowed prior strength ``alpha + beta``. Default: total attempts + 1.

    Returns
    -------
    BetaPrior

    Raises
    ------
    hitrate.errors.InvalidParameterError
        (a ``ValueError``) If no group has attempts, counts are not whole, negative or hits exceed
        attempts, or ``max_strength`` is not above ``MIN_STRENGTH``; the message names the parameter and value.
    """
    where = "fit_beta_binomial"
    k_all, n_all = _checks.counts(hits, attempts, where)
    _checks.some_attempts(n_all, where)
    used = n_all > 0
    k, n = k_all[used], n_all[used]
    total_k, total_n = float(k.sum()), float(n.sum())
    cap = total_n + 1.0 if max_strength is None else float(max_strength)
    if not (math.isfinite(cap) and cap > MIN_STRENGTH):
        raise _checks.invalid("max_strength", where, "finite_above", max_strength, minimum=MIN_STRENGTH)
    groups = int(k.size)

    if total_k == 0 or total_k == total_n:
        mean = (total_k + 0.5) / (total_n + 1.0)
        strength = min(total_n + 1.0, cap)
        what = Message("stats.no_hits" if total_k == 0 else "stats.only_hits")
        return _prior(k, n, mean * strength, (1.0 - mean) * strength, True, Phrase("stats.no_spread", what=what), True)

    log_choose = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    misses = n - k

    def negative_ll(x: FloatArray) -> tuple[float, FloatArray]:
        mu = float(special.expit(x[0]))
        s = math.exp(x[1])
        a, b = mu * s, (1.0 - mu) * s
        ll = np.sum(log_choose + special.betaln(k + a, misses + b) - special.betaln(a, b))
        common = special.digamma(n + s) - special.digamma(s)
        d_a = np.sum(special.digamma(k + a) - special.digamma(a) - common)
        d_b = np.sum(special.digamma(misses + b) - special.digamma(b) - common)
        grad = np.array([s * mu * (1.0 - mu) * (d_a - d_b), a * d_a + b * d_b])
        return -float(ll), -grad

    # Start: method of moments for the intra-group correlation rho = 1 / (strength + 1).
    mu0 = total_k / total_n
    rates = k / n
    spread = float(np.sum(n * (rates - mu0) ** 2)) / (mu0 * (1.0 - mu0))
    denom = total_n - float(np.sum(n * n)) / total_n - (groups - 1)
    # denom <= 0: one group, or one attempt per group; the spread is then not identifiable (the
    # likelihood is flat in the strength) and starting at the cap returns complete pooling.
    rho = (spread - (groups - 1)) / denom if denom > 0 else 0.0
    rho = min(max(rho, 1e-6), 1.0 - 1e-6)
    log_lo, log_hi = math.log(MIN_STRENGTH), math.log(cap)
    x0 = np.array([math.log(mu0 / (1.0 - mu0)), min(max(math.log(1.0 / rho - 1.0), log_lo), log_hi)])
    result = optimize.minimize(
        negative_ll,
        x0,
        jac=True,
        method="SLSQP",
        bounds=[(-30.0, 30.0), (log_lo, log_hi)],
        options={"maxiter": 500, "ftol": 1e-14},
    )
    mu = float(special.expit(result.x[0]))
    s = math.exp(float(result.x[1]))
    a, b = mu * s, (1.0 - mu) * s
    # The optimiser may report a failed line search once the objective is flat to machine
    # precision; that is convergence too when the projected gradient is small.
    grad = np.asarray(result.jac, dtype=float)
    at_cap = float(result.x[1]) >= log_hi - 1e-6
    at_floor = float(result.x[1]) <= log_lo + 1e-6
    free_grad = np.array([grad[0], 0.0 if (at_cap and grad[1] < 0) or (at_floor and grad[1] > 0) else grad[1]])
    converged = bool(result.success) or float(np.max(np.abs(free_grad))) < 1e-4 * max(1.0, abs(float(result.fun)))
    return _prior(k, n, a, b, converged, Phrase("stats.marginal_likelihood"), at_cap)


def _prior(
    k: FloatArray, n: FloatArray, a: float, b: float, converged: bool, method: Phrase, pooled: bool
) -> BetaPrior:
    """The fitted prior ``Beta(a, b)`` of the groups ``k`` of ``n``, with its log-likelihood."""
    return BetaPrior(a, b, int(k.size), _log_likelihood(k, n, a, b), converged, method, pooled)


def shrink(
    hits: ArrayLike, attempts: ArrayLike, prior: BetaPrior, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Shrunk hit rates: beta posterior mean and equal-tailed credible interval per group.

    With prior ``Beta(alpha, beta)`` a group with ``k`` hits in ``n`` attempts has posterior
    ``Beta(alpha + k, beta + n − k)``. Its mean

        (alpha + k) / (alpha + beta + n) = w · prior mean + (1 − w) · k/n,   w = strength / (strength + n),

    lies between the raw rate and the prior mean, nearer the prior for small ``n``. The interval is
    the equal-tailed credible interval: the ``(1 − confidence)/2`` and ``(1 + confidence)/2``
    quantiles of the posterior (``scipy.stats.beta.ppf``). A group with no attempts gets the prior
    itself. For an extremely skewed posterior (a shape parameter below about 0.01, which only a
    prior fitted at :data:`MIN_STRENGTH` gives) the mean can fall outside the equal-tailed interval;
    the interval is then widened to include the mean, so ``low <= mean <= high`` always holds.

    The interval treats the fitted prior as known (empirical Bayes), so it ignores the uncertainty
    in ``alpha`` and ``beta`` and is somewhat too narrow when the prior was fitted on few groups.

    Parameters
    ----------
    hits, attempts
        Per-group counts, whole numbers with ``0 <= hits <= attempts``, same shape.
    prior
        The prior, usually from :func:`fit_beta_binomial` on the same groups.
    confidence
        Credible level of the interval, in (0, 1).

    Returns
    -------
    mean, low, high
        Arrays of the shape of ``hits``.
    """
    where = "shrink"
    _checks.level("confidence", confidence, where)
    if not (prior.alpha > 0 and prior.beta > 0 and math.isfinite(prior.alpha) and math.isfinite(prior.beta)):
        got = _checks.Shown(f"alpha={prior.alpha!r}, beta={prior.beta!r}")
        raise _checks.invalid("prior", where, "prior", got)
    k, n = _checks.counts(hits, attempts, where)
    post_a = prior.alpha + k
    post_b = prior.beta + (n - k)
    mean = post_a / (post_a + post_b)
    low = np.asarray(stats.beta.ppf((1.0 - confidence) / 2.0, post_a, post_b), dtype=float)
    high = np.asarray(stats.beta.ppf((1.0 + confidence) / 2.0, post_a, post_b), dtype=float)
    return mean, np.minimum(low, mean), np.maximum(high, mean)


def shrink_within(
    hits: ArrayLike,
    attempts: ArrayLike,
    parents: ArrayLike,
    confidence: float = 0.95,
    min_groups: int = 3,
) -> tuple[FloatArray, FloatArray, FloatArray, dict[Hashable, BetaPrior]]:
    """Shrink each group towards its own parent: one beta-binomial prior per parent (e.g. reps within team).

    For every parent (a label in ``parents``, one per group) a prior is fitted by
    :func:`fit_beta_binomial` on that parent's groups, and each group is shrunk with
    :func:`shrink` towards its parent's rate. A parent with fewer than ``min_groups`` groups with
    attempts cannot support a fit of its own; it borrows the prior fitted on all groups together
    (its ``method`` says so), so its groups are shrunk towards the overall rate instead.

    Parameters
    ----------
    hits, attempts
        Per-group counts, 1-D, whole numbers with ``0 <= hits <= attempts``.
    parents
        Parent label of each group (any hashable values, e.g. team names), same length.
    confidence
        Credible level of the intervals, in (0, 1).
    min_groups
        Fewest groups with attempts a parent needs for its own prior (at least 1; 3 or more advised).

    Returns
    -------
    mean, low, high
        Posterior means and equal-tailed credible intervals per group, as in :func:`shrink`.
    priors
        The prior used for each parent, keyed by label, in order of first appearance.

    Raises
    ------
    hitrate.errors.InvalidParameterError
        (a ``ValueError``) If the inputs do not line up, counts are invalid, no group has attempts,
        ``confidence`` is not in (0, 1) or ``min_groups`` is below 1; the message names the parameter and value.
    """
    where = "shrink_within"
    _checks.level("confidence", confidence, where)
    _checks.whole_number("min_groups", min_groups, where)
    k, n = _checks.counts(hits, attempts, where)
    labels = np.asarray(parents, dtype=object)
    if k.ndim != 1 or labels.shape != k.shape:
        got = _checks.Shown(f"shape {labels.shape} for {k.shape} groups")
        raise _checks.invalid("parents", where, "one_label_per_group", got)
    members: dict[Hashable, list[int]] = {}
    for i, label in enumerate(labels.tolist()):
        members.setdefault(label, []).append(i)

    overall = fit_beta_binomial(k, n)
    borrowed = dataclasses.replace(overall, method=Phrase("stats.borrowed", method=overall.method, minimum=min_groups))
    mean = np.empty(k.shape)
    low = np.empty(k.shape)
    high = np.empty(k.shape)
    priors: dict[Hashable, BetaPrior] = {}
    for label, rows in members.items():
        idx = np.asarray(rows)
        own = int(np.count_nonzero(n[idx] > 0)) >= min_groups
        prior = fit_beta_binomial(k[idx], n[idx]) if own else borrowed
        priors[label] = prior
        mean[idx], low[idx], high[idx] = shrink(k[idx], n[idx], prior, confidence)
    return mean, low, high, priors
