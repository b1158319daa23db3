"""A fake Pipedrive API (v2 deals, pipelines and stages; v1 users, deal fields and deal flow) for the sync tests,
answering as developers.pipedrive.com documents it: ``{"success": true, "data": [...], "additional_data": ...}``,
v2 paging by ``additional_data.next_cursor``, v1 by ``start`` and ``additional_data.pagination``, the token in
the ``x-api-token`` header. It serves at most 100 records a page whatever ``limit`` asks (a server may), so a
few hundred deals make several pages.

Its deals come from hitrate's synthetic generator: a won or lost deal keeps the last open stage it reached (in
Pipedrive, won and lost are statuses), its stage changes are its flow.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pandas as pd
from starlette.requests import Request
from starlette.responses import JSONResponse

from tests.crm_server import FakeApi

OPEN_STAGES = ("Prospecting", "Qualified", "Proposal", "Negotiation")
PROBABILITY = (10, 30, 60, 80)
SERVED = 100
#: Custom fields: Pipedrive keys them by a 40-character hash; Segment is a single option field.
FIELDS = {
    "segment": ("a1b2c3d4e5f60718293a4b5c6d7e8f9012345601", "Segment", "enum"),
    "product": ("a1b2c3d4e5f60718293a4b5c6d7e8f9012345602", "Product", "varchar"),
    "region": ("a1b2c3d4e5f60718293a4b5c6d7e8f9012345603", "Region", "varchar"),
    "lead_source": ("a1b2c3d4e5f60718293a4b5c6d7e8f9012345604", "Lead source", "varchar"),
}
SCORE_KEY = "f0e1d2c3b4a5968778695a4b3c2d1e0f12345699"  # the custom field a push writes
SEGMENTS = {"SMB": 11, "Mid-market": 12, "Enterprise": 13}
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def rfc(value: Any) -> str | None:
    """v2's timestamps: RFC 3339 in UTC."""
    return None if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def v1time(value: Any) -> str | None:
    """v1's timestamps: ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return None if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")


class FakePipedrive(FakeApi):
    """Deals (id -> v2 deal), their flows and the users; ``touch`` changes a deal as a user would."""

    crm = "pipedrive"

    def __init__(self, token: str = "secret-XYZ") -> None:
        super().__init__(token)
        self.deals: dict[int, dict[str, Any]] = {}
        self.flows: dict[int, list[dict[str, Any]]] = {}
        self.users: list[dict[str, Any]] = []
        self.clock = START
        self.score_field = False  # whether the account has the custom field a push writes

    def authorised(self, request: Request) -> bool:
        return request.headers.get("x-api-token") == self.token and "api_token" not in request.query_params

    def unauthorised(self) -> JSONResponse:
        return JSONResponse(
            {"success": False, "error": "unauthorized access", "errorCode": 401, "error_info": "Please check ..."},
            status_code=401,
        )

    def tick(self) -> str:
        self.clock += dt.timedelta(seconds=1)
        return rfc(self.clock) or ""

    def touch(self, deal_id: int, **fields: Any) -> None:
        self.deals[deal_id].update(fields)
        self.deals[deal_id]["update_time"] = self.tick()

    def delete(self, deal_id: int) -> None:
        self.touch(deal_id, is_deleted=True)

    # -- what the shared sync tests ask of every fake (tests/test_sync_crms.py) -------------------------------
    def env(self, token: str) -> dict[str, str]:
        return {"HITRATE_PIPEDRIVE_TOKEN": token}

    label = "Pipedrive"
    dimensions = {"segment", "product", "region", "lead_source"}

    def is_deals(self, method: str, path: str, query: dict[str, str]) -> bool:
        return (method, path) == ("GET", "/api/v2/deals")

    def deal_ids(self) -> list[str]:
        return [str(i) for i, d in self.deals.items() if not d["is_deleted"]]

    def cursor_filter(self, cursor: str) -> str:
        return cursor

    def change_amount(self, deal_id: str, amount: float) -> None:
        self.touch(int(deal_id), value=float(amount))

    def remove_won(self) -> str:
        """Delete a won deal; its id."""
        deal_id = next(i for i, d in self.deals.items() if d["status"] == "won")
        self.delete(deal_id)
        return str(deal_id)

    def since(self, logged: Any) -> str | None:
        return logged.query.get("updated_since")

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", "/api/v2/deals", self.get_deals),
            ("GET", "/api/v2/pipelines", self.get_pipelines),
            ("GET", "/api/v2/stages", self.get_stages),
            ("GET", "/v1/users", self.get_users),
            ("GET", "/v1/dealFields", self.get_fields),
            ("GET", "/v1/deals/{deal_id:int}/flow", self.get_flow),
            ("PATCH", "/api/v2/deals/{deal_id:int}", self.patch_deal),
        ]

    # -- v2 ---------------------------------------------------------------------------------------------------
    def get_deals(self, request: Request, body: Any) -> JSONResponse:
        q = request.query_params
        deleted = q.get("status") == "deleted"
        deals = [d for d in self.deals.values() if bool(d["is_deleted"]) == deleted]
        if q.get("ids"):
            ids = [int(i) for i in q["ids"].split(",")]
            assert len(ids) <= 100
            deals = [d for d in deals if d["id"] in ids]
        if q.get("custom_fields"):
            keys = q["custom_fields"].split(",")
            deals = [{**d, "custom_fields": {k: d["custom_fields"].get(k) for k in keys}} for d in deals]
        if q.get("updated_since"):
            deals = [d for d in deals if d["update_time"] >= q["updated_since"]]
        assert q.get("sort_by", "update_time") == "update_time"
        deals.sort(key=lambda d: (d["update_time"], d["id"]))
        return JSONResponse(_v2_page(deals, q.get("cursor"), int(q.get("limit", 100))))

    def get_pipelines(self, request: Request, body: Any) -> JSONResponse:
        pipeline = {
            "id": 1,
            "name": "Sales pipeline",
            "order_nr": 1,
            "is_deleted": False,
            "is_deal_probability_enabled": True,
        }
        return JSONResponse({"success": True, "data": [pipeline], "additional_data": {"next_cursor": None}})

    def get_stages(self, request: Request, body: Any) -> JSONResponse:
        stages = [
            {
                "id": i + 1,
                "order_nr": i + 1,
                "name": name,
                "is_deleted": False,
                "deal_probability": PROBABILITY[i],
                "pipeline_id": 1,
                "is_deal_rot_enabled": False,
                "days_to_rotten": None,
                "add_time": "2024-01-01T00:00:00Z",
                "update_time": "2024-01-01T00:00:00Z",
            }
            for i, name in enumerate(OPEN_STAGES)
        ]
        return JSONResponse({"success": True, "data": stages, "additional_data": {"next_cursor": None}})

    # -- v1 ---------------------------------------------------------------------------------------------------
    def get_users(self, request: Request, body: Any) -> JSONResponse:
        return JSONResponse(_v1_page(self.users, request))

    def get_fields(self, request: Request, body: Any) -> JSONResponse:
        standard = [
            {"id": 1, "key": "title", "name": "Title", "field_type": "varchar", "edit_flag": False},
            {"id": 2, "key": "value", "name": "Value", "field_type": "monetary", "edit_flag": False},
            {"id": 3, "key": "status", "name": "Status", "field_type": "status", "edit_flag": False},
        ]
        custom = [
            {
                "id": 100 + i,
                "key": key,
                "name": name,
                "field_type": kind,
                "edit_flag": True,
                **({"options": [{"id": v, "label": k} for k, v in SEGMENTS.items()]} if kind == "enum" else {}),
            }
            for i, (key, name, kind) in enumerate(FIELDS.values())
        ]
        if self.score_field:
            custom.append(
                {"id": 200, "key": SCORE_KEY, "name": "Hitrate score", "field_type": "varchar", "edit_flag": True}
            )
        return JSONResponse(_v1_page(standard + custom, request))

    def get_flow(self, request: Request, body: Any, deal_id: int) -> JSONResponse:
        return JSONResponse(_v1_page(self.flows.get(deal_id, []), request))

    # -- the write-back (hitrate score push) ----------------------------------------------------------------------
    write_batch = 1  # Pipedrive has no batch update: one PATCH a deal

    def add_score_property(self) -> str:
        """A text custom field for the scores, as an admin would add it; its name (a push may give the key too)."""
        self.score_field = True
        return "Hitrate score"

    def value(self, deal_id: str, name: str) -> Any:
        return self.deals[int(deal_id)]["custom_fields"].get(SCORE_KEY)

    def writes(self) -> list[Any]:
        return [r for r in self.log if r.method == "PATCH" and r.path.startswith("/api/v2/deals/")]

    def patch_deal(self, request: Request, body: Any, deal_id: int) -> JSONResponse:
        """The deal's custom fields updated (its update time now); 404 for a deal it does not have, 400 for a
        refused one or an unknown field, as Pipedrive answers."""
        deal = self.deals.get(deal_id)
        if deal is None or deal["is_deleted"]:
            return JSONResponse({"success": False, "error": "Deal not found", "code": "ERR_NOT_FOUND"}, status_code=404)
        fields = (body or {}).get("custom_fields") or {}
        if str(deal_id) in self.refuse or (set(fields) - {SCORE_KEY}) or not self.score_field:
            return JSONResponse({"success": False, "error": "Validation failed", "code": "ERR_SCHEMA"}, status_code=400)
        for key, value in fields.items():
            self.written.append((str(deal_id), key, value))
        self.touch(deal_id, custom_fields={**deal["custom_fields"], **fields})
        return JSONResponse({"success": True, "data": self.deals[deal_id]})

    # -- the data ---------------------------------------------------------------------------------------------
    def load_synth(self, data: Any) -> None:
        users = {r: i + 1 for i, r in enumerate(data.reps["rep"])}
        self.users = [
            {"id": uid, "name": rep, "email": f"user{uid}@example.com", "active_flag": True, "is_admin": 0}
            for rep, uid in users.items()
        ]
        entered: dict[str, list[tuple[str, Any]]] = {}
        for h in data.stage_history.itertuples(index=False):
            if h.stage in OPEN_STAGES:
                entered.setdefault(h.id, []).append((h.stage, h.entered_at))
        for n, o in enumerate(data.opportunities.itertuples(index=False), start=1):
            path = sorted(entered.get(o.id, [(OPEN_STAGES[0], o.created_at)]), key=lambda e: e[1])
            stage = path[-1][0]
            closed = o.outcome != "open"
            custom = {FIELDS[k][0]: getattr(o, k) for k in ("product", "region", "lead_source")}
            custom[FIELDS["segment"][0]] = SEGMENTS[o.segment]
            self.deals[n] = {
                "id": n,
                "title": f"Deal {o.id}",
                "owner_id": users[o.rep],
                "creator_user_id": users[o.rep],
                "person_id": None,
                "org_id": None,
                "pipeline_id": 1,
                "stage_id": OPEN_STAGES.index(stage) + 1,
                "value": None if pd.isna(o.amount) else float(o.amount),
                "currency": "EUR",
                "add_time": rfc(o.created_at),
                "update_time": self.tick(),
                "stage_change_time": rfc(path[-1][1]) if len(path) > 1 else None,
                "status": o.outcome,
                "is_deleted": False,
                "probability": None,
                "lost_reason": o.loss_reason if o.outcome == "lost" and not pd.isna(o.loss_reason) else None,
                "visible_to": 3,
                "close_time": rfc(o.closed_at) if closed else None,
                "won_time": rfc(o.closed_at) if o.outcome == "won" else None,
                "lost_time": rfc(o.closed_at) if o.outcome == "lost" else None,
                "expected_close_date": pd.Timestamp(o.expected_close).strftime("%Y-%m-%d"),
                "label_ids": [],
                "custom_fields": custom,
            }
            self.flows[n] = [
                {
                    "object": "dealChange",
                    "timestamp": v1time(at),
                    "data": {
                        "id": 10_000 * n + k,
                        "item_id": n,
                        "user_id": users[o.rep],
                        "field_key": "stage_id",
                        "old_value": str(OPEN_STAGES.index(path[k - 1][0]) + 1),
                        "new_value": str(OPEN_STAGES.index(s) + 1),
                        "is_bulk_update_flag": None,
                        "log_time": v1time(at),
                        "change_source": "app",
                    },
                }
                for k, (s, at) in enumerate(path)
                if k > 0
            ] + [
                {
                    "object": "activity",
                    "timestamp": v1time(o.created_at),
                    "data": {"id": n, "type": "call", "subject": "Call"},
                }
            ]

    def export_rows(self) -> list[dict[str, Any]]:
        """The deals as Pipedrive's deal list export names its columns (English, without the ``Deal -`` prefix)."""
        users = {u["id"]: u["name"] for u in self.users}
        segments = {v: k for k, v in SEGMENTS.items()}
        rows = []
        for d in sorted(self.deals.values(), key=lambda d: d["id"]):
            if d["is_deleted"]:
                continue
            c = d["custom_fields"]
            rows.append(
                {
                    "ID": d["id"],
                    "Title": d["title"],
                    "Owner": users[d["owner_id"]],
                    "Stage": OPEN_STAGES[d["stage_id"] - 1],
                    "Pipeline": "Sales pipeline",
                    "Status": d["status"].title(),
                    "Value": "" if d["value"] is None else f"{d['value']:g}",
                    "Currency of Value": d["currency"],
                    "Deal created": (d["add_time"] or "").replace("T", " ").rstrip("Z"),
                    "Deal closed on": (d["close_time"] or "").replace("T", " ").rstrip("Z"),
                    "Expected close date": d["expected_close_date"],
                    "Lost reason": d["lost_reason"] or "",
                    "Segment": segments[c[FIELDS["segment"][0]]],
                    "Product": c[FIELDS["product"][0]],
                    "Region": c[FIELDS["region"][0]],
                    "Lead source": c[FIELDS["lead_source"][0]],
                }
            )
        return rows


def _v2_page(records: list[dict[str, Any]], cursor: str | None, limit: int) -> dict[str, Any]:
    start = int(base64.b64decode(cursor).decode()) if cursor else 0
    size = min(limit, SERVED)
    page = records[start : start + size]
    nxt = base64.b64encode(str(start + size).encode()).decode() if start + size < len(records) else None
    return {"success": True, "data": page, "additional_data": {"next_cursor": nxt}}


def _v1_page(records: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    start = int(request.query_params.get("start", 0))
    size = min(int(request.query_params.get("limit", 100)), SERVED)
    page = records[start : start + size]
    more = start + size < len(records)
    pagination = {"start": start, "limit": size, "more_items_in_collection": more}
    if more:
        pagination["next_start"] = start + size
    return {"success": True, "data": page or None, "additional_data": {"pagination": pagination}}
