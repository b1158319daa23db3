"""Self-contained HTML reports of hit rates.

A report is one HTML file that opens with no network access: plotly.js is inlined
once in its head, styles are inline and no fonts are fetched. Each section is a
:class:`RateTable` drawn as a chart and followed by a table of the numbers, so every
hit rate is shown with its attempts and 95% Wilson interval::

    from hitrate.report import RateTable, write_report

    write_report(
        "hit-rate.html",
        title="Hit rate 2024",
        subtitle="All closed opportunities",
        definitions_hash=defs_hash,
        sections=[RateTable("Hit rate by team", by_team, label="team", overall_rate=0.41)],
        lang="en",  # or "da"
    )

Plotly and Jinja2 (the ``report`` extra) are imported only when a report is rendered.
"""

from __future__ import annotations

from hitrate.report._model import METRIC_COLUMNS, RateTable
from hitrate.report._render import render_report, write_report

__all__ = ["METRIC_COLUMNS", "RateTable", "render_report", "write_report"]
