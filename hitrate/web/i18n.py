"""The dashboard's text in English and Danish, and locale formatting (``63.2 %`` / ``63,2 %``, dates).

Numbers use the report's formatters (:mod:`hitrate.report._i18n`), so page and report agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hitrate.report._i18n import fmt_int, fmt_interval, fmt_pct

LANGS = ("en", "da")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "app": "hitrate",
        "overview": "Overview",
        "benchmark": "Benchmark",
        "trends": "Trends",
        "rep": "Rep",
        "leads": "Leads",
        "definitions": "Definitions",
        "import": "Import",
        "login": "Sign in",
        "logout": "Sign out",
        "user": "User name",
        "password": "Password",
        "bad_login": "Wrong user name or password.",
        "too_many": "Too many failed attempts; wait a few minutes.",
        "signed_in_as": "Signed in as {name} ({role})",
        "team": "Team",
        "all_teams": "All my teams",
        "filter": "Show",
        "language": "Language",
        "this_period": "This period",
        "last_period": "Last period",
        "last_year": "Same period last year",
        "period": "Period",
        "hit_rate": "Hit rate",
        "interval": "95% interval",
        "attempts": "Attempts",
        "hits": "Hits",
        "no_data": "No data in your scope yet.",
        "trend": "Monthly hit rate",
        "trend_note": "The band is the 95% interval.",
        "funnel": "Funnel plot: reps against the overall rate",
        "funnel_note": "Only reps outside the funnel, after control for many comparisons, are flagged.",
        "caterpillar": "Reps after shrinkage for small samples",
        "caterpillar_note": "Beta-binomial empirical Bayes: small samples lean towards the others.",
        "quality": "Lead quality index",
        "quality_note": "Hits against the hits expected from the mix of leads worked (1 = as expected).",
        "peers": "Your peers (anonymised)",
        "peers_note": "The distribution of the other reps' hit rates: {n} reps; names are not shown.",
        "seasonal": "Trend and season",
        "cohorts": "Cohorts: share won by deal age",
        "cohorts_note": "Young cohorts are not worse, only younger: compare at the same age.",
        "rep_card": "Rep card: {rep}",
        "choose_rep": "Choose a rep",
        "lead": "Lead",
        "probability": "Probability",
        "band": "Band",
        "reasons_up": "Reasons for",
        "reasons_down": "Reasons against",
        "no_leads": "No scored leads; score them with `hitrate score predict`.",
        "in_force": "In force",
        "hash": "Hash",
        "history": "History",
        "source": "Source",
        "at": "Put in force",
        "upload": "Upload a CRM export",
        "preset": "Preset",
        "upload_button": "Import",
        "imported": "Imported {imported}, updated {updated}, unchanged {unchanged}, quarantined {quarantined}.",
        "quarantine": "Quarantine",
        "file": "File",
        "row": "Row",
        "column": "Column",
        "reason": "Reason",
        "admins_only": "Only an admin can import.",
        "forbidden": "Not in your scope.",
        "value": "Value",
        "quantile": "Quantile",
        "coach": "What the numbers say",
        "coach_stages": "Conversion to the next stage, against peers",
        "stage": "Stage",
        "to_stage": "To",
        "peers_col": "Peers",
        "difference": "Difference, points (95%)",
        "lost_here": "Lost here",
        "weak_stage": "weak stage",
        "activity": "Activity",
        "best": "Team's best",
        "coach_activities": "Activities per decided opportunity, against the team's best",
        "coach_segments": "Hit rate by {field}, against peers",
        "coach_error": "No rep card: {error}",
    },
    "da": {
        "app": "hitrate",
        "overview": "Overblik",
        "benchmark": "Sammenligning",
        "trends": "Udvikling",
        "rep": "Sælger",
        "leads": "Leads",
        "definitions": "Definitioner",
        "import": "Import",
        "login": "Log ind",
        "logout": "Log ud",
        "user": "Brugernavn",
        "password": "Adgangskode",
        "bad_login": "Forkert brugernavn eller adgangskode.",
        "too_many": "For mange mislykkede forsøg; vent et par minutter.",
        "signed_in_as": "Logget ind som {name} ({role})",
        "team": "Team",
        "all_teams": "Alle mine teams",
        "filter": "Vis",
        "language": "Sprog",
        "this_period": "Denne periode",
        "last_period": "Sidste periode",
        "last_year": "Samme periode sidste år",
        "period": "Periode",
        "hit_rate": "Hitrate",
        "interval": "95 %-interval",
        "attempts": "Forsøg",
        "hits": "Vundne",
        "no_data": "Ingen data inden for dit område endnu.",
        "trend": "Hitrate pr. måned",
        "trend_note": "Båndet er 95 %-intervallet.",
        "funnel": "Tragtdiagram: sælgere mod den samlede hitrate",
        "funnel_note": "Kun sælgere uden for tragten, efter kontrol for mange sammenligninger, markeres.",
        "caterpillar": "Sælgere efter krympning for små stikprøver",
        "caterpillar_note": "Beta-binomial empirisk Bayes: små stikprøver læner sig mod de andre.",
        "quality": "Indeks for leadkvalitet",
        "quality_note": "Vundne mod det forventede ud fra de leads, der er arbejdet med (1 = som forventet).",
        "peers": "Dine kolleger (anonymiseret)",
        "peers_note": "Fordelingen af de andre sælgeres hitrate: {n} sælgere; navne vises ikke.",
        "seasonal": "Udvikling og sæson",
        "cohorts": "Kohorter: andel vundet efter alder",
        "cohorts_note": "Unge kohorter er ikke dårligere, kun yngre: sammenlign ved samme alder.",
        "rep_card": "Sælgerkort: {rep}",
        "choose_rep": "Vælg en sælger",
        "lead": "Lead",
        "probability": "Sandsynlighed",
        "band": "Gruppe",
        "reasons_up": "Taler for",
        "reasons_down": "Taler imod",
        "no_leads": "Ingen scorede leads; score dem med `hitrate score predict`.",
        "in_force": "Gældende",
        "hash": "Hash",
        "history": "Historik",
        "source": "Kilde",
        "at": "Sat i kraft",
        "upload": "Upload et CRM-udtræk",
        "preset": "Forudindstilling",
        "upload_button": "Importér",
        "imported": "Importeret {imported}, opdateret {updated}, uændret {unchanged}, i karantæne {quarantined}.",
        "quarantine": "Karantæne",
        "file": "Fil",
        "row": "Række",
        "column": "Kolonne",
        "reason": "Årsag",
        "admins_only": "Kun en administrator kan importere.",
        "forbidden": "Uden for dit område.",
        "value": "Værdi",
        "quantile": "Kvantil",
        "coach": "Hvad tallene siger",
        "coach_stages": "Konvertering til næste fase, mod kolleger",
        "stage": "Fase",
        "to_stage": "Til",
        "peers_col": "Kolleger",
        "difference": "Forskel, point (95 %)",
        "lost_here": "Tabt her",
        "weak_stage": "svag fase",
        "activity": "Aktivitet",
        "best": "Teamets bedste",
        "coach_activities": "Aktiviteter pr. afgjort handel, mod teamets bedste",
        "coach_segments": "Hitrate pr. {field}, mod kolleger",
        "coach_error": "Intet sælgerkort: {error}",
    },
}


# Goals, loss reasons and reps' feedback (hitrate.web.improve), kept apart so the pages above stay as they were.
_IMPROVE_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "goals": "Goals",
        "reasons": "Loss reasons",
        "goals_note": "Hit rate to date with its 95% interval, and the probability of reaching the goal given the "
        "open pipeline (hitrate goals progress).",
        "no_goals": "No goals in your scope yet.",
        "goal_for": "For",
        "target": "Goal",
        "open_deals": "Open deals",
        "goal_probability": "Chance of making it",
        "status": "Status",
        "on_track": "on track",
        "off_track": "off track",
        "reasons_note": "Lost deals by reason: the rep's own reason where recorded, else the CRM's.",
        "lost": "Lost",
        "share": "Share",
        "deal": "Deal",
        "note": "Note",
        "crm_reason": "CRM reason",
        "recorded_by": "Recorded by",
        "feedback_recorded": "Reasons recorded by reps",
        "record_reason": "Record the reason",
        "feedback_saved": "Saved: deal {deal} lost to '{reason}'.",
    },
    "da": {
        "goals": "Mål",
        "reasons": "Tabsårsager",
        "goals_note": "Hitrate til dato med 95 %-interval, og sandsynligheden for at nå målet med den åbne pipeline "
        "(hitrate goals progress).",
        "no_goals": "Ingen mål i dit område endnu.",
        "goal_for": "For",
        "target": "Mål",
        "open_deals": "Åbne handler",
        "goal_probability": "Chance for at nå det",
        "status": "Status",
        "on_track": "på sporet",
        "off_track": "bagud",
        "reasons_note": "Tabte handler efter årsag: sælgerens egen årsag, hvor den er registreret, ellers CRM'ets.",
        "lost": "Tabt",
        "share": "Andel",
        "deal": "Handel",
        "note": "Note",
        "crm_reason": "CRM-årsag",
        "recorded_by": "Registreret af",
        "feedback_recorded": "Årsager registreret af sælgere",
        "record_reason": "Registrér årsagen",
        "feedback_saved": "Gemt: handel {deal} tabt pga. '{reason}'.",
    },
}
for _lang, _extra in _IMPROVE_TEXT.items():
    TEXT[_lang].update(_extra)


def text(lang: str) -> dict[str, str]:
    """The UI strings of ``lang`` (English for anything else)."""
    return TEXT.get(lang, TEXT["en"])


def pick_lang(asked: str | None, session_lang: Any) -> str:
    """The page language: the one asked for (``?lang=``), else the session's, else English."""
    for lang in (asked, session_lang):
        if lang in LANGS:
            return str(lang)
    return "en"


def pct(value: Any, lang: str) -> str:
    """``0.632`` -> ``63.2 %`` (en) or ``63,2 %`` (da)."""
    return fmt_pct(value, lang)


def interval(low: Any, high: Any, lang: str) -> str:
    return fmt_interval(low, high, lang)


def count(value: Any, lang: str) -> str:
    return fmt_int(value, lang)


def date(value: Any, lang: str) -> str:
    """A date or time per locale: ``2024-03-05`` (en) / ``05.03.2024`` (da)."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if not isinstance(value, dt.date):
        return str(value)
    if lang == "da":
        return value.strftime("%d.%m.%Y %H:%M" if isinstance(value, dt.datetime) else "%d.%m.%Y")
    return value.strftime("%Y-%m-%d %H:%M" if isinstance(value, dt.datetime) else "%Y-%m-%d")
