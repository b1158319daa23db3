"""The counting half: definitions and a query compiled to Ibis expressions, run where the data lives.

``query``: what to count (light: no Ibis); ``expressions``: the Ibis expressions; ``counting``: runs them and
fetches the small table of counts; ``definitions``: the definitions in force, kept in the store.
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
        "count_expr": "expressions",
        "cohort_expr": "expressions",
        "analysis_table": "expressions",
        "fields_available": "expressions",
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
