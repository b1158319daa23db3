"""A result as a notebook shows it: headline, chart and a compact table, in one HTML fragment that works offline.

The chart is the report's (same section builders, same Plotly figure). plotly.js is inlined into the first
fragment a process renders and referred to by the later ones, as Plotly's own ``init_notebook_mode`` does:
nothing is fetched from the network, and a notebook does not carry 3.5 MB per cell.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from hitrate.i18n import DEFAULT_LANG, render_all

if TYPE_CHECKING:
    from hitrate.report.result import Result

_STATE = {"plotly_sent": False}  # per process: has a fragment carried plotly.js yet?


def plotly_script() -> str:
    """plotly.js in a ``<script>`` element the first time a process asks, then nothing."""
    if _STATE["plotly_sent"]:
        return ""
    from hitrate.report._render import plotly_js

    _STATE["plotly_sent"] = True
    return f'<script type="text/javascript">{plotly_js()}</script>'


def _own_figure(result: Result, lang: str) -> Any:
    """The figure of a result drawn by its own ``plot()`` (no report section), or None when it has nothing to
    chart."""
    try:
        return result.plot(lang)
    except (NotImplementedError, ValueError):
        return None


def _own_chart(result: Result, lang: str) -> list[str]:
    """plotly.js (the first time) and the result's own figure as HTML, or nothing when it draws none."""
    figure = _own_figure(result, lang)
    if figure is None:
        return []
    from hitrate.report._charts import figure_html

    div = figure_html(figure, div_id=f"hitrate-{id(result):x}", filename=type(result).__name__.lower())
    return [plotly_script(), div]


def result_html(result: Result, lang: str = DEFAULT_LANG) -> str:
    """The result's title, headline (unless a section opens with it), report sections (charts and tables) or else
    its frame, and notes."""
    from hitrate.report._render import section_contexts
    from hitrate.report.result import frame_html

    parts = [f"<h4>{html.escape(result.title().render(lang))}</h4>"]
    headline = result.headline()
    sections = result.sections(lang)
    said = headline.render(lang) if headline is not None else ""
    if said and said not in {section.lead for section in sections}:  # else the section opens with it
        parts.append(f"<p><strong>{html.escape(said)}</strong></p>")
    if sections:
        from hitrate.report._render import _environment

        contexts = section_contexts(sections, lang)
        if any(block["type"] == "figure" for section in contexts for block in section["blocks"]):
            parts.append(plotly_script())
        else:  # sections of tables only (doctor's findings): the result's own chart above them
            parts.extend(_own_chart(result, lang))
        template = _environment().get_template("_section.html")
        parts.extend(template.render(section=section) for section in contexts)
    else:
        parts.extend(_own_chart(result, lang))
        parts.append(frame_html(result.to_frame(), lang))
    notes = render_all(result.notes(), lang)
    if notes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    return '<div class="hitrate-result">' + "".join(parts) + "</div>"
