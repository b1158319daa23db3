"""The standard HTML report of a store: hit rate by team, by rep and month, the rep benchmark, seasons, cohorts,
the forecast with its backtest, and the data-quality findings. It composes every library layer, so it sits at
the package root (analysis may not import improve)."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

from hitrate._progress import Progress, Steps
from hitrate.analysis._common import DefinitionsArg, resolve_definitions
from hitrate.analysis.rates import rates
from hitrate.analysis.results import RATE_COLUMNS, RatesResult
from hitrate.engine.expressions import fields_available
from hitrate.errors import InvalidParameterError, UserInputError
from hitrate.i18n import LANGS, Joined, Message, render_all, unit_words
from hitrate.report import CohortCurves, RateTable, SeasonalPlot, write_report
from hitrate.spec.model import Definitions


def _text(key: str, lang: str, **params: Any) -> str:
    """A sentence of the report (``store_report.<key>``) in ``lang``."""
    return Message(f"store_report.{key}", **params).render(lang)


def store_sections(
    store: Any, lang: str = "en", definitions: DefinitionsArg = None, progress: Progress | None = None
) -> tuple[list[RateTable], list[Message | str], RatesResult]:
    """The report's sections, its notes, and the overall result (for the header). ``store`` is the
    embedded store or any Ibis backend; ``definitions`` default to the store's in force.

    Told in the words of the definitions' unit (sessions and conversions for web sessions). Attempts that are
    not a sales process's (sessions, bets, spins: :attr:`~hitrate.spec.model.Definitions.sales`) have no reps
    or teams and are decided as they happen, so the sections by team and rep, the rep benchmark, the cohorts by
    deal age and the forecast of open deals are left out. ``progress(done, total)`` is told after each section
    (:mod:`hitrate._progress`)."""
    defs = resolve_definitions(store, definitions, None)
    available = set(fields_available(store))
    if not defs.sales:  # no reps or teams, and nothing open to follow by age or to forecast
        available -= {"team", "rep"}
    dated = defs.sales and "created_at" in available
    with warnings.catch_warnings(), unit_words(defs.denominator):
        warnings.simplefilter("ignore")
        overall = rates(store, definitions=defs)
        attempts = int(overall.rows["attempts"].sum())
        overall_rate = float(overall.rows["hit_rate"].iloc[0]) if attempts else None
        notes = list(overall.warnings)
        steps = Steps(progress, _steps(available, bool(attempts), dated))
        steps.done()
        sections: list[RateTable] = []
        for field, title, note in (("team", "by_team", "team_note"), ("rep", "by_rep", "rep_note")):
            if field not in available:
                continue
            by_field = rates(store, by=[field], definitions=defs)
            words = by_field.section_words(lang)
            table = RateTable(
                _text(title, lang), by_field.rows, field, "bars", overall_rate, _text(note, lang), **words
            )
            sections.append(table)
            steps.done()
            if field == "rep":
                notes += [w for w in by_field.warnings if w not in notes]
        trend = rates(store, period="month", definitions=defs)
        note = _text("trend_note", lang, date=defs.effective_period_date)
        frame = trend.rows[["period", *RATE_COLUMNS]]
        words = trend.section_words(lang)
        sections.append(RateTable(_text("trend", lang), frame, "period", "trend", overall_rate, note, **words))
        steps.done()
        if attempts:
            sections += _analysis_sections(store, defs, lang, available, dated, steps)
            if dated:
                sections += _forecast(store, defs, lang)
                steps.done()
        sections += _data_quality(store, defs, lang)
        steps.done()
    return sections, notes, overall


def _steps(available: set[str], attempts: bool, dated: bool) -> int:
    """The report's steps: the overall rate, team and rep, the trend, then (with attempts) the rep benchmark,
    the seasons, the cohorts and the forecast (dated deals), and the doctor."""
    steps = 1 + len({"team", "rep"} & available) + 1
    if attempts:
        steps += ("rep" in available) + 1 + 2 * dated
    return steps + 1


#: A forecast shorter than this (the data end in the quarter's last days) runs to the end of the next quarter.
SHORTEST_FORECAST_DAYS = 14


def _forecast(store: Any, defs: Definitions, lang: str) -> list[Any]:
    """The forecast to the end of the quarter (``hitrate forecast``; of the next quarter too when fewer than
    :data:`SHORTEST_FORECAST_DAYS` days of this one are left), and the
    backtest of the twelve months before it beside the two baselines (``hitrate forecast backtest``); none when
    the store has nothing to forecast from."""
    from hitrate.errors import UserInputError
    from hitrate.improve._forecast_tables import backtest_window
    from hitrate.improve.backtest import forecast_backtest
    from hitrate.improve.forecast import default_as_of, forecast, horizon_end

    try:
        as_of = default_as_of(store)  # refused when no attempt is dated (web sessions with a month name only)
        until = horizon_end(as_of, "quarter")
        if (until - as_of).days < SHORTEST_FORECAST_DAYS:  # the quarter is almost over: the next one as well
            until = horizon_end(until + dt.timedelta(days=1), "quarter")
        outlook = forecast(store, as_of=as_of, until=until, definitions=defs)
    except UserInputError:
        return []
    if not outlook.rows:
        return []
    out: list[Any] = list(outlook.sections(lang))
    first, last = backtest_window(outlook.as_of)
    if last > first:
        try:
            past = forecast_backtest(store, date_from=first, date_to=last, definitions=defs)
        except UserInputError:
            return out
        if past.rows:
            out += past.sections(lang)
    return out


def _data_quality(store: Any, defs: Definitions, lang: str) -> list[Any]:
    """The doctor's findings (``hitrate doctor``) as the report's last section."""
    from hitrate.analysis.doctor import doctor

    return list(doctor(store, definitions=defs).sections(lang))


def _analysis_sections(
    store: Any, defs: Definitions, lang: str, available: set[str], dated: bool, steps: Steps
) -> list[Any]:
    """Funnel and caterpillar plots of reps, the seasonal decomposition and cohort curves (``dated``: deals
    with created dates to follow by age), each a step done."""
    out: list[Any] = []
    if "rep" in available:
        out += _rep_benchmark(store, defs, lang)
        steps.done()
    out += _seasonal(store, defs, lang)
    steps.done()
    if dated:
        out += _cohorts(store, defs, lang)
        steps.done()
    return out


def _rep_benchmark(store: Any, defs: Definitions, lang: str) -> list[Any]:
    """The benchmark of reps as its result draws it, with the report's titles and notes."""
    from hitrate.analysis.benchmark import benchmark

    bench = benchmark(store, by="rep", definitions=defs)
    texts = [("funnel", "funnel_note"), ("caterpillar", "caterpillar_note")]
    return [
        replace(section, title=_text(title, lang), note=_text(note, lang))
        for section, (title, note) in zip(bench.sections(lang), texts, strict=True)
    ]


def _seasonal(store: Any, defs: Definitions, lang: str) -> list[SeasonalPlot]:
    """The monthly trend and season of all data; none without dated attempts (web sessions with a month name
    only)."""
    from hitrate.analysis.trend import seasonal_plot, trend

    try:
        season = trend(store, period="month", definitions=defs)
    except UserInputError:
        return []
    s = season.series[0] if season.series else {}
    note, method = render_all([s.get("note") or "", s.get("method") or ""], lang)
    lead = season.section_words(lang)["lead"]
    return [seasonal_plot(_text("seasonal", lang), season.rows, s, note, lead, method)]


def _cohorts(store: Any, defs: Definitions, lang: str) -> list[CohortCurves]:
    """Cumulative win curves of the quarterly cohorts; none when the column holds no dates."""
    import pandas as pd

    from hitrate.analysis.cohorts import cohort_curves

    try:
        curves = pd.DataFrame(cohort_curves(store, defs, period="quarter"))
    except UserInputError:
        return []
    if not len(curves):
        return []
    lead, method = _text("cohorts_lead", lang), _text("cohorts_method", lang)
    return [
        CohortCurves(_text("cohorts", lang), curves, "cohort", _text("cohorts_note", lang), lead=lead, method=method)
    ]


def write_store_report(
    store: Any,
    path: str | Path,
    *,
    title: str | None = None,
    lang: str = "en",
    definitions: DefinitionsArg = None,
    progress: Progress | None = None,
) -> Path:
    """Write the store's report (English ``en`` or Danish ``da``) as one self-contained HTML file; ``store``
    may also be any Ibis backend holding the canonical tables (``--engine``), ``definitions`` a file's path,
    ``title`` the report's title (``hitrate report`` in its language by default). ``progress(done, total)`` is
    told after each section and after the file (:mod:`hitrate._progress`).

    Raises :class:`~hitrate.errors.InvalidParameterError` for a language hitrate has no words for."""
    if lang not in LANGS:
        expected = Message("engine.one_of", options=Joined(LANGS))
        raise InvalidParameterError("lang", expected, lang, caller="write_store_report")
    total = [1]

    def sections_then_file(done: int, steps: int) -> None:  # one step more: the file
        total[0] = steps + 1
        if progress is not None:
            progress(done, total[0])

    sections, notes, overall = store_sections(store, lang, definitions, sections_then_file)
    defs = overall.definitions
    with unit_words(defs.denominator):
        written = _write(path, sections, notes, overall, title, lang)
    if progress is not None:
        progress(total[0], total[0])
    return written


def _write(
    path: str | Path,
    sections: list[RateTable],
    notes: list[Message | str],
    overall: RatesResult,
    title: str | None,
    lang: str,
) -> Path:
    """Write the report of :func:`write_store_report` once its sections are made."""
    defs = overall.definitions
    row = overall.rows.iloc[0] if len(overall.rows) else None
    denominator = Message(f"store_report.denominator_{defs.denominator}")
    if row is not None and int(row["attempts"]) > 0:
        subtitle = _text(
            "subtitle",
            lang,
            hits=int(row["hits"]),
            attempts=int(row["attempts"]),
            denominator=denominator,
            rate=float(row["hit_rate"]),
            low=float(row["ci_low"]),
            high=float(row["ci_high"]),
            basis=Message(f"store_report.basis_{defs.basis}"),
        )
    else:
        subtitle = _text("empty", lang, denominator=denominator)
    return write_report(
        path,
        title=_text("title", lang) if title is None else title,
        subtitle=subtitle,
        definitions_hash=defs.hash,
        sections=sections,
        notes=notes,
        lang=lang,
    )
