"""Result objects: every computation returns one, with ``summary()``, ``to_frame()`` and ``to_dict()``.

Results hold their columns as numpy arrays; the pandas DataFrame is built on first use, so a
command that only prints JSON never imports pandas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from hitrate.spec.model import Definitions

if TYPE_CHECKING:
    import pandas as pd

#: The columns of every rates row, after its label columns.
RATE_COLUMNS: tuple[str, ...] = ("attempts", "hits", "hit_rate", "ci_low", "ci_high", "amount_won", "value_hit_rate")


def clean(value: Any) -> Any:
    """JSON-safe scalar: NaN/NaT/NA -> None, numpy scalars -> Python, timestamps -> ISO text."""
    if value is None:
        return None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(value)
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if type(value).__name__ in {"NAType", "NaTType"}:
        return None
    return value


@dataclass
class RatesResult:
    """Hit rates per group, each with attempts, hits, a Wilson 95% interval and value hit rate.

    ``columns`` holds, per group, the ``by`` fields, ``period`` (when asked), ``attempts``, ``hits``,
    ``hit_rate``, ``ci_low``, ``ci_high``, ``amount_won`` and ``value_hit_rate``; :attr:`rows` is the same
    as a DataFrame.
    """

    columns: dict[str, np.ndarray]
    definitions: Definitions
    by: tuple[str, ...]
    period: str | None
    query: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    method: str = "Wilson score interval (95%) for hits / attempts; value hit rate = amount won / amount attempted"

    @cached_property
    def rows(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame (built on first use)."""
        import pandas as pd

        return pd.DataFrame({name: values for name, values in self.columns.items()})

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON-ready dicts (None for missing values)."""
        names = list(self.columns)
        n = len(self.columns["attempts"]) if "attempts" in self.columns else 0
        cols = [self.columns[name].tolist() for name in names]
        return [{name: clean(col[i]) for name, col in zip(names, cols, strict=True)} for i in range(n)]

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
            "rows": self.records(),
        }

    def summary(self) -> str:
        """A plain-text table for people."""
        frame = self.rows.copy()
        if frame.empty:
            return f"No {self.definitions.denominator} match (definitions {self.definitions.hash})."
        for col in ("hit_rate", "ci_low", "ci_high", "value_hit_rate"):
            frame[col] = frame[col].map(lambda v: "" if v != v else f"{v:.1%}")
        head = (
            f"Hit rate ({self.definitions.basis} basis, {self.definitions.denominator}), "
            f"definitions {self.definitions.hash}"
        )
        return head + "\n" + frame.to_string(index=False)
