"""Charts of a benchmark: the funnel plot (rate against attempts inside control limits) and the caterpillar
plot (shrunk rates, sorted, next to the raw ones)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hitrate.i18n import format as fmt
from hitrate.report._charts.style import (
    ACCENT,
    DOT,
    FLAG_STYLE,
    HOVER,
    REFERENCE,
    WHISKER,
    WITHIN,
    count_axis,
    esc,
    hover_box,
    legend_layout,
    maybe,
    overall_line,
    rate_axis,
    row_axis,
    upper,
    whiskers,
)
from hitrate.report._model import CaterpillarRow, FunnelRow
from hitrate.report.words import flag_text

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import plotly.graph_objects as go

    from hitrate.report.words import Words


def funnel_limit_curves(
    overall_rate: float, attempts: npt.ArrayLike, level: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The lower and upper funnel limits at ``level`` (e.g. 0.95) around ``overall_rate``, for each of ``attempts``.

    Exact binomial quantiles move in whole hits, which would draw a saw-tooth; as in
    Spiegelhalter's funnel plots (2005) they are interpolated between whole counts. With
    ``t = (1 - level) / 2``, ``F`` and ``f`` the CDF and PMF of Binomial(n, overall_rate):
    ``lower = (r - a) / n`` with ``r`` the ``t`` quantile and ``a = (F(r) - t) / f(r)``, and
    ``upper = (r + 1 - a) / n`` with ``r`` the ``1 - t`` quantile and ``a = (F(r) - (1 - t)) / f(r)``,
    clipped to 0..1. These are the limits of :func:`hitrate.stats.funnel_plot.funnel_limits`,
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
    # (words key, level, line dash)
    ("limits998", 0.998, "dot"),
    ("limits95", 0.95, "dash"),
)


def funnel_hover(row: FunnelRow, s: Words, lang: str) -> str:
    """The hover box of a funnel dot: name, hits of attempts, rate, interval, flag."""
    return hover_box(
        row.name,
        [
            s("hover_counts", hits=row.hits, attempts=row.attempts),
            s("hover_rate", rate=row.rate),
            s("hover_interval", interval=fmt.interval(row.ci_low, row.ci_high, lang)),
            s("hover_flag", flag=esc(flag_text(row.flag, s))),
        ],
    )


def funnel_figure(rows: Sequence[FunnelRow], s: Words, lang: str, overall_rate: float) -> go.Figure:
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
                name=esc(s[key]),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[0, grid[-1]],
            y=[overall_rate, overall_rate],
            mode="lines",
            line={"color": REFERENCE, "width": 1.5},
            hoverinfo="skip",
            name=esc(s("overall_line", rate=overall_rate)),
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
                marker={**DOT, "size": 11, "color": colour, "symbol": symbol},
                hovertext=[funnel_hover(r, s, lang) for r in group],
                hovertemplate=HOVER,
                name=esc(flag_text(flag, s)),
            )
        )
    layout = legend_layout(lang, height=440)
    layout["xaxis"] = count_axis(s["attempts"], grid[-1] * 1.02)
    layout["yaxis"] = rate_axis(s["hit_rate"], upper(tops))
    fig.update_layout(**layout)
    return fig


def caterpillar_hover(row: CaterpillarRow, s: Words, lang: str) -> str:
    """The hover box of a caterpillar row: name, shrunk rate and interval, raw rate, hits of attempts."""
    return hover_box(
        row.name,
        [
            s("hover_shrunk", rate=row.shrunk, interval=fmt.interval(row.shrunk_low, row.shrunk_high, lang)),
            s("hover_raw", rate=row.rate),
            s("hover_counts", hits=row.hits, attempts=row.attempts),
        ],
    )


def caterpillar_figure(
    rows: Sequence[CaterpillarRow], s: Words, lang: str, overall_rate: float | None = None
) -> go.Figure:
    """Shrunk rates with whiskers, highest on top; a faint ring at each raw rate, joined to its dot.

    Traces: the joins (one trace, segments split by gaps), the raw rates, the shrunk rates.
    """
    import plotly.graph_objects as go

    drawn = sorted((r for r in rows if r.charted), key=lambda r: (-r.shrunk, -r.attempts, r.name))
    names = [esc(r.name) for r in drawn]
    hover = [caterpillar_hover(r, s, lang) for r in drawn]
    join_x: list[float | None] = []
    join_y: list[str | None] = []
    for r, name in zip(drawn, names, strict=True):
        if r.rate == r.rate:
            join_x += [r.rate, r.shrunk, None]
            join_y += [name, name, None]
    shrunk = [r.shrunk for r in drawn]
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
            x=[maybe(r.rate) for r in drawn],
            y=names,
            mode="markers",
            marker={"size": 9, "symbol": "circle-open", "color": WHISKER, "line": {"width": 1.5}},
            opacity=0.7,
            hovertext=hover,
            hovertemplate=HOVER,
            name=esc(s["raw_rate"]),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=shrunk,
            y=names,
            mode="markers",
            marker=DOT,
            error_x=whiskers(shrunk, [r.shrunk_low for r in drawn], [r.shrunk_high for r in drawn], ACCENT),
            hovertext=hover,
            hovertemplate=HOVER,
            name=esc(s["shrunk_rate"]),
        )
    )
    tops = [*(r.shrunk_high for r in drawn), *(r.rate for r in drawn)]
    if overall_rate is not None:
        tops.append(overall_rate)
    layout = legend_layout(lang, height=max(240, 130 + 30 * len(drawn)))
    layout["xaxis"] = rate_axis(s["hit_rate"], upper(tops))
    layout["yaxis"] = row_axis(names)
    fig.update_layout(**layout)
    overall_line(fig, overall_rate, s, vertical=True, position="bottom right")
    return fig
