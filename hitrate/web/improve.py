"""Goals, loss reasons and reps' feedback on the dashboard and the API, within each role's scope.

Who sees and does what:

* goals: an admin every goal; a manager the goals of the teams they manage and of those teams' reps; a rep the
  goals set on themselves. An admin sets any goal, a manager one within their scope, a rep none.
* loss reasons: counted with the caller's scope as the query's ``where`` (as every other number).
* feedback on a lost deal: a rep on their own deals, a manager on their teams' deals, an admin on any; the
  library checks the deal (:func:`hitrate.feedback.add_feedback`), and a deal outside the scope is "not found
  among your deals" (403), the same answer as for a deal that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from hitrate.errors import HitrateError, NotFoundError
from hitrate.i18n import format as fmt
from hitrate.i18n import text
from hitrate.store.users import User
from hitrate.web import data
from hitrate.web.api import ByParam, FiltersDep, PeriodParam, UserDep, access
from hitrate.web.downloads import of_records, of_result
from hitrate.web.i18n import error_text, renamed
from hitrate.web.pages import Page, method, page, table, team_context
from hitrate.web.scoping import Forbidden, may_see, scope_key, scoped_where

if TYPE_CHECKING:
    from hitrate.store.embedded import Store

api_router = APIRouter(prefix="/api", tags=["api"])
pages_router = APIRouter(include_in_schema=False)


# -- scope ---------------------------------------------------------------------------------------------------------
def _reps_in_scope(store_access: data.StoreAccess, user: User) -> set[str]:
    return set(data.field_values(store_access, user, "rep")) if user.role == "manager" else set()


def goals_json(store_access: data.StoreAccess, user: User, *, threshold: float = 0.5) -> dict[str, Any]:
    """``hitrate goals progress --format json`` for the goals the user may see."""
    return goals_computed(store_access, user, threshold=threshold).data


def goals_computed(store_access: data.StoreAccess, user: User, *, threshold: float = 0.5) -> data.Computed:
    """``hitrate goals progress`` for the goals the user may see."""
    from hitrate.improve.goals import list_goals, progress

    reps = _reps_in_scope(store_access, user)

    def compute(store: Store) -> data.Computed:
        ids = [g.goal_id for g in list_goals(store) if may_see(user, g.field, g.value, reps)]
        if not ids:
            return data.Computed({"rows": [], "warnings": [], "method": "", "threshold": threshold})
        return data.computed(progress(store, ids=ids, threshold=threshold))

    return store_access.cached(("goals", threshold, scope_key(user), tuple(sorted(reps))), compute)


def reasons_json(store_access: data.StoreAccess, user: User, **query: Any) -> dict[str, Any]:
    """``hitrate reasons --format json`` within the user's scope (:func:`reasons_computed`'s answer)."""
    return reasons_computed(store_access, user, **query).data


def reasons_computed(
    store_access: data.StoreAccess,
    user: User,
    *,
    by: list[str],
    period: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    where: dict[str, list[str]] | None = None,
) -> data.Computed:
    """``hitrate reasons`` within the user's scope."""
    from hitrate.improve.feedback import reasons

    w = scoped_where(user, where)
    key = ("reasons", tuple(by), period, date_from, date_to, data.frozen(w), scope_key(user))

    def compute(store: Store) -> data.Computed:
        return data.computed(reasons(store, by=by, period=period, date_from=date_from, date_to=date_to, where=w))

    return store_access.cached(key, compute)


def feedback_json(store_access: data.StoreAccess, user: User, limit: int = 100) -> list[dict[str, Any]]:
    from hitrate.improve.feedback import list_feedback

    return store_access.cached(
        ("feedback", limit, scope_key(user)), lambda store: list_feedback(store, user=user, limit=limit)
    )


def recent_lost_json(
    store_access: data.StoreAccess, user: User, limit: int = 50, where: dict[str, list[str]] | None = None
) -> list[dict[str, Any]]:
    """The latest lost deals in the user's scope (and ``where``; id, close date, CRM reason): the form's
    suggestions."""
    from hitrate.improve.feedback import recent_lost_deals

    w = scoped_where(user, where)

    def compute(store: Store) -> list[dict[str, Any]]:
        return recent_lost_deals(store, where=w, limit=limit)

    return store_access.cached(("recent_lost", limit, data.frozen(w), scope_key(user)), compute)


def record_feedback(store_access: data.StoreAccess, user: User, deal: str, reason: str, note: str) -> dict[str, Any]:
    """Record a reason through the server (one short write); a deal outside the scope (or none) is
    :class:`Forbidden` (403), with the library's message."""
    from hitrate.improve.feedback import NotYourDeal, add_feedback

    try:
        with store_access.writing() as store:
            rec = add_feedback(store, deal_id=deal, reason=reason, note=note, user=user)
    except NotYourDeal as exc:
        raise Forbidden(exc.key, **exc.params) from None
    return {**rec, "recorded": rec["recorded"].isoformat()}


# -- API -----------------------------------------------------------------------------------------------------------
class GoalIn(BaseModel):
    """A goal to set: ``for`` is FIELD=VALUE (``rep=Ana``, ``team=North``)."""

    model_config = ConfigDict(extra="forbid")

    who: str = Field(alias="for", max_length=200, description=text("web_api.field_value_the_rep_or_team"))
    target: float = Field(description=text("web_api.the_hit_rate_to_reach_between"))
    period: str | None = Field(default=None, max_length=10, description=text("web_api.period_example"))
    date_from: str | None = Field(default=None, alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$")
    date_to: str | None = Field(default=None, alias="to", pattern=r"^\d{4}-\d{2}-\d{2}$")


#: How the goal body names the library's parameters, where it differs (``from``/``to``, as on the command line).
GOAL_FIELDS = renamed({"date_from": "from", "date_to": "to"})


class FeedbackIn(BaseModel):
    """A reason (and note) for a lost deal."""

    model_config = ConfigDict(extra="forbid")

    deal: str = Field(max_length=200, description=text("web_api.the_lost_deal_s_id"))
    reason: str = Field(max_length=80, description=text("web_api.why_it_was_lost"))
    note: str = Field(default="", max_length=500, description=text("web_api.a_short_note"))


@api_router.get("/goals", summary=text("web_api.goals_and_their_progress"))
def get_goals(request: Request, user: UserDep, threshold: Annotated[float, Query(gt=0, lt=1)] = 0.5) -> dict[str, Any]:
    """The goals in your scope: progress to date, the probability of reaching each, and whether it is off track."""
    return goals_json(access(request), user, threshold=threshold)


@api_router.post("/goals", summary=text("web_api.set_a_goal"))
def post_goal(request: Request, user: UserDep, goal: GoalIn) -> dict[str, Any]:
    """Admins set any goal; managers goals of their teams and their teams' reps; reps none."""
    request.state.param_names = GOAL_FIELDS  # errors name the body's fields ("from", not "date_from")
    return set_goal_for(access(request), user, goal.who, goal.target, goal.period, goal.date_from, goal.date_to)


def set_goal_for(
    store_access: data.StoreAccess,
    user: User,
    who: str,
    target: float,
    period: str | None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> dict[str, Any]:
    """Set a goal for ``who`` (FIELD=VALUE) as ``user`` may (the API and the goals page's form): admins any,
    managers their teams' and their teams' reps', reps none (:class:`Forbidden`)."""
    from hitrate.improve.goals import parse_period, parse_subject, set_goal

    field, value = parse_subject(who)
    if user.role == "rep" or not may_see(user, field, value, _reps_in_scope(store_access, user)):
        raise Forbidden("web.errors.goal_not_in_scope", field=field, value=value)
    start, end = parse_period(period, date_from, date_to)
    with store_access.writing() as store:
        made = set_goal(store, field=field, value=value, target=target, start=start, end=end, set_by=user.name)
    return made.to_dict()


@api_router.get("/reasons", summary=text("web_api.loss_reasons_by_group_and_period"))
def get_reasons(
    request: Request, user: UserDep, given: FiltersDep, by: ByParam = None, period: PeriodParam | None = None
) -> dict[str, Any]:
    """Lost deals by reason (the rep's recorded reason over the CRM's), shares with intervals, changes."""
    return reasons_json(access(request), user, by=by or [], period=period, **given.kwargs())


@api_router.get("/feedback", summary=text("web_api.reasons_recorded_by_reps"))
def get_feedback(
    request: Request, user: UserDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Recorded reasons and notes on lost deals in your scope, newest first."""
    return feedback_json(access(request), user, limit)


@api_router.post("/feedback", summary=text("web_api.record_why_a_deal_was_lost"))
def post_feedback(request: Request, user: UserDep, item: FeedbackIn) -> dict[str, Any]:
    """A rep on their own lost deals, a manager on their teams', an admin on any; else 403 ("not found among your
    deals", also for a deal that does not exist, so the answer never tells whether another team's deal exists)."""
    return record_feedback(access(request), user, item.deal, item.reason, item.note)


@api_router.get("/interventions", summary=text("web_api.interventions_in_your_scope"))
def get_interventions(request: Request, user: UserDep) -> list[dict[str, Any]]:
    """Interventions recorded for the teams and reps in your scope."""
    from hitrate.improve.interventions import list_interventions

    store_access = access(request)
    reps = _reps_in_scope(store_access, user)

    def compute(store: Store) -> list[dict[str, Any]]:
        return [i.to_dict() for i in list_interventions(store) if may_see(user, i.field, i.value, reps)]

    return store_access.cached(("interventions", scope_key(user), tuple(sorted(reps))), compute)


@api_router.get(
    "/interventions/{intervention_id}/effect",
    summary=text("web_api.did_it_work"),
)
def get_intervention_effect(
    request: Request,
    user: UserDep,
    intervention_id: int,
    window: Annotated[int, Query(ge=7, le=3660)] = 90,
) -> dict[str, Any]:
    """Difference in differences against peers within your scope: a manager's peers are the other reps or teams
    they manage (so a manager of one team cannot compare that team with others); admins compare with everyone.
    Reps: 403 (their only peers would be outside their scope)."""
    from hitrate.improve.interventions import effect, get_intervention

    store_access = access(request)
    if user.role == "rep":
        raise Forbidden("web.errors.effect_needs_peers")
    reps = _reps_in_scope(store_access, user)
    w = scoped_where(user)

    def compute(store: Store) -> dict[str, Any]:
        try:
            item = get_intervention(store, intervention_id)
        except NotFoundError:
            if user.role == "admin":
                raise
            item = None  # the same answer as for another team's intervention: existence is not told
        if item is None or not may_see(user, item.field, item.value, reps):
            raise Forbidden("web.errors.intervention_not_in_scope", id=intervention_id)
        return effect(store, intervention_id, window=window, where=w or None).to_dict()

    key = ("effect", intervention_id, window, scope_key(user), tuple(sorted(reps)))
    return store_access.cached(key, compute)


# -- pages ---------------------------------------------------------------------------------------------------------
@pages_router.get("/goals")
@page("goals")
def goals_page(p: Page) -> dict[str, Any]:
    """The goals in the user's scope with their progress; off-track goals marked."""
    return _goals_context(p)


@pages_router.post("/goals")
def goals_form(
    request: Request,
    who: Annotated[str, Form(max_length=200)],
    target: Annotated[str, Form(max_length=20)],
    period: Annotated[str, Form(max_length=10)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Set (or change) a goal from the page's form: CSRF-checked, scoped like the API (a rep is refused)."""
    p = Page(request)
    if (refused := p.refuse_form("goals", csrf)) is not None:
        return refused
    assert p.user is not None
    try:
        percent = float(target.strip().rstrip("%").replace(",", "."))
    except ValueError:
        return p.show("goals", 400, **_goals_context(p, p.t("goal_target_bad", target=target)))
    try:
        made = set_goal_for(p.access, p.user, who, percent / 100, period.strip() or None)
    except HitrateError as exc:
        status = 403 if isinstance(exc, Forbidden) else 400
        return p.show("goals", status, **_goals_context(p, error_text(exc, p.lang)))
    saved = p.t("goal_saved", who=f"{made['field']}={made['value']}", target=fmt.percent(made["target"], p.lang))
    return p.show("goals", **_goals_context(p, saved))


def _goals_context(p: Page, message: str | None = None) -> dict[str, Any]:
    """The goals table, and for an admin or a manager the form that sets one (its choices: their teams and
    reps)."""
    assert p.user is not None
    where, context = team_context(p)
    computed = goals_computed(p.access, p.user)
    body = computed.data
    lang, t = p.lang, p.t
    team = where.get("team", [""])[0]
    members = set(data.field_values(p.access, p.user, "rep", where)) if team else set()

    def chosen(r: Mapping[str, Any]) -> bool:  # the chosen team's goals and its reps' goals
        return (r["field"], r["value"]) == ("team", team) or (r["field"] == "rep" and r["value"] in members)

    if team:
        body = {**body, "rows": [r for r in body["rows"] if chosen(r)]}
    rows = [
        [
            _subject(p, r["field"], str(r["value"])),
            fmt.percent(r["target"], lang),
            t("date_span", a=r["start"], b=r["end"]),
            t("counts", hits=r["hits"], attempts=r["attempts"]),
            fmt.percent(r["hit_rate"], lang),
            fmt.interval(r["ci_low"], r["ci_high"], lang) if r["hit_rate"] is not None else fmt.MISSING,
            fmt.integer(r["open_deals"], lang),
            fmt.percent(r["probability"], lang),
            t["off_track"] if r["off_track"] else t["on_track"],
        ]
        for r in body["rows"]
    ]
    headers = [t["goal_for"], t["target"], t["period"], t["hits_over_attempts"], t["hit_rate"], t["interval"],
               t["open_deals"], t["goal_probability"], t["status"]]  # fmt: skip
    download = of_result(computed, keep=chosen if team else None) if computed.result is not None else None
    context |= {
        "method": method(p, computed, t["goals_method"]),
        "tables": [table("goals", t["goals_note"], headers, rows, download=download)],
        "message": message or (None if rows else t["no_goals"]),
    }
    charted = [r for r in body["rows"] if r["probability"] is not None]
    if charted:  # each goal's chance of being made, the threshold marked
        from markupsafe import Markup

        from hitrate.improve.goals import progress_figure
        from hitrate.report._charts import figure_html

        title = t["goal_chart"]
        figure = progress_figure(charted, body["threshold"], title, lang)
        block = {"type": "figure", "html": Markup(figure_html(figure, div_id="goals-chart", filename="goals"))}
        context["sections"] = [{"id": "goals-progress", "title": title, "kind": "goals", "blocks": [block]}]
    if p.user.role != "rep":
        teams = data.field_values(p.access, p.user, "team") if "team" in data.fields(p.access) else []
        reps = data.field_values(p.access, p.user, "rep")
        choices = [("team", x) for x in teams] + [("rep", x) for x in reps]
        context["goal_form"] = {"choices": [{"value": f"{f}={x}", "label": _subject(p, f, x)} for f, x in choices]}
    return context


def _subject(p: Page, field: str, value: str) -> str:
    """Whom a goal is for, in the page's words (``Team: North``, ``Sælger: Ana``; another field as FIELD=VALUE)."""
    return p.t(f"goal_choice_{field}", value=value) if field in ("team", "rep") else f"{field}={value}"


def _reasons_context(p: Page, message: str | None = None) -> dict[str, Any]:
    """The reasons page: lost deals by reason, the reasons reps recorded, and the form (with the latest lost
    deals in the user's scope as suggestions)."""
    assert p.user is not None
    lang, t = p.lang, p.t
    where, context = team_context(p)
    by = [] if p.user.role == "rep" else (["team"] if "team" in data.fields(p.access) else [])
    computed = reasons_computed(p.access, p.user, by=by, where=where)
    body = computed.data
    counted = [
        [*(str(r[b]) for b in by), r["reason"], fmt.integer(r["lost"], lang), fmt.percent(r["share"], lang),
         fmt.interval(r["ci_low"], r["ci_high"], lang)]
        for r in body["rows"]
    ]  # fmt: skip
    headers = [*(t["team"] for _ in by), t["reason"], t["lost"], t["share"], t["interval"]]
    feedback = feedback_json(p.access, p.user, 50)
    if where:  # the reasons recorded on the chosen team's reps' deals
        members = set(data.field_values(p.access, p.user, "rep", where))
        feedback = [r for r in feedback if r["rep"] in members]
    columns = ("id", "rep", "reason", "crm_reason", "note", "recorded_by", "recorded")
    recorded = [[r[c] or "" for c in columns[:-1]] for r in feedback]
    recorded_headers = [t["deal"], t["rep"], t["reason"], t["crm_reason"], t["note"], t["recorded_by"]]
    deals = [
        {"id": d["id"], "label": t("lost_deal_label", day=d["closed_at"], why=d["loss_reason"] or "")}
        for d in recent_lost_json(p.access, p.user, where=where)
    ]
    tables = [
        table("reasons", t["reasons_note"], headers, counted, empty=t["reasons_none"], download=of_result(computed)),
        table(
            "feedback",
            t["feedback_recorded"],
            recorded_headers,
            recorded,
            download=of_records("feedback", columns, feedback),
        ),
    ]
    return {
        **context,
        "tables": tables,
        "feedback_form": True,
        "deals": deals,
        "message": message,
        "method": method(p, computed),
    }


@pages_router.get("/reasons")
@page("reasons")
def reasons_page(p: Page) -> dict[str, Any]:
    """Loss reasons in the user's scope, the reasons reps recorded, and the form to record one."""
    return _reasons_context(p)


@pages_router.post("/reasons")
def reasons_form(
    request: Request,
    deal: Annotated[str, Form(max_length=200)],
    reason: Annotated[str, Form(max_length=80)],
    note: Annotated[str, Form(max_length=500)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Record a reason from the page's form (CSRF-checked, scoped like the API)."""
    p = Page(request)
    if (refused := p.refuse_form("reasons", csrf)) is not None:
        return refused
    assert p.user is not None
    try:
        rec = record_feedback(p.access, p.user, deal, reason, note)
    except HitrateError as exc:
        status = 403 if isinstance(exc, Forbidden) else 400
        return p.show("reasons", status, **_reasons_context(p, error_text(exc, p.lang)))
    return p.show("reasons", **_reasons_context(p, p.t("feedback_saved", deal=rec["id"], reason=rec["reason"])))
