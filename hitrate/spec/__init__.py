"""The definitions file: what counts as an opportunity, a win, a loss; which denominator and basis."""

from __future__ import annotations

from hitrate._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Definitions": "model",
        "Condition": "model",
        "default_definitions": "model",
        "load_definitions": "model",
        "parse_definitions": "model",
        "validate_definitions": "model",
        "OPS": "model",
        "DENOMINATORS": "model",
        "BASES": "model",
    },
)
