"""What a report section shows, in page order: its chart(s), messages (notes, "nothing to chart") and tables.

Each section kind has one function here that reads its rows (:mod:`._rows`), draws its figures
(:mod:`._charts`) and lays out its table; they share the skeleton in :func:`_chart_blocks` and
:func:`_table_block`. Every number is printed through :mod:`hitrate.i18n.format`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hitrate.i18n import format as fmt
from hitrate.report import _rows as read
from hitrate.report._errors import NotASectionError
from hitrate.report._model import (
    CaterpillarPlot,
    CaterpillarRow,
    CohortCurves,
    FindingsTable,
    FrameSection,
    FunnelPlot,
    FunnelRow,
    RateTable,
    SeasonalPlot,
    Section,
)
from hitrate.report.words import Words, column_name, flag_text, unusual_text

if TYPE_CHECKING:
    import plotly.graph_objects as go

Block = dict[str, Any]


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
    return Cell(text, num=True, title=missing_title if text == fmt.MISSING else "")


def _counts(attempts: int, hits: int, lang: str) -> list[Cell]:
    return [_num(fmt.integer(attempts, lang)), _num(fmt.integer(hits, lang))]


def _figure(fig: go.Figure, div_id: str, label: str, caption: str) -> Block:
    from markupsafe import Markup

    from hitrate.report._charts import figure_html

    html: Markup = Markup(figure_html(fig, div_id=div_id, filename=div_id.removesuffix("-chart")))
    return {"type": "figure", "html": html, "label": label, "caption": caption, "figure": fig}


def _message(text: str, cls: str) -> Block:
    return {"type": "message", "text": text, "cls": cls}


def _chart_blocks(
    section: Section,
    section_id: str,
    s: Words,
    drawable: bool,
    has_rows: bool,
    draw: Callable[[], go.Figure],
    with_note: bool = True,
) -> list[Block]:
    """The section's chart (with its caption: how to read it), or a "nothing to chart" message when it has rows
    but none with attempts, then (``with_note``) the section's note."""
    blocks: list[Block] = []
    if drawable:
        label = s("chart_label", title=section.title)
        blocks.append(_figure(draw(), f"{section_id}-chart", label, _caption(section, s)))
    elif has_rows:
        blocks.append(_message(s["no_chart"], "empty"))
    if section.note and with_note:
        blocks.append(_message(section.note, "note"))
    return blocks


def _caption(section: Section, s: Words) -> str:
    """How to read the section's (first) chart."""
    if isinstance(section, RateTable):
        caption = s["read_bars"] if section.kind == "bars" else s["read_trend"]
    else:
        caption = s[f"read_{section.kind}"]
    overall = getattr(section, "overall_rate", None)
    if not isinstance(section, FunnelPlot) and overall is not None and not fmt.is_missing(overall):
        caption += " " + s["read_overall"]
    return caption


def _table_block(
    section: FrameSection, section_id: str, s: Words, headers: Sequence[tuple[str, bool]], rows: list[list[Cell]]
) -> Block:
    """The table of a section's numbers under its label columns, or "no rows" when there are none."""
    if not rows:
        return _message(s["no_rows"], "empty")
    table = Table(
        id=f"{section_id}-table",
        caption=s("table_caption", title=section.title),
        headers=[(column_name(c, s), False) for c in section.label_columns] + list(headers),
        rows=rows,
        cls="wrap-headers" if isinstance(section, CohortCurves) else "",
    )
    return {"type": "table", "table": table}


def _numbers(s: Words, *keys: str) -> list[tuple[str, bool]]:
    """Headers of number columns."""
    return [(s[k], True) for k in keys]


def _rate_table_blocks(section: RateTable, section_id: str, s: Words, lang: str) -> list[Block]:
    from hitrate.report._charts import bars_figure, trend_figure

    rows = read.section_rows(section, lang)
    build = bars_figure if section.kind == "bars" else trend_figure
    blocks = _chart_blocks(
        section,
        section_id,
        s,
        any(r.charted for r in rows),
        bool(rows),
        lambda: build(rows, s, lang, section.overall_rate),
    )
    header_at = section.label_columns.index(section.label)
    cells = [
        _label_cells(r.labels, header_at)
        + [
            _num(r.attempts_text),
            _num(r.hits_text),
            _num(r.rate_text),
            _num(r.interval_text),
            _num(r.value_rate_text, s["not_available"]),
            _num(r.amount_text),
        ]
        for r in rows
    ]
    headers = _numbers(s, "attempts", "hits", "hit_rate", "interval", "value_hit_rate", "amount_won")
    if rows and all(r.value_rate != r.value_rate for r in rows):  # no value rate anywhere (meaningless, or no
        # amounts): the column is left out rather than shown empty; the section's note says why
        at = len(cells[0]) - 2
        cells = [c[:at] + c[at + 1 :] for c in cells]
        headers = headers[:4] + headers[5:]
    return [*blocks, _table_block(section, section_id, s, headers, cells)]


def _group_blocks(
    section: FunnelPlot | CaterpillarPlot,
    section_id: str,
    s: Words,
    lang: str,
    rows: Sequence[FunnelRow | CaterpillarRow],
    draw: Callable[[], go.Figure],
    headers: Sequence[tuple[str, bool]],
    numbers: Callable[[Any], list[Cell]],
) -> list[Block]:
    """A section of groups (funnel, caterpillar): its chart, then a table of each group's label columns (the
    last one the row's header), attempts, hits and ``numbers``."""
    blocks = _chart_blocks(section, section_id, s, any(r.charted for r in rows), bool(rows), draw)
    header_at = len(section.label_columns) - 1
    cells = [_label_cells(r.labels, header_at) + _counts(r.attempts, r.hits, lang) + numbers(r) for r in rows]
    table = _table_block(section, section_id, s, [*_numbers(s, "attempts", "hits"), *headers], cells)
    return [*blocks, table]


def _funnel_blocks(section: FunnelPlot, section_id: str, s: Words, lang: str) -> list[Block]:
    from hitrate.report._charts import funnel_figure

    rows = read.funnel_rows(section, lang)

    def numbers(r: FunnelRow) -> list[Cell]:
        limits = [_num(fmt.interval(*ends, lang)) for ends in (r.limit95, r.limit998)]
        flag = Cell(flag_text(r.flag, s))
        return [_num(fmt.percent(r.rate, lang)), _num(fmt.interval(r.ci_low, r.ci_high, lang)), *limits, flag]

    headers = [*_numbers(s, "hit_rate", "interval", "limits95", "limits998"), (s["flag"], False)]
    draw = lambda: funnel_figure(rows, s, lang, section.overall_rate)  # noqa: E731
    return _group_blocks(section, section_id, s, lang, rows, draw, headers, numbers)


def _caterpillar_blocks(section: CaterpillarPlot, section_id: str, s: Words, lang: str) -> list[Block]:
    from hitrate.report._charts import caterpillar_figure

    rows = read.caterpillar_rows(section, lang)

    def numbers(r: CaterpillarRow) -> list[Cell]:
        rates = [_num(fmt.percent(rate, lang)) for rate in (r.rate, r.shrunk)]
        return [*rates, _num(fmt.interval(r.shrunk_low, r.shrunk_high, lang))]

    headers = _numbers(s, "raw_rate", "shrunk_rate", "shrunk_interval")
    draw = lambda: caterpillar_figure(rows, s, lang, section.overall_rate)  # noqa: E731
    return _group_blocks(section, section_id, s, lang, rows, draw, headers, numbers)


def _seasonal_blocks(section: SeasonalPlot, section_id: str, s: Words, lang: str) -> list[Block]:
    from hitrate.report._charts import factors_figure, seasonal_figure

    rows = read.season_rows(section, lang)
    factors = read.factor_rows(section, lang)
    drawable = any(r.charted for r in rows)
    draw = lambda: seasonal_figure(rows, s, lang)  # noqa: E731
    blocks = _chart_blocks(section, section_id, s, drawable, bool(rows), draw, with_note=False)  # the note follows
    unit = read.factor_unit(section.seasonal_factors) if section.seasonal_factors is not None else "month"
    if factors:
        label = s("chart_label", title=s("factors_title", title=section.title))
        caption = s["read_factors"] if unit == "month" else s["read_factors_week"]
        blocks.append(_figure(factors_figure(factors, s, lang, unit), f"{section_id}-factors-chart", label, caption))
        if section.note:
            blocks.append(_message(section.note, "note"))
    else:
        # No factors: the note (why not) stands where their chart would be.
        blocks.append(_message(" ".join(filter(None, [s["no_factors"], section.note])), "note no-factors"))
    cells = [
        [Cell(r.name, header=True), *_counts(r.attempts, r.hits, lang)]
        + [
            _num(fmt.percent(r.rate, lang)),
            _num(fmt.interval(r.ci_low, r.ci_high, lang)),
            _num(fmt.percent(r.trend, lang)),
            _num(fmt.percent(r.adjusted, lang)),
            Cell(unusual_text(r.unusual, s)),
        ]
        for r in rows
    ]
    numbers = _numbers(s, "attempts", "hits", "hit_rate", "interval", "trend", "adjusted_rate")
    headers = [*numbers, (s["unusual"], False)]
    blocks.append(_table_block(section, section_id, s, headers, cells))
    if factors:
        factor_table = Table(
            id=f"{section_id}-factors-table",
            caption=s("factors_caption", title=section.title),
            headers=[(s[unit], False), *_numbers(s, "seasonal_factor", "interval")],
            rows=[
                [
                    Cell(f.name, header=True),
                    _num(fmt.factor(f.factor, lang)),
                    _num(fmt.factor_interval(f.low, f.high, lang)),
                ]
                for f in factors
            ],
        )
        blocks.append({"type": "table", "table": factor_table})
    return blocks


def _cohort_blocks(section: CohortCurves, section_id: str, s: Words, lang: str) -> list[Block]:
    from hitrate.report._charts import cohort_figure

    curves = read.cohort_curves(section)
    drawable = any(c.ages for c in curves)
    blocks = _chart_blocks(section, section_id, s, drawable, bool(curves), lambda: cohort_figure(curves, s, lang))
    cells = [
        [Cell(c.name, header=True), _num(fmt.integer(c.n, lang)), _num(fmt.integer(c.reached, lang))]
        + [_num(fmt.percent(c.share_by(days), lang), s["not_reached"]) for days in section.milestones]
        for c in curves
    ]
    won_by = [(s("won_by", days=days), True) for days in section.milestones]
    headers = _numbers(s, "cohort_size", "age_reached") + won_by
    return [*blocks, _table_block(section, section_id, s, headers, cells)]


def _findings_blocks(section: FindingsTable, section_id: str, s: Words, lang: str) -> list[Block]:
    """The section's figure (when it has one), a table of text (the doctor's findings), or its ``empty``
    message; then the note."""
    blocks: list[Block] = []
    if section.figure is not None:
        label = s("chart_label", title=section.title)
        blocks.append(_figure(section.figure, f"{section_id}-chart", label, section.caption))
    if section.rows:
        cells = [
            [Cell(text, num=i in section.numeric, header=i == 0) for i, text in enumerate(row)] for row in section.rows
        ]
        headers = [(h, i in section.numeric) for i, h in enumerate(section.headers)]
        table = Table(f"{section_id}-table", s("table_caption", title=section.title), headers, cells, "wrap-headers")
        blocks.append({"type": "table", "table": table})
    elif section.empty:
        blocks.append(_message(section.empty, "empty"))
    if section.note:
        blocks.append(_message(section.note, "note"))
    return blocks


#: The block builder of each section class.
BUILDERS: dict[type, Callable[[Any, str, Words, str], list[Block]]] = {
    RateTable: _rate_table_blocks,
    FunnelPlot: _funnel_blocks,
    CaterpillarPlot: _caterpillar_blocks,
    SeasonalPlot: _seasonal_blocks,
    CohortCurves: _cohort_blocks,
    FindingsTable: _findings_blocks,
}


def section_blocks(section: Section, section_id: str, s: Words, lang: str) -> list[Block]:
    """What a section shows, in page order: figures, messages (notes, "nothing to chart") and tables."""
    for kind, build in BUILDERS.items():
        if isinstance(section, kind):
            return build(section, section_id, s, lang)
    raise NotASectionError("report.errors.not_a_section", index=1, kind=type(section).__name__)
