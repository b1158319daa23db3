"""Self-contained HTML reports of hit rates.

A report is one HTML file that opens with no network access: plotly.js is inlined
once in its head, styles are inline and no fonts are fetched. Each section is drawn
as a chart, with a plain-words caption on how to read it, and followed by a table of
the same numbers, so every hit rate is shown with its attempts and interval::

    from hitrate.report import RateTable, write_report

    write_report(
        "hit-rate.html",
        title="Hit rate 2024",
        subtitle="All closed opportunities",
        definitions_hash=defs_hash,
        sections=[RateTable("Hit rate by team", by_team, label="team", overall_rate=0.41)],
        lang="en",  # or "da"
    )

The sections (see each class for the exact frame columns it needs):

* :class:`RateTable` -- hit rates by group (``kind="bars"``) or over periods
  (``kind="trend"``), from a rates result's frame.
* :class:`FunnelPlot` (``kind="funnel"``) -- hit rate against attempts inside 95% and
  99.8% control limits around the overall rate, dots by ``flag``; columns as in
  :func:`hitrate.analysis.benchmark.benchmark`.
* :class:`CaterpillarPlot` (``kind="caterpillar"``) -- shrunk rates sorted, with their
  intervals and a faint mark at each raw rate.
* :class:`SeasonalPlot` (``kind="seasonal"``) -- a monthly series with its trend, its
  seasonally adjusted rate and unusual periods, plus the seasonal odds factors by month.
* :class:`CohortCurves` (``kind="cohorts"``) -- the cumulative share of each cohort's
  deals won by deal age.

Every section has ``title`` and ``note``, and a ``kind`` naming the chart; a section given a frame it cannot
draw raises :class:`SectionError` (a ``ValueError``). The report's words come from the catalogues
(:mod:`hitrate.report.words`), its numbers from :mod:`hitrate.i18n.format`. Plotly and Jinja2 (the
``report`` extra) are imported only when a report is rendered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hitrate.report._errors import SectionError
    from hitrate.report._model import (
        METRIC_COLUMNS,
        CaterpillarPlot,
        CohortCurves,
        FindingsTable,
        FunnelPlot,
        RateTable,
        SeasonalPlot,
        Section,
    )
    from hitrate.report._render import render_report, write_report

#: Where each public name lives: imported on first use (PEP 562), so ``hitrate.report.result``, which every
#: result imports, does not load the sections and the renderer for a command that prints JSON.
_HOMES = {
    "SectionError": "hitrate.report._errors",
    "render_report": "hitrate.report._render",
    "write_report": "hitrate.report._render",
    **dict.fromkeys(
        ("METRIC_COLUMNS", "CaterpillarPlot", "CohortCurves", "FindingsTable", "FunnelPlot", "RateTable")
        + ("SeasonalPlot", "Section"),
        "hitrate.report._model",
    ),
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(name)
    import importlib

    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "METRIC_COLUMNS",
    "CaterpillarPlot",
    "CohortCurves",
    "FindingsTable",
    "FunnelPlot",
    "RateTable",
    "SeasonalPlot",
    "Section",
    "SectionError",
    "render_report",
    "write_report",
]
