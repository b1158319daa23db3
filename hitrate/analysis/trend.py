"""Seasonality and trend of hit rate over periods, on the engine's per-period counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hitrate.analysis.rates import resolve_definitions
from hitrate.analysis.results import RatesResult, clean
from hitrate.engine.counting import count
from hitrate.engine.query import Query, period_label
from hitrate.errors import UserInputError
from hitrate.spec.model import Definitions

SERIES_COLUMNS = ("trend", "adjusted_rate", "remainder", "unusual", "yoy_difference", "yoy_low", "yoy_high", "yoy_p")


@dataclass
class TrendResult(RatesResult):
    """The series per period with intervals, its trend, seasonal factors (odds scale, geometric mean 1),
    the seasonally adjusted series, unusual periods and year-over-year changes. ``series`` holds the
    per-series parts (one per group of ``by``, or one for all data)."""

    series: list[dict[str, Any]] = field(default_factory=list)
    seasonal_factors: dict[int, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["seasonal_factors"] = (
            None if self.seasonal_factors is None else {str(k): v for k, v in self.seasonal_factors.items()}
        )
        out["series"] = [{k: _json(v) for k, v in s.items()} for s in self.series]
        return out


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    return clean(value)


def trend(
    source: Any,
    *,
    period: str = "month",
    by: str | None = None,
    basis: str | None = None,
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    where: Mapping[str, Sequence[str]] | None = None,
    definitions: Definitions | None = None,
    confidence: float = 0.95,
) -> TrendResult:
    """Hit rate per period, decomposed into trend, seasonal factors and remainder.

    The method (see :func:`hitrate.stats.seasonal.decompose`) is a binomial GLM on the per-period counts
    with a period-of-year effect and a smooth trend. With fewer than two full yearly cycles no seasonal
    factors are estimated, and the result says so instead of inventing them.
    """
    from hitrate.stats.seasonal import decompose

    if period not in ("month", "week"):
        raise UserInputError(f"The 'period' parameter of trend must be 'month' or 'week'. Got '{period}'.")
    defs = resolve_definitions(source, definitions, basis)
    query = Query.build(by=[by] if by else [], period=period, date_from=date_from, date_to=date_to, where=where)
    c = count(source, defs, query).columns
    if not len(c["attempts"]):
        raise UserInputError(
            f"no attempts have a {defs.effective_period_date}, the date that puts them in a {period}: a trend needs "
            "dated rows (map the date at import, or set period_date in the definitions)"
        )
    keys = list(zip(*(c[f].tolist() for f in query.by), strict=True)) if by else [()] * len(c["attempts"])
    order: list[tuple[Any, ...]] = list(dict.fromkeys(keys))
    out: dict[str, list[Any]] = {
        name: []
        for name in [
            *query.by,
            "period",
            "attempts",
            "hits",
            "hit_rate",
            "ci_low",
            "ci_high",
            "period_of_year",
            *SERIES_COLUMNS,
        ]
    }
    series: list[dict[str, Any]] = []
    starts_all = c["period_start"].astype("datetime64[us]")
    for key in order:
        mask = np.array([k == key for k in keys], dtype=bool)
        d = decompose(starts_all[mask], c["attempts"][mask], c["hits"][mask], period=period, confidence=confidence)
        starts = starts_all[mask].tolist()
        for start in starts:
            for f, v in zip(query.by, key, strict=True):
                out[f].append(v)
            out["period"].append(period_label(start, period))
        out["attempts"] += c["attempts"][mask].tolist()
        out["hits"] += c["hits"][mask].tolist()
        out["hit_rate"] += list(d.rate)
        out["ci_low"] += list(d.ci_low)
        out["ci_high"] += list(d.ci_high)
        out["period_of_year"] += list(d.period_of_year)
        for name in SERIES_COLUMNS:
            out[name] += list(getattr(d, name))
        entry: dict[str, Any] = {f: v for f, v in zip(query.by, key, strict=True)}
        entry.update(
            seasonal_factors=d.seasonal_factors,
            seasonal_factor_low=d.seasonal_factor_low,
            seasonal_factor_high=d.seasonal_factor_high,
            seasonal_rate_effect=d.seasonal_rate_effect,
            cycles=d.cycles,
            note=d.note,
            method=d.method,
        )
        series.append(entry)
    pooled = series[0] if not by else _pooled(source, defs, query, period, confidence)
    columns = {name: _array(values) for name, values in out.items()}
    notes = sorted({s["note"] for s in series if s["note"]})
    q = {
        "by": list(query.by),
        "period": period,
        "from": query.date_from and query.date_from.isoformat(),
        "to": query.date_to and query.date_to.isoformat(),
        "where": {a: list(b) for a, b in query.where},
        "confidence": confidence,
    }
    method = series[0]["method"] if series else ""
    result = TrendResult(columns, defs, query.by, period, q, notes, method, series, pooled.get("seasonal_factors"))
    return result


def _pooled(source: Any, defs: Definitions, query: Query, period: str, confidence: float) -> dict[str, Any]:
    from hitrate.stats.seasonal import decompose

    q = Query.build(period=period, date_from=query.date_from, date_to=query.date_to, where=dict(query.where))
    c = count(source, defs, q).columns
    d = decompose(
        c["period_start"].astype("datetime64[us]"), c["attempts"], c["hits"], period=period, confidence=confidence
    )
    return {"seasonal_factors": d.seasonal_factors}


def _array(values: list[Any]) -> np.ndarray:
    if values and all(isinstance(v, (int, np.integer)) for v in values):
        return np.asarray(values, dtype=np.int64)
    if values and all(isinstance(v, (float, np.floating, int, np.integer)) for v in values):
        return np.asarray(values, dtype=float)
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr
