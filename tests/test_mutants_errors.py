"""Every input check of adjust.py, funnel_plot.py, shrinkage.py and compare.py names exactly its parameter and its
function, says what was expected and shows the value, word for word (the mutation run left names, callers and
message keys of these checks unpinned). Fast: they run for every mutant of those modules."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hitrate.errors import InvalidParameterError
from hitrate.stats import (
    change_flags,
    compare_proportions,
    fit_beta_binomial,
    funnel_flags,
    funnel_limits,
    overdispersion,
    shrink,
    shrink_within,
)
from hitrate.stats.adjust import garwood_interval, indirect_standardise
from hitrate.stats.shrinkage import BetaPrior

PRIOR = BetaPrior(alpha=2.0, beta=3.0, n_groups=3, log_likelihood=-5.0, converged=True, method="test")
NO_BETA = BetaPrior(alpha=2.0, beta=0.0, n_groups=3, log_likelihood=-5.0, converged=True, method="test")
IS = indirect_standardise

CASES: list[tuple[str, Callable[[], object], str, str, str]] = [
    ("is group 2-D", lambda: IS([[0]], [0], [1], [0]), "group_index", "indirect_standardise",
     "one-dimensional (1-D). Got shape (1, 1)"),
    ("is stratum 2-D", lambda: IS([0], [[0]], [1], [0]), "stratum_index", "indirect_standardise",
     "one-dimensional (1-D). Got shape (1, 1)"),
    ("is stratum length", lambda: IS([0], [0, 1], [1], [0]), "stratum_index", "indirect_standardise",
     "1-D with one entry per cell (1). Got 2 entries"),
    ("is group float", lambda: IS([0.5], [0], [1], [0]), "group_index", "indirect_standardise",
     "integer codes. Got 0.5 in cell 0"),
    ("is group whole float", lambda: IS([0.0, 1.5], [0, 0], [1, 1], [0, 0]), "group_index", "indirect_standardise",
     "integer codes. Got 1.5 in cell 1"),
    ("is stratum text", lambda: IS([0], ["a"], [1], [0]), "stratum_index", "indirect_standardise",
     "integer codes. Got 'a' in cell 0"),
    ("is stratum NaN", lambda: IS([0, 1], [0, np.nan], [1, 1], [0, 0]), "stratum_index", "indirect_standardise",
     "integer codes. Got nan in cell 1"),
    ("is attempts shape", lambda: IS([0], [0], [1, 2], [0]), "attempts", "indirect_standardise",
     "1-D with one entry per cell (1). Got shape (2,)"),
    ("is hits shape", lambda: IS([0], [0], [1], [[0]]), "hits", "indirect_standardise",
     "1-D with one entry per cell (1). Got shape (1, 1)"),
    ("is attempts fraction", lambda: IS([0, 1], [0, 0], [1, 1.5], [0, 0]), "attempts", "indirect_standardise",
     "non-negative whole counts. Got 1.5 in cell 1"),
    ("is hits negative", lambda: IS([0, 1], [0, 0], [1, 1], [0, -1]), "hits", "indirect_standardise",
     "non-negative whole counts. Got -1.0 in cell 1"),
    ("is hits above attempts", lambda: IS([0, 1, 2], [0, 0, 0], [2, 3, 3], [2, 4, 3]), "hits",
     "indirect_standardise", "at most 'attempts' in every entry. Got hits=4.0 > attempts=3.0 in cell 1"),
    ("is confidence", lambda: IS([0], [0], [1], [0], confidence=1.0), "confidence", "indirect_standardise",
     "in (0, 1). Got 1.0"),
    ("garwood confidence", lambda: garwood_interval([1], confidence=1.2), "confidence", "garwood_interval",
     "in (0, 1). Got 1.2"),
    ("limits attempts", lambda: funnel_limits([3, -1], 0.3), "attempts", "funnel_limits",
     "non-negative whole counts. Got [3.0, -1.0]"),
    ("limits p0", lambda: funnel_limits([3], 1.3), "p0", "funnel_limits", "in [0, 1]. Got 1.3"),
    ("limits levels", lambda: funnel_limits([3], 0.3, levels=(0.95, 1.0)), "levels", "funnel_limits",
     "in (0, 1). Got 1.0"),
    ("flags method", lambda: funnel_flags([1], [2], method="x"), "method", "funnel_flags",  # type: ignore[arg-type]
     "'fdr' or 'none'. Got 'x'"),
    ("flags alpha", lambda: funnel_flags([1], [2], alpha=0.0), "alpha", "funnel_flags", "in (0, 1). Got 0.0"),
    ("flags counts", lambda: funnel_flags([3], [2]), "hits", "funnel_flags",
     "whole counts with 0 <= hits <= attempts. Got hits=3.0, attempts=2.0"),
    ("flags p0", lambda: funnel_flags([1], [2], p0=1.5), "p0", "funnel_flags", "in [0, 1]. Got 1.5"),
    ("flags no attempts", lambda: funnel_flags([0], [0]), "attempts", "funnel_flags",
     "above 0 in at least one group (at least one group with attempts is needed to estimate p0). Got 0.0"),
    ("overdispersion counts", lambda: overdispersion([1], [-2]), "attempts", "overdispersion",
     "non-negative whole counts. Got -2.0"),
    ("overdispersion p0", lambda: overdispersion([1, 1], [2, 3], p0=1.0), "p0", "overdispersion",
     "in (0, 1). Got 1.0"),
    ("overdispersion p0 zero", lambda: overdispersion([1, 1], [2, 3], p0=0.0), "p0", "overdispersion",
     "in (0, 1). Got 0.0"),
    ("overdispersion no attempts", lambda: overdispersion([0], [0]), "attempts", "overdispersion",
     "above 0 in at least one group (at least one group with attempts is needed to estimate p0). Got 0.0"),
    ("shrink confidence", lambda: shrink([1], [2], PRIOR, confidence=0.0), "confidence", "shrink",
     "in (0, 1). Got 0.0"),
    ("shrink prior", lambda: shrink([1], [2], NO_BETA), "prior", "shrink",
     "a prior with finite alpha > 0 and beta > 0. Got alpha=2.0, beta=0.0"),
    ("shrink counts", lambda: shrink([3], [2], PRIOR), "hits", "shrink",
     "whole counts with 0 <= hits <= attempts. Got hits=3.0, attempts=2.0"),
    ("within confidence", lambda: shrink_within([1], [2], ["a"], confidence=0.0), "confidence", "shrink_within",
     "in (0, 1). Got 0.0"),
    ("within min_groups", lambda: shrink_within([1], [2], ["a"], min_groups=0), "min_groups", "shrink_within",
     "a whole number >= 1. Got 0"),
    ("within counts", lambda: shrink_within([3], [2], ["a"]), "hits", "shrink_within",
     "whole counts with 0 <= hits <= attempts. Got hits=3.0, attempts=2.0"),
    ("within parents", lambda: shrink_within([1, 2], [3, 4], ["a"]), "parents", "shrink_within",
     "1-D with one label per group. Got shape (1,) for (2,) groups"),
    ("compare confidence", lambda: compare_proportions(1, 2, 1, 2, confidence=2.0), "confidence",
     "compare_proportions", "in (0, 1). Got 2.0"),
    ("compare b", lambda: compare_proportions(1, 2, 3, 2), "hits_b", "compare_proportions",
     "whole counts with 0 <= hits_b <= attempts_b. Got hits_b=3.0, attempts_b=2.0"),
    ("compare a", lambda: compare_proportions(3, 2, 1, 2), "hits_a", "compare_proportions",
     "whole counts with 0 <= hits_a <= attempts_a. Got hits_a=3.0, attempts_a=2.0"),
    ("change alpha", lambda: change_flags([1], [2], alpha=0.0), "alpha", "change_flags", "in (0, 1). Got 0.0"),
    ("change 2-D", lambda: change_flags([[1]], [[2]]), "hits", "change_flags",
     "one-dimensional (1-D). Got shape (1, 1)"),
    ("fit max_strength", lambda: fit_beta_binomial([1, 2], [3, 4], max_strength=-1.0), "max_strength",
     "fit_beta_binomial", "a finite number above 0.001. Got -1.0"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "call", "parameter", "caller", "tail"), CASES, ids=[c[0] for c in CASES])
def test_each_check_names_its_parameter_and_function(
    case: str, call: Callable[[], object], parameter: str, caller: str, tail: str
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        call()
    assert info.value.parameter == parameter
    assert str(info.value) == f"The '{parameter}' parameter of {caller} must be {tail} instead."
    assert info.value.render("da").startswith(f"Parameteren '{parameter}' til {caller} skal være ")


def test_the_bounds_that_are_allowed() -> None:
    """The edges the checks let through: p0 = 0 and 1 for the funnel (closed), a prior with tiny positive beta,
    integer codes given as whole floats, empty code arrays."""
    for p0 in (0.0, 1.0):
        limits = funnel_limits([5], p0)
        assert limits[0.95][0].tolist() == [p0] and limits[0.95][1].tolist() == [p0]
    assert shrink([1], [2], BetaPrior(2.0, 1e-9, 3, -5.0, True, "t"))[0][0] == pytest.approx(3 / (4 + 1e-9))
    whole = IS([0.0, 1.0], [0.0, 0.0], [4, 4], [1, 3])
    assert whole.groups.dtype == np.int64 and whole.groups.tolist() == [0, 1]
    empty = IS([], [], [], [])
    assert empty.groups.size == 0
