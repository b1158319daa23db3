"""Impossible input to a statistics function raises InvalidParameterError (a ValueError of the error tree) that
names the parameter and the function, in English and in Danish; methods and notes are messages in both."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hitrate.errors import InvalidParameterError
from hitrate.i18n import Message
from hitrate.stats import (
    aalen_johansen,
    change_flags,
    compare_proportions,
    decompose,
    eventual_rates,
    fit_beta_binomial,
    funnel_flags,
    funnel_limits,
    garwood_interval,
    indirect_standardise,
    median_time_to,
    overdispersion,
    prob_rate_at_least,
    shrink_within,
    wilson_interval,
)
from hitrate.stats.poisson_binomial import outcome_pmf

MONTHS = np.arange("2021-01", "2021-04", dtype="datetime64[M]")
CI = aalen_johansen([1, 2], [1, 1], [1, 0], [0, 1])

CASES: list[tuple[str, Callable[[], object], str, str]] = [
    # hits above attempts
    ("wilson_interval", lambda: wilson_interval([5], [3]), "hits", "wilson_interval"),
    ("compare_proportions", lambda: compare_proportions(11, 10, 3, 10), "hits_a", "compare_proportions"),
    ("fit_beta_binomial", lambda: fit_beta_binomial([3], [2]), "hits", "fit_beta_binomial"),
    ("funnel_flags", lambda: funnel_flags([3], [2]), "hits", "funnel_flags"),
    (
        "indirect_standardise",
        lambda: indirect_standardise([0, 1], [0, 0], [4, 3], [5, 1]),
        "hits",
        "indirect_standardise",
    ),
    ("decompose", lambda: decompose(MONTHS, [3, 3, 3], [5, 1, 1]), "hits", "decompose"),
    # negative counts
    ("change_flags", lambda: change_flags([1, 2], [3, -3]), "attempts", "change_flags"),
    ("aalen_johansen", lambda: aalen_johansen([1], [-1], [0], [0]), "won", "aalen_johansen"),
    ("overdispersion", lambda: overdispersion([1], [-2]), "attempts", "overdispersion"),
    ("funnel_limits", lambda: funnel_limits([-1], 0.3), "attempts", "funnel_limits"),
    # a confidence (or alpha) outside (0, 1)
    ("wilson confidence", lambda: wilson_interval([1], [2], confidence=1.5), "confidence", "wilson_interval"),
    ("garwood confidence", lambda: garwood_interval([1], confidence=0.0), "confidence", "garwood_interval"),
    ("shrink_within", lambda: shrink_within([1], [2], ["a"], confidence=1.0), "confidence", "shrink_within"),
    ("change_flags alpha", lambda: change_flags([1], [2], alpha=1.0), "alpha", "change_flags"),
    (
        "eventual confidence",
        lambda: eventual_rates(CI, [0], [2], [1], [1], [], [], [], confidence=2.0),
        "confidence",
        "eventual_rates",
    ),
    # arrays of different lengths
    ("fit shapes", lambda: fit_beta_binomial([1, 2], [3]), "attempts", "fit_beta_binomial"),
    ("aalen lengths", lambda: aalen_johansen([1, 2], [1], [0, 0], [0, 0]), "won", "aalen_johansen"),
    ("median lengths", lambda: median_time_to([1, 2], [1]), "events", "median_time_to"),
    ("outcome_pmf lengths", lambda: outcome_pmf([0.1, 0.2], [0.1]), "lost", "outcome_pmf"),
    ("decompose lengths", lambda: decompose(MONTHS, [3, 3], [1, 1]), "attempts", "decompose"),
    ("parents", lambda: shrink_within([1, 2], [3, 4], ["a"]), "parents", "shrink_within"),
    # empty input where some is needed
    ("no attempts", lambda: fit_beta_binomial([0, 0], [0, 0]), "attempts", "fit_beta_binomial"),
    ("no deal", lambda: aalen_johansen([1], [0], [0], [0]), "won", "aalen_johansen"),
    ("no attempts p0", lambda: funnel_flags([0], [0]), "attempts", "funnel_flags"),
    ("an arm without attempts", lambda: compare_proportions(0, 0, 1, 2), "attempts_a", "compare_proportions"),
    # other impossible values
    ("probabilities", lambda: prob_rate_at_least(1, 2, [1.5], [0.0], 0.5), "won", "prob_rate_at_least"),
    ("period", lambda: decompose(MONTHS, [3, 3, 3], [1, 1, 1], period="quarter"), "period", "decompose"),
    ("method", lambda: funnel_flags([1], [2], method="bonferroni"), "method", "funnel_flags"),  # type: ignore[arg-type]
    ("n_draws", lambda: eventual_rates(CI, [0], [2], [1], [1], [], [], [], n_draws=0), "n_draws", "eventual_rates"),
]


@pytest.mark.parametrize(("case", "call", "parameter", "caller"), CASES, ids=[c[0] for c in CASES])
def test_impossible_input_names_the_parameter(
    case: str, call: Callable[[], object], parameter: str, caller: str
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        call()
    err = info.value
    assert isinstance(err, ValueError)
    assert err.parameter == parameter
    assert isinstance(err.expected, Message) and err.expected.key.startswith("stats.expected_")
    assert str(err).startswith(f"The '{parameter}' parameter of {caller} must be ")
    assert err.render("da").startswith(f"Parameteren '{parameter}' til {caller} skal være ")


def test_an_error_shows_what_was_expected_and_what_came() -> None:
    with pytest.raises(InvalidParameterError) as info:
        compare_proportions(11, 10, 3, 10)
    assert str(info.value) == (
        "The 'hits_a' parameter of compare_proportions must be whole counts with 0 <= hits_a <= attempts_a. "
        "Got hits_a=11.0, attempts_a=10.0 instead."
    )
    with pytest.raises(InvalidParameterError) as info:
        decompose(MONTHS, [3, 3, 3], [1, 1, 1], period="quarter")
    assert str(info.value).endswith("must be 'month' or 'week'. Got 'quarter' instead.")
    assert "'month' eller 'week'" in info.value.render("da")


def test_methods_and_notes_are_messages_in_both_languages() -> None:
    d = compare_proportions(56, 70, 48, 80)
    assert isinstance(d.method, Message) and d.method.startswith("Newcombe hybrid score interval")
    assert d.method.render("da").startswith("Newcombes hybride scoreinterval")
    prior = fit_beta_binomial([0, 0, 0], [4, 5, 3])
    assert "no hits" in prior.method and "ingen vundne" in prior.method.render("da")
    _, _, _, priors = shrink_within([1, 2, 3, 4], [5, 6, 7, 8], ["a", "a", "a", "b"])
    assert priors["b"].method.render("da").endswith("denne overgruppe har færre end 3 grupper med forsøg")
    short = decompose(MONTHS, [3, 3, 3], [1, 2, 1])
    assert short.note.startswith("Only 3 months of data")
    assert short.note.render("da").startswith("Kun 3 måneder med data")
    assert "ingen forsøg" in prob_rate_at_least(0, 0, [0.5], [0.0], 0.5, basis="cohort")[2].render("da")
