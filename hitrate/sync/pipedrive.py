"""Pipedrive: deals through API v2 (v1 where v2 has no endpoint yet), as the ``pipedrive`` preset maps them.

Endpoints (developers.pipedrive.com/docs/api): ``GET /api/v2/deals`` (``updated_since`` the cursor, sorted by
``update_time``, 500 a page, ``additional_data.next_cursor``; again with ``status=deleted`` for the deals deleted
since), ``GET /api/v2/pipelines`` and ``GET /api/v2/stages`` (names, order, deal probability), ``GET /v1/users``
(owners), ``GET /v1/dealFields`` (custom fields: their names and the labels of their options) and ``GET
/v1/deals/{id}/flow`` (a deal's changes, for its stage history). The API token goes in the ``x-api-token``
header, never in the URL.

A deal becomes a row with the English labels of a Pipedrive export (``ID``, ``Title``, ``Owner``, ``Stage``,
``Pipeline``, ``Status``, ``Value``, ``Currency of Value``, ``Deal created``, ``Deal closed on``, ``Expected close
date``, ``Lost reason``), custom fields under their names; the preset's outcome rule reads ``Status``. Stage
history: the deal's first stage at its creation, each ``stage_id`` change of its flow, and ``Won`` or ``Lost`` at
its won or lost time; the flow is asked only for deals whose stage ever changed (``stage_change_time``), one
request each, so a first sync of a large account spends that many requests of the daily budget.
"""

from __future__ import annotations

from typing import Any

from hitrate.errors import SyncError
from hitrate.sync.client import CrmClient, HeaderAuth, RetryPolicy
from hitrate.sync.credentials import Credentials
from hitrate.sync.records import Fetched, StageDef, Table, cell, last_wins

DEFAULT_BASE = "https://api.pipedrive.com"
PAGE = 500
STATUS = {"open": "Open", "won": "Won", "lost": "Lost"}
COLUMNS = (
    "ID",
    "Title",
    "Owner",
    "Stage",
    "Pipeline",
    "Status",
    "Value",
    "Currency of Value",
    "Deal created",
    "Deal closed on",
    "Expected close date",
    "Lost reason",
    "Probability",
)


def connect(credentials: Credentials, base: str, retry: RetryPolicy) -> CrmClient:
    """A client sending the personal API token (``HITRATE_PIPEDRIVE_TOKEN``) in the ``x-api-token`` header."""
    token = credentials.values.get("token")
    if not token:
        raise SyncError("sync.missing_pipedrive", crm="Pipedrive")
    return CrmClient("pipedrive", base, HeaderAuth("x-api-token", token), retry, credentials.secrets())


def fetch(client: CrmClient, cursor: dict[str, str] | None) -> Fetched:
    """Users, pipelines, stages and custom fields; the deals updated since ``cursor`` (every deal without one),
    their stage history, the deals deleted since, and the new cursor."""
    since = (cursor or {}).get("deals")
    users = {str(u["id"]): u for u in _v1_list(client, "/v1/users")}
    pipelines = {str(p["id"]): str(p.get("name") or p["id"]) for p in _v2_list(client, "/api/v2/pipelines", {})}
    stages = _stages(_v2_list(client, "/api/v2/stages", {}), pipelines)
    custom = {str(f["key"]): f for f in _v1_list(client, "/v1/dealFields") if _is_custom(f)}
    params: dict[str, Any] = {"limit": PAGE, "sort_by": "update_time", "sort_direction": "asc"}
    if since is not None:
        params["updated_since"] = since
    deals = last_wins(_v2_list(client, "/api/v2/deals", params), "id")
    deleted = [str(d["id"]) for d in _v2_list(client, "/api/v2/deals", {**params, "status": "deleted"})]
    labels = {s.stage_id: s.stage for s in stages}
    rows = [_row(d, users, labels, pipelines, custom) for d in deals]
    history = [h for d in deals for h in _history(client, d, labels)]
    new_cursor = dict(cursor or {})
    updated = [str(d["update_time"]) for d in deals if d.get("update_time")]
    if updated:
        new_cursor["deals"] = max(updated)
    owners = [{"rep": u.get("name") or str(u["id"]), "email": u.get("email")} for u in users.values()]
    return Fetched(
        crm="pipedrive",
        deals=Table.of(rows, [*COLUMNS, *(str(f["name"]) for f in custom.values())]),
        owners=Table.of(last_wins(owners, "rep"), ["rep"]),
        history=Table.of(history, ["id", "stage", "entered_at"]),
        stages=stages,
        deleted=deleted,
        cursor=new_cursor,
        full=since is None,
    )


def _v2_list(client: CrmClient, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every record of a v2 list, page by page (``additional_data.next_cursor``)."""
    from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

    paginator = JSONResponseCursorPaginator(cursor_path="additional_data.next_cursor", cursor_param="cursor")
    return [r for page in client.pages(path, params=params, paginator=paginator, data_selector="data") for r in page]


def _v1_list(client: CrmClient, path: str) -> list[dict[str, Any]]:
    """Every record of a v1 list, page by page: ``start`` from the server's ``additional_data.pagination.next_start``
    (it may serve fewer than the ``limit`` asked)."""
    from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

    paginator = JSONResponseCursorPaginator(cursor_path="additional_data.pagination.next_start", cursor_param="start")
    pages = client.pages(path, params={"limit": PAGE}, paginator=paginator, data_selector="data")
    return [r for page in pages for r in page]


def _is_custom(field: dict[str, Any]) -> bool:
    """A field an account made: Pipedrive keys them with a 40-character hash."""
    key = str(field.get("key", ""))
    return len(key) == 40 and all(c in "0123456789abcdef" for c in key)


def _stages(records: list[dict[str, Any]], pipelines: dict[str, str]) -> list[StageDef]:
    """Every stage: its pipeline, name, order and deal probability (Pipedrive marks won and lost by a deal's
    status, not by a stage)."""
    return [
        StageDef(
            pipeline_id=str(s.get("pipeline_id")),
            pipeline=pipelines.get(str(s.get("pipeline_id")), str(s.get("pipeline_id"))),
            stage_id=str(s["id"]),
            stage=str(s.get("name") or s["id"]),
            position=int(s.get("order_nr") or 0),
            probability=float(s["deal_probability"]) / 100 if s.get("deal_probability") is not None else None,
            is_won=False,
            is_lost=False,
        )
        for s in records
        if not s.get("is_deleted")
    ]


def _row(
    deal: dict[str, Any],
    users: dict[str, dict[str, Any]],
    labels: dict[str, str],
    pipelines: dict[str, str],
    custom: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """One deal as a row of a Pipedrive export: ids resolved to names, option ids to their labels."""
    owner = users.get(str(deal.get("owner_id")), {})
    status = str(deal.get("status") or "open")
    row: dict[str, Any] = {
        "ID": deal["id"],
        "Title": deal.get("title"),
        "Owner": owner.get("name") or deal.get("owner_id"),
        "Stage": labels.get(str(deal.get("stage_id")), deal.get("stage_id")),
        "Pipeline": pipelines.get(str(deal.get("pipeline_id")), deal.get("pipeline_id")),
        "Status": STATUS.get(status, status),
        "Value": deal.get("value"),
        "Currency of Value": deal.get("currency"),
        "Deal created": deal.get("add_time"),
        "Deal closed on": deal.get("close_time"),
        "Expected close date": deal.get("expected_close_date"),
        "Lost reason": deal.get("lost_reason"),
        "Probability": deal.get("probability"),
    }
    values = deal.get("custom_fields") or {}
    for key, field in custom.items():
        row[str(field["name"])] = _custom_value(values.get(key), field)
    return {k: cell(v) for k, v in row.items()}


def _custom_value(value: Any, field: dict[str, Any]) -> Any:
    """A custom field's value as a person reads it: option ids as labels, money and addresses by their value."""
    if isinstance(value, dict):
        value = value.get("value", value.get("formatted_address", value))
    options = {str(o.get("id")): o.get("label") for o in field.get("options") or []}
    if options and value is not None:
        ids = value if isinstance(value, list) else str(value).split(",")
        return ", ".join(str(options.get(str(i).strip(), i)) for i in ids)
    return value


def _history(client: CrmClient, deal: dict[str, Any], labels: dict[str, str]) -> list[dict[str, Any]]:
    """A deal's stage history: its first stage at its creation, each stage change of its flow (asked only when
    the stage ever changed), then Won or Lost when it was decided."""
    deal_id = str(deal["id"])
    current = labels.get(str(deal.get("stage_id")), str(deal.get("stage_id")))
    out: list[dict[str, Any]] = []
    if deal.get("stage_change_time"):
        changes = [
            item.get("data") or {}
            for item in _v1_list(client, f"/v1/deals/{deal_id}/flow")
            if item.get("object") == "dealChange" and (item.get("data") or {}).get("field_key") == "stage_id"
        ]
        changes.sort(key=lambda c: str(c.get("log_time")))
        if changes:
            first = changes[0].get("old_value")
            out.append({"id": deal_id, "stage": labels.get(str(first), str(first)), "entered_at": deal.get("add_time")})
        for change in changes:
            stage = labels.get(str(change.get("new_value")), str(change.get("new_value")))
            out.append({"id": deal_id, "stage": stage, "entered_at": change.get("log_time")})
    if not out:
        out.append({"id": deal_id, "stage": current, "entered_at": deal.get("add_time")})
    for status, at in (("Won", deal.get("won_time")), ("Lost", deal.get("lost_time"))):
        if at and STATUS.get(str(deal.get("status"))) == status:
            out.append({"id": deal_id, "stage": status, "entered_at": at})
    return [{k: cell(v) for k, v in h.items()} for h in out]
