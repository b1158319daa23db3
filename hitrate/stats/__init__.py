"""Statistics on aggregated counts (attempts, hits, amounts): pure numpy/scipy, no engine.

Exports load lazily: ``hitrate.stats.wilson_interval`` does not import statsmodels or scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Adjusted": "adjust",
    "indirect_standardise": "adjust",
    "CumulativeIncidence": "censoring",
    "EventualRates": "censoring",
    "aalen_johansen": "censoring",
    "eventual_rates": "censoring",
    "median_time_to": "censoring",
    "Difference": "compare",
    "change_flags": "compare",
    "compare_proportions": "compare",
    "funnel_flags": "funnel",
    "funnel_limits": "funnel",
    "overdispersion": "funnel",
    "wilson_interval": "intervals",
    "benjamini_hochberg": "multiple",
    "Decomposition": "seasonal",
    "decompose": "seasonal",
    "BetaPrior": "shrinkage",
    "fit_beta_binomial": "shrinkage",
    "shrink": "shrinkage",
    "shrink_within": "shrinkage",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hitrate.stats' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
