"""The analyses: one engine query each, statistics on its small result.

Every analysis takes the data first (a :class:`hitrate.Store` or any Ibis backend holding the canonical
tables) and keyword arguments named as the command line's options (``by``, ``period``, ``where``,
``basis``, ``date_from``/``date_to`` for ``--from``/``--to``, ``definitions``...), and returns a result object
with ``summary()``, ``to_frame()``, ``to_dict()``, ``_repr_html_()`` and ``plot()``:

* ``hitrate rates``: ``rates.rates`` -> :class:`RatesResult`;
* ``hitrate benchmark``: ``benchmark.benchmark`` -> :class:`BenchmarkResult`;
* ``hitrate trend``: ``trend.trend`` -> :class:`TrendResult`;
* ``hitrate compare``: ``compare.compare`` -> :class:`ComparisonResult`;
* ``hitrate funnel``: :func:`stage_funnel` -> :class:`StageFunnel`;
* ``hitrate ramp``: ``ramp.ramp`` -> :class:`RampResult`;
* ``hitrate worth``: ``worth.worth`` -> :class:`WorthResult`.

The functions named like their module (``rates``, ``benchmark``, ``trend``, ``compare``, ``ramp``,
``worth``) are reached as ``hitrate.rates(...)`` (the library face) or ``from hitrate.analysis.rates import
rates``: ``hitrate.analysis.rates`` is the module, so the package cannot also export the function under that
name. Everything else below is loaded lazily on first use.
"""

from __future__ import annotations

from hitrate._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "RatesResult": "results",
        "RATE_COLUMNS": "results",
        "BenchmarkResult": "benchmark",
        "TrendResult": "trend",
        "ComparisonResult": "compare",
        "StageFunnel": "funnel",
        "stage_funnel": "funnel",
        "RampResult": "ramp",
        "WorthResult": "worth",
        "cohort_curves": "cohorts",
        "eventual_columns": "cohorts",
        "resolve_definitions": "_common",
    },
)
