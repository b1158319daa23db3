"""Charts of a seasonal decomposition: the series with its trend and seasonally adjusted rate, and the
seasonal odds factors by month (or week) of the year."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hitrate.i18n import format as fmt
from hitrate.report._charts.style import (
    ABOVE,
    ACCENT,
    ADJUSTED,
    BAND,
    BELOW,
    DOT,
    HOVER,
    REFERENCE,
    TEXT,
    WHISKER,
    band,
    base_layout,
    category_axis,
    esc,
    finite,
    hover_box,
    legend_layout,
    maybe,
    rate_axis,
    upper,
    value_axis,
)
from hitrate.report._model import FactorRow, SeasonRow
from hitrate.report.words import unusual_text

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from hitrate.report.words import Words


def season_hover(row: SeasonRow, s: Words, lang: str) -> str:
    """The hover box of a period: name, rate, interval, hits of attempts, trend, adjusted rate, unusual mark."""
    lines = [
        s("hover_rate", rate=row.rate),
        s("hover_interval", interval=fmt.interval(row.ci_low, row.ci_high, lang)),
        s("hover_counts", hits=row.hits, attempts=row.attempts),
        s("hover_trend", rate=row.trend),
        s("hover_adjusted", rate=row.adjusted),
    ]
    if row.unusual:
        lines.append(f"<b>{esc(unusual_text(row.unusual, s))}</b>")
    return hover_box(row.name, lines)


def seasonal_figure(rows: Sequence[SeasonRow], s: Words, lang: str) -> go.Figure:
    """Observed rate with its band, the trend, the seasonally adjusted rate and marks on unusual periods.

    Traces, in order: band upper edge, band lower edge (filled), observed rate, trend,
    adjusted rate, then one marker trace per kind of unusual period present ("high", "low").
    """
    import plotly.graph_objects as go

    periods = [esc(r.name) for r in rows]
    drawn = [r for r in rows if r.charted and r.ci_low == r.ci_low and r.ci_high == r.ci_high]
    hover = [season_hover(r, s, lang) for r in rows]
    fig = go.Figure(band([esc(r.name) for r in drawn], [r.ci_low for r in drawn], [r.ci_high for r in drawn]))
    lines = (
        # (values, line, name)
        ([r.rate if r.charted else None for r in rows], {"color": ACCENT, "width": 1}, s["hit_rate"]),
        ([maybe(r.trend) for r in rows], {"color": TEXT, "width": 2.5}, s["trend"]),
        (
            [r.adjusted if r.charted and r.adjusted == r.adjusted else None for r in rows],
            {"color": ADJUSTED, "width": 2, "dash": "dash"},
            s["adjusted_rate"],
        ),
    )
    for i, (values, line, name) in enumerate(lines):
        fig.add_trace(
            go.Scatter(
                x=periods,
                y=values,
                mode="lines+markers" if i == 0 else "lines",
                connectgaps=False,
                line=line,
                marker={**DOT, "size": 7},
                hovertext=hover,
                hovertemplate=HOVER,
                name=esc(name),
            )
        )
    for mark, colour, symbol in (("high", ABOVE, "triangle-up"), ("low", BELOW, "triangle-down")):
        marked = [(i, r) for i, r in enumerate(rows) if r.charted and r.unusual == mark]
        if not marked:
            continue
        fig.add_trace(
            go.Scatter(
                x=[periods[i] for i, _ in marked],
                y=[r.rate for _, r in marked],
                mode="markers",
                marker={**DOT, "size": 16, "color": colour, "symbol": symbol},
                hovertext=[hover[i] for i, _ in marked],
                hovertemplate=HOVER,
                name=esc(s[f"unusual_{mark}"]),
            )
        )
    tops = [*(r.ci_high for r in drawn), *(r.rate for r in rows if r.charted), *(r.trend for r in rows)]
    tops += [r.adjusted for r in rows if r.charted]
    layout = legend_layout(lang, height=420)
    layout["yaxis"] = rate_axis(s["hit_rate"], upper(tops))
    layout["xaxis"] = category_axis(periods)
    fig.update_layout(**layout)
    return fig


def factors_figure(factors: Sequence[FactorRow], s: Words, lang: str, unit: str = "month") -> go.Figure:
    """Seasonal odds factors as bars rising from (or falling to) 1, with interval whiskers and a line at 1.

    Traces: the bars (``base=1``, length ``factor - 1``), then dots at the factors carrying the
    whiskers. An unbounded upper end (``inf``) is drawn to the top of the axis.
    """
    import plotly.graph_objects as go

    names = [esc(f.name) for f in factors]
    values = finite([f.factor for f in factors])
    largest = max([*values, 1.0])
    top = min(max([*finite([f.high for f in factors]), largest, 1.0]), max(3.0, 2 * largest)) * 1.08
    hover = [
        hover_box(f.name, [s("hover_factor", factor=f.factor, interval=fmt.factor_interval(f.low, f.high, lang))])
        for f in factors
    ]
    ok = [f.factor == f.factor and not math.isinf(f.factor) for f in factors]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=names,
            y=[f.factor - 1 if good else None for f, good in zip(factors, ok, strict=True)],
            base=1,
            marker={"color": BAND, "line": {"color": ACCENT, "width": 1}},
            hovertext=hover,
            hovertemplate=HOVER,
            name=esc(s["seasonal_factor"]),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=names,
            y=[f.factor if good else None for f, good in zip(factors, ok, strict=True)],
            mode="markers",
            marker={"size": 7, "color": ACCENT},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [
                    max(0.0, min(f.high, top) - f.factor) if good and f.high == f.high else 0.0
                    for f, good in zip(factors, ok, strict=True)
                ],
                "arrayminus": [
                    max(0.0, f.factor - f.low) if good and f.low == f.low else 0.0
                    for f, good in zip(factors, ok, strict=True)
                ],
                "color": WHISKER,
                "thickness": 2,
                "width": 4,
            },
            hovertext=hover,
            hovertemplate=HOVER,
            name=esc(s["seasonal_factor"]),
        )
    )
    layout = base_layout(lang, height=320)
    layout["xaxis"] = category_axis(names, s[unit])
    layout["yaxis"] = value_axis(s["seasonal_factor"], top)
    fig.update_layout(**layout)
    fig.add_hline(y=1, line={"color": REFERENCE, "dash": "dash", "width": 1.5})
    return fig
