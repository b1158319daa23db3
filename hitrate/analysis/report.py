"""The standard HTML report of a store: hit rate by team, by rep, and the monthly trend."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from hitrate.analysis.rates import rates, resolve_definitions
from hitrate.analysis.results import RATE_COLUMNS, RatesResult
from hitrate.engine.expressions import fields_available
from hitrate.errors import UserInputError
from hitrate.i18n import Message
from hitrate.report import CaterpillarPlot, CohortCurves, FunnelPlot, RateTable, SeasonalPlot, write_report
from hitrate.spec.model import Definitions

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "by_team": "Hit rate by team",
        "by_rep": "Hit rate by rep",
        "trend": "Monthly trend",
        "team_note": "Teams differ in the leads they work: a gap here is not yet a gap in skill.",
        "rep_note": "Reps with few attempts have wide intervals: compare intervals, not dots.",
        "trend_note": "Months by {date}; the band is the 95% interval.",
        "subtitle": "{hits} hits of {attempts} {denominator}: {rate} ({low}–{high}), {basis} basis",
        "empty": "No {denominator} in the store yet",
        "funnel": "Funnel plot: reps against the overall rate",
        "funnel_note": "Only reps outside the funnel, after control for many comparisons, are flagged.",
        "caterpillar": "Reps after shrinkage for small samples",
        "caterpillar_note": "Beta-binomial empirical Bayes: small samples lean towards the others.",
        "seasonal": "Trend and season",
        "cohorts": "Cohorts: share won by deal age",
        "cohorts_note": "Young cohorts are not worse, only younger: compare at the same age.",
    },
    "da": {
        "by_team": "Hitrate pr. team",
        "by_rep": "Hitrate pr. sælger",
        "trend": "Udvikling pr. måned",
        "team_note": "Teams arbejder med forskellige leads: en forskel her er endnu ikke en forskel i evner.",
        "rep_note": "Sælgere med få forsøg har brede intervaller: sammenlign intervaller, ikke punkter.",
        "trend_note": "Måneder efter {date}; båndet er 95 %-intervallet.",
        "subtitle": "{hits} vundne af {attempts} forsøg ({denominator}): {rate} ({low}–{high}), {basis}-basis",
        "empty": "Ingen data i databasen endnu ({denominator})",
        "funnel": "Tragtdiagram: sælgere mod den samlede hitrate",
        "funnel_note": "Kun sælgere uden for tragten, efter kontrol for mange sammenligninger, markeres.",
        "caterpillar": "Sælgere efter krympning for små stikprøver",
        "caterpillar_note": "Beta-binomial empirisk Bayes: små stikprøver læner sig mod de andre.",
        "seasonal": "Udvikling og sæson",
        "cohorts": "Kohorter: andel vundet efter alder",
        "cohorts_note": "Unge kohorter er ikke dårligere, kun yngre: sammenlign ved samme alder.",
    },
}


def store_sections(
    store: Any, lang: str = "en", definitions: Definitions | None = None
) -> tuple[list[RateTable], list[Message | str], RatesResult]:
    """The report's sections, its notes, and the overall result (for the header). ``store`` is the
    embedded store or any Ibis backend; ``definitions`` default to the store's in force."""
    text = TEXT[lang]
    defs = resolve_definitions(store, definitions, None)
    available = set(fields_available(store))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        overall = rates(store, definitions=defs)
        attempts = int(overall.rows["attempts"].sum())
        overall_rate = float(overall.rows["hit_rate"].iloc[0]) if attempts else None
        notes = list(overall.warnings)
        sections: list[RateTable] = []
        if "team" in available:
            by_team = rates(store, by=["team"], definitions=defs)
            sections.append(RateTable(text["by_team"], by_team.rows, "team", "bars", overall_rate, text["team_note"]))
        if "rep" in available:
            by_rep = rates(store, by=["rep"], definitions=defs)
            sections.append(RateTable(text["by_rep"], by_rep.rows, "rep", "bars", overall_rate, text["rep_note"]))
            notes += [w for w in by_rep.warnings if w not in notes]
        trend = rates(store, period="month", definitions=defs)
        note = text["trend_note"].format(date=defs.effective_period_date)
        frame = trend.rows[["period", *RATE_COLUMNS]]
        sections.append(RateTable(text["trend"], frame, "period", "trend", overall_rate, note))
        if attempts:
            sections += _analysis_sections(store, defs, text, available, overall_rate)
    return sections, notes, overall


def _analysis_sections(
    store: Any, defs: Definitions, text: dict[str, str], available: set[str], overall_rate: float | None
) -> list[Any]:
    """Funnel and caterpillar plots of reps, the seasonal decomposition and cohort curves."""
    from hitrate.analysis.benchmark import benchmark
    from hitrate.analysis.cohorts import cohort_curves
    from hitrate.analysis.trend import trend

    out: list[Any] = []
    if "rep" in available:
        bench = benchmark(store, by="rep", definitions=defs)
        rate = float(bench.query["overall_rate"])
        out.append(FunnelPlot(text["funnel"], bench.rows, "rep", rate, text["funnel_note"]))
        out.append(CaterpillarPlot(text["caterpillar"], bench.rows, "rep", rate, text["caterpillar_note"]))
    try:
        season = trend(store, period="month", definitions=defs)
    except UserInputError:  # no dated attempts (web sessions with a month name only): no seasonal picture
        season = None
    if season is not None:
        s = season.series[0] if season.series else {}
        out.append(
            SeasonalPlot(
                text["seasonal"],
                season.rows,
                "period",
                s.get("seasonal_factors"),
                s.get("seasonal_factor_low"),
                s.get("seasonal_factor_high"),
                s.get("note", ""),
            )
        )
    if "created_at" in available:
        import pandas as pd

        try:
            curves = pd.DataFrame(cohort_curves(store, defs, period="quarter"))
        except UserInputError:  # the column is there but holds no dates
            curves = pd.DataFrame()
        if len(curves):
            out.append(CohortCurves(text["cohorts"], curves, "cohort", text["cohorts_note"]))
    return out


def write_store_report(
    store: Any,
    path: str | Path,
    *,
    title: str = "hitrate report",
    lang: str = "en",
    definitions: Definitions | None = None,
) -> Path:
    """Write the store's report (English ``en`` or Danish ``da``) as one self-contained HTML file; ``store``
    may also be any Ibis backend holding the canonical tables (``--engine``)."""
    if lang not in TEXT:
        raise ValueError(f"The 'lang' parameter of write_store_report must be one of {sorted(TEXT)}. Got {lang!r}.")
    text = TEXT[lang]
    sections, notes, overall = store_sections(store, lang, definitions)
    defs = overall.definitions
    row = overall.rows.iloc[0] if len(overall.rows) else None
    if row is not None and int(row["attempts"]) > 0:
        subtitle = text["subtitle"].format(
            hits=f"{int(row['hits']):,}",
            attempts=f"{int(row['attempts']):,}",
            denominator=defs.denominator,
            rate=f"{row['hit_rate']:.1%}",
            low=f"{row['ci_low']:.1%}",
            high=f"{row['ci_high']:.1%}",
            basis=defs.basis,
        )
    else:
        subtitle = text["empty"].format(denominator=defs.denominator)
    return write_report(
        path, title=title, subtitle=subtitle, definitions_hash=defs.hash, sections=sections, notes=notes, lang=lang
    )
