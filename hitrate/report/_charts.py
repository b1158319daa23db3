"""Plotly figures for report sections. Plotly is imported inside each function.

Text handed to plotly (category names, hover text, annotations) is HTML-escaped first:
plotly.js reads a few tags (``<b>``, ``<a href>``...) in text and decodes entities, so
escaping makes a label such as ``<b>North</b>`` show literally instead of in bold.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hitrate.report._i18n import (
    flag_text,
    fmt_factor,
    fmt_factor_interval,
    fmt_int,
    fmt_interval,
    fmt_pct,
    unusual_text,
)
from hitrate.report._model import CaterpillarRow, CohortCurve, FactorRow, FunnelRow, Row, SeasonRow

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import plotly.graph_objects as go

ACCENT = "#2c5d8f"
WHISKER = "#7a8ea3"
BAND = "rgba(44, 93, 143, 0.16)"
REFERENCE = "#6b7280"
GRID = "#e5e7eb"
TEXT = "#1f2933"
ABOVE = "#1a7f5a"
BELOW = "#c2410c"
WITHIN = "#7a8ea3"
ADJUSTED = "#b45309"
#: Colour and marker shape of each funnel flag (shape too, so colour is not the only cue).
FLAG_STYLE: dict[str, tuple[str, str]] = {
    "above": (ABOVE, "triangle-up"),
    "within": (WITHIN, "circle"),
    "below": (BELOW, "triangle-down"),
}
#: Line colours of cohort curves, in turn (Okabe-Ito, readable with colour-blindness).
COHORT_COLOURS: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
LEGEND: dict[str, Any] = {
    "orientation": "h",
    "x": 0,
    "xanchor": "left",
    "y": 1.02,
    "yanchor": "bottom",
    "traceorder": "normal",  # plotly reverses it when a trace is filled
}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def hover_text(row: Row, s: dict[str, str]) -> str:
    """The hover box of one row: name, rate, interval, hits of attempts, value hit rate."""
    lines = [
        f"<b>{_esc(row.name)}</b>",
        s["hover_rate"].format(rate=row.rate_text),
        s["hover_interval"].format(interval=row.interval_text),
        s["hover_counts"].format(hits=row.hits_text, attempts=row.attempts_text),
    ]
    if row.value_rate == row.value_rate:  # not NaN
        lines.append(s["hover_value"].format(rate=row.value_rate_text))
    return "<br>".join(lines)


def _axis_upper(rows: Sequence[Row], overall_rate: float | None) -> float:
    """Top of the rate axis: a little above the highest interval end, at most 100 %."""
    top = max([r.ci_high for r in rows] + ([overall_rate] if overall_rate is not None else []) + [0.05])
    return min(1.0, top * 1.08 + 0.01)


def _base_layout(lang: str, height: int) -> dict[str, Any]:
    return {
        "template": "none",
        "height": height,
        "margin": {"l": 10, "r": 24, "t": 36, "b": 48},
        "font": {"family": FONT, "size": 13, "color": TEXT},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "showlegend": False,
        "hoverlabel": {"bgcolor": "white", "bordercolor": WHISKER, "font": {"family": FONT, "color": TEXT}},
        "separators": ",." if lang == "da" else ".,",
    }


def _rate_axis(title: str, upper: float) -> dict[str, Any]:
    return {
        "title": {"text": _esc(title)},
        "range": [0, upper],
        "tickformat": ".0%",
        "showgrid": True,
        "gridcolor": GRID,
        "zeroline": False,
        "showline": True,
        "linecolor": WHISKER,
        "ticks": "outside",
        "tickcolor": WHISKER,
        "fixedrange": True,
        "automargin": True,
    }


def bars_figure(rows: Sequence[Row], s: dict[str, str], lang: str, overall_rate: float | None = None) -> go.Figure:
    """Horizontal dot-and-whisker chart, highest rate at the top; rows without attempts are left out."""
    import plotly.graph_objects as go

    drawn = sorted((r for r in rows if r.charted), key=lambda r: (-r.rate, -r.attempts, r.name))
    names = [_esc(r.name) for r in drawn]
    fig = go.Figure(
        go.Scatter(
            x=[r.rate for r in drawn],
            y=names,
            mode="markers",
            marker={"size": 10, "color": ACCENT, "line": {"width": 1, "color": "white"}},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [r.ci_high - r.rate for r in drawn],
                "arrayminus": [r.rate - r.ci_low for r in drawn],
                "color": WHISKER,
                "thickness": 2,
                "width": 0,
            },
            hovertext=[hover_text(r, s) for r in drawn],
            hovertemplate="%{hovertext}<extra></extra>",
            name=_esc(s["hit_rate"]),
        )
    )
    layout = _base_layout(lang, height=max(200, 90 + 30 * len(drawn)))
    layout["xaxis"] = _rate_axis(s["hit_rate"], _axis_upper(drawn, overall_rate))
    layout["yaxis"] = {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": names,
        "autorange": "reversed",
        "showgrid": False,
        "ticks": "",
        "fixedrange": True,
        "automargin": True,
    }
    fig.update_layout(**layout)
    if overall_rate is not None and not math.isnan(overall_rate):
        fig.add_vline(
            x=overall_rate,
            line={"color": REFERENCE, "dash": "dash", "width": 1.5},
            annotation_text=_esc(s["overall_line"].format(rate=fmt_pct(overall_rate, lang))),
            annotation_position="top",
            annotation_font={"color": REFERENCE, "size": 12},
        )
    return fig


def trend_figure(rows: Sequence[Row], s: dict[str, str], lang: str, overall_rate: float | None = None) -> go.Figure:
    """Hit rate over periods in the given order, a shaded 95% band, markers sized by attempts."""
    import plotly.graph_objects as go

    periods = [_esc(r.name) for r in rows]
    drawn = [r for r in rows if r.charted]
    drawn_x = [_esc(r.name) for r in drawn]
    most = max((r.attempts for r in drawn), default=1) or 1
    fig = go.Figure()
    # The band: the upper edge (invisible), then the lower edge filled up to it.
    fig.add_trace(
        go.Scatter(
            x=drawn_x,
            y=[r.ci_high for r in drawn],
            mode="lines",
            line={"width": 0, "color": BAND},
            hoverinfo="skip",
            name="ci_high",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=drawn_x,
            y=[r.ci_low for r in drawn],
            mode="lines",
            line={"width": 0, "color": BAND},
            fill="tonexty",
            fillcolor=BAND,
            hoverinfo="skip",
            name="ci_low",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=periods,
            y=[r.rate if r.charted else None for r in rows],
            mode="lines+markers",
            connectgaps=False,
            line={"color": ACCENT, "width": 2},
            marker={
                "size": [6 + 14 * math.sqrt(r.attempts / most) if r.charted else 0 for r in rows],
                "color": ACCENT,
                "line": {"width": 1, "color": "white"},
            },
            hovertext=[hover_text(r, s) for r in rows],
            hovertemplate="%{hovertext}<extra></extra>",
            name=_esc(s["hit_rate"]),
        )
    )
    layout = _base_layout(lang, height=380)
    layout["yaxis"] = _rate_axis(s["hit_rate"], _axis_upper(drawn, overall_rate))
    layout["xaxis"] = {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": periods,
        "showgrid": False,
        "showline": True,
        "linecolor": WHISKER,
        "ticks": "outside",
        "tickcolor": WHISKER,
        "fixedrange": True,
        "automargin": True,
    }
    fig.update_layout(**layout)
    if overall_rate is not None and not math.isnan(overall_rate):
        fig.add_hline(
            y=overall_rate,
            line={"color": REFERENCE, "dash": "dash", "width": 1.5},
            annotation_text=_esc(s["overall_line"].format(rate=fmt_pct(overall_rate, lang))),
            annotation_position="top left",
            annotation_font={"color": REFERENCE, "size": 12},
        )
    return fig


# --- the "honest benchmarking" charts ----------------------------------------------------------


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if v == v and not math.isinf(v)]


def _upper(values: Sequence[float]) -> float:
    """Top of a rate axis holding ``values``: a little above the largest, at most 100 %."""
    return min(1.0, max([*_finite(values), 0.05]) * 1.08 + 0.01)


def _maybe(value: float) -> float | None:
    """``None`` (a gap in a plotly line) for NaN, else the value."""
    return value if value == value else None


def _legend_layout(lang: str, height: int) -> dict[str, Any]:
    layout = _base_layout(lang, height)
    layout["showlegend"] = True
    layout["legend"] = LEGEND
    layout["margin"] = {**layout["margin"], "t": 64}
    return layout


def _category_axis(names: Sequence[str], title: str | None = None) -> dict[str, Any]:
    axis: dict[str, Any] = {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": list(names),
        "showgrid": False,
        "showline": True,
        "linecolor": WHISKER,
        "ticks": "outside",
        "tickcolor": WHISKER,
        "fixedrange": True,
        "automargin": True,
    }
    if title is not None:
        axis["title"] = {"text": _esc(title)}
    return axis


def _count_axis(title: str, upper: float) -> dict[str, Any]:
    return {
        "title": {"text": _esc(title)},
        "range": [0, upper],
        "tickformat": ",d",
        "showgrid": True,
        "gridcolor": GRID,
        "zeroline": False,
        "showline": True,
        "linecolor": WHISKER,
        "ticks": "outside",
        "tickcolor": WHISKER,
        "fixedrange": True,
        "automargin": True,
    }


def funnel_limit_curves(
    overall_rate: float, attempts: npt.ArrayLike, level: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The lower and upper funnel limits at ``level`` (e.g. 0.95) around ``overall_rate``, for each of ``attempts``.

    Exact binomial quantiles move in whole hits, which would draw a saw-tooth; as in
    Spiegelhalter's funnel plots (2005) they are interpolated between whole counts. With
    ``t = (1 - level) / 2``, ``F`` and ``f`` the CDF and PMF of Binomial(n, overall_rate):
    ``lower = (r - a) / n`` with ``r`` the ``t`` quantile and ``a = (F(r) - t) / f(r)``, and
    ``upper = (r + 1 - a) / n`` with ``r`` the ``1 - t`` quantile and ``a = (F(r) - (1 - t)) / f(r)``,
    clipped to 0..1. These are the limits of :func:`hitrate.stats.funnel.funnel_limits`,
    so the curves pass through the per-group limits of a benchmark frame.
    """
    import numpy as np
    from scipy.stats import binom

    n = np.asarray(attempts, dtype=float)
    if not 0 < overall_rate < 1:
        flat = np.full(n.shape, float(overall_rate))
        return flat, flat.copy()
    tail = (1.0 - level) / 2.0
    ends = []
    for q, step in ((tail, 0.0), (1.0 - tail, 1.0)):
        r = binom.ppf(q, n, overall_rate)
        a = np.clip((binom.cdf(r, n, overall_rate) - q) / binom.pmf(r, n, overall_rate), 0.0, 1.0)
        ends.append(np.asarray(np.clip((r + step - a) / n, 0.0, 1.0), dtype=float))
    return ends[0], ends[1]


def funnel_grid(attempts: Sequence[int], points: int = 240) -> list[int]:
    """Whole numbers of attempts to draw the funnel at: from a little below the smallest group to past the largest."""
    import numpy as np

    low = max(1, math.floor(min(attempts) * 0.9))
    high = max(low + 1, math.ceil(max(attempts) * 1.05))
    return [int(n) for n in np.unique(np.round(np.geomspace(low, high, points)).astype(int))]


FUNNEL_LEVELS: tuple[tuple[str, float, str], ...] = (
    # (strings key, level, line dash)
    ("limits998", 0.998, "dot"),
    ("limits95", 0.95, "dash"),
)


def funnel_hover(row: FunnelRow, s: dict[str, str], lang: str) -> str:
    """The hover box of a funnel dot: name, hits of attempts, rate, interval, flag."""
    return "<br>".join(
        [
            f"<b>{_esc(row.name)}</b>",
            s["hover_counts"].format(hits=fmt_int(row.hits, lang), attempts=fmt_int(row.attempts, lang)),
            s["hover_rate"].format(rate=fmt_pct(row.rate, lang)),
            s["hover_interval"].format(interval=fmt_interval(row.ci_low, row.ci_high, lang)),
            s["hover_flag"].format(flag=_esc(flag_text(row.flag, s))),
        ]
    )


def funnel_figure(rows: Sequence[FunnelRow], s: dict[str, str], lang: str, overall_rate: float) -> go.Figure:
    """Hit rate against attempts, one dot per group coloured and shaped by its flag, inside funnel limits.

    The 99.8 % (dotted) and 95 % (dashed) limits are drawn as smooth curves from
    ``overall_rate`` (:func:`funnel_limit_curves`) over :func:`funnel_grid`; the solid line is
    the overall rate. Each limit is one trace: its lower curve, a gap, its upper curve.
    """
    import plotly.graph_objects as go

    drawn = [r for r in rows if r.charted]
    grid = funnel_grid([r.attempts for r in drawn])
    fig = go.Figure()
    tops: list[float] = [overall_rate, *(r.rate for r in drawn)]
    for key, level, dash in FUNNEL_LEVELS:
        low_curve, high_curve = funnel_limit_curves(overall_rate, grid, level)
        low, high = low_curve.tolist(), high_curve.tolist()
        tops.append(high[0])
        fig.add_trace(
            go.Scatter(
                x=[*grid, None, *grid],
                y=[*low, None, *high],
                mode="lines",
                connectgaps=False,
                line={"color": REFERENCE, "width": 1.2, "dash": dash},
                hoverinfo="skip",
                name=_esc(s[key]),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[0, grid[-1]],
            y=[overall_rate, overall_rate],
            mode="lines",
            line={"color": REFERENCE, "width": 1.5},
            hoverinfo="skip",
            name=_esc(s["overall_line"].format(rate=fmt_pct(overall_rate, lang))),
        )
    )
    others = sorted({r.flag for r in drawn} - set(FLAG_STYLE))
    for flag in [*FLAG_STYLE, *others]:
        group = [r for r in drawn if r.flag == flag]
        if not group:
            continue
        colour, symbol = FLAG_STYLE.get(flag, (WITHIN, "square"))
        fig.add_trace(
            go.Scatter(
                x=[r.attempts for r in group],
                y=[r.rate for r in group],
                mode="markers",
                marker={"size": 11, "color": colour, "symbol": symbol, "line": {"width": 1, "color": "white"}},
                hovertext=[funnel_hover(r, s, lang) for r in group],
                hovertemplate="%{hovertext}<extra></extra>",
                name=_esc(flag_text(flag, s)),
            )
        )
    layout = _legend_layout(lang, height=440)
    layout["xaxis"] = _count_axis(s["attempts"], grid[-1] * 1.02)
    layout["yaxis"] = _rate_axis(s["hit_rate"], _upper(tops))
    fig.update_layout(**layout)
    return fig


def caterpillar_hover(row: CaterpillarRow, s: dict[str, str], lang: str) -> str:
    """The hover box of a caterpillar row: name, shrunk rate and interval, raw rate, hits of attempts."""
    return "<br>".join(
        [
            f"<b>{_esc(row.name)}</b>",
            s["hover_shrunk"].format(
                rate=fmt_pct(row.shrunk, lang), interval=fmt_interval(row.shrunk_low, row.shrunk_high, lang)
            ),
            s["hover_raw"].format(rate=fmt_pct(row.rate, lang)),
            s["hover_counts"].format(hits=fmt_int(row.hits, lang), attempts=fmt_int(row.attempts, lang)),
        ]
    )


def caterpillar_figure(
    rows: Sequence[CaterpillarRow], s: dict[str, str], lang: str, overall_rate: float | None = None
) -> go.Figure:
    """Shrunk rates with whiskers, highest on top; a faint ring at each raw rate, joined to its dot.

    Traces: the joins (one trace, segments split by gaps), the raw rates, the shrunk rates.
    """
    import plotly.graph_objects as go

    drawn = sorted((r for r in rows if r.charted), key=lambda r: (-r.shrunk, -r.attempts, r.name))
    names = [_esc(r.name) for r in drawn]
    hover = [caterpillar_hover(r, s, lang) for r in drawn]
    join_x: list[float | None] = []
    join_y: list[str | None] = []
    for r, name in zip(drawn, names, strict=True):
        if r.rate == r.rate:
            join_x += [r.rate, r.shrunk, None]
            join_y += [name, name, None]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=join_x,
            y=join_y,
            mode="lines",
            connectgaps=False,
            line={"color": WHISKER, "width": 1},
            opacity=0.5,
            hoverinfo="skip",
            showlegend=False,
            name="shrinkage",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[_maybe(r.rate) for r in drawn],
            y=names,
            mode="markers",
            marker={"size": 9, "symbol": "circle-open", "color": WHISKER, "line": {"width": 1.5}},
            opacity=0.7,
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            name=_esc(s["raw_rate"]),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[r.shrunk for r in drawn],
            y=names,
            mode="markers",
            marker={"size": 10, "color": ACCENT, "line": {"width": 1, "color": "white"}},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [r.shrunk_high - r.shrunk for r in drawn],
                "arrayminus": [r.shrunk - r.shrunk_low for r in drawn],
                "color": ACCENT,
                "thickness": 2,
                "width": 0,
            },
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            name=_esc(s["shrunk_rate"]),
        )
    )
    tops = [*(r.shrunk_high for r in drawn), *(r.rate for r in drawn)]
    if overall_rate is not None:
        tops.append(overall_rate)
    layout = _legend_layout(lang, height=max(240, 130 + 30 * len(drawn)))
    layout["xaxis"] = _rate_axis(s["hit_rate"], _upper(tops))
    layout["yaxis"] = {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": names,
        "autorange": "reversed",
        "showgrid": False,
        "ticks": "",
        "fixedrange": True,
        "automargin": True,
    }
    fig.update_layout(**layout)
    if overall_rate is not None and not math.isnan(overall_rate):
        fig.add_vline(
            x=overall_rate,
            line={"color": REFERENCE, "dash": "dash", "width": 1.5},
            annotation_text=_esc(s["overall_line"].format(rate=fmt_pct(overall_rate, lang))),
            annotation_position="bottom right",
            annotation_font={"color": REFERENCE, "size": 12},
        )
    return fig


def season_hover(row: SeasonRow, s: dict[str, str], lang: str) -> str:
    """The hover box of a period: name, rate, interval, hits of attempts, trend, adjusted rate, unusual mark."""
    lines = [
        f"<b>{_esc(row.name)}</b>",
        s["hover_rate"].format(rate=fmt_pct(row.rate, lang)),
        s["hover_interval"].format(interval=fmt_interval(row.ci_low, row.ci_high, lang)),
        s["hover_counts"].format(hits=fmt_int(row.hits, lang), attempts=fmt_int(row.attempts, lang)),
        s["hover_trend"].format(rate=fmt_pct(row.trend, lang)),
        s["hover_adjusted"].format(rate=fmt_pct(row.adjusted, lang)),
    ]
    if row.unusual:
        lines.append(f"<b>{_esc(unusual_text(row.unusual, s))}</b>")
    return "<br>".join(lines)


def seasonal_figure(rows: Sequence[SeasonRow], s: dict[str, str], lang: str) -> go.Figure:
    """Observed rate with its band, the trend, the seasonally adjusted rate and marks on unusual periods.

    Traces, in order: band upper edge, band lower edge (filled), observed rate, trend,
    adjusted rate, then one marker trace per kind of unusual period present ("high", "low").
    """
    import plotly.graph_objects as go

    periods = [_esc(r.name) for r in rows]
    drawn = [r for r in rows if r.charted and r.ci_low == r.ci_low and r.ci_high == r.ci_high]
    drawn_x = [_esc(r.name) for r in drawn]
    hover = [season_hover(r, s, lang) for r in rows]
    fig = go.Figure()
    for edge, fill in (("ci_high", None), ("ci_low", "tonexty")):
        fig.add_trace(
            go.Scatter(
                x=drawn_x,
                y=[getattr(r, edge) for r in drawn],
                mode="lines",
                line={"width": 0, "color": BAND},
                fill=fill,
                fillcolor=BAND if fill else None,
                hoverinfo="skip",
                showlegend=False,
                name=edge,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=periods,
            y=[r.rate if r.charted else None for r in rows],
            mode="lines+markers",
            connectgaps=False,
            line={"color": ACCENT, "width": 1},
            marker={"size": 7, "color": ACCENT, "line": {"width": 1, "color": "white"}},
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            name=_esc(s["hit_rate"]),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=periods,
            y=[_maybe(r.trend) for r in rows],
            mode="lines",
            line={"color": TEXT, "width": 2.5},
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            name=_esc(s["trend"]),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=periods,
            y=[r.adjusted if r.charted and r.adjusted == r.adjusted else None for r in rows],
            mode="lines",
            connectgaps=False,
            line={"color": ADJUSTED, "width": 2, "dash": "dash"},
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            name=_esc(s["adjusted_rate"]),
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
                marker={"size": 16, "color": colour, "symbol": symbol, "line": {"width": 1, "color": "white"}},
                hovertext=[hover[i] for i, _ in marked],
                hovertemplate="%{hovertext}<extra></extra>",
                name=_esc(s[f"unusual_{mark}"]),
            )
        )
    tops = [*(r.ci_high for r in drawn), *(r.rate for r in rows if r.charted), *(r.trend for r in rows)]
    tops += [r.adjusted for r in rows if r.charted]
    layout = _legend_layout(lang, height=420)
    layout["yaxis"] = _rate_axis(s["hit_rate"], _upper(tops))
    layout["xaxis"] = _category_axis(periods)
    fig.update_layout(**layout)
    return fig


def factors_figure(factors: Sequence[FactorRow], s: dict[str, str], lang: str, unit: str = "month") -> go.Figure:
    """Seasonal odds factors as bars rising from (or falling to) 1, with interval whiskers and a line at 1.

    Traces: the bars (``base=1``, length ``factor - 1``), then dots at the factors carrying the
    whiskers. An unbounded upper end (``inf``) is drawn to the top of the axis.
    """
    import plotly.graph_objects as go

    names = [_esc(f.name) for f in factors]
    values = _finite([f.factor for f in factors])
    largest = max([*values, 1.0])
    top = min(max([*_finite([f.high for f in factors]), largest, 1.0]), max(3.0, 2 * largest)) * 1.08
    hover = [
        f"<b>{_esc(f.name)}</b><br>"
        + s["hover_factor"].format(factor=fmt_factor(f.factor, lang), interval=fmt_factor_interval(f.low, f.high, lang))
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
            hovertemplate="%{hovertext}<extra></extra>",
            name=_esc(s["seasonal_factor"]),
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
            hovertemplate="%{hovertext}<extra></extra>",
            name=_esc(s["seasonal_factor"]),
        )
    )
    layout = _base_layout(lang, height=320)
    layout["xaxis"] = _category_axis(names, s[unit])
    layout["yaxis"] = {
        "title": {"text": _esc(s["seasonal_factor"])},
        "range": [0, top],
        "showgrid": True,
        "gridcolor": GRID,
        "zeroline": False,
        "showline": True,
        "linecolor": WHISKER,
        "ticks": "outside",
        "tickcolor": WHISKER,
        "fixedrange": True,
        "automargin": True,
    }
    fig.update_layout(**layout)
    fig.add_hline(y=1, line={"color": REFERENCE, "dash": "dash", "width": 1.5})
    return fig


def cohort_hover(curve: CohortCurve, age: int, share: float, s: dict[str, str], lang: str) -> str:
    """The hover box of one point of a cohort curve: cohort, deal age, share of its deals won."""
    return "<br>".join(
        [
            f"<b>{_esc(curve.name)}</b>",
            s["hover_age"].format(days=fmt_int(age, lang)),
            s["hover_share"].format(share=fmt_pct(share, lang), n=fmt_int(curve.n, lang)),
        ]
    )


def cohort_figure(curves: Sequence[CohortCurve], s: dict[str, str], lang: str) -> go.Figure:
    """One step line per cohort (share won by deal age), starting at 0 on day 0, with a dot where it ends."""
    import plotly.graph_objects as go

    drawn = [c for c in curves if c.ages]
    fig = go.Figure()
    for i, curve in enumerate(drawn):
        ages, shares = list(curve.ages), list(curve.shares)
        if ages[0] > 0:
            ages, shares = [0, *ages], [0.0, *shares]
        colour = COHORT_COLOURS[i % len(COHORT_COLOURS)]
        fig.add_trace(
            go.Scatter(
                x=ages,
                y=[_maybe(v) for v in shares],
                mode="lines+markers",
                line={"shape": "hv", "color": colour, "width": 2},
                marker={"size": [0] * (len(ages) - 1) + [8], "color": colour},
                hovertext=[cohort_hover(curve, a, v, s, lang) for a, v in zip(ages, shares, strict=True)],
                hovertemplate="%{hovertext}<extra></extra>",
                name=_esc(curve.name),
            )
        )
    oldest = max((c.ages[-1] for c in drawn), default=1) or 1
    layout = _legend_layout(lang, height=420)
    layout["xaxis"] = _count_axis(s["deal_age"], oldest * 1.03)
    layout["yaxis"] = _rate_axis(s["share_won"], _upper([v for c in drawn for v in c.shares]))
    fig.update_layout(**layout)
    return fig


def figure_html(fig: go.Figure, div_id: str, filename: str) -> str:
    """The figure as a ``<div>`` plus inline script; plotly.js itself must already be on the page."""
    return str(
        fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            default_width="100%",
            config={
                "displaylogo": False,
                "responsive": True,
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "zoom2d", "pan2d"],
                "toImageButtonOptions": {"filename": filename},
            },
        )
    )
