"""The counting half: definitions and a query compiled to Ibis expressions, run where the data lives.

``query``: what to count (light: no Ibis); ``expressions``: the Ibis expressions; ``counting``: runs them and
fetches the small table of counts; ``definitions``: the definitions in force, kept in the store.

The building blocks other packages count with (documented in ``docs/engines.md``):

* :func:`count` (attempts, hits and amounts per group) and :func:`count_expr` (its expression);
* :func:`classified`: the opportunities that count, classified ``_won``/``_lost`` and filtered by the query's
  ``where``, as an expression to group and aggregate further;
* :func:`apply_where` and :func:`coerce_value`: filters on values a person gave, compared in each column's
  own type (nothing outside the engine compiles its own filters);
* :func:`in_dates`, :func:`analysis_table`, :func:`fields_available`, :func:`fetch`.
"""

from __future__ import annotations

from hitrate._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Query": "query",
        "PERIODS": "query",
        "period_label": "query",
        "parse_where": "query",
        "as_where": "query",
        "as_date": "query",
        "count_expr": "expressions",
        "cohort_expr": "expressions",
        "model_expected_expr": "expressions",
        "as_of_expr": "expressions",
        "analysis_table": "expressions",
        "fields_available": "expressions",
        "classified": "expressions",
        "coerce_value": "expressions",
        "apply_where": "expressions",
        "in_dates": "expressions",
        "compile_condition": "expressions",
        "compile_conditions": "expressions",
        "check_definitions": "expressions",
        "count": "counting",
        "fetch": "counting",
        "Counts": "counting",
        "use_definitions": "definitions",
        "definitions_in_force": "definitions",
        "definitions_history": "definitions",
        "record_definitions": "definitions",
        "DefinitionsVersion": "definitions",
    },
)
