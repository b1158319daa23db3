"""Plotly figures for report sections, one module per chart family; Plotly is imported inside each function.

:mod:`.style` (colours, layout, axes, the shared traces), :mod:`.rates` (dots with whiskers, the trend),
:mod:`.benchmark` (funnel and caterpillar plots), :mod:`.seasonal` (seasonal decomposition and factors),
:mod:`.cohorts` (cohort curves).
"""

from __future__ import annotations

from hitrate.report._charts.benchmark import (
    FUNNEL_LEVELS,
    caterpillar_figure,
    caterpillar_hover,
    funnel_figure,
    funnel_grid,
    funnel_hover,
    funnel_limit_curves,
)
from hitrate.report._charts.cohorts import cohort_figure, cohort_hover
from hitrate.report._charts.rates import bars_figure, hover_text, trend_figure
from hitrate.report._charts.seasonal import factors_figure, season_hover, seasonal_figure
from hitrate.report._charts.style import figure_html

__all__ = [
    "FUNNEL_LEVELS",
    "bars_figure",
    "caterpillar_figure",
    "caterpillar_hover",
    "cohort_figure",
    "cohort_hover",
    "factors_figure",
    "figure_html",
    "funnel_figure",
    "funnel_grid",
    "funnel_hover",
    "funnel_limit_curves",
    "hover_text",
    "season_hover",
    "seasonal_figure",
    "trend_figure",
]
