"""Salesforce: opportunities through the REST API's SOQL queries, as the ``salesforce`` preset maps them.

Signing in (:func:`connect`), first found wins:

- ``access_token`` and ``instance_url``: a session token already made (``sf org display``...);
- ``client_id`` and ``client_secret``: a connected app's OAuth 2.0 client credentials flow
  (``POST /services/oauth2/token``, ``grant_type=client_credentials``) at ``instance_url`` (My Domain);
- ``username``, ``password`` and ``security_token`` with a connected app's ``client_id``/``client_secret``: the
  OAuth 2.0 username-password flow; without a connected app, the SOAP API's ``login`` call
  (``POST /services/Soap/u/60.0``), which needs none.

Then (REST API v60.0): ``sobjects/Opportunity/describe`` (every field, custom ones included), ``queryAll`` of
Opportunity where ``SystemModstamp`` is at or after the cursor (``queryAll`` returns deleted rows too, with
``IsDeleted``), of OpportunityHistory where ``CreatedDate`` is at or after its cursor, ``query`` of User
(``Name``, ``Email``, ``UserRole.Name`` as the team) and OpportunityStage (label, order, default probability,
``IsClosed``/``IsWon``). Pages follow ``nextRecordsUrl``.

An opportunity becomes a row with its API field names, as a Data Loader export has them, except that its owner is
``Opportunity Owner`` with the owner's name instead of ``OwnerId``; fields that change without the deal changing
(``SystemModstamp``, ``LastViewedDate``...) are left out. Stage history rows keep the OpportunityHistory API
names, which the preset's ``stage_history`` table maps.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlparse
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from hitrate.errors import SyncError
from hitrate.sync.client import CrmClient, HeaderAuth, RetryPolicy
from hitrate.sync.credentials import Credentials, Secret
from hitrate.sync.records import Fetched, StageDef, Table, cell, last_wins

DEFAULT_BASE = "https://login.salesforce.com"
VERSION = "v60.0"
DATA = f"/services/data/{VERSION}"
#: Fields left out of a deal's row: bookkeeping that changes when nobody changed the deal, and what the sync
#: itself uses.
SKIPPED = {
    "SystemModstamp",
    "LastModifiedDate",
    "LastModifiedById",
    "LastViewedDate",
    "LastReferencedDate",
    "IsDeleted",
    "OwnerId",
}
COMPOUND = {"address", "location", "base64"}
HISTORY_FIELDS = ("Id", "OpportunityId", "StageName", "CreatedDate", "Amount", "CloseDate", "Probability", "IsDeleted")
OWNER = "Opportunity Owner"
SIGN_IN_RETRIED = (429, 502, 503, 504)  # a refused sign-in (400, or a SOAP fault's 500) is not retried


def connect(credentials: Credentials, base: str, retry: RetryPolicy) -> CrmClient:
    """Sign in as the credentials allow (see the module docstring) and return a client of the instance."""
    instance = credentials.get("instance_url")
    given_base = base.rstrip("/") != DEFAULT_BASE
    secrets = credentials.secrets()
    if credentials.given("access_token"):
        if not instance and not given_base:
            raise SyncError("sync.salesforce_needs_instance", crm="Salesforce")
        token = credentials.values["access_token"]
        return _data_client(base if given_base else str(instance), token, retry, secrets, 0)
    if credentials.given("client_id", "client_secret") and not credentials.given("username"):
        if not instance and not given_base:
            raise SyncError("sync.salesforce_needs_instance", crm="Salesforce")
        form = {"grant_type": "client_credentials", **_app(credentials)}
        return _oauth(base if given_base else str(instance), form, retry, secrets)
    if credentials.given("username", "password"):
        password = (credentials.get("password") or "") + (credentials.get("security_token") or "")
        login = base if given_base else str(instance or DEFAULT_BASE)
        if credentials.given("client_id", "client_secret"):
            form = {"grant_type": "password", **_app(credentials), "username": credentials.get("username") or ""}
            return _oauth(login, {**form, "password": password}, retry, secrets)
        return _soap(login, credentials.get("username") or "", password, retry, secrets)
    raise SyncError("sync.missing_salesforce", crm="Salesforce")


def _app(credentials: Credentials) -> dict[str, str]:
    return {"client_id": credentials.get("client_id") or "", "client_secret": credentials.get("client_secret") or ""}


def _data_client(instance: str, token: Secret, retry: RetryPolicy, secrets: list[str], sent: int) -> CrmClient:
    client = CrmClient("salesforce", instance, HeaderAuth("Authorization", token, "Bearer "), retry, secrets)
    client.requests += sent  # the sign-in's requests
    return client


def _oauth(base: str, form: dict[str, str], retry: RetryPolicy, secrets: list[str]) -> CrmClient:
    """The OAuth 2.0 token endpoint: an access token and the instance to use it at."""
    login = CrmClient("salesforce", base, None, retry, secrets, retry_on=SIGN_IN_RETRIED)
    response = login.send_secret("/services/oauth2/token", data=form)
    body = _json(response)
    if response.status_code != 200 or not body.get("access_token"):
        reason = str(body.get("error") or response.status_code)
        raise SyncError("sync.login_failed", crm="Salesforce", reason=reason)
    token, secrets = Secret(str(body["access_token"])), [*secrets, str(body["access_token"])]
    return _data_client(str(body.get("instance_url") or base), token, retry, secrets, login.requests)


def _soap(base: str, username: str, password: str, retry: RetryPolicy, secrets: list[str]) -> CrmClient:
    """The SOAP API's ``login`` call (no connected app needed): a session id and the instance from its server
    URL."""
    login = CrmClient("salesforce", base, None, retry, secrets, retry_on=SIGN_IN_RETRIED)
    envelope = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>'
        '<n1:login xmlns:n1="urn:partner.soap.sforce.com">'
        f"<n1:username>{escape(username)}</n1:username><n1:password>{escape(password)}</n1:password>"
        "</n1:login></env:Body></env:Envelope>"
    )
    headers = {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"}
    response = login.send_secret(f"/services/Soap/u/{VERSION[1:]}", data=envelope.encode(), headers=headers)
    try:
        root = ElementTree.fromstring(response.content)
    except ElementTree.ParseError:
        raise SyncError("sync.login_failed", crm="Salesforce", reason=response.status_code) from None
    found = {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root.iter()}
    if response.status_code != 200 or not found.get("sessionId"):
        code = found.get("faultcode", str(response.status_code)).rsplit(":", 1)[-1]
        raise SyncError("sync.login_failed", crm="Salesforce", reason=code)
    server = urlparse(found.get("serverUrl", ""))
    instance = f"{server.scheme}://{server.netloc}" if server.netloc else base
    session = found["sessionId"]
    return _data_client(instance, Secret(session), retry, [*secrets, session], login.requests)


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def fetch(client: CrmClient, cursor: dict[str, str] | None) -> Fetched:
    """Users, stages and the opportunities changed since ``cursor`` (every one without it) with their history,
    the deleted ones, and the new cursor."""
    since, history_since = (cursor or {}).get("deals"), (cursor or {}).get("history")
    users = {str(u["Id"]): u for u in query(client, "SELECT Id, Name, Email, UserRole.Name FROM User")}
    stages = _stages(
        query(
            client, "SELECT ApiName, MasterLabel, SortOrder, DefaultProbability, IsClosed, IsWon FROM OpportunityStage"
        )
    )
    fields = _fields(client)
    select = ", ".join(["Id", *(f for f in fields if f != "Id"), "OwnerId", "SystemModstamp", "IsDeleted"])
    where = f" WHERE SystemModstamp >= {_soql_time(since)}" if since else ""
    records = query(client, f"SELECT {select} FROM Opportunity{where} ORDER BY SystemModstamp, Id", all_rows=True)
    records = last_wins(records, "Id")
    live = [r for r in records if not r.get("IsDeleted")]
    deleted = [str(r["Id"]) for r in records if r.get("IsDeleted")]
    history_where = f" WHERE CreatedDate >= {_soql_time(history_since)}" if history_since else ""
    history = query(
        client,
        f"SELECT {', '.join(HISTORY_FIELDS)} FROM OpportunityHistory{history_where} ORDER BY CreatedDate, Id",
        all_rows=True,
    )
    history = [h for h in last_wins(history, "Id") if not h.get("IsDeleted")]
    rows = [_row(r, fields, users) for r in live]
    new_cursor = dict(cursor or {})
    if records:
        new_cursor["deals"] = max(str(r["SystemModstamp"]) for r in records)
    if history:
        new_cursor["history"] = max(str(h["CreatedDate"]) for h in history)
    owners = [
        {"rep": u.get("Name") or u["Id"], "team": (u.get("UserRole") or {}).get("Name"), "email": u.get("Email")}
        for u in users.values()
    ]
    if not any(o["team"] for o in owners):
        for o in owners:
            del o["team"]
    history_fields = [f for f in HISTORY_FIELDS if f != "IsDeleted"]
    return Fetched(
        crm="salesforce",
        deals=Table.of(rows, ["Id", OWNER, *(f for f in fields if f != "Id")]),
        owners=Table.of(last_wins(owners, "rep"), ["rep"]),
        history=Table([*history_fields], [[cell(h.get(f)) for f in history_fields] for h in history]),
        stages=stages,
        deleted=deleted,
        cursor=new_cursor,
        full=since is None,
        history_preset=True,
    )


def query(client: CrmClient, soql: str, *, all_rows: bool = False) -> list[dict[str, Any]]:
    """Every record of a SOQL query (``queryAll`` with ``all_rows``: deleted and archived rows too), page by page
    along ``nextRecordsUrl``."""
    from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

    path = f"{DATA}/{'queryAll' if all_rows else 'query'}"
    paginator = JSONLinkPaginator(next_url_path="nextRecordsUrl")
    pages = client.pages(path, params={"q": soql}, paginator=paginator, data_selector="records")
    return [{k: v for k, v in r.items() if k != "attributes"} for page in pages for r in page]


def _soql_time(value: str) -> str:
    """A Salesforce timestamp (``2024-01-22T16:14:25.000+0000``) as a SOQL datetime literal (UTC, seconds)."""
    parsed = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z") if "." in value else dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fields(client: CrmClient) -> list[str]:
    """The Opportunity fields a row keeps: every field of the describe call, custom ones included, less compound
    fields and :data:`SKIPPED`."""
    described = client.get(f"{DATA}/sobjects/Opportunity/describe").get("fields", [])
    return [str(f["name"]) for f in described if f.get("type") not in COMPOUND and f.get("name") not in SKIPPED]


def _stages(records: list[dict[str, Any]]) -> list[StageDef]:
    """The opportunity stages: label, order, default probability, and won/lost from ``IsClosed``/``IsWon``."""
    return [
        StageDef(
            pipeline_id="",
            pipeline="Opportunity",
            stage_id=str(s.get("ApiName") or s["MasterLabel"]),
            stage=str(s["MasterLabel"]),
            position=int(s.get("SortOrder") or 0),
            probability=float(s["DefaultProbability"]) / 100 if s.get("DefaultProbability") is not None else None,
            is_won=bool(s.get("IsWon")),
            is_lost=bool(s.get("IsClosed")) and not s.get("IsWon"),
        )
        for s in records
    ]


def _row(record: dict[str, Any], fields: list[str], users: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One opportunity as a row: its fields, and its owner's name."""
    owner = users.get(str(record.get("OwnerId")), {})
    row = {f: cell(record.get(f)) for f in fields}
    row[OWNER] = cell(owner.get("Name") or record.get("OwnerId"))
    return row
