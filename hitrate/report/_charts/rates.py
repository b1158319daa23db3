"""Charts of a rates table: hit rates by group as dots with whiskers, and hit rate over periods with its band."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hitrate.report._charts.style import (
    ACCENT,
    DOT,
    HOVER,
    WHISKER,
    band,
    base_layout,
    category_axis,
    esc,
    hover_box,
    overall_line,
    rate_axis,
    row_axis,
    upper,
    whiskers,
)
from hitrate.report._model import Row

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from hitrate.report.words import Words


def hover_text(row: Row, s: Words) -> str:
    """The hover box of one row: name, rate, interval, hits of attempts, value hit rate."""
    lines = [
        s("hover_rate", rate=row.rate),
        s("hover_interval", interval=row.interval_text),
        s("hover_counts", hits=row.hits, attempts=row.attempts),
    ]
    if row.value_rate == row.value_rate:  # not NaN
        lines.append(s("hover_value", rate=row.value_rate))
    return hover_box(row.name, lines)


def _rate_top(rows: Sequence[Row], overall_rate: float | None) -> float:
    """Top of the rate axis: a little above the highest interval end (and the overall rate), at most 100 %."""
    return upper([r.ci_high for r in rows] + ([overall_rate] if overall_rate is not None else []))


def bars_figure(rows: Sequence[Row], s: Words, lang: str, overall_rate: float | None = None) -> go.Figure:
    """Horizontal dot-and-whisker chart, highest rate at the top; rows without attempts are left out."""
    import plotly.graph_objects as go

    drawn = sorted((r for r in rows if r.charted), key=lambda r: (-r.rate, -r.attempts, r.name))
    names = [esc(r.name) for r in drawn]
    rates = [r.rate for r in drawn]
    fig = go.Figure(
        go.Scatter(
            x=rates,
            y=names,
            mode="markers",
            marker=DOT,
            error_x=whiskers(rates, [r.ci_low for r in drawn], [r.ci_high for r in drawn], WHISKER),
            hovertext=[hover_text(r, s) for r in drawn],
            hovertemplate=HOVER,
            name=esc(s["hit_rate"]),
        )
    )
    layout = base_layout(lang, height=max(200, 90 + 30 * len(drawn)))
    layout["xaxis"] = rate_axis(s["hit_rate"], _rate_top(drawn, overall_rate))
    layout["yaxis"] = row_axis(names)
    fig.update_layout(**layout)
    overall_line(fig, overall_rate, s, vertical=True, position="top")
    return fig


def trend_figure(rows: Sequence[Row], s: Words, lang: str, overall_rate: float | None = None) -> go.Figure:
    """Hit rate over periods in the given order, a shaded 95% band, markers sized by attempts."""
    import plotly.graph_objects as go

    periods = [esc(r.name) for r in rows]
    drawn = [r for r in rows if r.charted]
    most = max((r.attempts for r in drawn), default=1) or 1
    fig = go.Figure(band([esc(r.name) for r in drawn], [r.ci_low for r in drawn], [r.ci_high for r in drawn]))
    fig.add_trace(
        go.Scatter(
            x=periods,
            y=[r.rate if r.charted else None for r in rows],
            mode="lines+markers",
            connectgaps=False,
            line={"color": ACCENT, "width": 2},
            marker={
                **DOT,
                "size": [6 + 14 * math.sqrt(r.attempts / most) if r.charted else 0 for r in rows],
            },
            hovertext=[hover_text(r, s) for r in rows],
            hovertemplate=HOVER,
            name=esc(s["hit_rate"]),
        )
    )
    layout = base_layout(lang, height=380)
    layout["yaxis"] = rate_axis(s["hit_rate"], _rate_top(drawn, overall_rate))
    layout["xaxis"] = category_axis(periods)
    fig.update_layout(**layout)
    overall_line(fig, overall_rate, s, vertical=False, position="top left")
    return fig
