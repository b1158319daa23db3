"""The store: where the data lives.

``embedded``: the DuckDB file (schema, transactions, bookkeeping tables); ``schema``: the canonical tables;
``backends``: engine URLs (PostgreSQL, Spark) opened as Ibis backends; ``users``: accounts of the dashboard.
"""

from __future__ import annotations

from hitrate._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Store": "embedded",
        "DEFAULT_DB": "embedded",
        "SCHEMA_VERSION": "embedded",
        "connect": "backends",
        "close": "backends",
        "redact": "backends",
        "TABLES": "schema",
        "User": "users",
        "ROLES": "users",
    },
)
