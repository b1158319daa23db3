# ruff: noqa: E501  (the expected error messages are whole sentences, one per case)
"""Tests written against the survivors of mutation testing in ``hitrate/stats/poisson_binomial.py``
(docs/testing.md): exact errors, the exact paths against brute-force enumeration, the normal paths against
scipy's normal tail with the moments written out, and the documented defaults and method sentences."""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from hitrate.errors import InvalidParameterError
from hitrate.stats import poisson_binomial as pb
from hitrate.stats.poisson_binomial import outcome_pmf, poisson_binomial_pmf, prob_rate_at_least

NAN = float("nan")
ERRORS: list[tuple[str, Callable[[], object], str]] = [
    ("pmf p", lambda: poisson_binomial_pmf([0.5, 1.5]), "'p' parameter of poisson_binomial_pmf must be probabilities in [0, 1]. Got 1.5"),
    ("outcome won", lambda: outcome_pmf([0.5, -0.1], [0, 0]), "'won' parameter of outcome_pmf must be probabilities in [0, 1]. Got -0.1"),
    ("outcome lost", lambda: outcome_pmf([0.5, 0.1], [0, NAN]), "'lost' parameter of outcome_pmf must be probabilities in [0, 1]. Got nan"),
    ("outcome len", lambda: outcome_pmf([0.5, 0.1], [0]), "'lost' parameter of outcome_pmf must be the same length as 'won' (2). Got length 1"),
    ("outcome sum", lambda: outcome_pmf([0.5, 0.6], [0.2, 0.5]), "'lost' parameter of outcome_pmf must be at most 1 - won for every deal (won + lost <= 1). Got won + lost = 1.1"),
    ("prob won", lambda: prob_rate_at_least(1, 2, [1.5], [0.0], 0.5), "'won' parameter of prob_rate_at_least must be probabilities in [0, 1]. Got 1.5"),
    ("prob lost", lambda: prob_rate_at_least(1, 2, [0.5], [2.0], 0.5), "'lost' parameter of prob_rate_at_least must be probabilities in [0, 1]. Got 2.0"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "call", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_every_check_names_its_parameter_function_expectation_and_value(
    case: str, call: Callable[[], object], message: str
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        call()
    assert str(info.value) == f"The {message} instead."
    assert info.value.parameter == message.split("'")[1]


def test_won_plus_lost_of_exactly_one_and_rounding_above_it() -> None:
    """won + lost = 1 is allowed (no deal stays open); 1 + 1e-13 (rounding) too, with no negative mass."""
    pmf = outcome_pmf([0.3, 0.7], [0.7, 0.3 + 1e-13])
    assert pmf.min() >= 0.0 and pmf[0, 0] == 0.0
    assert pmf[1, 1] == pytest.approx(0.3 * 0.3 + 0.7 * 0.7, abs=1e-12)


def _brute_force(hits: int, attempts: int, won: list[float], lost: list[float], target: float) -> float:
    """P(final rate >= target) by enumerating the 3^n outcomes (exact rational comparison of the rate);
    with ``attempts == 0`` the outcomes where nothing closes have no rate and are left out (conditioned on)."""
    g = Fraction(target)
    hit = total = 0.0
    for outcome in itertools.product((0, 1, 2), repeat=len(won)):
        p = float(np.prod([(1 - w - lo, w, lo)[o] for o, w, lo in zip(outcome, won, lost, strict=True)]))
        x, losses = outcome.count(1), outcome.count(2)
        denom = attempts + x + losses
        if denom == 0:
            continue
        total += p
        hit += p if Fraction(hits + x) >= g * denom else 0.0
    return hit / total


CLOSED = [
    (3, 10, [0.2, 0.5, 0.1, 0.3], [0.4, 0.1, 0.3, 0.2], 0.3),
    (2, 4, [0.5, 0.25], [0.25, 0.5], 0.5),  # rate exactly 0.5 reachable: the boundary counts
    (0, 0, [0.3], [0.2], 0.5),  # nothing closed yet: only outcomes that close count
    (0, 0, [0.3, 0.4], [0.2, 0.1], 0.5),
    (1, 1, [0.3, 0.4], [0.2, 0.1], 0.6),
    (0, 1, [0.6, 0.1], [0.2, 0.3], 0.5),
]


@pytest.mark.parametrize(("hits", "attempts", "won", "lost", "target"), CLOSED)
def test_closed_basis_equals_enumeration(
    hits: int, attempts: int, won: list[float], lost: list[float], target: float
) -> None:
    """Exact path (the default basis) against the enumeration of every outcome, to 1e-12."""
    prob, expected, method = prob_rate_at_least(hits, attempts, won, lost, target)
    assert prob == pytest.approx(_brute_force(hits, attempts, won, lost, target), abs=1e-12)
    assert expected == pytest.approx(hits + sum(won), abs=1e-15)
    assert method == "wins and losses of the open deals, exact by two-dimensional convolution"


def test_nothing_can_close_gives_nan() -> None:
    prob, _, _ = prob_rate_at_least(0, 0, [0.0, 0.0], [0.0, 0.0], 0.5)
    assert np.isnan(prob)


def test_basis_defaults_to_closed() -> None:
    assert inspect.signature(prob_rate_at_least).parameters["basis"].default == "closed"
    assert prob_rate_at_least(3, 10, [0.5, 0.5], [0.2, 0.2], 0.3) == prob_rate_at_least(
        3, 10, [0.5, 0.5], [0.2, 0.2], 0.3, basis="closed"
    )


@pytest.mark.parametrize(
    ("hits", "attempts", "won", "target", "reference"),
    [
        (5, 10, [0.5, 0.5], 0.4, 1.0),  # already above: need -1 wins
        (4, 10, [0.5, 0.5], 0.4, 1.0),  # need 0
        (2, 10, [0.5, 0.4], 0.4, 0.2),  # need all 2: 0.5 * 0.4
        (1, 10, [0.5, 0.4], 0.4, 0.0),  # need 3 of 2
        (0, 1, [0.7], 1.0, 0.7),  # one attempt
    ],
)
def test_cohort_basis_by_hand(hits: int, attempts: int, won: list[float], target: float, reference: float) -> None:
    prob, _, method = prob_rate_at_least(hits, attempts, won, [0.0] * len(won), target, basis="cohort")
    assert prob == pytest.approx(reference, abs=1e-15)
    assert method == "Poisson-binomial, exact by convolution"


def test_cohort_basis_without_attempts() -> None:
    prob, expected, method = prob_rate_at_least(0, 0, [0.5], [0.0], 0.4, basis="cohort")
    assert np.isnan(prob) and expected == 0.5 and method == "no attempts"


def test_probabilities_never_exceed_one_by_rounding() -> None:
    """Summing a whole distribution can give 1.0000000000000002; the probability returned is capped at 1."""
    rng = np.random.default_rng(0)
    raw_above = 0
    for _ in range(60):
        w, lo = rng.uniform(0, 0.5, 6), rng.uniform(0, 0.5, 6)
        raw_above += outcome_pmf(w, lo).sum() > 1 or poisson_binomial_pmf(w).sum() > 1
        assert prob_rate_at_least(5, 10, w, lo, 0.0)[0] <= 1.0
        assert prob_rate_at_least(5, 10, w, lo, 0.1, basis="cohort")[0] <= 1.0
    assert raw_above > 0


def _normal(threshold: float, mean: float, var: float) -> float:
    return float(stats.norm.sf(threshold, loc=mean, scale=np.sqrt(var)))


def test_normal_paths_equal_scipy_with_the_moments_written_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond :data:`EXACT_LIMIT` (lowered to 5 here): closed basis, S = (1 - g) X - g L, each deal adding
    1 - g (won), -g (lost) or 0, threshold g·attempts - hits less half the smaller step; cohort basis, X with
    threshold (wins needed) - 0.5. Held to ``scipy.stats.norm.sf`` to 1e-12."""
    monkeypatch.setattr(pb, "EXACT_LIMIT", 5)
    rng = np.random.default_rng(4)
    w, lo = rng.uniform(0.05, 0.5, 40), rng.uniform(0.05, 0.45, 40)
    hits, attempts, g = 30, 80, 0.4
    step_mean = (1 - g) * w - g * lo
    step_var = (1 - g) ** 2 * w + g**2 * lo - step_mean**2
    reference = _normal(g * attempts - hits - 0.5 * min(1 - g, g), step_mean.sum(), step_var.sum())
    prob, expected, method = prob_rate_at_least(hits, attempts, w, lo, g)
    assert prob == pytest.approx(reference, abs=1e-12) and 0.05 < prob < 0.95
    assert expected == pytest.approx(hits + w.sum(), abs=1e-12)
    assert method == "normal approximation (more than 5 open)"

    need = int(np.ceil(g * 100)) - hits  # cohort: 100 attempts include the 40 open deals
    reference = _normal(need - 0.5, w.sum(), (w * (1 - w)).sum())
    prob, _, method = prob_rate_at_least(hits, 100, w, lo, g, basis="cohort")
    assert prob == pytest.approx(reference, abs=1e-12) and 0.05 < prob < 0.95
    assert method == "Poisson-binomial, normal approximation"


def test_normal_path_with_certain_outcomes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every open deal certain (probabilities 0 or 1): variance 0, the probability is 1 or 0."""
    monkeypatch.setattr(pb, "EXACT_LIMIT", 2)
    assert prob_rate_at_least(3, 10, [1, 1, 0], [0, 0, 1], 0.35)[0] == 1.0  # 5 of 13
    assert prob_rate_at_least(3, 10, [1, 0, 0], [0, 1, 1], 0.35)[0] == 0.0  # 4 of 13
    assert prob_rate_at_least(3, 10, [1, 0, 0], [0, 0, 0], 0.4, basis="cohort")[0] == 1.0  # 4 of 10
    assert prob_rate_at_least(2, 10, [1, 0, 0], [0, 0, 0], 0.4, basis="cohort")[0] == 0.0  # 3 of 10


@pytest.mark.parametrize(
    ("threshold", "mean", "var"), [(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (2.0, 3.0, 0.5), (2.0, 1.0, 0.25), (0, 1, 4)]
)
def test_normal_tail(threshold: float, mean: float, var: float) -> None:
    """P(S >= threshold): a point mass at the mean when the variance is 0 (the mean itself counts), else
    ``scipy.stats.norm.sf`` to 1e-15."""
    reference = float(mean >= threshold) if var == 0 else _normal(threshold, mean, var)
    assert pb._normal_tail(threshold, mean, var) == pytest.approx(reference, abs=1e-15)


def test_exactly_at_the_limit_is_still_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """``EXACT_LIMIT`` open deals are computed exactly (the limit is inclusive), one more by the normal tail."""
    monkeypatch.setattr(pb, "EXACT_LIMIT", 3)
    w, lo = [0.2, 0.5, 0.3], [0.1, 0.2, 0.3]
    assert "exact" in prob_rate_at_least(2, 5, w, lo, 0.4)[2]
    assert "exact" in prob_rate_at_least(2, 5, w, lo, 0.4, basis="cohort")[2]
    assert "normal" in prob_rate_at_least(2, 5, [*w, 0.1], [*lo, 0.1], 0.4)[2]
    assert "normal" in prob_rate_at_least(2, 5, [*w, 0.1], [*lo, 0.1], 0.4, basis="cohort")[2]


def test_probabilities_from_a_database_driver() -> None:
    """``Decimal`` probabilities (what a PostgreSQL ``numeric`` column gives) are read as floats."""
    won, lost = [Decimal("0.25"), Decimal("0.5")], [Decimal("0.5"), Decimal("0.25")]
    assert prob_rate_at_least(2, 4, won, lost, 0.5) == prob_rate_at_least(2, 4, [0.25, 0.5], [0.5, 0.25], 0.5)
    np.testing.assert_array_equal(poisson_binomial_pmf(won), poisson_binomial_pmf([0.25, 0.5]))
