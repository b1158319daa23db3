"""The cohort chart: each cohort's share of deals won by deal age, as a step line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hitrate.report._charts.style import (
    COHORT_COLOURS,
    HOVER,
    count_axis,
    esc,
    hover_box,
    legend_layout,
    maybe,
    rate_axis,
    upper,
)
from hitrate.report._model import CohortCurve

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from hitrate.report.words import Words


def cohort_hover(curve: CohortCurve, age: int, share: float, s: Words, lang: str) -> str:
    """The hover box of one point of a cohort curve: cohort, deal age, share of its deals won."""
    return hover_box(curve.name, [s("hover_age", days=age), s("hover_share", share=share, n=curve.n)])


def cohort_figure(curves: Sequence[CohortCurve], s: Words, lang: str) -> go.Figure:
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
                y=[maybe(v) for v in shares],
                mode="lines+markers",
                line={"shape": "hv", "color": colour, "width": 2},
                marker={"size": [0] * (len(ages) - 1) + [8], "color": colour},
                hovertext=[cohort_hover(curve, a, v, s, lang) for a, v in zip(ages, shares, strict=True)],
                hovertemplate=HOVER,
                name=esc(curve.name),
            )
        )
    oldest = max((c.ages[-1] for c in drawn), default=1) or 1
    layout = legend_layout(lang, height=420)
    layout["xaxis"] = count_axis(s["deal_age"], oldest * 1.03)
    layout["yaxis"] = rate_axis(s["share_won"], upper([v for c in drawn for v in c.shares]))
    fig.update_layout(**layout)
    return fig
