"""What every chart of the report shares: colours, fonts, layout, axes, hover boxes and the common traces.

Text handed to plotly (category names, hover text, annotations) is HTML-escaped first: plotly.js reads a few
tags (``<b>``, ``<a href>``...) in text and decodes entities, so escaping makes a label such as
``<b>North</b>`` show literally instead of in bold.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from hitrate.report.words import Words

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
#: The hover template of every trace with hover text: the text alone, no trace name box.
HOVER = "%{hovertext}<extra></extra>"
#: A dot on a chart: white-rimmed, in the accent colour.
DOT: dict[str, Any] = {"size": 10, "color": ACCENT, "line": {"width": 1, "color": "white"}}
#: The frame of an axis drawn as a line with ticks outside; the axis does not zoom.
_FRAMED: dict[str, Any] = {
    "showline": True,
    "linecolor": WHISKER,
    "ticks": "outside",
    "tickcolor": WHISKER,
    "fixedrange": True,
    "automargin": True,
}


def esc(text: str) -> str:
    """``text`` safe to hand to plotly (see the module docstring)."""
    return html.escape(text, quote=False)


def hover_box(name: str, lines: Sequence[str]) -> str:
    """A hover box: the row's name in bold, then one line each."""
    return "<br>".join([f"<b>{esc(name)}</b>", *lines])


def finite(values: Sequence[float]) -> list[float]:
    """The values that are neither NaN nor infinite."""
    return [v for v in values if v == v and not math.isinf(v)]


def upper(values: Sequence[float]) -> float:
    """Top of a rate axis holding ``values``: a little above the largest, at most 100 %."""
    return min(1.0, max([*finite(values), 0.05]) * 1.08 + 0.01)


def maybe(value: float) -> float | None:
    """``None`` (a gap in a plotly line) for NaN, else the value."""
    return value if value == value else None


def base_layout(lang: str, height: int) -> dict[str, Any]:
    """The layout every chart starts from: white, the page's font, no legend, the language's separators."""
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


def legend_layout(lang: str, height: int) -> dict[str, Any]:
    """:func:`base_layout` with a legend above the plot."""
    layout = base_layout(lang, height)
    layout["showlegend"] = True
    layout["legend"] = LEGEND
    layout["margin"] = {**layout["margin"], "t": 64}
    return layout


def value_axis(title: str, top: float, tickformat: str | None = None) -> dict[str, Any]:
    """A value axis from 0 to ``top`` with grid lines."""
    axis: dict[str, Any] = {"title": {"text": esc(title)}, "range": [0, top]}
    if tickformat is not None:
        axis["tickformat"] = tickformat
    return {**axis, "showgrid": True, "gridcolor": GRID, "zeroline": False, **_FRAMED}


def rate_axis(title: str, top: float) -> dict[str, Any]:
    """A rate axis from 0 to ``top``, ticks as whole percentages."""
    return value_axis(title, top, ".0%")


def count_axis(title: str, top: float) -> dict[str, Any]:
    """A count axis from 0 to ``top``, ticks as whole numbers."""
    return value_axis(title, top, ",d")


def category_axis(names: Sequence[str], title: str | None = None) -> dict[str, Any]:
    """An axis of categories (periods, months) in the given order."""
    axis: dict[str, Any] = {"type": "category", "categoryorder": "array", "categoryarray": list(names)}
    axis.update({"showgrid": False, **_FRAMED})
    if title is not None:
        axis["title"] = {"text": esc(title)}
    return axis


def row_axis(names: Sequence[str]) -> dict[str, Any]:
    """The vertical axis of a ranked chart: one row per name, the first at the top."""
    return {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": list(names),
        "autorange": "reversed",
        "showgrid": False,
        "ticks": "",
        "fixedrange": True,
        "automargin": True,
    }


def whiskers(values: Sequence[float], lows: Sequence[float], highs: Sequence[float], colour: str) -> dict[str, Any]:
    """Error bars from each value down to its low and up to its high end."""
    return {
        "type": "data",
        "symmetric": False,
        "array": [h - v for v, h in zip(values, highs, strict=True)],
        "arrayminus": [v - lo for v, lo in zip(values, lows, strict=True)],
        "color": colour,
        "thickness": 2,
        "width": 0,
    }


def band(x: Sequence[str], lows: Sequence[float], highs: Sequence[float]) -> list[go.Scatter]:
    """A shaded band between ``lows`` and ``highs``: the upper edge (invisible), then the lower edge filled up
    to it; the traces are named ``ci_high`` and ``ci_low``."""
    import plotly.graph_objects as go

    return [
        go.Scatter(
            x=list(x),
            y=list(edge),
            mode="lines",
            line={"width": 0, "color": BAND},
            fill=fill,
            fillcolor=BAND if fill else None,
            hoverinfo="skip",
            showlegend=False,
            name=name,
        )
        for name, edge, fill in (("ci_high", highs, None), ("ci_low", lows, "tonexty"))
    ]


def overall_line(fig: go.Figure, rate: float | None, s: Words, *, vertical: bool, position: str) -> None:
    """A dashed line at the overall hit rate, labelled with it, unless there is none."""
    if rate is None or math.isnan(rate):
        return
    style = {
        "line": {"color": REFERENCE, "dash": "dash", "width": 1.5},
        "annotation_text": esc(s("overall_line", rate=rate)),
        "annotation_position": position,
        "annotation_font": {"color": REFERENCE, "size": 12},
    }
    if vertical:
        fig.add_vline(x=rate, **style)
    else:
        fig.add_hline(y=rate, **style)


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
