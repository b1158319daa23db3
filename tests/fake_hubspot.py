"""A fake HubSpot CRM v3 API for the sync tests, answering as developers.hubspot.com documents it.

Endpoints: ``GET /crm/v3/owners`` (``results``, ``paging.next.after``; ``archived``), ``GET
/crm/v3/pipelines/deals``, ``GET /crm/v3/properties/deals``, ``POST /crm/v3/objects/deals/search`` (one filter
group on ``hs_lastmodifieddate`` GTE epoch milliseconds, sorts, ``properties``, ``limit``, ``after`` in the body;
400 past the 10,000th result, as HubSpot answers) and ``GET /crm/v3/objects/deals?archived=true``. The bodies
follow the documented examples (the owner below is the docs' example owner, with its team).

Its deals are made from hitrate's synthetic generator (:func:`from_synth`), so what a sync stores can be held to
the generator's truth and to a file import of the same deals (:meth:`FakeHubSpot.export_rows`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from starlette.requests import Request
from starlette.responses import JSONResponse

from tests.crm_server import FakeApi

#: The owner of HubSpot's documented example for GET /crm/v3/owners (its ids kept), as a record of this fake.
DOCS_OWNER = {
    "id": "41629779",
    "email": "jdoe@example.com",
    "type": "PERSON",
    "firstName": "Jane",
    "lastName": "Doe",
    "userId": 9586504,
    "userIdIncludingInactive": 9586504,
    "createdAt": "2019-12-04T20:18:53.236Z",
    "updatedAt": "2021-03-11T21:18:09.745Z",
    "archived": False,
    "teams": [{"id": "368389", "name": "Sales Team", "primary": True}],
}
STAGE_IDS = {
    "Prospecting": "appointmentscheduled",
    "Qualified": "qualifiedtobuy",
    "Proposal": "presentationscheduled",
    "Negotiation": "contractsent",
    "Won": "closedwon",
    "Lost": "closedlost",
}
STAGE_LABELS = {
    "appointmentscheduled": "Appointment Scheduled",
    "qualifiedtobuy": "Qualified To Buy",
    "presentationscheduled": "Presentation Scheduled",
    "contractsent": "Contract Sent",
    "closedwon": "Closed Won",
    "closedlost": "Closed Lost",
}
PROBABILITY = {
    "appointmentscheduled": "0.2",
    "qualifiedtobuy": "0.4",
    "presentationscheduled": "0.6",
    "contractsent": "0.9",
    "closedwon": "1.0",
    "closedlost": "0.0",
}
CUSTOM = ("segment", "product", "region")
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def iso(value: Any) -> str | None:
    """A timestamp as HubSpot writes datetimes: ISO with milliseconds and Z."""
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ms(value: str) -> int:
    return int(dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


class FakeHubSpot(FakeApi):
    """Deals (id -> properties), archived deals, owners; ``touch`` changes a deal as a user would."""

    crm = "hubspot"

    def __init__(self, token: str = "secret-XYZ") -> None:
        super().__init__(token)
        self.deals: dict[str, dict[str, Any]] = {}
        self.archived: dict[str, dict[str, Any]] = {}
        self.owners: list[dict[str, Any]] = [DOCS_OWNER]
        self.clock = START
        self.writable: set[str] = set()  # deal properties a push may write (made by the account)

    def authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    def tick(self) -> str:
        self.clock += dt.timedelta(seconds=1)
        return iso(self.clock) or ""

    def touch(self, deal_id: str, **props: Any) -> None:
        """Change a deal's properties; its last modification becomes now."""
        self.deals[deal_id].update({k: None if v is None else str(v) for k, v in props.items()})
        self.deals[deal_id]["hs_lastmodifieddate"] = self.tick()

    def archive(self, deal_id: str) -> None:
        self.archived[deal_id] = self.deals.pop(deal_id)
        self.archived[deal_id]["archivedAt"] = self.tick()

    # -- what the shared sync tests ask of every fake (tests/test_sync_crms.py) -------------------------------
    def env(self, token: str) -> dict[str, str]:
        return {"HITRATE_HUBSPOT_TOKEN": token}

    label = "HubSpot"
    dimensions = {"segment", "product", "region", "lead_source"}

    def is_deals(self, method: str, path: str, query: dict[str, str]) -> bool:
        return (method, path) == ("POST", "/crm/v3/objects/deals/search")

    def deal_ids(self) -> list[str]:
        return list(self.deals)

    def cursor_filter(self, cursor: str) -> str:
        """How a saved cursor is sent: HubSpot's search filters take epoch milliseconds."""
        return str(ms(cursor))

    def change_amount(self, deal_id: str, amount: float) -> None:
        self.touch(deal_id, amount=f"{amount:g}")

    def remove_won(self) -> str:
        """Archive a won deal; its id."""
        deal_id = next(i for i, p in self.deals.items() if p["hs_is_closed_won"] == "true")
        self.archive(deal_id)
        return deal_id

    def since(self, logged: Any) -> str | None:
        """The cursor a deals request asked from (epoch milliseconds), None for everything."""
        groups = (logged.body or {}).get("filterGroups") or []
        return groups[0]["filters"][0]["value"] if groups else None

    # -- endpoints --------------------------------------------------------------------------------------------
    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", "/crm/v3/owners", self.get_owners),
            ("GET", "/crm/v3/pipelines/deals", self.get_pipelines),
            ("GET", "/crm/v3/properties/deals", self.get_properties),
            ("POST", "/crm/v3/objects/deals/search", self.search),
            ("GET", "/crm/v3/objects/deals", self.list_deals),
            ("GET", "/crm/v3/properties/deals/{name}", self.get_property),
            ("POST", "/crm/v3/objects/deals/batch/read", self.batch_read),
            ("POST", "/crm/v3/objects/deals/batch/update", self.batch_update),
        ]

    def get_owners(self, request: Request, body: Any) -> JSONResponse:
        archived = request.query_params.get("archived") == "true"
        owners = [o for o in self.owners if bool(o.get("archived")) == archived]
        return JSONResponse(_paged(owners, request.query_params.get("after"), int(request.query_params["limit"])))

    def get_pipelines(self, request: Request, body: Any) -> JSONResponse:
        stages = [
            {
                "label": STAGE_LABELS[s],
                "displayOrder": i,
                "metadata": {"isClosed": str(s in ("closedwon", "closedlost")).lower(), "probability": PROBABILITY[s]},
                "id": s,
                "createdAt": "2019-12-04T20:18:53.236Z",
                "updatedAt": "2019-12-04T20:18:53.236Z",
                "archived": False,
            }
            for i, s in enumerate(STAGE_LABELS)
        ]
        return JSONResponse(
            {"results": [{"label": "Sales Pipeline", "displayOrder": 0, "id": "default", "stages": stages}]}
        )

    def get_properties(self, request: Request, body: Any) -> JSONResponse:
        standard = ["dealname", "amount", "dealstage", "pipeline", "closedate", "createdate", "hubspot_owner_id"]
        results = [{"name": n, "label": n, "type": "string", "hubspotDefined": True} for n in standard]
        results += [{"name": n, "label": n.title(), "type": "enumeration", "hubspotDefined": False} for n in CUSTOM]
        return JSONResponse({"results": results})

    def search(self, request: Request, body: Any) -> JSONResponse:
        after = int(body.get("after") or 0)
        if after >= 10_000:
            return JSONResponse({"status": "error", "category": "VALIDATION_ERROR"}, status_code=400)
        deals = list(self.deals.items())
        for group in body.get("filterGroups", []):
            for f in group["filters"]:
                assert f["propertyName"] == "hs_lastmodifieddate" and f["operator"] == "GTE"
                deals = [(i, p) for i, p in deals if ms(p["hs_lastmodifieddate"]) >= int(f["value"])]
        deals.sort(key=lambda d: (d[1]["hs_lastmodifieddate"], int(d[0])))
        limit = int(body.get("limit", 10))
        page = deals[after : after + limit]
        wanted = body.get("properties", [])
        results = [_deal(i, p, wanted) for i, p in page]
        out: dict[str, Any] = {"total": len(deals), "results": results}
        if after + limit < len(deals):
            out["paging"] = {"next": {"after": str(after + limit)}}
        return JSONResponse(out)

    def list_deals(self, request: Request, body: Any) -> JSONResponse:
        archived = request.query_params.get("archived") == "true"
        source = self.archived if archived else self.deals
        wanted = request.query_params.get("properties", "").split(",")
        records = [{**_deal(i, p, wanted), "archived": archived} for i, p in sorted(source.items())]
        return JSONResponse(_paged(records, request.query_params.get("after"), int(request.query_params["limit"])))

    # -- the write-back (hitrate score push) ----------------------------------------------------------------------
    score_property = "hitrate_score"
    write_batch = 100

    def add_score_property(self) -> str:
        """A single-line text property for the scores, as an admin would create it; its name."""
        self.writable.add(self.score_property)
        return self.score_property

    def value(self, deal_id: str, name: str) -> Any:
        return self.deals[deal_id].get(name)

    def writes(self) -> list[Any]:
        return self.requests_to("/crm/v3/objects/deals/batch/update", "POST")

    def get_property(self, request: Request, body: Any, name: str) -> JSONResponse:
        if name not in self.writable:
            return JSONResponse(
                {"status": "error", "message": f"Unable to find property {name}", "category": "OBJECT_NOT_FOUND"},
                status_code=404,
            )
        return JSONResponse(
            {
                "name": name,
                "label": "Hitrate score",
                "type": "string",
                "fieldType": "text",
                "groupName": "dealinformation",
                "hubspotDefined": False,
                "modificationMetadata": {"archivable": True, "readOnlyDefinition": False, "readOnlyValue": False},
            }
        )

    def batch_read(self, request: Request, body: Any) -> JSONResponse:
        """``results`` for the deals found; the others in ``errors`` with HTTP 207, as HubSpot answers."""
        inputs = [str(i["id"]) for i in body["inputs"]]
        if len(inputs) > 100:
            return JSONResponse({"status": "error", "category": "VALIDATION_ERROR"}, status_code=400)
        wanted = body.get("properties", [])
        results = [_deal(i, self.deals[i], wanted) for i in inputs if i in self.deals]
        missing = [i for i in inputs if i not in self.deals]
        out: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if missing:
            out["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": missing}}]
            return JSONResponse(out, status_code=207)
        return JSONResponse(out)

    def batch_update(self, request: Request, body: Any) -> JSONResponse:
        """Each input's properties written (its last modification now); refused and unknown deals in ``errors``
        with HTTP 207; more than 100 inputs or a property the account lacks refuse the whole batch (400)."""
        inputs = body["inputs"]
        if len(inputs) > self.write_batch:
            return JSONResponse({"status": "error", "category": "VALIDATION_ERROR"}, status_code=400)
        for i in inputs:
            if set(i["properties"]) - self.writable:
                return JSONResponse(
                    {"status": "error", "message": "Property values were not valid", "category": "VALIDATION_ERROR"},
                    status_code=400,
                )
        results, refused, missing = [], [], []
        for i in inputs:
            deal_id = str(i["id"])
            if deal_id not in self.deals:
                missing.append(deal_id)
            elif deal_id in self.refuse:
                refused.append(deal_id)
            else:
                for name, value in i["properties"].items():
                    self.written.append((deal_id, name, value))
                self.touch(deal_id, **i["properties"])
                results.append(_deal(deal_id, self.deals[deal_id], list(i["properties"])))
        errors = []
        if refused:
            message = "Property hitrate_score failed a validation rule"
            errors.append({"status": "error", "category": "VALIDATION_ERROR", "message": message,
                           "context": {"ids": refused}})  # fmt: skip
        if missing:
            errors.append({"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Object not found",
                           "context": {"ids": missing}})  # fmt: skip
        out: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if errors:
            out |= {"errors": errors, "numErrors": len(refused) + len(missing)}
        return JSONResponse(out, status_code=207 if errors else 200)

    # -- the data ---------------------------------------------------------------------------------------------
    def load_synth(self, data: Any) -> None:
        """Owners from the generator's reps (their teams as HubSpot teams), deals from its opportunities with
        stage history as ``hs_v2_date_entered_*``."""
        reps = data.reps.reset_index(drop=True)
        owner_ids: dict[str, str] = {}
        teams = {t: str(500 + i) for i, t in enumerate(sorted(reps["team"].unique()))}
        for i, r in reps.iterrows():
            first, _, last = str(r["rep"]).partition(" ")
            oid = str(100_000 + int(i))
            owner_ids[str(r["rep"])] = oid
            self.owners.append(
                {
                    "id": oid,
                    "email": f"{first.lower()}@example.com",
                    "firstName": first,
                    "lastName": last,
                    "userId": 9_000_000 + int(i),
                    "archived": False,
                    "teams": [{"id": teams[r["team"]], "name": r["team"], "primary": True}],
                }
            )
        entered = {
            (h.id, h.stage): h.entered_at for h in data.stage_history.itertuples(index=False)
        }  # the last entry of a stage wins, as HubSpot keeps one date per stage
        for n, o in enumerate(data.opportunities.itertuples(index=False), start=1):
            stage = STAGE_IDS[o.stage] if o.outcome == "open" else ("closedwon" if o.outcome == "won" else "closedlost")
            props: dict[str, Any] = {
                "hs_object_id": str(n),
                "dealname": f"Deal {o.id}",
                "dealstage": stage,
                "pipeline": "default",
                "hubspot_owner_id": owner_ids[o.rep],
                "amount": None if pd.isna(o.amount) else f"{o.amount:g}",
                "deal_currency_code": "EUR",
                "createdate": iso(o.created_at),
                "closedate": iso(o.closed_at if o.outcome != "open" else o.expected_close),
                "closed_lost_reason": None if o.outcome != "lost" or pd.isna(o.loss_reason) else o.loss_reason,
                "hs_is_closed_won": str(o.outcome == "won").lower(),
                "hs_is_closed_lost": str(o.outcome == "lost").lower(),
                "hs_is_closed": str(o.outcome != "open").lower(),
                "dealtype": "newbusiness",
                "hs_analytics_source": o.lead_source,
                "segment": o.segment,
                "product": o.product,
                "region": o.region,
                "hs_lastmodifieddate": self.tick(),
            }
            for label, sid in STAGE_IDS.items():
                if (o.id, label) in entered:
                    props[f"hs_v2_date_entered_{sid}"] = iso(entered[(o.id, label)])
            self.deals[str(n)] = props

    def export_rows(self) -> list[dict[str, Any]]:
        """The deals as a HubSpot export with internal values would list them (property names as the header;
        stage, pipeline and owner as labels, as the sync resolves them)."""
        owners = {o["id"]: f"{o['firstName']} {o['lastName']}" for o in self.owners}
        rows = []
        for i, p in sorted(self.deals.items(), key=lambda d: int(d[0])):
            row = {k: v for k, v in p.items() if not k.startswith("hs_v2_") and k != "hs_lastmodifieddate"}
            row["hs_object_id"] = i
            row["dealstage"] = STAGE_LABELS[p["dealstage"]]
            row["pipeline"] = "Sales Pipeline"
            row["hubspot_owner_id"] = owners[p["hubspot_owner_id"]]
            row["lead_source"] = row.pop("hs_analytics_source")
            rows.append(row)
        return rows


def _deal(deal_id: str, props: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
    """A deal as the API returns it: only the properties asked for, ``hs_object_id`` always."""
    chosen = {k: props.get(k) for k in wanted if k}
    chosen["hs_object_id"] = deal_id
    return {
        "id": deal_id,
        "properties": chosen,
        "createdAt": props.get("createdate"),
        "updatedAt": props.get("hs_lastmodifieddate"),
        "archived": False,
    }


def _paged(records: list[dict[str, Any]], after: str | None, limit: int) -> dict[str, Any]:
    start = int(after or 0)
    out: dict[str, Any] = {"results": records[start : start + limit]}
    if start + limit < len(records):
        out["paging"] = {"next": {"after": str(start + limit), "link": "?after=" + str(start + limit)}}
    return out
