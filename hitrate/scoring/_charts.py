"""Plotly figures of the scoring results: a calibration curve, the hit rate by decile, importance bars and
leads per band. Plotly is imported inside each function; labels are HTML-escaped (plotly.js reads a few tags)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hitrate.i18n import Message

if TYPE_CHECKING:
    import plotly.graph_objects as go

ACCENT = "#2c5d8f"
MUTED = "#6b7280"


def _figure(title: str, lang: str, x: str, y: str, **layout: Any) -> go.Figure:
    """An empty figure with the title, axis titles (message ids) and the language's decimal separators."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.update_layout(
        title={"text": html.escape(title)},
        template="none",
        height=420,
        margin={"l": 60, "r": 24, "t": 56, "b": 60},
        separators=",." if lang == "da" else ".,",
        showlegend=False,
        xaxis={"title": {"text": html.escape(Message(x).render(lang))}},
        yaxis={"title": {"text": html.escape(Message(y).render(lang))}, "gridcolor": "#e5e7eb"},
        **layout,
    )
    return fig


def calibration_figure(bins: Sequence[Mapping[str, Any]], *, title: str, lang: str) -> go.Figure:
    """Observed win rate against mean predicted probability per bin (marker size: leads), with the diagonal
    a calibrated score follows."""
    import plotly.graph_objects as go

    fig = _figure(title, lang, "scoring.axis_predicted", "scoring.axis_observed")
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"color": MUTED, "dash": "dot"}))
    largest = max((b["count"] for b in bins), default=1)
    fig.add_trace(
        go.Scatter(
            x=[b["mean_predicted"] for b in bins],
            y=[b["observed"] for b in bins],
            mode="lines+markers",
            line={"color": ACCENT},
            marker={"color": ACCENT, "size": [8 + 16 * (b["count"] / largest) ** 0.5 for b in bins]},
        )
    )
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return fig


def deciles_figure(deciles: Sequence[Mapping[str, Any]], base_rate: float, *, title: str, lang: str) -> go.Figure:
    """Hit rate of each tenth of the leads by descending score, against the base rate (dotted)."""
    import plotly.graph_objects as go

    fig = _figure(title, lang, "scoring.axis_decile", "scoring.axis_hit_rate")
    fig.add_trace(go.Bar(x=[d["decile"] for d in deciles], y=[d["hit_rate"] for d in deciles], marker_color=ACCENT))
    fig.add_hline(y=base_rate, line_dash="dot", line_color=MUTED)
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=".0%")
    return fig


def importance_figure(importance: Mapping[str, float], *, title: str, lang: str, top: int = 15) -> go.Figure:
    """Horizontal bars of the largest importances, largest at the top."""
    import plotly.graph_objects as go

    shown = sorted(importance.items(), key=lambda kv: -kv[1])[:top]
    fig = _figure(title, lang, "scoring.axis_importance", "scoring.axis_feature")
    fig.add_trace(
        go.Bar(
            x=[v for _, v in shown],
            y=[html.escape(str(k)) for k, _ in shown],
            orientation="h",
            marker_color=ACCENT,
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def bands_figure(bands: Mapping[str, int], *, title: str, lang: str) -> go.Figure:
    """Leads per work-first band."""
    import plotly.graph_objects as go

    fig = _figure(title, lang, "scoring.axis_band", "scoring.axis_leads")
    fig.add_trace(go.Bar(x=list(bands), y=list(bands.values()), marker_color=ACCENT))
    fig.update_xaxes(type="category")
    return fig
