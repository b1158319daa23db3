"""Render report sections into one self-contained HTML page.

Plotly and Jinja2 are imported inside the functions that need them, so importing
:mod:`hitrate.report` costs next to nothing.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitrate.report._i18n import (
    MISSING,
    column_name,
    flag_text,
    fmt_amount,
    fmt_factor,
    fmt_factor_interval,
    fmt_int,
    fmt_interval,
    fmt_pct,
    is_missing,
    label_text,
    strings,
    unusual_text,
)
from hitrate.report._model import (
    SECTION_TYPES,
    CaterpillarPlot,
    CaterpillarRow,
    CohortCurve,
    CohortCurves,
    FactorRow,
    FunnelPlot,
    FunnelRow,
    RateTable,
    Row,
    SeasonalPlot,
    SeasonRow,
    Section,
)

if TYPE_CHECKING:
    import jinja2
    import pandas as pd
    import plotly.graph_objects as go

#: How many characters of the definitions hash the header shows before the ellipsis.
HASH_SHOWN = 12


def _number(value: Any) -> float:
    """A float, NaN for anything missing."""
    return float("nan") if is_missing(value) else float(value)


def _count(value: Any) -> int:
    """A whole count, 0 for anything missing."""
    return 0 if is_missing(value) else int(value)


def _text(value: Any) -> str:
    """A text column's value, ``""`` for anything missing."""
    return "" if is_missing(value) else str(value).strip()


def _read_labels(
    frame: pd.DataFrame, label: str, label_columns: Sequence[str]
) -> tuple[list[dict[str, Any]], list[tuple[str, ...]], list[str]]:
    """A frame's records, each record's label texts, and each record's chart name.

    The chart name of a row is its ``label`` value; if those repeat (say the same rep
    name in two teams) it is all label columns joined by `` · `` instead.
    """
    records: list[dict[str, Any]] = [{str(k): v for k, v in rec.items()} for rec in frame.to_dict("records")]
    labels_of = [tuple(label_text(rec[c]) for c in label_columns) for rec in records]
    names = [label_text(rec[label]) for rec in records]
    if len(set(names)) != len(names):
        names = [" · ".join(labels) for labels in labels_of]
    return records, labels_of, names


def section_rows(section: RateTable, lang: str) -> list[Row]:
    """Read a section's frame into :class:`Row` objects with every number already printed.

    The chart name of a row is its ``label`` value; if those repeat (say the same rep
    name in two teams) it is all label columns joined by `` · `` instead.
    """
    records, labels_of, names = _read_labels(section.frame, section.label, section.label_columns)
    rows: list[Row] = []
    for rec, labels, name in zip(records, labels_of, names, strict=True):
        attempts, hits = _count(rec["attempts"]), _count(rec["hits"])
        rate, low, high = _number(rec["hit_rate"]), _number(rec["ci_low"]), _number(rec["ci_high"])
        value_rate, amount = _number(rec["value_hit_rate"]), _number(rec["amount_won"])
        rows.append(
            Row(
                labels=labels,
                name=name,
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


def funnel_rows(section: FunnelPlot) -> list[FunnelRow]:
    """Read a funnel plot's frame, one :class:`FunnelRow` per group, in frame order."""
    records, labels_of, names = _read_labels(section.frame, section.label, section.label_columns)
    rows: list[FunnelRow] = []
    for rec, labels, name in zip(records, labels_of, names, strict=True):
        flag = _text(rec["flag"])
        rows.append(
            FunnelRow(
                labels=labels,
                name=name,
                attempts=_count(rec["attempts"]),
                hits=_count(rec["hits"]),
                rate=_number(rec["hit_rate"]),
                ci_low=_number(rec["ci_low"]),
                ci_high=_number(rec["ci_high"]),
                flag=flag.lower() if flag.lower() in ("above", "below", "within") else flag,
                limit95=(_number(rec["funnel95_low"]), _number(rec["funnel95_high"])),
                limit998=(_number(rec["funnel998_low"]), _number(rec["funnel998_high"])),
            )
        )
    return rows


def caterpillar_rows(section: CaterpillarPlot) -> list[CaterpillarRow]:
    """Read a caterpillar plot's frame, one :class:`CaterpillarRow` per group, in frame order."""
    records, labels_of, names = _read_labels(section.frame, section.label, section.label_columns)
    return [
        CaterpillarRow(
            labels=labels,
            name=name,
            attempts=_count(rec["attempts"]),
            hits=_count(rec["hits"]),
            rate=_number(rec["hit_rate"]),
            shrunk=_number(rec["shrunk_rate"]),
            shrunk_low=_number(rec["shrunk_low"]),
            shrunk_high=_number(rec["shrunk_high"]),
        )
        for rec, labels, name in zip(records, labels_of, names, strict=True)
    ]


def season_rows(section: SeasonalPlot) -> list[SeasonRow]:
    """Read a seasonal plot's frame, one :class:`SeasonRow` per period, in frame order."""
    records, _, names = _read_labels(section.frame, section.label, section.label_columns)
    rows: list[SeasonRow] = []
    for rec, name in zip(records, names, strict=True):
        unusual = _text(rec["unusual"])
        rows.append(
            SeasonRow(
                name=name,
                attempts=_count(rec["attempts"]),
                hits=_count(rec["hits"]),
                rate=_number(rec["hit_rate"]),
                ci_low=_number(rec["ci_low"]),
                ci_high=_number(rec["ci_high"]),
                trend=_number(rec["trend"]),
                adjusted=_number(rec["adjusted_rate"]),
                unusual=unusual.lower() if unusual.lower() in ("high", "low") else unusual,
            )
        )
    return rows


def factor_unit(factors: Mapping[int, float]) -> str:
    """``"month"`` when the factors are keyed by months of the year (1..12), else ``"week"``."""
    return "month" if all(1 <= int(k) <= 12 for k in factors) else "week"


def factor_rows(section: SeasonalPlot, lang: str) -> list[FactorRow]:
    """The seasonal factors in order of the year, months named in ``lang``; empty when there are none."""
    factors, low, high = section.seasonal_factors, section.seasonal_factor_low, section.seasonal_factor_high
    if factors is None or low is None or high is None:
        return []
    months = strings(lang)["month_names"].split()
    unit = factor_unit(factors)
    return [
        FactorRow(
            key=int(k),
            name=months[int(k) - 1] if unit == "month" else str(int(k)),
            factor=_number(factors[k]),
            low=_number(low[k]),
            high=_number(high[k]),
        )
        for k in sorted(factors, key=int)
    ]


def cohort_curves(section: CohortCurves) -> list[CohortCurve]:
    """Read a cohort frame into one :class:`CohortCurve` per cohort, cohorts in order of first appearance.

    Rows without an age or a share are skipped; a curve's points are sorted by age (the
    last row wins for a repeated age) and its size is the largest ``n`` given for it.
    """
    points: dict[str, dict[int, float]] = {}
    sizes: dict[str, int] = {}
    for rec in section.frame.to_dict("records"):
        name = label_text(rec[section.label])
        curve = points.setdefault(name, {})
        sizes[name] = max(sizes.get(name, 0), _count(rec["n"]))
        age, share = rec["age"], rec["cumulative_win_rate"]
        if not is_missing(age) and not is_missing(share):
            curve[int(age)] = float(share)
    return [
        CohortCurve(
            name=name,
            n=sizes[name],
            ages=tuple(sorted(curve)),
            shares=tuple(curve[a] for a in sorted(curve)),
        )
        for name, curve in points.items()
    ]


# --- tables and page blocks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, whether it is a number (right-aligned) or the row's header."""

    text: str
    num: bool = False
    header: bool = False
    title: str = ""  # when set, the text is wrapped in <abbr title="...">: why a value is missing


@dataclass(frozen=True)
class Table:
    """One accessible table of numbers: a caption, column headers (text, is-number) and rows of cells."""

    id: str
    caption: str
    headers: list[tuple[str, bool]]
    rows: list[list[Cell]] = field(default_factory=list)
    cls: str = ""  # class of the <table>: "wrap-headers" lets long column headings wrap


def _label_cells(labels: Sequence[str], header_at: int) -> list[Cell]:
    return [Cell(text, header=i == header_at) for i, text in enumerate(labels)]


def _num(text: str, missing_title: str = "") -> Cell:
    return Cell(text, num=True, title=missing_title if text == MISSING else "")


def _label_headers(columns: Sequence[str], lang: str) -> list[tuple[str, bool]]:
    return [(column_name(c, lang), False) for c in columns]


def _figure(fig: go.Figure, div_id: str, label: str, caption: str) -> dict[str, Any]:
    from markupsafe import Markup

    from hitrate.report._charts import figure_html

    html: Markup = Markup(figure_html(fig, div_id=div_id, filename=div_id.removesuffix("-chart")))
    return {"type": "figure", "html": html, "label": label, "caption": caption, "figure": fig}


def _message(text: str, cls: str) -> dict[str, Any]:
    return {"type": "message", "text": text, "cls": cls}


def _table(table: Table, s: dict[str, str]) -> dict[str, Any]:
    if not table.rows:
        return _message(s["no_rows"], "empty")
    return {"type": "table", "table": table}


def _overall_given(rate: float | None) -> bool:
    return rate is not None and not is_missing(rate)


def _rate_table_blocks(section: RateTable, section_id: str, s: dict[str, str], lang: str) -> list[dict[str, Any]]:
    from hitrate.report._charts import bars_figure, trend_figure

    rows = section_rows(section, lang)
    blocks: list[dict[str, Any]] = []
    if any(r.charted for r in rows):
        build = bars_figure if section.kind == "bars" else trend_figure
        caption = s["read_bars"] if section.kind == "bars" else s["read_trend"]
        if _overall_given(section.overall_rate):
            caption += " " + s["read_overall"]
        fig = build(rows, s, lang, section.overall_rate)
        blocks.append(_figure(fig, f"{section_id}-chart", s["chart_label"].format(title=section.title), caption))
    elif rows:
        blocks.append(_message(s["no_chart"], "empty"))
    if section.note:
        blocks.append(_message(section.note, "note"))
    table = Table(
        id=f"{section_id}-table",
        caption=s["table_caption"].format(title=section.title),
        headers=_label_headers(section.label_columns, lang)
        + [(s[k], True) for k in ("attempts", "hits", "hit_rate", "interval", "value_hit_rate", "amount_won")],
    )
    header_at = section.label_columns.index(section.label)
    for r in rows:
        table.rows.append(
            _label_cells(r.labels, header_at)
            + [
                _num(r.attempts_text),
                _num(r.hits_text),
                _num(r.rate_text),
                _num(r.interval_text),
                _num(r.value_rate_text, s["not_available"]),
                _num(r.amount_text),
            ]
        )
    blocks.append(_table(table, s))
    return blocks


def _funnel_blocks(section: FunnelPlot, section_id: str, s: dict[str, str], lang: str) -> list[dict[str, Any]]:
    from hitrate.report._charts import funnel_figure

    rows = funnel_rows(section)
    blocks: list[dict[str, Any]] = []
    if any(r.charted for r in rows):
        fig = funnel_figure(rows, s, lang, section.overall_rate)
        label = s["chart_label"].format(title=section.title)
        blocks.append(_figure(fig, f"{section_id}-chart", label, s["read_funnel"]))
    elif rows:
        blocks.append(_message(s["no_chart"], "empty"))
    if section.note:
        blocks.append(_message(section.note, "note"))
    table = Table(
        id=f"{section_id}-table",
        caption=s["table_caption"].format(title=section.title),
        headers=_label_headers(section.label_columns, lang)
        + [(s[k], True) for k in ("attempts", "hits", "hit_rate", "interval", "limits95", "limits998")]
        + [(s["flag"], False)],
    )
    header_at = len(section.label_columns) - 1
    for r in rows:
        table.rows.append(
            _label_cells(r.labels, header_at)
            + [
                _num(fmt_int(r.attempts, lang)),
                _num(fmt_int(r.hits, lang)),
                _num(fmt_pct(r.rate, lang)),
                _num(fmt_interval(r.ci_low, r.ci_high, lang)),
                _num(fmt_interval(*r.limit95, lang)),
                _num(fmt_interval(*r.limit998, lang)),
                Cell(flag_text(r.flag, s)),
            ]
        )
    blocks.append(_table(table, s))
    return blocks


def _caterpillar_blocks(
    section: CaterpillarPlot, section_id: str, s: dict[str, str], lang: str
) -> list[dict[str, Any]]:
    from hitrate.report._charts import caterpillar_figure

    rows = caterpillar_rows(section)
    blocks: list[dict[str, Any]] = []
    if any(r.charted for r in rows):
        caption = s["read_caterpillar"]
        if _overall_given(section.overall_rate):
            caption += " " + s["read_overall"]
        fig = caterpillar_figure(rows, s, lang, section.overall_rate)
        blocks.append(_figure(fig, f"{section_id}-chart", s["chart_label"].format(title=section.title), caption))
    elif rows:
        blocks.append(_message(s["no_chart"], "empty"))
    if section.note:
        blocks.append(_message(section.note, "note"))
    table = Table(
        id=f"{section_id}-table",
        caption=s["table_caption"].format(title=section.title),
        headers=_label_headers(section.label_columns, lang)
        + [(s[k], True) for k in ("attempts", "hits", "raw_rate", "shrunk_rate", "shrunk_interval")],
    )
    header_at = len(section.label_columns) - 1
    for r in rows:
        table.rows.append(
            _label_cells(r.labels, header_at)
            + [
                _num(fmt_int(r.attempts, lang)),
                _num(fmt_int(r.hits, lang)),
                _num(fmt_pct(r.rate, lang)),
                _num(fmt_pct(r.shrunk, lang)),
                _num(fmt_interval(r.shrunk_low, r.shrunk_high, lang)),
            ]
        )
    blocks.append(_table(table, s))
    return blocks


def _seasonal_blocks(section: SeasonalPlot, section_id: str, s: dict[str, str], lang: str) -> list[dict[str, Any]]:
    from hitrate.report._charts import factors_figure, seasonal_figure

    rows = season_rows(section)
    factors = factor_rows(section, lang)
    blocks: list[dict[str, Any]] = []
    if any(r.charted for r in rows):
        fig = seasonal_figure(rows, s, lang)
        label = s["chart_label"].format(title=section.title)
        blocks.append(_figure(fig, f"{section_id}-chart", label, s["read_seasonal"]))
    elif rows:
        blocks.append(_message(s["no_chart"], "empty"))
    unit = factor_unit(section.seasonal_factors) if section.seasonal_factors is not None else "month"
    factors_title = s["factors_title"].format(title=section.title)
    if factors:
        fig = factors_figure(factors, s, lang, unit)
        label = s["chart_label"].format(title=factors_title)
        caption = s["read_factors"] if unit == "month" else s["read_factors_week"]
        blocks.append(_figure(fig, f"{section_id}-factors-chart", label, caption))
        if section.note:
            blocks.append(_message(section.note, "note"))
    else:
        # No factors: the note (why not) stands where their chart would be.
        blocks.append(_message(" ".join(filter(None, [s["no_factors"], section.note])), "note no-factors"))
    table = Table(
        id=f"{section_id}-table",
        caption=s["table_caption"].format(title=section.title),
        headers=_label_headers(section.label_columns, lang)
        + [(s[k], True) for k in ("attempts", "hits", "hit_rate", "interval", "trend", "adjusted_rate")]
        + [(s["unusual"], False)],
    )
    for r in rows:
        table.rows.append(
            [
                Cell(r.name, header=True),
                _num(fmt_int(r.attempts, lang)),
                _num(fmt_int(r.hits, lang)),
                _num(fmt_pct(r.rate, lang)),
                _num(fmt_interval(r.ci_low, r.ci_high, lang)),
                _num(fmt_pct(r.trend, lang)),
                _num(fmt_pct(r.adjusted, lang)),
                Cell(unusual_text(r.unusual, s)),
            ]
        )
    blocks.append(_table(table, s))
    if factors:
        factor_table = Table(
            id=f"{section_id}-factors-table",
            caption=s["factors_caption"].format(title=section.title),
            headers=[(s[unit], False), (s["seasonal_factor"], True), (s["interval"], True)],
            rows=[
                [
                    Cell(f.name, header=True),
                    _num(fmt_factor(f.factor, lang)),
                    _num(fmt_factor_interval(f.low, f.high, lang)),
                ]
                for f in factors
            ],
        )
        blocks.append(_table(factor_table, s))
    return blocks


def _cohort_blocks(section: CohortCurves, section_id: str, s: dict[str, str], lang: str) -> list[dict[str, Any]]:
    from hitrate.report._charts import cohort_figure

    curves = cohort_curves(section)
    blocks: list[dict[str, Any]] = []
    if any(c.ages for c in curves):
        fig = cohort_figure(curves, s, lang)
        label = s["chart_label"].format(title=section.title)
        blocks.append(_figure(fig, f"{section_id}-chart", label, s["read_cohorts"]))
    elif curves:
        blocks.append(_message(s["no_chart"], "empty"))
    if section.note:
        blocks.append(_message(section.note, "note"))
    table = Table(
        id=f"{section_id}-table",
        caption=s["table_caption"].format(title=section.title),
        headers=_label_headers(section.label_columns, lang)
        + [(s["cohort_size"], True), (s["age_reached"], True)]
        + [(s["won_by"].format(days=fmt_int(days, lang)), True) for days in section.milestones],
        cls="wrap-headers",
    )
    for c in curves:
        shares = [c.share_by(days) for days in section.milestones]
        table.rows.append(
            [Cell(c.name, header=True), _num(fmt_int(c.n, lang)), _num(fmt_int(c.reached, lang))]
            + [_num(fmt_pct(v, lang), s["not_reached"]) for v in shares]
        )
    blocks.append(_table(table, s))
    return blocks


def _slug(text: str, index: int) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40].strip("-")
    return f"s{index}-{slug}" if slug else f"s{index}"


def section_blocks(section: Section, section_id: str, s: dict[str, str], lang: str) -> list[dict[str, Any]]:
    """What a section shows, in page order: figures, messages (notes, "nothing to chart") and tables."""
    if isinstance(section, RateTable):
        return _rate_table_blocks(section, section_id, s, lang)
    if isinstance(section, FunnelPlot):
        return _funnel_blocks(section, section_id, s, lang)
    if isinstance(section, CaterpillarPlot):
        return _caterpillar_blocks(section, section_id, s, lang)
    if isinstance(section, SeasonalPlot):
        return _seasonal_blocks(section, section_id, s, lang)
    return _cohort_blocks(section, section_id, s, lang)


def section_figures(section: Section, lang: str = "en") -> list[go.Figure]:
    """The Plotly figures the report draws for ``section`` (none when no row has attempts)."""
    blocks = section_blocks(section, _slug(section.title, 1), strings(lang), lang)
    return [block["figure"] for block in blocks if block["type"] == "figure"]


#: Footer paragraphs (term, explanation) shown when the report has a section of the kind.
ABOUT_KINDS: tuple[tuple[str, str, str], ...] = (
    ("funnel", "funnel_limits", "about_funnel"),
    ("caterpillar", "shrunk_rate", "about_shrunk"),
    ("seasonal", "seasonal_decomposition", "about_seasonal"),
    ("cohorts", "share_won", "about_cohorts"),
)


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
    """The template context of each section (id, title, kind, blocks), as ``_section.html`` renders it; the
    dashboard pages (:mod:`hitrate.web`) draw their charts with the same template."""
    s = strings(lang)
    out: list[dict[str, Any]] = []
    for index, section in enumerate(sections, start=1):
        if not isinstance(section, SECTION_TYPES):
            raise TypeError(
                f"section {index} is a {type(section).__name__}, not a RateTable, FunnelPlot, CaterpillarPlot, "
                "SeasonalPlot or CohortCurves"
            )
        section_id = _slug(section.title, index)
        out.append(
            {
                "id": section_id,
                "title": section.title,
                "kind": section.kind,
                "blocks": section_blocks(section, section_id, s, lang),
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
    footer that explains hit rate, the Wilson 95% interval and value hit rate in plain
    words, and the terms of any funnel, caterpillar, seasonal or cohort section. It loads
    nothing from the network. Everything given here (titles, notes, labels in the frames)
    is HTML-escaped.

    ``sections`` are :class:`RateTable`, :class:`FunnelPlot`, :class:`CaterpillarPlot`,
    :class:`SeasonalPlot` or :class:`CohortCurves` objects, shown in the order given.
    ``generated_at`` is printed as given; by default the current UTC time.
    ``lang`` is ``"en"`` or ``"da"``; it sets the UI strings and number format.
    Raises ``ValueError`` for an unknown ``lang`` and ``TypeError`` if a section is
    none of those.
    """
    from markupsafe import Markup

    s = strings(lang)
    if generated_at is None:
        generated_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    context_sections = section_contexts(sections, lang)
    kinds = {section["kind"] for section in context_sections}
    about = [(s[term], s[text]) for kind, term, text in ABOUT_KINDS if kind in kinds]
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
