"""Statistics on aggregated counts (attempts, hits, amounts): pure numpy/scipy, no engine.

Exports load lazily: ``hitrate.stats.wilson_interval`` does not import statsmodels or scipy. Impossible input
(hits above attempts, a confidence outside (0, 1), arrays of different lengths) raises
:class:`~hitrate.errors.InvalidParameterError`, a ``ValueError`` that names the parameter and the function.
"""

from __future__ import annotations

from hitrate._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Adjusted": "adjust",
        "garwood_interval": "adjust",
        "indirect_standardise": "adjust",
        "CumulativeIncidence": "censoring",
        "EventualRates": "censoring",
        "aalen_johansen": "censoring",
        "eventual_rates": "censoring",
        "median_time_to": "censoring",
        "Difference": "compare",
        "change_flags": "compare",
        "compare_proportions": "compare",
        "funnel_flags": "funnel_plot",
        "funnel_limits": "funnel_plot",
        "overdispersion": "funnel_plot",
        "wilson_interval": "intervals",
        "benjamini_hochberg": "multiple",
        "Phrase": "phrase",
        "prob_rate_at_least": "poisson_binomial",
        "Decomposition": "seasonal",
        "decompose": "seasonal",
        "BetaPrior": "shrinkage",
        "fit_beta_binomial": "shrinkage",
        "shrink": "shrinkage",
        "shrink_within": "shrinkage",
    },
)
