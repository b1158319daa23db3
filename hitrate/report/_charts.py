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

from hitrate.report._i18n import fmt_pct
from hitrate.report._model import Row

if TYPE_CHECKING:
    import plotly.graph_objects as go

ACCENT = "#2c5d8f"
WHISKER = "#7a8ea3"
BAND = "rgba(44, 93, 143, 0.16)"
REFERENCE = "#6b7280"
GRID = "#e5e7eb"
TEXT = "#1f2933"
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
