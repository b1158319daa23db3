"""Two groups or two periods compared: the difference in hit rate with a Newcombe interval and a p-value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hitrate.analysis.rates import resolve_definitions
from hitrate.analysis.results import clean
from hitrate.engine.counting import count
from hitrate.engine.query import Query, period_label
from hitrate.errors import UserInputError
from hitrate.spec.model import Definitions


@dataclass(frozen=True)
class ComparisonResult:
    """Rate A minus rate B, with attempts and hits of each, a Newcombe interval and a two-sided p-value."""

    label: str
    a: str
    b: str
    difference: Any  # hitrate.stats.compare.Difference
    definitions: Definitions

    def to_dict(self) -> dict[str, Any]:
        d = self.difference
        return {
            "definitions": {"hash": self.definitions.hash, "basis": self.definitions.basis},
            "compared": self.label,
            "a": {"label": self.a, "attempts": d.attempts_a, "hits": d.hits_a, "hit_rate": clean(d.rate_a)},
            "b": {"label": self.b, "attempts": d.attempts_b, "hits": d.hits_b, "hit_rate": clean(d.rate_b)},
            "difference": clean(d.difference),
            "ci_low": clean(d.low),
            "ci_high": clean(d.high),
            "p_value": clean(d.p_value),
            "method": d.method,
        }

    def to_frame(self) -> Any:
        """The comparison as a one-row DataFrame."""
        import pandas as pd

        flat = self.to_dict()
        return pd.DataFrame(
            [
                {
                    "a": self.a,
                    "b": self.b,
                    "attempts_a": flat["a"]["attempts"],
                    "hits_a": flat["a"]["hits"],
                    "attempts_b": flat["b"]["attempts"],
                    "hits_b": flat["b"]["hits"],
                    "difference": flat["difference"],
                    "ci_low": flat["ci_low"],
                    "ci_high": flat["ci_high"],
                    "p_value": flat["p_value"],
                }
            ]
        )

    def summary(self) -> str:
        """The comparison in plain words."""
        d = self.difference
        return (
            f"{self.a}: {d.hits_a:,} of {d.attempts_a:,} ({d.rate_a:.1%}); {self.b}: {d.hits_b:,} of {d.attempts_b:,} "
            f"({d.rate_b:.1%}). Difference {d.difference:+.1%} (95% interval {d.low:+.1%} to {d.high:+.1%}), "
            f"p = {d.p_value:.3g}."
        )


def compare(
    source: Any,
    a: str,
    b: str,
    *,
    by: str | None = None,
    period: str | None = None,
    basis: str | None = None,
    where: Mapping[str, Sequence[str]] | None = None,
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    definitions: Definitions | None = None,
    confidence: float = 0.95,
) -> ComparisonResult:
    """Compare two values of ``by`` (e.g. two reps) or two period labels (``period``, e.g. ``2017-Q1`` and
    ``2017-Q2``): difference of hit rates with the Newcombe hybrid score interval and a two-sided p-value
    (see :func:`hitrate.stats.compare.compare_proportions`)."""
    from hitrate.stats.compare import compare_proportions

    if (by is None) == (period is None):
        raise UserInputError("compare needs exactly one of --by FIELD (two of its values) or --period (two periods)")
    defs = resolve_definitions(source, definitions, basis)
    if by is not None:
        query = Query.build(by=[by], date_from=date_from, date_to=date_to, where={**(where or {}), by: [a, b]})
        c = count(source, defs, query).columns
        labels = [str(v) for v in c[by].tolist()]
        label = by
    else:
        query = Query.build(period=period, date_from=date_from, date_to=date_to, where=where)
        c = count(source, defs, query).columns
        labels = [period_label(s, str(period)) for s in c["period_start"].astype("datetime64[us]").tolist()]
        label = f"{period}s"
    found = {lab: (int(n), int(k)) for lab, n, k in zip(labels, c["attempts"], c["hits"], strict=True)}
    for value in (a, b):
        if value not in found:
            shown = ", ".join(labels[:12]) + (" ..." if len(labels) > 12 else "")
            raise UserInputError(f"'{value}' has no attempts among the {label}; found: {shown or 'nothing'}")
    (na, ka), (nb, kb) = found[a], found[b]
    return ComparisonResult(label, a, b, compare_proportions(ka, na, kb, nb, confidence=confidence), defs)
