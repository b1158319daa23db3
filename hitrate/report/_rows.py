"""Section frames read into rows: one object per group, period or cohort, with plain Python numbers.

Missing values become NaN (rates), 0 (counts) or ``""`` (texts); labels are printed the same way everywhere
(:func:`hitrate.i18n.format.label`). The chart and table builders work on these rows, never on frames.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hitrate.i18n import DEFAULT_LANG
from hitrate.i18n import format as fmt
from hitrate.report._model import (
    CaterpillarPlot,
    CaterpillarRow,
    CohortCurve,
    CohortCurves,
    FactorRow,
    FrameSection,
    FunnelPlot,
    FunnelRow,
    RateTable,
    Row,
    SeasonalPlot,
    SeasonRow,
)
from hitrate.report.words import FLAGS, UNUSUAL, report_words


def _number(value: Any) -> float:
    """A float, NaN for anything missing."""
    return float("nan") if fmt.is_missing(value) else float(value)


def _count(value: Any) -> int:
    """A whole count, 0 for anything missing."""
    return 0 if fmt.is_missing(value) else int(value)


def _text(value: Any) -> str:
    """A text column's value, ``""`` for anything missing."""
    return "" if fmt.is_missing(value) else str(value).strip()


def _group_label(value: Any, column: str, lang: str) -> str:
    """A row label; a missing group value is named (``(no rep)``), never a blank row or a dash."""
    from hitrate.i18n import text

    if fmt.is_missing(value):
        return text("rates.no_value", lang, field=column)
    return fmt.period(value, lang) if column == "period" and isinstance(value, str) else fmt.label(value)


def _records(section: FrameSection, lang: str = DEFAULT_LANG) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Each record of a section's frame, with the fields every row has: its label texts, its chart name, its
    attempts, hits and hit rate.

    The chart name of a row is its ``label`` value; if those repeat (say the same rep
    name in two teams) it is all label columns joined by `` · `` instead.
    """
    records: list[dict[str, Any]] = [{str(k): v for k, v in rec.items()} for rec in section.frame.to_dict("records")]
    labels_of = [tuple(_group_label(rec[c], c, lang) for c in section.label_columns) for rec in records]
    names = [_group_label(rec[section.label], section.label, lang) for rec in records]
    if len(set(names)) != len(names):
        names = [" · ".join(labels) for labels in labels_of]
    for rec, labels, name in zip(records, labels_of, names, strict=True):
        yield (
            rec,
            {
                "labels": labels,
                "name": name,
                "attempts": _count(rec["attempts"]),
                "hits": _count(rec["hits"]),
                "rate": _number(rec["hit_rate"]),
            },
        )


def _interval(rec: Mapping[str, Any]) -> dict[str, Any]:
    return {"ci_low": _number(rec["ci_low"]), "ci_high": _number(rec["ci_high"])}


def _mark(value: Any, known: Sequence[str]) -> str:
    """A flag or mark as the code knows it (``"Above"`` -> ``"above"``), another text as given."""
    text = _text(value)
    return text.lower() if text.lower() in known else text


def section_rows(section: RateTable, lang: str) -> list[Row]:
    """Read a section's frame into :class:`Row` objects with every number already printed."""
    rows: list[Row] = []
    for rec, row in _records(section, lang):
        interval = _interval(rec)
        value_rate, amount = _number(rec["value_hit_rate"]), _number(rec["amount_won"])
        rows.append(
            Row(
                **row,
                **interval,
                value_rate=value_rate,
                amount_won=amount,
                rate_text=fmt.percent(row["rate"], lang),
                interval_text=fmt.interval(interval["ci_low"], interval["ci_high"], lang),
                value_rate_text=fmt.percent(value_rate, lang),
                amount_text=fmt.money(amount, section.currency, lang),
                attempts_text=fmt.integer(row["attempts"], lang),
                hits_text=fmt.integer(row["hits"], lang),
            )
        )
    return rows


def funnel_rows(section: FunnelPlot, lang: str = DEFAULT_LANG) -> list[FunnelRow]:
    """Read a funnel plot's frame, one :class:`FunnelRow` per group, in frame order."""
    return [
        FunnelRow(
            **row,
            **_interval(rec),
            flag=_mark(rec["flag"], FLAGS),
            limit95=(_number(rec["funnel95_low"]), _number(rec["funnel95_high"])),
            limit998=(_number(rec["funnel998_low"]), _number(rec["funnel998_high"])),
        )
        for rec, row in _records(section, lang)
    ]


def caterpillar_rows(section: CaterpillarPlot, lang: str = DEFAULT_LANG) -> list[CaterpillarRow]:
    """Read a caterpillar plot's frame, one :class:`CaterpillarRow` per group, in frame order."""
    return [
        CaterpillarRow(
            **row,
            shrunk=_number(rec["shrunk_rate"]),
            shrunk_low=_number(rec["shrunk_low"]),
            shrunk_high=_number(rec["shrunk_high"]),
        )
        for rec, row in _records(section, lang)
    ]


def season_rows(section: SeasonalPlot, lang: str = DEFAULT_LANG) -> list[SeasonRow]:
    """Read a seasonal plot's frame, one :class:`SeasonRow` per period, in frame order."""
    return [
        SeasonRow(
            **{k: v for k, v in row.items() if k != "labels"},
            **_interval(rec),
            trend=_number(rec["trend"]),
            adjusted=_number(rec["adjusted_rate"]),
            unusual=_mark(rec["unusual"], UNUSUAL),
        )
        for rec, row in _records(section, lang)
    ]


def factor_unit(factors: Mapping[int, float]) -> str:
    """``"month"`` when the factors are keyed by months of the year (1..12), else ``"week"``."""
    return "month" if all(1 <= int(k) <= 12 for k in factors) else "week"


def factor_rows(section: SeasonalPlot, lang: str) -> list[FactorRow]:
    """The seasonal factors in order of the year, months named in ``lang``; empty when there are none."""
    factors, low, high = section.seasonal_factors, section.seasonal_factor_low, section.seasonal_factor_high
    if factors is None or low is None or high is None:
        return []
    months = report_words(lang)["month_names"].split()
    unit = factor_unit(factors)
    return [
        FactorRow(
            key=int(k),
            name=months[int(k) - 1] if unit == "month" else str(int(k)),
            factor=_number(factors[k]),
            low=_number(low[k]),
            high=_number(high[k]),
        )
        for k in sorted(factors, key=int)
    ]


def cohort_curves(section: CohortCurves) -> list[CohortCurve]:
    """Read a cohort frame into one :class:`CohortCurve` per cohort, cohorts in order of first appearance.

    Rows without an age or a share are skipped; a curve's points are sorted by age (the
    last row wins for a repeated age) and its size is the largest ``n`` given for it.
    """
    points: dict[str, dict[int, float]] = {}
    sizes: dict[str, int] = {}
    for rec in section.frame.to_dict("records"):
        name = fmt.label(rec[section.label])
        curve = points.setdefault(name, {})
        sizes[name] = max(sizes.get(name, 0), _count(rec["n"]))
        age, share = rec["age"], rec["cumulative_win_rate"]
        if not fmt.is_missing(age) and not fmt.is_missing(share):
            curve[int(age)] = float(share)
    return [
        CohortCurve(
            name=name,
            n=sizes[name],
            ages=tuple(sorted(curve)),
            shares=tuple(curve[a] for a in sorted(curve)),
        )
        for name, curve in points.items()
    ]
