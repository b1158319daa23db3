"""Seasonality and trend of hit rate over periods, on the engine's per-period counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from hitrate.analysis._common import DefinitionsArg, query_echo, resolve_definitions
from hitrate.analysis.results import RatesResult
from hitrate.engine.counting import count
from hitrate.engine.query import Query, period_label
from hitrate.errors import InvalidParameterError, UserInputError
from hitrate.i18n import DEFAULT_LANG, Joined, Message, render_all
from hitrate.report.result import json_ready
from hitrate.spec.model import Definitions

if TYPE_CHECKING:
    import pandas as pd

    from hitrate.report import SeasonalPlot
    from hitrate.report.workbook import DataTable

PERIODS = ("month", "week")
SERIES_COLUMNS = ("trend", "adjusted_rate", "remainder", "unusual", "yoy_difference", "yoy_low", "yoy_high", "yoy_p")


@dataclass
class TrendResult(RatesResult):
    """The series per period with intervals, its trend, seasonal factors (odds scale, geometric mean 1),
    the seasonally adjusted series, unusual periods and year-over-year changes. ``series`` holds the
    per-series parts (one per group of ``by``, or one for all data)."""

    series: list[dict[str, Any]] = field(default_factory=list)
    seasonal_factors: dict[int, float] | None = None

    TABLE: ClassVar[str] = "trend"
    PROPORTIONS: ClassVar[frozenset[str]] = RatesResult.PROPORTIONS | frozenset(
        {"trend", "adjusted_rate", "yoy_difference", "yoy_low", "yoy_high"}
    )

    def tables(self) -> list[DataTable]:
        """The series (every column, as ``--format csv``), then the seasonal factors of every series that has
        them: one row per series and period of the year, the factor on the odds scale with its interval and its
        effect on the rate."""
        from hitrate.report.workbook import DataTable

        rows = [
            {
                **{f: s[f] for f in self.by},
                "period_of_year": k,
                "factor": factor,
                "factor_low": s["seasonal_factor_low"][k],
                "factor_high": s["seasonal_factor_high"][k],
                "rate_effect": s["seasonal_rate_effect"][k],
            }
            for s in self.series
            for k, factor in (s["seasonal_factors"] or {}).items()
        ]
        columns = (*self.by, "period_of_year", "factor", "factor_low", "factor_high", "rate_effect")
        factors = DataTable("seasonal_factors", columns, rows, frozenset({"rate_effect"}))
        return [self.main_table(), *([factors] if rows else [])]

    def to_dict(self) -> dict[str, Any]:
        """The rates result's keys, then ``seasonal_factors`` (pooled over the series) and ``series``."""
        factors = None if self.seasonal_factors is None else {str(k): v for k, v in self.seasonal_factors.items()}
        return {**super().to_dict(), "seasonal_factors": factors, "series": json_ready(self.series)}

    def title(self) -> Message:
        """``Trend and season of hit rate per month`` (by a field, when asked)."""
        period = Message(f"rates.period_{self.period}")
        if self.by:
            return Message("trend.title_by", by=Joined(self.by), period=period)
        return Message("trend.title", period=period)

    def headline(self) -> Message | None:
        """The last period against the one before (:func:`~hitrate.analysis.results.rates_headline`), then the
        times of year when deals are won most and least, by seasonal factor."""
        change = super().headline()
        factors = self.seasonal_factors
        if not factors:
            return change
        low, high = min(factors, key=lambda k: factors[k]), max(factors, key=lambda k: factors[k])
        return Message(
            "trend.headline" if change is not None else "trend.season_only",
            change=change,
            low=factors[low],
            low_at=low,
            high=factors[high],
            high_at=high,
            unit=Message(f"trend.unit_{self.period}"),
        )

    def sections(self, lang: str = DEFAULT_LANG) -> list[SeasonalPlot]:
        """One seasonal plot per series (the report's chart of the monthly trend): the rates, their trend and
        seasonally adjusted rate, and the seasonal odds factors."""

        frame = self.to_frame()
        out = []
        lead = self.section_words(lang)["lead"] if len(self.series) == 1 else ""  # the headline is of all series
        for s in self.series:
            rows = frame
            for f in self.by:  # a series of rows without a value for the field is that field's missing group
                rows = rows[rows[f].isna() if s[f] is None else rows[f] == s[f]]
            name = " · ".join(str(s[f]) for f in self.by) or self.title().render(lang)
            note = render_all([s.get("note") or ""], lang)[0]
            method = render_all([s.get("method") or ""], lang)[0]
            out.append(seasonal_plot(name, rows.reset_index(drop=True), s, note, lead, method))
        return out


def seasonal_plot(
    title: str, frame: pd.DataFrame, series: Mapping[str, Any], note: str, lead: str = "", method: str = ""
) -> SeasonalPlot:
    """The report's seasonal section of one series (``frame`` its rows, ``series`` its factors), opening with
    ``lead`` and its ``method`` in the method block."""
    from hitrate.report import SeasonalPlot

    low, high = series.get("seasonal_factor_low"), series.get("seasonal_factor_high")
    return SeasonalPlot(title, frame, "period", series.get("seasonal_factors"), low, high, note, lead, method)


def trend(
    source: Any,
    *,
    period: str = "month",
    by: str | None = None,
    basis: str | None = None,
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    where: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
    definitions: DefinitionsArg = None,
    confidence: float = 0.95,
) -> TrendResult:
    """Hit rate per period, decomposed into trend, seasonal factors and remainder.

    The method (see :func:`hitrate.stats.seasonal.decompose`) is a binomial GLM on the per-period counts
    with a period-of-year effect and a smooth trend. With fewer than two full yearly cycles no seasonal
    factors are estimated, and the result says so instead of inventing them.

    The keyword arguments are the command line's options (``period`` is ``month`` or ``week``; one series per
    value of ``by``; ``where`` as a mapping or ``FIELD=VALUE`` items; ``definitions`` or a file's path).
    """
    from hitrate.stats.seasonal import decompose

    if period not in PERIODS:
        raise InvalidParameterError("period", Message("engine.one_of", options=Joined(PERIODS)), period, caller="trend")
    defs = resolve_definitions(source, definitions, basis)
    query = Query.build(by=[by] if by else [], period=period, date_from=date_from, date_to=date_to, where=where)
    c = count(source, defs, query).columns
    if not len(c["attempts"]):
        period_name = Message(f"rates.period_{period}")
        raise UserInputError("trend.no_dated_attempts", date=defs.effective_period_date, period=period_name)
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
    notes = sorted({s["note"] for s in series if s["note"]}, key=str)
    q = {"by": list(query.by), "period": period, **query_echo(query), "confidence": confidence}
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
