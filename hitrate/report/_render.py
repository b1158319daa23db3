"""Render report sections into one self-contained HTML page.

Plotly and Jinja2 are imported inside the functions that need them, so importing
:mod:`hitrate.report` costs next to nothing.
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

from hitrate.report._i18n import (
    MISSING,
    column_name,
    fmt_amount,
    fmt_int,
    fmt_interval,
    fmt_pct,
    is_missing,
    label_text,
    strings,
)
from hitrate.report._model import RateTable, Row

if TYPE_CHECKING:
    import jinja2

#: How many characters of the definitions hash the header shows before the ellipsis.
HASH_SHOWN = 12


def _number(value: Any) -> float:
    """A float, NaN for anything missing."""
    return float("nan") if is_missing(value) else float(value)


def _count(value: Any) -> int:
    """A whole count, 0 for anything missing."""
    return 0 if is_missing(value) else int(value)


def section_rows(section: RateTable, lang: str) -> list[Row]:
    """Read a section's frame into :class:`Row` objects with every number already printed.

    The chart name of a row is its ``label`` value; if those repeat (say the same rep
    name in two teams) it is all label columns joined by `` · `` instead.
    """
    label_cols = section.label_columns
    records = section.frame.to_dict("records")
    names = [label_text(rec[section.label]) for rec in records]
    unique = len(set(names)) == len(names)
    rows: list[Row] = []
    for rec, name in zip(records, names, strict=True):
        labels = tuple(label_text(rec[c]) for c in label_cols)
        attempts, hits = _count(rec["attempts"]), _count(rec["hits"])
        rate, low, high = _number(rec["hit_rate"]), _number(rec["ci_low"]), _number(rec["ci_high"])
        value_rate, amount = _number(rec["value_hit_rate"]), _number(rec["amount_won"])
        rows.append(
            Row(
                labels=labels,
                name=name if unique else " · ".join(labels),
                attempts=attempts,
                hits=hits,
                rate=rate,
                ci_low=low,
                ci_high=high,
                value_rate=value_rate,
                amount_won=amount,
                rate_text=fmt_pct(rate, lang),
                interval_text=fmt_interval(low, high, lang),
                value_rate_text=fmt_pct(value_rate, lang),
                amount_text=fmt_amount(amount, lang),
                attempts_text=fmt_int(attempts, lang),
                hits_text=fmt_int(hits, lang),
            )
        )
    return rows


def _slug(text: str, index: int) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40].strip("-")
    return f"s{index}-{slug}" if slug else f"s{index}"


def _caption(section: RateTable, s: dict[str, str]) -> str:
    parts = [s["read_bars"] if section.kind == "bars" else s["read_trend"]]
    if section.overall_rate is not None and not is_missing(section.overall_rate):
        parts.append(s["read_overall"])
    return " ".join(parts)


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


def render_report(
    *,
    title: str,
    subtitle: str,
    definitions_hash: str,
    sections: Sequence[RateTable],
    notes: Sequence[str] = (),
    generated_at: str | None = None,
    lang: str = "en",
) -> str:
    """Render a complete, self-contained HTML report and return it as a string.

    The page holds plotly.js once (inline, in the head), one chart plus a table of the
    numbers per section, and a footer that explains hit rate, the Wilson 95% interval
    and value hit rate in plain words. It loads nothing from the network. Everything
    given here (titles, notes, labels in the frames) is HTML-escaped.

    ``generated_at`` is printed as given; by default the current UTC time.
    ``lang`` is ``"en"`` or ``"da"``; it sets the UI strings and number format.
    Raises ``ValueError`` for an unknown ``lang`` and ``TypeError`` if a section is
    not a :class:`RateTable`.
    """
    from markupsafe import Markup

    from hitrate.report._charts import bars_figure, figure_html, trend_figure

    s = strings(lang)
    if generated_at is None:
        generated_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    context_sections: list[dict[str, Any]] = []
    for index, section in enumerate(sections, start=1):
        if not isinstance(section, RateTable):
            raise TypeError(f"section {index} is a {type(section).__name__}, not a RateTable")
        rows = section_rows(section, lang)
        section_id = _slug(section.title, index)
        chart: Markup | None = None
        if any(r.charted for r in rows):
            build = bars_figure if section.kind == "bars" else trend_figure
            fig = build(rows, s, lang, section.overall_rate)
            chart = Markup(figure_html(fig, div_id=f"{section_id}-chart", filename=section_id))
        context_sections.append(
            {
                "id": section_id,
                "title": section.title,
                "kind": section.kind,
                "chart": chart,
                "chart_label": s["chart_label"].format(title=section.title),
                "caption": _caption(section, s),
                "note": section.note,
                "table_caption": s["table_caption"].format(title=section.title),
                "label_headers": [column_name(c, lang) for c in section.label_columns],
                "row_header": section.label_columns.index(section.label),
                "rows": rows,
            }
        )
    shown_hash = definitions_hash[:HASH_SHOWN] + ("…" if len(definitions_hash) > HASH_SHOWN else "")
    return (
        _environment()
        .get_template("report.html")
        .render(
            lang=lang,
            s=s,
            missing=MISSING,
            title=title,
            subtitle=subtitle,
            definitions_hash=definitions_hash,
            definitions_hash_shown=shown_hash,
            generated_at=generated_at,
            notes=list(notes),
            sections=context_sections,
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
