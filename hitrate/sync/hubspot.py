"""HubSpot: deals through the CRM v3 API, as the ``hubspot`` preset maps them.

Endpoints (developers.hubspot.com/docs/api/crm): ``GET /crm/v3/owners`` (active and archived owners, with
their teams), ``GET /crm/v3/pipelines/deals`` (pipelines and stages: label, display order, ``metadata.isClosed``
and ``metadata.probability``, 1.0 for won and 0.0 for lost), ``GET /crm/v3/properties/deals`` (custom properties:
``hubspotDefined`` false), ``POST /crm/v3/objects/deals/search`` (deals with ``hs_lastmodifieddate`` at or after
the cursor, oldest first, 100 a page, ``paging.next.after`` in the body) and ``GET /crm/v3/objects/deals?
archived=true`` (archived deals, which the search never returns).

A deal becomes a row with HubSpot's property names (``hs_object_id``, ``dealstage``, ``hs_is_closed_won``...),
stage and pipeline as their labels and the owner as their name, as a HubSpot export with labels shows them;
``hs_analytics_source`` is kept as ``lead_source``, custom properties under their internal names. Stage history
comes from the ``hs_v2_date_entered_<stage id>`` properties. The search stops at 10,000 results per query, so
a longer run starts a new query from the last modification date reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hitrate.errors import SyncError
from hitrate.sync.client import CrmClient, HeaderAuth, RetryPolicy
from hitrate.sync.credentials import Credentials
from hitrate.sync.records import Fetched, StageDef, Table, cell, last_wins

DEFAULT_BASE = "https://api.hubapi.com"
PAGE = 100
SEARCH_LIMIT = 10_000  # HubSpot answers no page past the 10,000th result of one search
#: Deal properties read besides the custom ones, in the order of the row.
STANDARD = (
    "hs_object_id",
    "dealname",
    "dealstage",
    "pipeline",
    "hubspot_owner_id",
    "amount",
    "deal_currency_code",
    "createdate",
    "closedate",
    "closed_lost_reason",
    "hs_is_closed_won",
    "hs_is_closed_lost",
    "hs_is_closed",
    "dealtype",
    "hs_analytics_source",
)
RENAMED = {"hs_analytics_source": "lead_source"}
MODIFIED = "hs_lastmodifieddate"
ENTERED = "hs_v2_date_entered_"


def connect(credentials: Credentials, base: str, retry: RetryPolicy) -> CrmClient:
    """A client sending the private app's access token (``HITRATE_HUBSPOT_TOKEN``) as a bearer token."""
    token = credentials.values.get("token")
    if not token:
        raise SyncError("sync.missing_hubspot", crm="HubSpot")
    return CrmClient("hubspot", base, HeaderAuth("Authorization", token, "Bearer "), retry, credentials.secrets())


def fetch(client: CrmClient, cursor: dict[str, str] | None) -> Fetched:
    """Owners, pipelines and the deals changed since ``cursor`` (every deal without one), archived deals, and
    the new cursor."""
    from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

    owners, teams = _owners(client)
    stages = _stages(client)
    custom = _custom_properties(client)
    entered = sorted({ENTERED + s.stage_id for s in stages})
    properties = [*STANDARD, *custom, MODIFIED, *entered]
    since = (cursor or {}).get("deals")
    deals = last_wins(_search(client, properties, since), "id")
    archived = [
        str(d["id"])
        for page in client.pages(
            "/crm/v3/objects/deals",
            params={"archived": "true", "limit": PAGE, "properties": MODIFIED},
            paginator=JSONResponseCursorPaginator(cursor_path="paging.next.after", cursor_param="after"),
            data_selector="results",
        )
        for d in page
    ]
    labels = {s.stage_id: s.stage for s in stages}
    pipelines = {s.pipeline_id: s.pipeline for s in stages}
    rows = [_row(d.get("properties") or {}, str(d["id"]), owners, labels, pipelines, custom) for d in deals]
    history = [
        {"id": str(d["id"]), "stage": labels.get(prop[len(ENTERED) :], prop[len(ENTERED) :]), "entered_at": value}
        for d in deals
        for prop, value in sorted((d.get("properties") or {}).items())
        if prop.startswith(ENTERED) and value
    ]
    modified = [str((d.get("properties") or {}).get(MODIFIED) or "") for d in deals]
    new_cursor = dict(cursor or {})
    if any(modified):
        new_cursor["deals"] = max(m for m in modified if m)
    owner_rows = [{"rep": name, "team": teams.get(oid), "email": email} for oid, (name, email) in owners.items()]
    if not any(r["team"] for r in owner_rows):
        for r in owner_rows:
            del r["team"]
    return Fetched(
        crm="hubspot",
        deals=Table.of(rows, [*(RENAMED.get(p, p) for p in STANDARD), *custom]),
        owners=Table.of(last_wins(owner_rows, "rep"), ["rep"]),
        history=Table.of(history, ["id", "stage", "entered_at"]),
        stages=stages,
        deleted=archived,
        cursor=new_cursor,
        full=since is None,
    )


def _search(client: CrmClient, properties: list[str], since: str | None) -> Iterator[dict[str, Any]]:
    """The deals modified at or after ``since`` (every deal without it), oldest change first; past 10,000
    results a new search starts from the last modification date reached (a deal may come twice: the last
    wins)."""
    from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

    seen: set[str] = set()
    while True:
        body: dict[str, Any] = {
            "properties": properties,
            "sorts": [{"propertyName": MODIFIED, "direction": "ASCENDING"}],
            "limit": PAGE,
        }
        if since is not None:
            body["filterGroups"] = [{"filters": [{"propertyName": MODIFIED, "operator": "GTE", "value": _ms(since)}]}]
        got = 0
        new = 0
        last = since
        for page in client.pages(
            "/crm/v3/objects/deals/search",
            method="POST",
            json=body,
            paginator=JSONResponseCursorPaginator(cursor_path="paging.next.after", cursor_body_path="after"),
            data_selector="results",
        ):
            for deal in page:
                got += 1
                if str(deal["id"]) not in seen:
                    seen.add(str(deal["id"]))
                    new += 1
                last = (deal.get("properties") or {}).get(MODIFIED) or last
                yield deal
            if got >= SEARCH_LIMIT - PAGE:
                break
        if got < SEARCH_LIMIT - PAGE:
            return
        if not new or last is None:  # 10,000 deals changed at one instant: no later start exists
            raise SyncError("sync.hubspot_search_stuck", crm="HubSpot", at=str(last))
        since = last


def _ms(value: str) -> str:
    """A HubSpot datetime (ISO text or epoch milliseconds) as epoch milliseconds, what a search filter takes."""
    import datetime as dt

    if value.isdigit():
        return value
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return str(int(parsed.timestamp() * 1000))


def _owners(client: CrmClient) -> tuple[dict[str, tuple[str, str | None]], dict[str, str]]:
    """Owner id -> (name, email), active and archived; owner id -> their primary team's name."""
    from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

    owners: dict[str, tuple[str, str | None]] = {}
    teams: dict[str, str] = {}
    for archived in ("false", "true"):
        for page in client.pages(
            "/crm/v3/owners",
            params={"limit": PAGE, "archived": archived},
            paginator=JSONResponseCursorPaginator(cursor_path="paging.next.after", cursor_param="after"),
            data_selector="results",
        ):
            for o in page:
                name = " ".join(p for p in (o.get("firstName"), o.get("lastName")) if p) or o.get("email") or o["id"]
                owners.setdefault(str(o["id"]), (str(name), o.get("email")))
                primary = [t for t in o.get("teams") or [] if t.get("primary")] or (o.get("teams") or [])[:1]
                if primary and primary[0].get("name"):
                    teams.setdefault(str(o["id"]), str(primary[0]["name"]))
    return owners, teams


def _stages(client: CrmClient) -> list[StageDef]:
    """Every stage of every deal pipeline: labels, order, probability, won (closed at 1.0) or lost (closed at
    0.0)."""
    out: list[StageDef] = []
    for pipeline in client.get("/crm/v3/pipelines/deals").get("results", []):
        for stage in pipeline.get("stages", []):
            meta = stage.get("metadata") or {}
            probability = float(meta["probability"]) if meta.get("probability") not in (None, "") else None
            closed = str(meta.get("isClosed", "")).lower() == "true"
            out.append(
                StageDef(
                    pipeline_id=str(pipeline["id"]),
                    pipeline=str(pipeline.get("label") or pipeline["id"]),
                    stage_id=str(stage["id"]),
                    stage=str(stage.get("label") or stage["id"]),
                    position=int(stage.get("displayOrder") or 0),
                    probability=probability,
                    is_won=closed and probability == 1.0,
                    is_lost=closed and probability == 0.0,
                )
            )
    return out


def _custom_properties(client: CrmClient) -> list[str]:
    """The deal properties an account made (``hubspotDefined`` false), by internal name."""
    return [
        str(p["name"])
        for p in client.get("/crm/v3/properties/deals").get("results", [])
        if not p.get("hubspotDefined", True) and not p.get("archived")
    ]


def _row(
    props: dict[str, Any],
    deal_id: str,
    owners: dict[str, tuple[str, str | None]],
    labels: dict[str, str],
    pipelines: dict[str, str],
    custom: list[str],
) -> dict[str, Any]:
    """One deal as a row: ids resolved to labels and names as an export shows them."""
    row: dict[str, Any] = {RENAMED.get(p, p): props.get(p) for p in (*STANDARD, *custom)}
    row["hs_object_id"] = deal_id
    owner = props.get("hubspot_owner_id")
    if owner:
        row["hubspot_owner_id"] = owners.get(str(owner), (str(owner), None))[0]
    if props.get("dealstage"):
        row["dealstage"] = labels.get(str(props["dealstage"]), props["dealstage"])
    if props.get("pipeline"):
        row["pipeline"] = pipelines.get(str(props["pipeline"]), props["pipeline"])
    return {k: cell(v) for k, v in row.items()}
