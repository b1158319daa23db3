"""The REST API: the CLI's ``--format json`` outputs, within the caller's scope, behind a bearer token."""

from __future__ import annotations

import copy
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi import Path as PathParam

from hitrate.engine.query import parse_where
from hitrate.i18n import Message, Param, text
from hitrate.store.users import User
from hitrate.web import data
from hitrate.web.auth import bearer_user
from hitrate.web.scoping import Forbidden

router = APIRouter(prefix="/api", tags=["api"])
T = TypeVar("T")

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
    preset: Annotated[
        str | None, Form(pattern=r"^[a-z0-9_-]{1,40}$", description=text("web_api.a_crm_preset_or_auto"))
    ] = None,
) -> dict[str, Any]:
    """Import files into the store through the server (admins only); the answer is the import report."""
    admin_only(user, "web.errors.import_admins_only")
    return import_uploads(access(request), files, preset)


def import_uploads(store_access: data.StoreAccess, files: list[UploadFile], preset: str | None) -> dict[str, Any]:
    """Save the uploads to a private folder under their base names and import them in one write; messages
    name the uploaded file, not the folder."""
    from hitrate.errors import UserInputError
    from hitrate.ingest import import_files

    with tempfile.TemporaryDirectory(prefix="hitrate-upload-") as folder:
        paths = []
        for i, upload in enumerate(files):
            path = Path(folder) / str(i) / (Path(upload.filename or "").name or "upload.csv")
            path.parent.mkdir()
            with path.open("wb") as out:
                shutil.copyfileobj(upload.file, out)
            paths.append(path)
        try:
            with store_access.writing() as store:
                report = import_files(store, paths, preset=preset)
                # the batch records and the quarantine name the uploaded file, not the server's folder
                pattern = re.escape(folder) + "/[0-9]+/"
                for table, column in (("import_batches", "sources"), ("quarantine", "source")):
                    store.raw.execute(f"UPDATE {table} SET {column} = regexp_replace({column}, ?, '', 'g')", [pattern])
        except UserInputError as exc:
            raise UserInputError(exc.key, **_without_folder(exc.message, folder).params) from None
        result: dict[str, Any] = _without_folder(report.to_dict(), folder)
    return result


def _without_folder(message: T, folder: str) -> T:
    """``message`` (or any JSON-like value) with the uploads' private folder (``<folder>/<n>/``) taken out of every
    path it names."""
    prefix = re.compile(re.escape(folder) + r"/\d+/")

    def strip(value: Any) -> Any:
        if isinstance(value, Message):
            out = copy.copy(value)
            object.__setattr__(out, "params", {k: strip(v) for k, v in value.params.items()})
            return out
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        if isinstance(value, str | Path) and not isinstance(value, Param):
            return prefix.sub("", str(value))
        return value

    stripped: T = strip(message)
    return stripped
