"""The forecast on the dashboard and the API, within each role's scope.

A manager's forecast is of their teams (one row per team and period), a rep's of their own deals, an admin's
of everyone's (per team when the data has teams): the scope is the query's ``where`` (:func:`scoped_where`), as
for every other number. The page shows the forecast as a chart with its interval band, the table, and beside it
the backtest's accuracy over the last twelve months (monthly as-of dates, each month's wins).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from hitrate.i18n import Message, text
from hitrate.store.users import User
from hitrate.web import data
from hitrate.web.api import ByParam, DateParam, UserDep, access
from hitrate.web.downloads import of_result
from hitrate.web.pages import Page, method, page, table, team_context
from hitrate.web.scoping import scope_key, scoped_where

if TYPE_CHECKING:
    from hitrate.store.embedded import Store

api_router = APIRouter(prefix="/api", tags=["api"])
pages_router = APIRouter(include_in_schema=False)
BACKTEST_MONTHS = 12


def forecast_json(store_access: data.StoreAccess, user: User, **query: Any) -> dict[str, Any]:
    """``hitrate forecast --format json`` within the user's scope (:func:`forecast_computed`'s answer)."""
    return forecast_computed(store_access, user, **query).data


def forecast_computed(
    store_access: data.StoreAccess,
    user: User,
    *,
    by: list[str],
    as_of: str | None = None,
    until: str | None = None,
    horizon: str | None = None,
    period: str = "month",
    level: float = 0.8,
    where: dict[str, list[str]] | None = None,
    strata: tuple[str, ...] | None = None,
) -> data.Computed:
    """``hitrate forecast`` within the user's scope (``strata`` as the library takes it)."""
    from hitrate.improve.forecast import forecast

    w = scoped_where(user, where)
    key = ("forecast", tuple(by), as_of, until, horizon, period, level, data.frozen(w), strata, scope_key(user))

    def compute(store: Store) -> data.Computed:
        result = forecast(
            store, as_of=as_of, until=until, horizon=horizon, period=period, by=by, where=w, level=level,
            strata=strata,
        )  # fmt: skip
        return data.computed(result)

    return store_access.cached(key, compute)


def backtest_computed(
    store_access: data.StoreAccess,
    user: User,
    first: dt.date,
    last: dt.date,
    where: dict[str, list[str]] | None = None,
) -> data.Computed:
    """``hitrate forecast backtest --from FIRST --to LAST`` within the user's scope (and ``where``)."""
    from hitrate.improve.backtest import forecast_backtest

    w = scoped_where(user, where)

    def compute(store: Store) -> data.Computed:
        return data.computed(forecast_backtest(store, date_from=first, date_to=last, where=w))

    return store_access.cached(("forecast_backtest", first, last, data.frozen(w), scope_key(user)), compute)


@api_router.get("/forecast", summary=text("forecast.api_summary"))
def get_forecast(
    request: Request,
    user: UserDep,
    by: ByParam = None,
    as_of: DateParam = None,
    until: DateParam = None,
    horizon: Literal["month", "quarter", "year"] | None = None,
    period: Literal["week", "month", "quarter"] = "month",
    level: Annotated[float, Query(gt=0, lt=1)] = 0.8,
    where: Annotated[list[str] | None, Query(max_length=20)] = None,
    strata: Annotated[list[str] | None, Query(max_length=5)] = None,
    no_strata: bool = False,
) -> dict[str, Any]:
    """Expected wins and amount won per period (and group) up to the horizon, with intervals, split into booked,
    from open deals and from new deals; within your scope. ``strata``: fields whose values give the open deals
    their own time-to-close curves (default: chosen from the data); ``no_strata``: none."""
    from hitrate.engine.query import parse_where
    from hitrate.improve.forecast import strata_option

    return forecast_json(
        access(request), user, by=by or [], as_of=as_of, until=until, horizon=horizon, period=period, level=level,
        where=parse_where(where), strata=strata_option(strata, no_strata),
    )  # fmt: skip


@pages_router.get("/forecast")
@page("forecast")
def forecast_page(p: Page) -> dict[str, Any]:
    """The forecast to the end of the quarter in the user's scope (a chart with its band and the table), and the
    backtest's accuracy over the last twelve months."""
    from markupsafe import Markup

    from hitrate.improve._forecast_tables import accuracy_cells, backtest_window, forecast_cells
    from hitrate.improve.forecast import band_figure
    from hitrate.report._charts import figure_html

    assert p.user is not None
    lang = p.lang
    where, context = team_context(p)
    by = ["team"] if p.user.role != "rep" and "team" in data.fields(p.access) else []
    computed = forecast_computed(p.access, p.user, by=by, where=where)
    body = computed.data
    rows = body["rows"]
    if not rows:
        return {**context, "message": p.t["no_data"]}
    title = Message(
        "forecast.title", as_of=dt.date.fromisoformat(body["as_of"]), until=dt.date.fromisoformat(body["until"])
    )
    figure = band_figure(rows, by, body["level"], title.render(lang), lang)
    heads, cells = forecast_cells(rows, by, [p.t["team"] for _ in by], lang, data.currency(p.access))
    caption = p.t["forecast_caption"]
    tables = [table("forecast", caption, heads, cells, download=of_result(computed))]
    first, last = backtest_window(dt.date.fromisoformat(body["as_of"]))
    backtest = backtest_computed(p.access, p.user, first, last, where)
    accuracy = backtest.data
    if accuracy["points"]:
        heads, acc_rows = accuracy_cells(accuracy["summary"], lang)
        note = p.t("accuracy_caption", n=len(accuracy["points"]))
        download = of_result(backtest, first="accuracy")
        tables.append(table("forecast-accuracy", note, heads, acc_rows, download=download))
    html = Markup(figure_html(figure, div_id="forecast-chart", filename="forecast"))
    block = {"type": "figure", "html": html, "label": title.render(lang), "caption": caption}
    section = {"id": "forecast-band", "title": title.render(lang), "kind": "forecast", "blocks": [block]}
    from hitrate.improve.forecast import ASSUMPTIONS

    how = method(p, computed, ASSUMPTIONS)
    if accuracy["points"]:  # how the accuracy was measured (and the command that gives the same)
        how += method(p, Message("forecast.accuracy_note", n=len(accuracy["points"])))
    return {**context, "sections": [section], "tables": tables, "method": how}
