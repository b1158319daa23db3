"""Render report sections into one self-contained HTML page.

Plotly and Jinja2 are imported inside the functions that need them, so importing
:mod:`hitrate.report` costs next to nothing. Reading frames into rows is :mod:`._rows`, what each section
shows is :mod:`._blocks`, the figures are :mod:`._charts`; this module puts them on the page.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitrate.report._blocks import Cell, Table, section_blocks
from hitrate.report._errors import NotASectionError
from hitrate.report._model import SECTION_TYPES, Section
from hitrate.report._rows import (
    caterpillar_rows,
    cohort_curves,
    factor_rows,
    factor_unit,
    funnel_rows,
    season_rows,
    section_rows,
)
from hitrate.report.words import report_words

if TYPE_CHECKING:
    import jinja2
    import plotly.graph_objects as go

#: How many characters of the definitions hash the header shows before the ellipsis.
HASH_SHOWN = 12

#: Footer paragraphs (term, explanation, the method's name or "") shown when the report has a section of the kind.
ABOUT_KINDS: tuple[tuple[str, str, str, str], ...] = (
    ("funnel", "funnel_limits", "about_funnel", "about_funnel_method"),
    ("caterpillar", "shrunk_rate", "about_shrunk", "about_shrunk_method"),
    ("seasonal", "seasonal_decomposition", "about_seasonal", "about_seasonal_method"),
    ("cohorts", "share_won", "about_cohorts", ""),
)


def _slug(text: str, index: int) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40].strip("-")
    return f"s{index}-{slug}" if slug else f"s{index}"


def section_figures(section: Section, lang: str = "en") -> list[go.Figure]:
    """The Plotly figures the report draws for ``section`` (none when no row has attempts)."""
    blocks = section_blocks(section, _slug(section.title, 1), report_words(lang), lang)
    return [block["figure"] for block in blocks if block["type"] == "figure"]


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("hitrate.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    """The plotly.js bundle, made safe to sit inside a ``<script>`` element."""
    from plotly.offline import get_plotlyjs

    return re.sub(r"</(script)", r"<\\/\1", get_plotlyjs(), flags=re.IGNORECASE)


def section_contexts(sections: Sequence[Section], lang: str) -> list[dict[str, Any]]:
    """The template context of each section (id, title, kind, its lead sentence, its method and the method
    block's summary line, blocks), as ``_section.html`` renders it; the dashboard pages (:mod:`hitrate.web`)
    draw their charts with the same template."""
    s = report_words(lang)
    out: list[dict[str, Any]] = []
    for index, section in enumerate(sections, start=1):
        if not isinstance(section, SECTION_TYPES):
            raise NotASectionError("report.errors.not_a_section", index=index, kind=type(section).__name__)
        section_id = _slug(section.title, index)
        blocks = section_blocks(section, section_id, s, lang)
        out.append(
            {
                "id": section_id,
                "title": section.title,
                "kind": section.kind,
                "lead": section.lead,
                "method": section.method,
                "method_summary": s["method_summary"],
                "blocks": blocks,
            }
        )
    return out


def plotly_js() -> str:
    """The bundled plotly.js (no CDN), for pages that serve it as a file."""
    return _plotly_js()


def render_report(
    *,
    title: str,
    subtitle: str,
    definitions_hash: str,
    sections: Sequence[Section],
    notes: Sequence[str] = (),
    generated_at: str | None = None,
    lang: str = "en",
) -> str:
    """Render a complete, self-contained HTML report and return it as a string.

    The page holds plotly.js once (inline, in the head), one chart (two for a
    :class:`SeasonalPlot` with factors) plus a table of the numbers per section, and a
    footer that explains hit rate, the 95% interval and value hit rate in plain
    words, and the terms of any funnel, caterpillar, seasonal or cohort section (each method's name
    in a ``class="method"`` element). Each section opens with its ``lead`` sentence and ends with its
    ``method`` in a ``<details class="method">`` block. It loads
    nothing from the network. Everything given here (titles, notes, labels in the frames)
    is HTML-escaped.

    ``sections`` are :class:`RateTable`, :class:`FunnelPlot`, :class:`CaterpillarPlot`,
    :class:`SeasonalPlot` or :class:`CohortCurves` objects, shown in the order given.
    ``generated_at`` is printed as given; by default the current UTC time, in the language's format.
    ``lang`` is ``"en"`` or ``"da"``; it sets the words (from the catalogues) and the number format.
    Raises :class:`~hitrate.errors.InvalidParameterError` (a ``ValueError``) for an unknown ``lang`` and
    ``NotASectionError`` (a ``TypeError``) if a section is none of those.
    """
    from markupsafe import Markup

    s = report_words(lang)
    if generated_at is None:
        generated_at = s("generated_at", when=datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0))
    context_sections = section_contexts(sections, lang)
    kinds = {section["kind"] for section in context_sections}
    about = [
        (s[term], s[text], s[method] if method else "") for kind, term, text, method in ABOUT_KINDS if kind in kinds
    ]
    shown_hash = definitions_hash[:HASH_SHOWN] + ("…" if len(definitions_hash) > HASH_SHOWN else "")
    return (
        _environment()
        .get_template("report.html")
        .render(
            lang=lang,
            s=s,
            title=title,
            subtitle=subtitle,
            definitions_hash=definitions_hash,
            definitions_hash_shown=shown_hash,
            generated_at=generated_at,
            notes=list(notes),
            sections=context_sections,
            about=about,
            plotly_js=Markup(_plotly_js()),
        )
    )


def write_report(path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write ``render_report(**kwargs)`` to ``path`` as UTF-8 and return the path.

    Missing parent directories are created.
    """
    out = Path(path)
    text = render_report(**kwargs)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8", newline="\n")
    return out


__all__ = [
    "HASH_SHOWN",
    "Cell",
    "Table",
    "caterpillar_rows",
    "cohort_curves",
    "factor_rows",
    "factor_unit",
    "funnel_rows",
    "plotly_js",
    "render_report",
    "season_rows",
    "section_blocks",
    "section_contexts",
    "section_figures",
    "section_rows",
    "write_report",
]
