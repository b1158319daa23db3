"""A fake Salesforce (REST API v60.0 and its sign-ins) for the sync tests, answering as Salesforce documents it.

Sign-ins: the SOAP API's ``login`` (``POST /services/Soap/u/60.0``: a ``loginResponse`` with ``sessionId`` and
``serverUrl``, or an ``INVALID_LOGIN`` fault with HTTP 500) and OAuth 2.0 (``POST /services/oauth2/token``:
``password`` and ``client_credentials`` grants; ``invalid_grant``/``invalid_client`` with HTTP 400). Data:
``sobjects/Opportunity/describe``, ``query`` and ``queryAll`` of the SOQL the connector sends (``SELECT fields
FROM object [WHERE field >= datetime] [ORDER BY ...]``, relationship fields such as ``UserRole.Name``), 100 records
a page with ``nextRecordsUrl`` (``/services/data/v60.0/query/01g...-100``); ``query`` leaves out deleted rows,
``queryAll`` keeps them with ``IsDeleted`` true. A wrong or expired session answers 401 with
``INVALID_SESSION_ID``.

Its records come from the synthetic generator (:meth:`FakeSalesforce.load_synth`) or from Opportunity and
OpportunityHistory export files (:meth:`FakeSalesforce.load_files`: what a Data Loader export would have been
as the API returns it).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pandas as pd
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.crm_server import FakeApi

DATA = "/services/data/v60.0"
BATCH = 100
USERNAME = "analyst@example.com"
SECURITY_TOKEN = "sectok123"
CLIENT_ID = "3MVG9-connected-app"
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
STAGES = [  # MasterLabel, SortOrder, DefaultProbability, IsClosed, IsWon
    ("Prospecting", 1, 10, False, False),
    ("Qualified", 2, 25, False, False),
    ("Proposal", 3, 50, False, False),
    ("Negotiation", 4, 75, False, False),
    ("Closed Won", 5, 100, True, True),
    ("Closed Lost", 6, 0, True, False),
]
TYPES = {
    "Id": "id",
    "Name": "string",
    "StageName": "picklist",
    "Amount": "currency",
    "CloseDate": "date",
    "CreatedDate": "datetime",
    "IsClosed": "boolean",
    "IsWon": "boolean",
    "OwnerId": "reference",
    "LeadSource": "picklist",
    "Probability": "percent",
    "CurrencyIsoCode": "picklist",
    "SystemModstamp": "datetime",
    "LastModifiedDate": "datetime",
    "IsDeleted": "boolean",
    "Segment__c": "picklist",
    "Product__c": "string",
    "Region__c": "string",
    "Loss_Reason__c": "picklist",
}
SCORE_FIELD = "Hitrate_Score__c"  # the custom field a push writes (Text(255))
READ_ONLY = {"Id", "CreatedDate", "IsClosed", "IsWon", "SystemModstamp", "LastModifiedDate", "IsDeleted"}
SOQL = re.compile(
    r"^SELECT (?P<fields>.+?) FROM (?P<obj>\w+)"
    r"(?: WHERE (?P<field>\w+) >= (?P<value>\S+))?(?: ORDER BY (?P<order>.+))?$"
)


def sf_time(value: Any) -> str | None:
    """A datetime as the REST API writes it: ``2024-01-22T16:14:25.000+0000``."""
    return None if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def parse_time(value: str) -> dt.datetime:
    if value.endswith("Z"):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


class FakeSalesforce(FakeApi):
    """Opportunities, their history and users by object; the password it accepts is ``token``."""

    crm = "salesforce"
    label = "Salesforce"
    dimensions = {"segment_c", "product_c", "region_c", "lead_source"}

    def __init__(self, token: str = "secret-XYZ") -> None:
        super().__init__(token)
        self.objects: dict[str, list[dict[str, Any]]] = {"Opportunity": [], "OpportunityHistory": [], "User": []}
        self.fields = list(TYPES)
        self.sessions: set[str] = set()
        self.locators: dict[str, list[dict[str, Any]]] = {}
        self.numbers = itertools.count(1)
        self.clock = START
        self.base = ""

    # -- what the shared sync tests ask of every fake (tests/test_sync_crms.py) -----------------------------------
    def env(self, token: str) -> dict[str, str]:
        return {
            "HITRATE_SALESFORCE_USERNAME": USERNAME,
            "HITRATE_SALESFORCE_PASSWORD": token,
            "HITRATE_SALESFORCE_SECURITY_TOKEN": SECURITY_TOKEN,
        }

    def is_deals(self, method: str, path: str, query: dict[str, str]) -> bool:
        first = path == f"{DATA}/queryAll" and " FROM Opportunity " in query.get("q", "") + " "
        return first or path.startswith(f"{DATA}/query/01gOpportunity")

    def since(self, logged: Any) -> str | None:
        if "q" not in logged.query:
            return self.CONTINUED
        found = SOQL.match(logged.query["q"])
        return found.group("value") if found else None

    def cursor_filter(self, cursor: str) -> str:
        return parse_time(cursor).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def deal_ids(self) -> list[str]:
        return [o["Id"] for o in self.objects["Opportunity"] if not o["IsDeleted"]]

    def deal(self, deal_id: str) -> dict[str, Any]:
        return next(o for o in self.objects["Opportunity"] if o["Id"] == deal_id)

    def tick(self) -> str:
        self.clock += dt.timedelta(seconds=1)
        return sf_time(self.clock) or ""

    def touch(self, deal_id: str, **fields: Any) -> None:
        stamp = self.tick()
        self.deal(deal_id).update(fields, SystemModstamp=stamp, LastModifiedDate=stamp)

    def change_amount(self, deal_id: str, amount: float) -> None:
        self.touch(deal_id, Amount=float(amount))

    def remove_won(self) -> str:
        """Delete a won opportunity (to the recycle bin: ``queryAll`` still returns it); its id."""
        deal_id = next(o["Id"] for o in self.objects["Opportunity"] if o["IsWon"] and not o["IsDeleted"])
        self.touch(deal_id, IsDeleted=True)
        return deal_id

    def authorised(self, request: Request) -> bool:
        if request.url.path.startswith(("/services/oauth2/", "/services/Soap/")):
            return True
        auth = request.headers.get("authorization", "")
        return auth.startswith("Bearer ") and auth[len("Bearer ") :] in self.sessions

    def unauthorised(self) -> JSONResponse:
        return JSONResponse(
            [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], status_code=401
        )

    # -- endpoints --------------------------------------------------------------------------------------------
    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/services/Soap/u/60.0", self.soap_login),
            ("POST", "/services/oauth2/token", self.oauth_token),
            ("GET", f"{DATA}/sobjects/Opportunity/describe", self.describe),
            ("GET", f"{DATA}/query", self.query),
            ("GET", f"{DATA}/queryAll", self.query_all),
            ("GET", DATA + "/query/{locator}", self.more),
            ("GET", f"{DATA}/composite/sobjects/Opportunity", self.collection_read),
            ("PATCH", f"{DATA}/composite/sobjects", self.collection_update),
        ]

    def new_session(self) -> str:
        session = f"00D000000000001!AQ{self.token}.session{next(self.numbers)}"
        self.sessions.add(session)
        return session

    def soap_login(self, request: Request, body: Any) -> Response:
        text = body if isinstance(body, str) else ""
        user = re.search(r"<n1:username>(.*?)</n1:username>", text)
        password = re.search(r"<n1:password>(.*?)</n1:password>", text)
        if not user or not password or (user.group(1), password.group(1)) != (USERNAME, self.token + SECURITY_TOKEN):
            fault = (
                '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
                'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns:sf="urn:fault.partner.soap.sforce.com">'
                "<soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: "
                "Invalid username, password, security token; or user locked out.</faultstring></soapenv:Fault>"
                "</soapenv:Body></soapenv:Envelope>"
            )
            return Response(fault, status_code=500, media_type="text/xml")
        ok = (
            '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com">'
            "<soapenv:Body><loginResponse><result>"
            f"<metadataServerUrl>{self.base}/services/Soap/m/60.0/00D000000000001</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
            f"<serverUrl>{self.base}/services/Soap/u/60.0/00D000000000001</serverUrl>"
            f"<sessionId>{self.new_session()}</sessionId><userId>005000000000001AAA</userId>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        return Response(ok, media_type="text/xml")

    def oauth_token(self, request: Request, body: Any) -> JSONResponse:
        form = {k: v[0] for k, v in parse_qs(body if isinstance(body, str) else "").items()}
        grant = form.get("grant_type")
        app_known = form.get("client_id") == CLIENT_ID and form.get("client_secret") == self.token
        if not app_known and (grant != "password" or form.get("client_id") != CLIENT_ID):
            return JSONResponse({"error": "invalid_client", "error_description": "invalid client credentials"}, 400)
        if grant == "password" and (form.get("username"), form.get("password")) != (
            USERNAME,
            self.token + SECURITY_TOKEN,
        ):
            return JSONResponse({"error": "invalid_grant", "error_description": "authentication failure"}, 400)
        if grant not in ("password", "client_credentials"):
            return JSONResponse(
                {"error": "unsupported_grant_type", "error_description": "grant type not supported"}, 400
            )
        return JSONResponse(
            {
                "access_token": self.new_session(),
                "instance_url": self.base,
                "id": f"{self.base}/id/00D000000000001/005000000000001AAA",
                "token_type": "Bearer",
                "issued_at": "1700000000000",
                "signature": "c2lnbmF0dXJl",
            }
        )

    def describe(self, request: Request, body: Any) -> JSONResponse:
        fields = [
            {
                "name": f,
                "label": f.replace("__c", "").replace("_", " "),
                "type": TYPES.get(f, "string"),
                "custom": f.endswith("__c"),
                "updateable": f not in READ_ONLY,
                "calculated": False,
            }
            for f in self.fields
        ]
        return JSONResponse({"name": "Opportunity", "fields": fields})

    def query(self, request: Request, body: Any) -> JSONResponse:
        return self._query(request.query_params["q"], all_rows=False)

    def query_all(self, request: Request, body: Any) -> JSONResponse:
        return self._query(request.query_params["q"], all_rows=True)

    def more(self, request: Request, body: Any, locator: str) -> JSONResponse:
        return self._page(locator)

    def _query(self, soql: str, *, all_rows: bool) -> JSONResponse:
        found = SOQL.match(soql.strip())
        if not found or found.group("obj") not in self.objects:
            return JSONResponse([{"message": "unexpected SOQL", "errorCode": "MALFORMED_QUERY"}], status_code=400)
        rows = [r for r in self.objects[found.group("obj")] if all_rows or not r.get("IsDeleted")]
        if found.group("field"):
            since = parse_time(found.group("value"))
            rows = [r for r in rows if parse_time(r[found.group("field")]) >= since]
        if found.group("order"):
            keys = [k.strip() for k in found.group("order").split(",")]
            rows.sort(
                key=lambda r: tuple(
                    str(r.get(k)) if "Date" not in k and "Stamp" not in k else parse_time(r[k]) for k in keys
                )
            )
        fields = [f.strip() for f in found.group("fields").split(",")]
        records = [self._select(found.group("obj"), r, fields) for r in rows]
        locator = f"01g{found.group('obj')}{next(self.numbers)}"
        self.locators[locator] = records
        return self._page(f"{locator}-0")

    def _page(self, locator: str) -> JSONResponse:
        name, _, start_text = locator.rpartition("-")
        records, start = self.locators[name], int(start_text)
        page = records[start : start + BATCH]
        done = start + BATCH >= len(records)
        out: dict[str, Any] = {"totalSize": len(records), "done": done, "records": page}
        if not done:
            out["nextRecordsUrl"] = f"{DATA}/query/{name}-{start + BATCH}"
        return JSONResponse(out)

    def _select(self, obj: str, row: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": {"type": obj, "url": f"{DATA}/sobjects/{obj}/{row.get('Id')}"}}
        for f in fields:
            head, _, tail = f.partition(".")
            if tail:
                nested = row.get(head)
                out[head] = None if nested is None else {"attributes": {"type": head}, tail: nested.get(tail)}
            else:
                out[f] = row.get(f)
        return out

    # -- the write-back (hitrate score push) ----------------------------------------------------------------------
    write_batch = 200

    def add_score_property(self) -> str:
        """A Text(255) custom field on Opportunity for the scores; its API name."""
        self.fields.append(SCORE_FIELD)
        return SCORE_FIELD

    def value(self, deal_id: str, name: str) -> Any:
        return self.deal(deal_id).get(SCORE_FIELD)

    def writes(self) -> list[Any]:
        return self.requests_to(f"{DATA}/composite/sobjects", "PATCH")

    def _live(self, deal_id: str) -> dict[str, Any] | None:
        return next((o for o in self.objects["Opportunity"] if o["Id"] == deal_id and not o["IsDeleted"]), None)

    def collection_read(self, request: Request, body: Any) -> JSONResponse:
        """The records of ``ids`` in their order, only ``fields``; null for an id it does not have."""
        ids = request.query_params["ids"].split(",")
        if len(ids) > 200:
            return JSONResponse([{"message": "too many ids", "errorCode": "EXCEEDED_ID_LIMIT"}], status_code=400)
        fields = request.query_params["fields"].split(",")
        unknown = [f for f in fields if f not in self.fields]
        if unknown:
            return JSONResponse([{"message": f"No such column '{unknown[0]}'", "errorCode": "INVALID_FIELD"}], 400)
        found = [self._live(i) for i in ids]
        return JSONResponse([None if r is None else self._select("Opportunity", r, fields) for r in found])

    def collection_update(self, request: Request, body: Any) -> JSONResponse:
        """Each record updated or refused on its own (``allOrNone`` false), results in the records' order; more
        than 200 records refuse the whole request."""
        records = body["records"]
        if len(records) > self.write_batch:
            return JSONResponse([{"message": "too many records", "errorCode": "EXCEEDED_ID_LIMIT"}], 400)
        assert body.get("allOrNone") is False
        results = []
        for record in records:
            deal_id = record["id"]
            values = {k: v for k, v in record.items() if k not in ("attributes", "id")}
            deal = self._live(deal_id)
            if deal is None:
                error = {"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}
                results.append({"id": deal_id, "success": False, "errors": [error]})
            elif deal_id in self.refuse or set(values) - set(self.fields):
                message = "Hitrate score is locked on closed deals"
                error = {"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": message, "fields": []}
                results.append({"id": deal_id, "success": False, "errors": [error]})
            else:
                self.written += [(deal_id, k, v) for k, v in values.items()]
                self.touch(deal_id, **values)
                results.append({"id": deal_id, "success": True, "errors": []})
        return JSONResponse(results)

    # -- the data ---------------------------------------------------------------------------------------------
    def app(self, routes: list[tuple[str, str, Any]]) -> Any:
        application = super().app(routes)

        async def remember_base(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and not self.base:
                host, port = scope["server"]
                self.base = f"http://{host}:{port}"
            await application(scope, receive, send)

        return remember_base

    def load_synth(self, data: Any) -> None:
        users: dict[str, str] = {}
        for i, r in enumerate(data.reps.itertuples(index=False), start=1):
            users[r.rep] = f"005{i:012d}AAA"
            self.objects["User"].append(
                {"Id": users[r.rep], "Name": r.rep, "Email": f"user{i}@example.com", "UserRole": {"Name": r.team}}
            )
        ids: dict[str, str] = {}
        for i, o in enumerate(data.opportunities.itertuples(index=False), start=1):
            ids[o.id] = f"006{i:012d}AAA"
            stage = {"won": "Closed Won", "lost": "Closed Lost"}.get(o.outcome, o.stage)
            close = o.closed_at if o.outcome != "open" else o.expected_close
            stamp = self.tick()
            self.objects["Opportunity"].append(
                {
                    "Id": ids[o.id],
                    "Name": f"Deal {o.id}",
                    "StageName": stage,
                    "Amount": None if pd.isna(o.amount) else float(o.amount),
                    "CloseDate": pd.Timestamp(close).strftime("%Y-%m-%d"),
                    "CreatedDate": sf_time(o.created_at),
                    "IsClosed": o.outcome != "open",
                    "IsWon": o.outcome == "won",
                    "OwnerId": users[o.rep],
                    "LeadSource": o.lead_source,
                    "Probability": next(p for s, _, p, _, _ in STAGES if s == stage),
                    "CurrencyIsoCode": "EUR",
                    "SystemModstamp": stamp,
                    "LastModifiedDate": stamp,
                    "IsDeleted": False,
                    "Segment__c": o.segment,
                    "Product__c": o.product,
                    "Region__c": o.region,
                    "Loss_Reason__c": o.loss_reason if o.outcome == "lost" and not pd.isna(o.loss_reason) else None,
                }
            )
        for h in data.stage_history.itertuples(index=False):
            stage = {"Won": "Closed Won", "Lost": "Closed Lost"}.get(h.stage, h.stage)
            self.objects["OpportunityHistory"].append(
                {
                    "Id": f"008{next(self.numbers):012d}AAA",
                    "OpportunityId": ids[h.id],
                    "StageName": stage,
                    "CreatedDate": sf_time(h.entered_at),
                    "Amount": None,
                    "CloseDate": None,
                    "Probability": None,
                    "IsDeleted": False,
                    "SystemModstamp": sf_time(h.entered_at),
                }
            )
        stages = self.objects.setdefault("OpportunityStage", [])
        for label, order, probability, closed, won in STAGES:
            stages.append(
                {"ApiName": label, "MasterLabel": label, "SortOrder": order, "DefaultProbability": probability,
                 "IsClosed": closed, "IsWon": won, "IsActive": True}
            )  # fmt: skip

    def load_files(self, opportunities: Path, history: Path | None = None) -> None:
        """Serve an Opportunity export (and its OpportunityHistory) as the API would have returned its rows: typed
        JSON (booleans, numbers, ``null``), dates ``YYYY-MM-DD`` and datetimes ``...T...000+0000`` whatever an
        Excel re-save made of them; owners as users named by their ids."""
        rows = _read_csv(opportunities)
        self.fields = [c for c in rows[0] if c not in ("IsDeleted", "SystemModstamp")] if rows else []
        for row in rows:
            record = {k: _api_value(k, v) for k, v in row.items()}
            record["IsDeleted"] = bool(record.get("IsDeleted"))
            record["SystemModstamp"] = record.get("SystemModstamp") or self.tick()
            self.objects["Opportunity"].append(record)
            owner = record.get("OwnerId")
            if owner and all(u["Id"] != owner for u in self.objects["User"]):
                self.objects["User"].append({"Id": owner, "Name": owner, "Email": None, "UserRole": None})
        for row in _read_csv(history) if history else []:
            record = {k: _api_value(k, v) for k, v in row.items()}
            record["IsDeleted"] = bool(record.get("IsDeleted"))
            self.objects["OpportunityHistory"].append(record)
        labels = sorted({str(r["StageName"]) for r in self.objects["Opportunity"]})
        self.objects["OpportunityStage"] = [
            {"ApiName": s, "MasterLabel": s, "SortOrder": i, "DefaultProbability": None,
             "IsClosed": s.startswith("Closed"), "IsWon": s == "Closed Won", "IsActive": True}
            for i, s in enumerate(labels)
        ]  # fmt: skip

    def export_rows(self) -> list[dict[str, Any]]:
        """The opportunities as a Data Loader export of the API names has them (``OwnerId`` as the owner's name,
        which the sync stores as the rep)."""
        names = {u["Id"]: u["Name"] for u in self.objects["User"]}
        out = []
        for o in self.objects["Opportunity"]:
            if o["IsDeleted"]:
                continue
            row = {
                k: ("" if v is None else v)
                for k, v in o.items()
                if k not in ("SystemModstamp", "LastModifiedDate", "IsDeleted")
            }
            row["OwnerId"] = names[o["OwnerId"]]
            out.append(row)
        return out


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _api_value(field: str, value: str) -> Any:
    """A CSV cell as the REST API returns the field: booleans (``1``, ``TRUE``), numbers, ``null`` for empty, ISO
    dates and datetimes (an Excel re-save writes ``02/03/24`` and ``02/23/26 08:55 PM``)."""
    if field.startswith(("Is", "Has")):
        return value.strip().lower() in ("1", "true")
    if value == "":
        return None
    if field in ("Amount", "ExpectedRevenue", "Probability"):
        return float(value)
    us = re.fullmatch(r"(\d\d)/(\d\d)/(\d\d)(?: (\d\d):(\d\d) (AM|PM))?", value)
    if us and field.endswith("Date") and not field.startswith("Created") and us.group(4) is None:
        return f"20{us.group(3)}-{us.group(1)}-{us.group(2)}"
    if us:
        hour = int(us.group(4) or 0) % 12 + (12 if us.group(6) == "PM" else 0)
        moment = dt.datetime(2000 + int(us.group(3)), int(us.group(1)), int(us.group(2)), hour, int(us.group(5) or 0))
        return sf_time(moment)
    return value
