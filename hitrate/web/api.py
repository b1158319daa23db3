"""The REST API: the CLI's ``--format json`` outputs, within the caller's scope, behind a bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Header, Query, Request, UploadFile
from fastapi import Path as PathParam

from hitrate.engine.query import parse_where
from hitrate.i18n import text
from hitrate.store.users import User
from hitrate.web import data
from hitrate.web.auth import bearer_user
from hitrate.web.scoping import Forbidden
from hitrate.web.uploads import UPLOAD_FIELDS, ImportOptions, import_options, import_uploads

router = APIRouter(prefix="/api", tags=["api"])

PeriodParam = Literal["week", "month", "quarter", "year"]
BasisParam = Literal["closed", "cohort"]
DateParam = Annotated[
    str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description=text("web_api.yyyy_mm_dd_inclusive"))
]
WhereParam = Annotated[
    list[str] | None,
    Query(description=text("web_api.field_value_keep_only_these_rows"), max_length=20),
]
FieldParam = Annotated[
    str, Query(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$", description=text("web_api.a_field_of_the_data"))
]
ByParam = Annotated[list[str] | None, Query(description=text("web_api.group_by_these_fields_rep_team"), max_length=5)]


@dataclass(frozen=True)
class Filters:
    """The filters the analyses take, as the library's keyword arguments: a date range and ``where``."""

    date_from: str | None
    date_to: str | None
    where: dict[str, list[str]]

    def kwargs(self) -> dict[str, Any]:
        return {"date_from": self.date_from, "date_to": self.date_to, "where": self.where}


def filters(date_from: DateParam = None, date_to: DateParam = None, where: WhereParam = None) -> Filters:
    """``?date_from=&date_to=&where=FIELD=VALUE``, the ``where`` items read by the library."""
    return Filters(date_from, date_to, parse_where(where, "where"))


FiltersDep = Annotated[Filters, Depends(filters)]


def access(request: Request) -> data.StoreAccess:
    return request.app.state.access  # type: ignore[no-any-return]


def api_user(
    request: Request, authorization: Annotated[str | None, Header(description=text("web_api.bearer_token"))] = None
) -> User:
    """The caller, from their bearer token; 401 without one (:class:`~hitrate.web.auth.NotAuthenticated`)."""
    return bearer_user(access(request), authorization)


UserDep = Annotated[User, Depends(api_user)]


def admin_only(user: User, key: str) -> None:
    """403 (``key`` says why) unless ``user`` is an admin."""
    if user.role != "admin":
        raise Forbidden(key)


@router.get("/rates", summary=text("web_api.hit_rate_per_group"))
def get_rates(
    request: Request,
    user: UserDep,
    given: FiltersDep,
    by: ByParam = None,
    period: PeriodParam | None = None,
    basis: BasisParam | None = None,
) -> dict[str, Any]:
    """Hit rate per group with attempts, hits, a 95% Wilson interval and value hit rate."""
    return data.rates_json(access(request), user, by=by or [], period=period, basis=basis, **given.kwargs())


@router.get("/benchmark", summary=text("web_api.compare_groups"))
def get_benchmark(
    request: Request,
    user: UserDep,
    given: FiltersDep,
    by: FieldParam = "rep",
    adjust: Annotated[
        list[str] | None, Query(description=text("web_api.adjust_for_lead_mix_over_these"), max_length=5)
    ] = None,
    basis: BasisParam | None = None,
) -> dict[str, Any]:
    """Shrunk rates, funnel flags and (with ``adjust``) the quality index. A rep benchmarked by rep gets their
    own row and ``peers``: quantiles of the other reps' rates, without names."""
    return data.benchmark_json(access(request), user, by=by, adjust=adjust or [], basis=basis, **given.kwargs())


@router.get("/coach/{rep}", summary=text("web_api.the_rep_card"))
def get_coach(
    request: Request,
    user: UserDep,
    rep: Annotated[str, PathParam(min_length=1, max_length=200, description=text("web_api.the_rep_by_name"))],
) -> dict[str, Any]:
    """Hit rate against peers, quality index, trend, stage conversion and the weak stage, activity mix and
    segments of one rep in your scope. A rep's own card has no peer names and no reproducing commands."""
    return data.coach_json(access(request), user, rep)


@router.get("/leads", summary=text("web_api.scored_open_leads_best_first"))
def get_leads(
    request: Request,
    user: UserDep,
    where: WhereParam = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Leads scored by ``hitrate score predict``, by probability, with the reasons for and against."""
    return data.leads_json(access(request), user, where=parse_where(where, "where"), limit=limit)


@router.get("/doctor", summary=text("web_api.data_quality"))
def get_doctor(request: Request, user: UserDep, where: WhereParam = None) -> dict[str, Any]:
    """``hitrate doctor --format json`` over the deals in your scope (a manager's teams, a rep's own deals): what
    in the data would mislead a number, each finding with its count, examples and what to do."""
    return data.doctor_result(access(request), user, where=parse_where(where, "where")).to_dict()


@router.get("/definitions", summary=text("web_api.the_definitions_in_force_and_their"))
def get_definitions(request: Request, user: UserDep) -> dict[str, Any]:
    """``hitrate definitions show --format json``, plus ``history`` (``definitions history --format json``)."""
    return data.definitions_json(access(request))


@router.get("/quarantine", summary=text("web_api.quarantined_rows"))
def get_quarantine(request: Request, user: UserDep, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> dict[str, Any]:
    """Rows that could not be stored: file, row, column, reason. Admins only (raw rows name anyone)."""
    admin_only(user, "web.errors.quarantine_admins_only")
    return data.quarantine_json(access(request), limit)


@router.post("/imports", summary=text("web_api.import_crm_exports"))
def post_imports(
    request: Request,
    user: UserDep,
    files: Annotated[list[UploadFile], File(description=text("web_api.csv_xlsx_or_parquet_files"))],
    options: Annotated[ImportOptions, Depends(import_options)],
) -> dict[str, Any]:
    """Import files into the store through the server (admins only), with the options of ``hitrate import``
    as form fields (no ``preset`` and no ``map``: ``auto``); the answer is the import report. Errors name
    these fields, in the language of ``Accept-Language`` (English or Danish)."""
    admin_only(user, "web.errors.import_admins_only")
    request.state.param_names = UPLOAD_FIELDS
    return import_uploads(access(request), files, options).report
