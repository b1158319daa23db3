"""The rep page: one rep's card (their rate by month, the coach's rep card against peers), and the reps to choose
from; a rep sees their own, a manager the reps of their teams (the team filter narrows the list)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from hitrate.errors import HitrateError, PermissionDeniedError
from hitrate.i18n import format as fmt
from hitrate.web import data
from hitrate.web.downloads import of_records, of_result
from hitrate.web.pages import (
    Page,
    file,
    method,
    monthly_section,
    page,
    rate_card,
    section_contexts,
    table,
    team_context,
)
from hitrate.web.scoping import Forbidden

pages_router = APIRouter(include_in_schema=False)


@pages_router.get("/rep")
@page("rep")
def rep_page(p: Page) -> dict[str, Any]:
    """One rep's card: their rate by month, and where they stand (peers anonymised for a rep)."""
    assert p.user is not None
    where, context = team_context(p)
    reps = data.field_values(p.access, p.user, "rep")
    shown = data.field_values(p.access, p.user, "rep", where) if where else reps  # the chosen team's reps
    rep = p.user.rep if p.user.role == "rep" else p.request.query_params.get("rep") or (shown[0] if shown else "")
    if not rep:
        return {**context, "message": p.t["no_data"]}
    if rep not in reps:
        raise Forbidden("web.errors.rep_not_in_scope", rep=rep)
    title = p.t("rep_card", rep=rep)
    computed = data.rates_computed(p.access, p.user, period="month", where={"rep": [rep]})
    rows = [r for r in computed.data["rows"] if r["attempts"]]
    if not rows:
        return {**context, "title": title, "message": p.t["no_data"]}
    total = data.rates_json(p.access, p.user, where={"rep": [rep]})["rows"][0]
    cards = [
        rate_card(
            p,
            p.t["hit_rate"],
            total,
            p.t("span", first=fmt.period(rows[0]["period"], p.lang), last=fmt.period(rows[-1]["period"], p.lang)),
        )
    ]
    sections: list[Any] = [monthly_section(p, rows, total["hit_rate"])]
    tables: list[dict[str, Any]] = []
    message = None
    try:
        card = data.coach_json(p.access, p.user, rep)
    except PermissionDeniedError:
        raise
    except HitrateError as exc:  # e.g. a rep without peers: the rest of the page still shows
        message = p.t("coach_error", error=exc.message)
    else:
        from hitrate.improve.coach_card import card_sections

        tables += _coach_tables(p, card)
        sections += [s for s in card_sections(card, p.lang) if s.kind != "trend"]  # the page has a monthly one
    if p.user.role != "rep":  # each rep's page (of the chosen team)
        links = [[{"text": r, "href": "/rep?" + urlencode({"rep": r, **dict(p.here())})}] for r in shown]
        tables.append(table("reps", p.t["choose_rep"], [p.t["rep"]], links))
    return {
        **context,
        "files": [file("monthly", p.t["monthly"], of_result(computed))],
        "method": method(p, computed),
        "title": title,
        "cards": cards,
        "sections": section_contexts(sections, p.lang),
        "tables": tables,
        "message": message,
    }


@pages_router.get("/coach/{rep}")
def coach_page(request: Request, rep: str) -> Response:
    """The rep card at its own address: the Rep page for that rep (the scope is checked there)."""
    from urllib.parse import urlencode

    return RedirectResponse(f"/rep?{urlencode({'rep': rep})}", status_code=303)


def _coach_tables(p: Page, card: dict[str, Any]) -> list[dict[str, Any]]:
    """The rep card's statements, stage conversions, activity mix and segments as page tables."""
    from hitrate.improve.coach import statements

    lang, t = p.lang, p.t

    def ratio(part: Any, whole: Any, rate: Any) -> str:
        return t("ratio", k=part, n=whole, p=rate)

    def diff(r: dict[str, Any]) -> str:
        if r.get("difference") is None:
            return fmt.MISSING
        return t("points_interval", d=r["difference"], low=r["difference_low"], high=r["difference_high"])

    def per(x: dict[str, Any]) -> str:
        return fmt.number(x.get("per_opportunity"), lang, 2)

    def stage(r: dict[str, Any]) -> list[str]:
        name = t("stage_weak", stage=r["stage"]) if r["stage"] == weak else r["stage"]
        interval = fmt.interval(r["conversion_low"], r["conversion_high"], lang)
        mine = t("ratio_interval", k=r["advanced"], n=r["reached"], p=r["conversion"], ci=interval)
        peers = r["peers"]
        theirs = ratio(peers["advanced"], peers["reached"], peers["conversion"])
        return [name, r["to"], mine, theirs, diff(r), fmt.integer(r["lost_here"], lang)]

    weak = (card.get("weak_stage") or {}).get("stage")
    lines = statements(card, lang)
    said = of_records("coach", ("statement",), [{"statement": line} for line in lines])
    out = [table("coach", t["coach"], [t("rep_card", rep=card["rep"])], [[line] for line in lines], download=said)]
    differences = ("difference", "difference_low", "difference_high")
    if card["stages"]:
        headers = [t["stage"], t["to_stage"], t["rep"], t["peers_col"], t["difference"], t["lost_here"]]
        stage_columns = ("stage", "to", "advanced", "reached", "conversion", "conversion_low", "conversion_high",
                   "peers_advanced", "peers_reached", "peers_conversion", *differences, "lost_here")  # fmt: skip
        records = [{**r, **_prefixed("peers", r["peers"])} for r in card["stages"]]
        percent = ("conversion", "conversion_low", "conversion_high", "peers_conversion", *differences)
        download = of_records("stages", stage_columns, records, percent=percent, counts=("lost_here",))
        out.append(table("stages", t["coach_stages"], headers, [stage(r) for r in card["stages"]], download=download))
    if card["activities"]:
        rows = [[r["type"], per(r["rep"]), per(r["peers"]), per(r["best"])] for r in card["activities"]]
        headers = [t["activity"], t["rep"], t["peers_col"], t["best"]]
        records = [{"type": r["type"], **{k: r[k].get("per_opportunity") for k in ("rep", "peers", "best")}}
                   for r in card["activities"]]  # fmt: skip
        download = of_records("activities", ("type", "rep", "peers", "best"), records)
        out.append(table("activities", t["coach_activities"], headers, rows, download=download))
    for f, segments in card["segments"].items():
        rows = [
            [
                str(r[f]),
                ratio(r["hits"], r["attempts"], r["hit_rate"]),
                ratio(r["peers"]["hits"], r["peers"]["attempts"], r["peers"]["hit_rate"]),
                diff(r),
            ]
            for r in segments
        ]
        headers = [f, t["rep"], t["peers_col"], t["difference"]]
        columns = (f, "hits", "attempts", "hit_rate", "peers_hits", "peers_attempts", "peers_hit_rate", *differences)
        records = [{**r, **_prefixed("peers", r["peers"])} for r in segments]
        shares = ("hit_rate", "peers_hit_rate", *differences)
        download = of_records(f"segments_{f}", columns, records, percent=shares)
        out.append(table(f"segments-{f}", t("coach_segments", field=f), headers, rows, download=download))
    return out


def _prefixed(prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each key prefixed (``peers_hits``): a nested record's columns in a flat table."""
    return {f"{prefix}_{k}": v for k, v in values.items()}
