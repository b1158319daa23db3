"""Plotly figures of the results the HTML report has no chart for: a comparison, the stage funnel, the ramp
curves and what a higher hit rate is worth. Plotly is imported inside each function.

They follow the report's look (white ground, one accent colour, rates as percentages, the language's number
separators) and put every word through the catalogues.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

from hitrate.i18n import Message

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from hitrate.analysis.compare import ComparisonResult
    from hitrate.analysis.funnel import StageFunnel
    from hitrate.analysis.ramp import RampResult
    from hitrate.analysis.worth import WorthResult

ACCENT = "#2c5d8f"
BAND = "rgba(44, 93, 143, 0.16)"
REFERENCE = "#6b7280"
GRID = "#e5e7eb"
TEXT = "#1f2933"
#: Colours of several series in turn (Okabe-Ito, readable with colour-blindness).
COLOURS: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=False)


def _layout(title: str, lang: str, height: int = 360, legend: bool = False) -> dict[str, Any]:
    return {
        "title": {"text": _esc(title)},
        "template": "none",
        "height": height,
        "margin": {"l": 10, "r": 24, "t": 56, "b": 48},
        "font": {"family": FONT, "size": 13, "color": TEXT},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "showlegend": legend,
        "legend": {"orientation": "h", "x": 0, "y": -0.2},
        "separators": ",." if lang == "da" else ".,",
    }


def _axis(title: str, tickformat: str = "") -> dict[str, Any]:
    return {
        "title": {"text": _esc(title)},
        "tickformat": tickformat,
        "showgrid": True,
        "gridcolor": GRID,
        "zeroline": False,
        "automargin": True,
    }


def _number(value: Any) -> float | None:
    """A value Plotly can draw: None for missing and NaN."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def two_rates(result: ComparisonResult, lang: str) -> go.Figure:
    """The two hit rates as dots with their Wilson intervals; the difference, its interval and p in the title."""
    import numpy as np
    import plotly.graph_objects as go

    from hitrate.stats.intervals import wilson_interval

    d = result.difference
    hits = np.array([d.hits_a, d.hits_b], dtype=float)
    attempts = np.array([d.attempts_a, d.attempts_b], dtype=float)
    low, high = wilson_interval(hits, attempts)
    rates = [_number(d.rate_a), _number(d.rate_b)]
    labels = [_esc(result.a), _esc(result.b)]
    error = {
        "type": "data",
        "array": [h - r if r is not None else None for h, r in zip(high, rates, strict=True)],
        "arrayminus": [r - lo if r is not None else None for lo, r in zip(low, rates, strict=True)],
        "color": REFERENCE,
    }
    fig = go.Figure(go.Scatter(x=rates, y=labels, mode="markers", marker={"color": ACCENT, "size": 11}, error_x=error))
    headline = result.headline().params
    title = Message("compare.difference_title", **{k: headline[k] for k in ("difference", "low", "high", "p")})
    fig.update_layout(**_layout(title.render(lang), lang, height=240))
    fig.update_xaxes(**_axis(Message("compare.rate_axis").render(lang), ".0%"), rangemode="tozero")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


def stage_funnel_figure(result: StageFunnel, lang: str) -> go.Figure:
    """The deals that reached each open stage, in pipeline order: one funnel per group."""
    import plotly.graph_objects as go

    groups = list(dict.fromkeys(r[result.by] for r in result.rows)) if result.by else [None]
    fig = go.Figure()
    for i, group in enumerate(groups):
        rows = [r for r in result.rows if not result.by or r[result.by] == group]
        name = Message("funnel.all").render(lang) if group is None else str(group)
        fig.add_trace(
            go.Funnel(
                name=_esc(name),
                y=[_esc(r["stage"]) for r in rows],
                x=[r["reached"] for r in rows],
                textinfo="value+percent initial",
                marker={"color": COLOURS[i % len(COLOURS)] if result.by else ACCENT},
            )
        )
    fig.update_layout(**_layout(result.title().render(lang), lang, legend=bool(result.by)))
    fig.update_xaxes(title={"text": _esc(Message("funnel.reached").render(lang))})
    return fig


def ramp_figure(result: RampResult, lang: str) -> go.Figure:
    """Hit rate by month since hire, a line per hiring cohort, and the tenured reps' rate with its band."""
    import plotly.graph_objects as go

    fig = go.Figure()
    cohorts = list(dict.fromkeys(c["cohort"] for c in result.curves))
    for i, cohort in enumerate(cohorts):
        rows = [c for c in result.curves if c["cohort"] == cohort]
        fig.add_trace(
            go.Scatter(
                name=_esc(cohort),
                x=[c["month"] for c in rows],
                y=[_number(c["hit_rate"]) for c in rows],
                mode="lines+markers",
                line={"color": COLOURS[i % len(COLOURS)]},
            )
        )
    ten = result.tenured
    if ten["hit_rate"] is not None:
        label = _esc(Message("ramp.tenured_line").render(lang))
        fig.add_hrect(y0=ten["ci_low"], y1=ten["ci_high"], fillcolor=BAND, line_width=0)
        fig.add_hline(y=ten["hit_rate"], line={"color": REFERENCE, "dash": "dash"}, annotation_text=label)
    fig.update_layout(**_layout(result.title().render(lang), lang, height=400, legend=True))
    fig.update_xaxes(**_axis(Message("ramp.month_axis").render(lang)))
    fig.update_yaxes(**_axis(Message("ramp.rate_axis").render(lang), ".0%"), rangemode="tozero")
    return fig


def worth_figure(result: WorthResult, lang: str) -> go.Figure:
    """The extra revenue of each group at the higher hit rate, with its interval."""
    import plotly.graph_objects as go

    names = [str(r[result.by]) if result.by else Message("worth.all").render(lang) for r in result.rows]
    values = [_number(r["extra_revenue"]) for r in result.rows]
    high = [_number(r["extra_revenue_high"]) for r in result.rows]
    low = [_number(r["extra_revenue_low"]) for r in result.rows]
    error = {
        "type": "data",
        "array": [None if h is None or v is None else h - v for h, v in zip(high, values, strict=True)],
        "arrayminus": [None if lo is None or v is None else v - lo for lo, v in zip(low, values, strict=True)],
        "color": REFERENCE,
    }
    fig = go.Figure(go.Bar(x=[_esc(n) for n in names], y=values, marker={"color": ACCENT}, error_y=error))
    fig.update_layout(**_layout(result.title().render(lang), lang))
    fig.update_yaxes(**_axis(Message("worth.revenue_axis").render(lang), ",.0f"))
    fig.update_xaxes(automargin=True)
    return fig
