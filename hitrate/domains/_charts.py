"""Plotly figures of the domain results: a rate per group against a reference rate (bets against break-even),
a distribution of pays and a pair of measures with intervals (slots). Plotly is imported inside each function;
labels are HTML-escaped, since plotly.js reads a few tags in text."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import plotly.graph_objects as go

ACCENT = "#2c5d8f"
REFERENCE = "#b45309"
GRID = "#e5e7eb"


def _layout(title: str, lang: str, **axes: Any) -> dict[str, Any]:
    return {
        "title": {"text": html.escape(title)},
        "template": "none",
        "height": 420,
        "margin": {"l": 60, "r": 24, "t": 56, "b": 60},
        "separators": ",." if lang == "da" else ".,",
        "legend": {"orientation": "h", "y": -0.18},
        **axes,
    }


def _gap(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def rate_against_figure(
    labels: Sequence[str],
    rates: Sequence[tuple[float | None, float | None, float | None]],
    reference: Sequence[float | None],
    *,
    title: str,
    rate: str,
    reference_name: str,
    lang: str,
) -> go.Figure:
    """Per label, a rate with its interval (``(rate, low, high)``) as a dot with whiskers, and the reference
    rate it must beat as a dashed line."""
    import plotly.graph_objects as go

    names = [html.escape(label) for label in labels]
    values = [r for r, _, _ in rates]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=names,
            y=values,
            name=html.escape(rate),
            mode="markers",
            marker={"color": ACCENT, "size": 9},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [_gap(high, r) for r, _, high in rates],
                "arrayminus": [_gap(r, low) for r, low, _ in rates],
                "color": ACCENT,
            },
        )
    )
    fig.add_trace(
        go.Scatter(
            x=names,
            y=list(reference),
            name=html.escape(reference_name),
            mode="lines+markers",
            line={"color": REFERENCE, "dash": "dash"},
            marker={"color": REFERENCE, "symbol": "diamond", "size": 7},
        )
    )
    fig.update_layout(
        **_layout(title, lang, yaxis={"tickformat": ".0%", "gridcolor": GRID, "title": {"text": html.escape(rate)}})
    )
    return fig


def distribution_figure(
    values: Sequence[str], shares: Sequence[float], *, title: str, x_title: str, y_title: str, lang: str
) -> go.Figure:
    """Bars of the share of each value (a pay), on a log scale so the rare large pays show."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=[html.escape(v) for v in values], y=list(shares), marker={"color": ACCENT}))
    fig.update_layout(
        **_layout(
            title,
            lang,
            xaxis={"type": "category", "title": {"text": html.escape(x_title)}},
            yaxis={"type": "log", "tickformat": ".2%", "gridcolor": GRID, "title": {"text": html.escape(y_title)}},
        )
    )
    return fig


def measures_figure(
    names: Sequence[str],
    values: Sequence[float],
    intervals: Sequence[tuple[float, float] | None],
    *,
    title: str,
    lang: str,
) -> go.Figure:
    """One bar per measure (proportions), with its interval where it has one."""
    import plotly.graph_objects as go

    upper = [None if i is None else i[1] - v for v, i in zip(values, intervals, strict=True)]
    lower = [None if i is None else v - i[0] for v, i in zip(values, intervals, strict=True)]
    fig = go.Figure(
        go.Bar(
            x=[html.escape(n) for n in names],
            y=list(values),
            marker={"color": ACCENT},
            error_y={"type": "data", "symmetric": False, "array": upper, "arrayminus": lower},
        )
    )
    fig.update_layout(**_layout(title, lang, yaxis={"tickformat": ".1%", "gridcolor": GRID}))
    return fig
