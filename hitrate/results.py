"""Result objects: every computation returns one, with ``summary()``, ``to_frame()`` and ``to_dict()``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .spec import Definitions


def _clean(value: Any) -> Any:
    """JSON-safe scalar: NaN/NA -> None, numpy scalars -> Python."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


@dataclass
class RatesResult:
    """Hit rates per group, each with attempts, hits, a Wilson 95% interval and value hit rate.

    ``rows`` holds one row per group: the ``by`` fields, ``period`` (when asked), ``attempts``,
    ``hits``, ``hit_rate``, ``ci_low``, ``ci_high``, ``amount_won``, ``value_hit_rate``.
    """

    rows: pd.DataFrame
    definitions: Definitions
    by: tuple[str, ...]
    period: str | None
    query: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    method: str = "Wilson score interval (95%) for hits / attempts; value hit rate = amount won / amount attempted"

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (a copy)."""
        return self.rows.copy()

    def to_dict(self) -> dict[str, Any]:
        """``{"definitions": {"hash", ...}, "query", "method", "warnings", "rows": [...]}``, JSON-ready."""
        return {
            "definitions": {
                "hash": self.definitions.hash,
                "name": self.definitions.name,
                "denominator": self.definitions.denominator,
                "basis": self.definitions.basis,
                "period_date": self.definitions.effective_period_date,
            },
            "query": self.query,
            "method": self.method,
            "warnings": list(self.warnings),
            "rows": [{k: _clean(v) for k, v in rec.items()} for rec in self.rows.to_dict(orient="records")],
        }

    def summary(self) -> str:
        """A plain-text table for people."""
        frame = self.rows.copy()
        if frame.empty:
            return f"No {self.definitions.denominator} match (definitions {self.definitions.hash})."
        for col in ("hit_rate", "ci_low", "ci_high", "value_hit_rate"):
            frame[col] = frame[col].map(lambda v: "" if pd.isna(v) else f"{v:.1%}")
        head = (
            f"Hit rate ({self.definitions.basis} basis, {self.definitions.denominator}), "
            f"definitions {self.definitions.hash}"
        )
        return head + "\n" + frame.to_string(index=False)
