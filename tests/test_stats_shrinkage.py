"""Tests for hitrate.stats.shrinkage: beta-binomial empirical Bayes fit and posterior shrinkage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from hitrate.stats.shrinkage import MIN_STRENGTH, BetaPrior, fit_beta_binomial, shrink, shrink_within

# Fixed data set for the reference fit; see test_fit_matches_independent_nelder_mead for how it was made.
ATTEMPTS = [145, 60, 154, 299, 88, 178, 290, 251, 76, 83, 275, 38, 234, 236, 50]
ATTEMPTS += [158, 13, 281, 110, 195, 85, 62, 227, 154, 279, 204, 253, 235, 99, 89]
HITS = [30, 12, 23, 52, 12, 22, 30, 30, 11, 19, 77, 2, 45, 83, 4]
HITS += [50, 5, 54, 44, 80, 6, 7, 37, 47, 114, 16, 24, 62, 20, 45]

# Rat tumour data of Tarone (1982), Gelman et al., Bayesian Data Analysis, Table 5.1: 70 historical
# experiments and the current one (4 of 14), as (tumours, rats).
RATS = [
    (0, 20), (0, 20), (0, 20), (0, 20), (0, 20), (0, 20), (0, 20), (0, 19), (0, 19), (0, 19),
    (0, 19), (0, 18), (0, 18), (0, 17), (1, 20), (1, 20), (1, 20), (1, 20), (1, 19), (1, 19),
    (1, 18), (1, 18), (3, 27), (2, 25), (2, 24), (2, 23), (2, 20), (2, 20), (2, 20), (2, 20),
    (2, 20), (2, 20), (1, 10), (5, 49), (2, 19), (5, 46), (2, 17), (7, 49), (7, 47), (3, 20),
    (3, 20), (2, 13), (9, 48), (10, 50), (4, 20), (4, 20), (4, 20), (4, 20), (4, 20), (4, 20),
    (4, 20), (10, 48), (4, 19), (4, 19), (4, 19), (5, 22), (11, 46), (12, 49), (5, 20), (5, 20),
    (6, 23), (5, 19), (6, 22), (6, 20), (6, 20), (6, 20), (16, 52), (15, 46), (15, 47), (9, 24),
    (4, 14),
]  # fmt: skip


def independent_mle(k: np.ndarray, n: np.ndarray) -> tuple[float, float, float]:
    """Direct maximum likelihood: Nelder-Mead on -sum(scipy.stats.betabinom.logpmf) over (log a, log b)."""

    def nll(t: np.ndarray) -> float:
        return -float(stats.betabinom.logpmf(k, n, math.exp(t[0]), math.exp(t[1])).sum())

    best = min(
        (
            optimize.minimize(nll, x0, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
            for x0 in ([0.0, 1.0], [1.5, 3.0])
        ),
        key=lambda r: r.fun,
    )
    return math.exp(best.x[0]), math.exp(best.x[1]), -float(best.fun)


def test_fit_matches_independent_nelder_mead() -> None:
    """The fit equals a direct Nelder-Mead maximisation of scipy's beta-binomial log-pmf.

    HITS and ATTEMPTS were generated once with::

        rng = np.random.default_rng(20240611)
        n = rng.integers(5, 300, size=30)
        p = rng.beta(2.0, 6.0, size=30)
        k = rng.binomial(n, p)

    Independent fit: alpha = 3.04429, beta = 11.10984, log-likelihood = -122.194822.
    """
    k, n = np.array(HITS), np.array(ATTEMPTS)
    prior = fit_beta_binomial(k, n)
    a, b, ll = independent_mle(k, n)
    assert (a, b, ll) == pytest.approx((3.04429, 11.10984, -122.194822), abs=1e-5)
    assert prior.converged and not prior.complete_pooling
    assert prior.n_groups == 30
    assert prior.log_likelihood == pytest.approx(ll, rel=1e-9)
    assert prior.alpha == pytest.approx(a, rel=1e-4)
    assert prior.beta == pytest.approx(b, rel=1e-4)
    # the reported log-likelihood is scipy's, binomial coefficients included
    assert prior.log_likelihood == pytest.approx(stats.betabinom.logpmf(k, n, prior.alpha, prior.beta).sum(), rel=1e-12)
    assert prior.mean == pytest.approx(a / (a + b), rel=1e-4)
    assert prior.strength == pytest.approx(a + b, rel=1e-4)
    assert "marginal likelihood" in prior.method


@pytest.mark.parametrize("seed", range(6))
def test_fit_matches_independent_fit_on_random_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    groups = int(rng.integers(5, 60))
    a_true, b_true = rng.uniform(0.5, 20.0, size=2)
    n = rng.integers(1, 400, size=groups)
    k = rng.binomial(n, rng.beta(a_true, b_true, size=groups))
    prior = fit_beta_binomial(k, n)
    if prior.complete_pooling:  # no overdispersion in this draw: the likelihood maximum is at the cap
        return
    a, b, ll = independent_mle(k, n)
    assert prior.log_likelihood >= ll - 1e-8 * abs(ll)
    assert prior.alpha == pytest.approx(a, rel=1e-3)
    assert prior.beta == pytest.approx(b, rel=1e-3)


def test_rat_tumour_data() -> None:
    """Tarone's rat tumour data (BDA Table 5.1).

    The data check out against BDA section 5.1: the 70 historical rates have mean 0.136 and
    standard deviation 0.103, whose method-of-moments beta is (1.4, 8.6). The maximum-likelihood
    fit is checked against the independent Nelder-Mead fit (about alpha 2.30, beta 14.08 for the 70
    historical experiments).
    """
    k = np.array([r[0] for r in RATS])
    n = np.array([r[1] for r in RATS])
    assert k.size == 71
    rates = k[:70] / n[:70]
    m, s = rates.mean(), rates.std(ddof=1)
    assert (round(m, 3), round(s, 3)) == (0.136, 0.103)
    c = m * (1 - m) / s**2 - 1
    assert (round(m * c, 1), round((1 - m) * c, 1)) == (1.4, 8.6)

    prior = fit_beta_binomial(k[:70], n[:70])
    a, b, ll = independent_mle(k[:70], n[:70])
    assert (a, b) == pytest.approx((2.30, 14.08), abs=0.01)
    assert prior.log_likelihood == pytest.approx(ll, rel=1e-9)
    assert (prior.alpha, prior.beta) == pytest.approx((a, b), rel=1e-3)
    # the current experiment, 4 of 14, is pulled from 0.286 towards the historical mean
    mean, low, high = shrink(k[70:], n[70:], prior)
    assert prior.mean < mean[0] < 4 / 14
    assert low[0] < 4 / 14 < high[0]


def test_shrinkage_beats_raw_rates_and_intervals_cover() -> None:
    """Simulation: true rates p_g ~ Beta(3, 12) for 40 groups, attempts 5..500, hits ~ Binomial.

    Over 200 seeds the posterior means have a lower mean squared error against the true rates
    than the raw rates k/n, and the 95 % credible intervals cover the true rates at about the
    nominal rate. A prior ten times too strong (overconfident pooling) fails the coverage check,
    so the check can fail. Seen: MSE ratio 0.70, shrinkage better in 165 of 200 seeds, coverage 0.949.
    """
    sq_shrunk = sq_raw = 0.0
    wins = covered = covered_wrong = total = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        n = rng.integers(5, 501, size=40)
        p = rng.beta(3.0, 12.0, size=40)
        k = rng.binomial(n, p)
        prior = fit_beta_binomial(k, n)
        mean, low, high = shrink(k, n, prior, confidence=0.95)
        shrunk_err = float(np.sum((mean - p) ** 2))
        raw_err = float(np.sum((k / n - p) ** 2))
        sq_shrunk += shrunk_err
        sq_raw += raw_err
        wins += shrunk_err < raw_err
        covered += int(np.sum((low <= p) & (p <= high)))
        wrong = BetaPrior(10 * prior.alpha, 10 * prior.beta, 40, float("nan"), True, "ten times too strong")
        _, wlow, whigh = shrink(k, n, wrong, confidence=0.95)
        covered_wrong += int(np.sum((wlow <= p) & (p <= whigh)))
        total += 40
    assert sq_shrunk < 0.8 * sq_raw
    assert wins >= 150
    assert 0.93 <= covered / total <= 0.97
    assert covered_wrong / total < 0.85


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 200), st.floats(0.0, 1.0)), min_size=1, max_size=25),
    st.sampled_from([0.5, 0.8, 0.95, 0.99]),
)
def test_posterior_is_ordered_and_between_raw_rate_and_prior_mean(
    groups: list[tuple[int, float]], confidence: float
) -> None:
    n = np.array([g[0] for g in groups])
    k = np.floor(n * np.array([g[1] for g in groups])).astype(int)
    if n.sum() == 0:
        n[0], k[0] = 1, 0
    prior = fit_beta_binomial(k, n)
    assert prior.alpha > 0 and prior.beta > 0
    assert MIN_STRENGTH * (1 - 1e-9) <= prior.strength <= (n.sum() + 1) * (1 + 1e-9)
    assert prior.converged
    mean, low, high = shrink(k, n, prior, confidence)
    assert np.all(np.isfinite([mean, low, high]))
    assert np.all((low >= 0) & (low <= mean) & (mean <= high) & (high <= 1))
    tol = 1e-9
    has = n > 0
    raw = np.where(has, k / np.maximum(n, 1), prior.mean)
    assert np.all(np.minimum(raw, prior.mean) - tol <= mean)
    assert np.all(mean <= np.maximum(raw, prior.mean) + tol)
    assert np.allclose(mean[~has], prior.mean)


@settings(max_examples=100, deadline=None)
@given(
    st.floats(1e-3, 1e6),
    st.floats(1e-3, 1e6),
    st.lists(st.tuples(st.integers(0, 10_000), st.floats(0.0, 1.0)), min_size=1, max_size=10),
)
def test_shrink_with_any_prior(alpha: float, beta: float, groups: list[tuple[int, float]]) -> None:
    n = np.array([g[0] for g in groups])
    k = np.floor(n * np.array([g[1] for g in groups])).astype(int)
    prior = BetaPrior(alpha, beta, 1, 0.0, True, "given")
    mean, low, high = shrink(k, n, prior)
    assert np.all((low >= 0) & (low <= mean) & (mean <= high) & (high <= 1))
    assert np.allclose(mean, (alpha + k) / (alpha + beta + n), rtol=1e-12)


def test_shrink_is_the_beta_posterior() -> None:
    prior = BetaPrior(2.0, 8.0, 10, -1.0, True, "given")
    k, n = np.array([0, 3, 30, 0]), np.array([10, 10, 100, 0])
    mean, low, high = shrink(k, n, prior, confidence=0.9)
    a, b = 2.0 + k, 8.0 + n - k
    assert mean == pytest.approx(a / (a + b), rel=1e-14)
    ref_low, ref_high = stats.beta.interval(0.9, a, b)
    assert low == pytest.approx(ref_low, rel=1e-10)
    assert high == pytest.approx(ref_high, rel=1e-10)
    # a group with no attempts gets the prior: mean 0.2, the prior's 90 % interval
    assert mean[3] == pytest.approx(0.2)
    assert (low[3], high[3]) == pytest.approx(stats.beta.interval(0.9, 2.0, 8.0))
    # scalars work too
    m, lo, hi = shrink(3, 10, prior)
    assert np.ndim(m) == 0 and float(m) == pytest.approx(5 / 20)


def test_groups_without_attempts_are_ignored_by_the_fit() -> None:
    k, n = np.array(HITS), np.array(ATTEMPTS)
    with_empty = fit_beta_binomial(np.r_[k, 0, 0], np.r_[n, 0, 0])
    plain = fit_beta_binomial(k, n)
    assert with_empty.n_groups == plain.n_groups == 30
    assert with_empty.alpha == pytest.approx(plain.alpha, rel=1e-9)
    assert with_empty.beta == pytest.approx(plain.beta, rel=1e-9)


def test_equal_rates_give_complete_pooling_at_the_cap() -> None:
    k, n = np.array([5, 10, 20, 40]), np.array([20, 40, 80, 160])
    prior = fit_beta_binomial(k, n)
    assert prior.complete_pooling and prior.converged
    assert prior.strength == pytest.approx(n.sum() + 1)
    assert prior.mean == pytest.approx(0.25, abs=1e-3)
    mean, low, high = shrink(k, n, prior)
    assert mean == pytest.approx(np.full(4, 0.25), abs=1e-3)
    # the interval is about as wide as that of the pooled rate (75 of 300), not a point
    pooled_low, pooled_high = stats.beta.interval(0.95, 75.5, 225.5)
    assert high[0] - low[0] == pytest.approx(pooled_high - pooled_low, rel=0.1)
    big = fit_beta_binomial(k, n, max_strength=1e6)
    assert big.complete_pooling and big.strength == pytest.approx(1e6)
    assert big.mean == pytest.approx(0.25, abs=1e-4)


def test_underdispersed_rates_give_complete_pooling() -> None:
    # spread of the raw rates smaller than binomial noise: 19/100, 21/100, 20/100, 20/100
    prior = fit_beta_binomial([19, 21, 20, 20], [100, 100, 100, 100])
    assert prior.complete_pooling
    assert prior.mean == pytest.approx(0.2, abs=1e-3)


def test_one_group() -> None:
    prior = fit_beta_binomial([3], [10])
    assert prior.complete_pooling and prior.n_groups == 1
    assert prior.mean == pytest.approx(0.3, abs=0.02)
    assert prior.strength == pytest.approx(11)
    mean, low, high = shrink([3], [10], prior)
    assert low[0] < 0.3 < high[0]


@pytest.mark.parametrize(
    ("hits", "attempts", "alpha", "beta", "what"),
    [
        ([0, 0, 0], [5, 6, 7], 0.5, 18.5, "no hits"),
        ([5, 6, 0], [5, 6, 0], 11.5, 0.5, "only hits"),
    ],
)
def test_all_zero_or_all_full_hits(hits: list[int], attempts: list[int], alpha: float, beta: float, what: str) -> None:
    prior = fit_beta_binomial(hits, attempts)
    assert (prior.alpha, prior.beta) == pytest.approx((alpha, beta))
    assert prior.complete_pooling and prior.converged and what in prior.method
    assert prior.log_likelihood == pytest.approx(stats.betabinom.logpmf(hits, attempts, alpha, beta).sum())
    mean, low, high = shrink(hits, attempts, prior)
    # estimates near the boundary, intervals reaching it: nothing is claimed beyond the data
    if what == "no hits":
        assert np.all(low < 1e-3) and np.all(mean < 0.05) and np.all(high > 0.05)
    else:
        assert np.all(high > 1 - 1e-3) and np.all(mean > 0.95) and np.all(low < 0.95)


def test_polarised_groups_stop_at_min_strength() -> None:
    prior = fit_beta_binomial([0, 5, 0, 3], [4, 5, 3, 3])
    assert prior.strength == pytest.approx(MIN_STRENGTH)
    assert not prior.complete_pooling
    mean, low, high = shrink([0, 5, 0, 3], [4, 5, 3, 3], prior)
    assert mean == pytest.approx([0, 1, 0, 1], abs=1e-3)
    assert np.all((low >= 0) & (low <= mean) & (mean <= high) & (high <= 1))


def test_one_attempt_per_group_pools() -> None:
    prior = fit_beta_binomial([1, 0, 1, 1, 0], [1, 1, 1, 1, 1])
    assert prior.complete_pooling
    assert prior.mean == pytest.approx(0.6, abs=1e-6)


def test_shrink_within_fits_each_parent() -> None:
    rng = np.random.default_rng(7)
    n = rng.integers(20, 200, size=24)
    team = np.array(["north"] * 10 + ["south"] * 10 + ["tiny"] * 2 + ["empty"] * 2)
    true = np.where(team == "north", rng.beta(40, 160, 24), rng.beta(60, 40, 24))
    k = rng.binomial(n, true)
    n[team == "empty"] = 0
    k[team == "empty"] = 0
    mean, low, high, priors = shrink_within(k, n, team, confidence=0.9)
    assert list(priors) == ["north", "south", "tiny", "empty"]
    for name in ("north", "south"):
        rows = team == name
        own = fit_beta_binomial(k[rows], n[rows])
        assert priors[name].alpha == pytest.approx(own.alpha, rel=1e-9)
        assert priors[name].beta == pytest.approx(own.beta, rel=1e-9)
        ref = shrink(k[rows], n[rows], own, 0.9)
        assert np.allclose(mean[rows], ref[0]) and np.allclose(low[rows], ref[1]) and np.allclose(high[rows], ref[2])
    assert priors["north"].mean < 0.3 < 0.5 < priors["south"].mean
    # small parents borrow the prior fitted on all groups, and say so
    overall = fit_beta_binomial(k, n)
    for name in ("tiny", "empty"):
        assert priors[name].alpha == pytest.approx(overall.alpha)
        assert priors[name].n_groups == 22
        assert "fewer than 3 groups" in priors[name].method
    empty = team == "empty"
    assert np.allclose(mean[empty], overall.mean)
    # with min_groups=2 "tiny" gets its own prior
    _, _, _, priors2 = shrink_within(k, n, team, min_groups=2)
    assert priors2["tiny"].n_groups == 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: shrink([1], [2], BetaPrior(1, 1, 1, 0, True, ""), confidence=1.5), "'confidence' parameter of shrink"),
        (lambda: fit_beta_binomial([3], [2]), "0 <= hits <= attempts"),
        (lambda: fit_beta_binomial([1.5], [2]), "'hits' parameter of fit_beta_binomial must be whole counts"),
        (lambda: fit_beta_binomial([1], [-2]), "'attempts' parameter of fit_beta_binomial"),
        (lambda: fit_beta_binomial([1, 2], [3]), "same shape"),
        (lambda: fit_beta_binomial([0, 0], [0, 0]), "at least one group with attempts"),
        (lambda: fit_beta_binomial([1, 2], [3, 4], max_strength=0.0), "'max_strength' parameter"),
        (lambda: shrink([1], [2], BetaPrior(0, 1, 1, 0, True, "")), "'prior' parameter of shrink"),
        (lambda: shrink_within([1, 2], [3, 4], ["a"]), "'parents' parameter of shrink_within"),
        (lambda: shrink_within([1, 2], [3, 4], ["a", "b"], min_groups=0), "'min_groups' parameter"),
    ],
)
def test_errors_name_the_parameter(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()  # type: ignore[operator]


def test_error_shows_the_value() -> None:
    with pytest.raises(ValueError, match=r"Got 1\.5 instead\."):
        shrink([1], [2], BetaPrior(1, 1, 1, 0, True, ""), confidence=1.5)


# ----------------------------------------------------------------------------- the convergence fallback
# SLSQP may report a failed line search once the likelihood is flat to machine precision; the fit then counts as
# converged when the gradient, projected on the bounds of the strength, is small. No real input makes SLSQP fail
# on demand, so these tests let it run and then report failure (``success=False``) with the point and gradient
# the test chooses: the fallback's decision is a pure function of those.


def _failing(monkeypatch: pytest.MonkeyPatch, *, jac: list[float] | None = None, fun: float | None = None, x1=None):
    """Make the fit's SLSQP report failure: its own point (or the strength ``x1`` on the log scale), and the
    gradient and objective value given (else its own)."""
    from types import SimpleNamespace

    import hitrate.stats.shrinkage as module

    real = optimize.minimize

    def minimize(*args, **kwargs):
        out = real(*args, **kwargs)
        x = np.array([out.x[0], out.x[1] if x1 is None else x1])
        return SimpleNamespace(
            x=x,
            jac=np.asarray(out.jac if jac is None else jac, dtype=float),
            fun=float(out.fun if fun is None else fun),
            success=False,
        )

    monkeypatch.setattr(module.optimize, "minimize", minimize)


def test_a_failed_line_search_at_the_optimum_still_converged(monkeypatch: pytest.MonkeyPatch) -> None:
    """At the optimum the gradient is ~0: failure reported, converged all the same, the same prior."""
    good = fit_beta_binomial(HITS, ATTEMPTS)
    _failing(monkeypatch)
    fallback = fit_beta_binomial(HITS, ATTEMPTS)
    assert fallback.converged and math.isclose(fallback.alpha, good.alpha) and math.isclose(fallback.beta, good.beta)


@pytest.mark.parametrize("fun", [0.25, 500.0])
def test_the_tolerance_is_relative_to_the_objective_with_a_floor_of_one(monkeypatch, fun: float) -> None:
    """Converged when the largest free gradient component is below 1e-4 × max(1, |objective|): just below and
    just above that line, for an objective under 1 (the floor of 1 applies) and above it, on either component."""
    line = 1e-4 * max(1.0, fun)
    for component in (0, 1):
        for factor, expected in ((0.9, True), (1.1, False)):
            jac = [0.0, 0.0]
            jac[component] = factor * line * (-1 if component else 1)
            _failing(monkeypatch, jac=jac, fun=fun)
            assert fit_beta_binomial(HITS, ATTEMPTS).converged is expected, (component, factor)
            _failing(monkeypatch, jac=[-x for x in jac], fun=-fun)  # signs of gradient and objective do not matter
            assert fit_beta_binomial(HITS, ATTEMPTS).converged is expected, (component, factor, "negated")


def test_at_the_cap_a_gradient_pushing_past_it_is_not_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    """At the upper bound of the strength the likelihood may still rise beyond it (a negative gradient of the
    negative log-likelihood in the log strength): that component is dropped. Pointing back inside, it counts;
    the same gradient away from the cap counts too."""
    cap = 50.0
    hi = math.log(cap)
    big = 0.5  # far above the tolerance, and below 1 (a mutant comparing with 1 instead of 0 is seen)
    _failing(monkeypatch, jac=[0.0, -big], x1=hi)
    assert fit_beta_binomial(HITS, ATTEMPTS, max_strength=cap).converged
    _failing(monkeypatch, jac=[0.0, big], x1=hi)
    assert not fit_beta_binomial(HITS, ATTEMPTS, max_strength=cap).converged
    _failing(monkeypatch, jac=[0.0, -big], x1=hi - 1e-3)  # below the cap (by more than 1e-6): a real gradient
    assert not fit_beta_binomial(HITS, ATTEMPTS, max_strength=cap).converged
    _failing(monkeypatch, jac=[0.0, -big], x1=hi - 1e-7)  # within 1e-6 of the cap: at the cap
    assert fit_beta_binomial(HITS, ATTEMPTS, max_strength=cap).converged
    _failing(monkeypatch, jac=[big, -big], x1=hi)  # the mean's component is never dropped
    assert not fit_beta_binomial(HITS, ATTEMPTS, max_strength=cap).converged


def test_at_the_floor_a_gradient_pushing_below_it_is_not_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    """At MIN_STRENGTH the likelihood may rise further as the strength falls (a positive gradient in the log
    strength): dropped. Pointing up, or away from the floor, it counts."""
    lo = math.log(MIN_STRENGTH)
    big = 0.5
    _failing(monkeypatch, jac=[0.0, big], x1=lo)
    assert fit_beta_binomial(HITS, ATTEMPTS).converged
    _failing(monkeypatch, jac=[0.0, -big], x1=lo)
    assert not fit_beta_binomial(HITS, ATTEMPTS).converged
    _failing(monkeypatch, jac=[0.0, big], x1=lo + 1e-3)
    assert not fit_beta_binomial(HITS, ATTEMPTS).converged
    _failing(monkeypatch, jac=[0.0, big], x1=lo + 1e-7)
    assert fit_beta_binomial(HITS, ATTEMPTS).converged
