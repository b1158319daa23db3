"""Lead scores back to the CRM: each open deal's stored score, band and top reasons in a property of its own.

:func:`push` takes the scores ``hitrate score predict`` kept in ``lead_scores`` for the store's open deals that
came from that CRM (the deals whose stored row a sync of that CRM wrote), reads the property's current value of
each from the CRM, and lists what would change (a dry run), or, with ``apply``, writes only the changed values,
in batches, and reports each record's success or failure (a batch's partial failures are reported record by
record, not hidden):

- **HubSpot**: a deal property (``GET /crm/v3/properties/deals/{name}`` checks it), read with
  ``POST /crm/v3/objects/deals/batch/read`` and written with ``POST /crm/v3/objects/deals/batch/update``, 100
  deals a batch;
- **Pipedrive**: a deal custom field, named by its key or its name (``GET /v1/dealFields``), read with
  ``GET /api/v2/deals?ids=...`` (100 a request) and written with ``PATCH /api/v2/deals/{id}`` (Pipedrive has
  no batch update: one request a deal);
- **Salesforce**: an Opportunity field by API name (``sobjects/Opportunity/describe`` checks that it exists and
  is updateable), read with ``GET composite/sobjects/Opportunity?ids=...&fields=...`` and written with
  ``PATCH composite/sobjects`` (``allOrNone`` false), 200 records a batch.

What is written (:func:`value_of`): ``text`` (the default) ``72% (B): +region=UK; +source=Web; -amount=900``
(probability in whole percent, band, reasons up and down, cut to 255 characters so any text field takes it),
``score`` (the whole percent, for a number field) or ``band`` (``A`` to ``D``). Values compare as text, numbers
without a trailing ``.0``, so a second push finds nothing to write.

The client is the sync's (:func:`hitrate.sync.connect`): the same credentials, ``api_base``, retries and
one-line errors; no credential reaches a message, and what a CRM says about a refused record is shown without
any credential.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from hitrate.errors import SyncError
from hitrate.i18n import Message
from hitrate.report.result import english
from hitrate.sync.client import CrmClient, RetryPolicy
from hitrate.sync.credentials import Credentials
from hitrate.sync.records import cell

if TYPE_CHECKING:
    from hitrate.store.embedded import Store

#: What a push can write: the text with reasons, the whole percent, or the band.
VALUES = ("text", "score", "band")
#: The longest text written (Salesforce's and Pipedrive's text fields hold 255 characters).
MAX_TEXT = 255
#: Records per write request, as each CRM documents its batch endpoint (Pipedrive: one deal per request).
BATCH = {"hubspot": 100, "pipedrive": 1, "salesforce": 200}
#: Records per read request.
READ_BATCH = {"hubspot": 100, "pipedrive": 100, "salesforce": 200}
#: Errors after which no later request could succeed: the push stops.
FATAL = frozenset({"sync.unauthorized", "sync.unreachable", "sync.rate_limited", "sync.timeout"})
STATUSES = ("unchanged", "change", "written", "failed", "missing")


@dataclass(frozen=True)
class PushRecord:
    """One deal: its id, the property's value in the CRM (None when empty), the value the push writes, and what
    happened: ``unchanged``, ``change`` (a dry run's would-write), ``written``, ``failed`` (``error`` says why, as
    the CRM put it) or ``missing`` (the CRM no longer has the deal)."""

    id: str
    old: str | None
    new: str
    status: str
    error: str | Message | None = None


@dataclass
class PushReport:
    """What a push did or would do: the CRM, the property ``prop`` (as the CRM names it), whether it wrote
    (``applied``), which value it writes, every deal it considered (``records``), the write requests it sent
    (``batches``) and all requests (``requests``, retries included)."""

    crm: str
    prop: str
    applied: bool
    value: str
    records: list[PushRecord] = field(default_factory=list)
    batches: int = 0
    requests: int = 0

    def count(self, status: str) -> int:
        """How many records ended with ``status``."""
        return sum(1 for r in self.records if r.status == status)

    @property
    def counts(self) -> dict[str, int]:
        """``scored`` (open deals of the CRM with a stored score) and the count of each status."""
        return {"scored": len(self.records), **{s: self.count(s) for s in STATUSES}}

    @property
    def ok(self) -> bool:
        """No record failed."""
        return not self.count("failed")

    def to_dict(self) -> dict[str, Any]:
        """The counts and every record that is not unchanged (id, old, new, status, error)."""
        return {
            "crm": self.crm,
            "property": self.prop,
            "applied": self.applied,
            "value": self.value,
            "counts": self.counts,
            "batches": self.batches,
            "requests": self.requests,
            "records": [
                {"id": r.id, "old": r.old, "new": r.new, "status": r.status, "error": english(r.error)}
                for r in self.records
                if r.status != "unchanged"
            ],
        }


def scored_deals(store: Store, crm: str) -> list[tuple[str, float, str, str | None, str | None]]:
    """The open deals a sync of ``crm`` stored (their row as that sync wrote it), with their stored score:
    (id, probability, band, reasons up, reasons down), by id."""
    rows = store.fetch(
        "SELECT s.id, s.probability, s.band, s.reasons_up, s.reasons_down FROM lead_scores s "
        "JOIN opportunities o ON o.id = s.id JOIN import_batches b ON b.batch_id = o._batch "
        "WHERE o.outcome = 'open' AND list_contains(from_json(b.sources, '[\"VARCHAR\"]'), ?) ORDER BY s.id",
        [f"{crm}:deals"],
    )
    return [(str(r[0]), float(r[1]), str(r[2]), r[3], r[4]) for r in rows]


def value_of(probability: float, band: str, up: str | None, down: str | None, kind: str = "text") -> str:
    """The value written for one score (see the module docstring), at most :data:`MAX_TEXT` characters."""
    from hitrate.scoring.reasons import read_reasons, reasons_text

    percent = str(round(probability * 100))
    if kind == "score":
        return percent
    if kind == "band":
        return band
    out = f"{percent}% ({band})"
    signed = [("+", r) for r in read_reasons(up)] + [("-", r) for r in read_reasons(down)]
    parts = [sign + reasons_text([r]) for sign, r in signed]
    while parts and len(f"{out}: {'; '.join(parts)}") > MAX_TEXT:
        parts.pop()
    return f"{out}: {'; '.join(parts)}" if parts else out


def push(
    store: Store,
    crm: str,
    prop: str,
    *,
    apply: bool = False,
    value: str = "text",
    credentials: Credentials | None = None,
    credentials_file: str | os.PathLike[str] | None = None,
    api_base: str | None = None,
    retry: RetryPolicy | None = None,
) -> PushReport:
    """Push the stored scores of ``crm``'s open deals to the property ``prop``: a dry run unless ``apply``
    (see the module docstring). Errors that stop every request (credentials, network, rate limits) raise a
    :class:`~hitrate.errors.SyncError`; a refused record or batch is reported as ``failed`` and the push goes
    on."""
    from hitrate.sync.run import connect

    if value not in VALUES:
        raise SyncError("push.bad_value", crm=crm, value=value, values=", ".join(VALUES))
    scores = scored_deals(store, crm)
    client = connect(crm, credentials=credentials, credentials_file=credentials_file, api_base=api_base, retry=retry)
    writer = WRITERS[crm](client)
    key = writer.resolve(prop)
    report = PushReport(crm, key, apply, value)
    wanted = {i: value_of(p, b, up, down, value) for i, p, b, up, down in scores}
    current = writer.read(key, list(wanted))
    changed: list[tuple[str, str, str | None]] = []
    for deal_id, new in wanted.items():
        if deal_id not in current:
            report.records.append(PushRecord(deal_id, None, new, "missing"))
        elif current[deal_id] == new:
            report.records.append(PushRecord(deal_id, current[deal_id], new, "unchanged"))
        else:
            changed.append((deal_id, new, current[deal_id]))
    if not apply:
        report.records += [PushRecord(i, old, new, "change") for i, new, old in changed]
    else:
        size = BATCH[crm]
        for start in range(0, len(changed), size):
            batch = changed[start : start + size]
            errors = writer.write(key, [(i, new) for i, new, _ in batch])
            report.batches += 1
            for deal_id, new, old in batch:
                error = errors.get(deal_id)
                status = "failed" if error is not None else "written"
                report.records.append(PushRecord(deal_id, old, new, status, error))
    report.records.sort(key=lambda r: (STATUSES.index(r.status), r.id))
    report.requests = client.requests
    return report


class Writer(ABC):
    """What a push asks of one CRM: the property's name (:meth:`resolve`), the current values (:meth:`read`:
    id -> value as text, None when empty; ids the CRM does not have left out) and a batch written
    (:meth:`write`: id -> the CRM's reason for each record it refused)."""

    def __init__(self, client: CrmClient) -> None:
        self.client = client

    @abstractmethod
    def resolve(self, prop: str) -> str:
        """See the class docstring."""

    @abstractmethod
    def read(self, key: str, ids: list[str]) -> dict[str, str | None]:
        """See the class docstring."""

    @abstractmethod
    def write(self, key: str, items: list[tuple[str, str]]) -> dict[str, str | Message]:
        """See the class docstring."""

    def no_property(self, prop: str) -> SyncError:
        return SyncError("push.no_property", crm=self.client.label, property=prop)

    def refused(self, items: Sequence[tuple[str, str]], exc: SyncError) -> dict[str, str | Message]:
        """A whole batch refused: every record failed with the client's one-line message; a fatal error
        raised."""
        if exc.key in FATAL:
            raise exc
        return {i: exc.message for i, _ in items}

    def unanswered(self) -> Message:
        """The reason of a record the CRM's answer does not mention."""
        return Message("push.no_answer", crm=self.client.label)

    def said(self, text: Any) -> str:
        """What the CRM said about a record, in one line of at most 200 characters, without any credential."""
        out = " ".join(str(text).split())[:200]
        for secret in self.client._secrets:
            out = out.replace(secret, "***")
        return out


def _chunks(ids: list[str], size: int) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


class HubSpotWriter(Writer):
    """A deal property, through the v3 batch endpoints."""

    def resolve(self, prop: str) -> str:
        try:
            found = self.client.get(f"/crm/v3/properties/deals/{quote(prop, safe='')}")
        except SyncError as exc:
            if exc.key == "sync.not_found":
                raise self.no_property(prop) from None
            raise
        if (found.get("modificationMetadata") or {}).get("readOnlyValue"):
            raise SyncError("push.read_only", crm=self.client.label, property=prop)
        return str(found.get("name") or prop)

    def read(self, key: str, ids: list[str]) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for chunk in _chunks(ids, READ_BATCH["hubspot"]):
            body = {"properties": [key], "inputs": [{"id": i} for i in chunk]}
            answer = self.client.post("/crm/v3/objects/deals/batch/read", json=body) or {}
            for record in answer.get("results", []):
                out[str(record["id"])] = cell((record.get("properties") or {}).get(key))
        return out

    def write(self, key: str, items: list[tuple[str, str]]) -> dict[str, str | Message]:
        body = {"inputs": [{"id": i, "properties": {key: v}} for i, v in items]}
        try:
            answer = self.client.post("/crm/v3/objects/deals/batch/update", json=body) or {}
        except SyncError as exc:
            return self.refused(items, exc)
        failed: dict[str, str | Message] = {}
        for error in answer.get("errors") or []:  # HTTP 207: some records refused
            reason = self.said(error.get("message") or error.get("category") or "error")
            for deal_id in (error.get("context") or {}).get("ids") or []:
                failed[str(deal_id)] = reason
        done = {str(r.get("id")) for r in answer.get("results") or []}
        for deal_id, _ in items:
            if deal_id not in done and deal_id not in failed:
                failed[deal_id] = self.unanswered()
        return failed


class PipedriveWriter(Writer):
    """A deal custom field, by key or name; one PATCH a deal (API v2)."""

    def resolve(self, prop: str) -> str:
        from hitrate.sync.pipedrive import _is_custom, _v1_list

        for f in _v1_list(self.client, "/v1/dealFields"):
            if _is_custom(f) and prop in (str(f.get("key")), str(f.get("name"))):
                return str(f["key"])
        raise self.no_property(prop)

    def read(self, key: str, ids: list[str]) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for chunk in _chunks(ids, READ_BATCH["pipedrive"]):
            params = {"ids": ",".join(chunk), "custom_fields": key, "limit": len(chunk)}
            for deal in (self.client.get("/api/v2/deals", params=params) or {}).get("data") or []:
                found = (deal.get("custom_fields") or {}).get(key)
                if isinstance(found, dict):
                    found = found.get("value")
                out[str(deal["id"])] = cell(found)
        return out

    def write(self, key: str, items: list[tuple[str, str]]) -> dict[str, str | Message]:
        failed: dict[str, str | Message] = {}
        for deal_id, new in items:
            try:
                answer = self.client.patch(f"/api/v2/deals/{deal_id}", json={"custom_fields": {key: new}}) or {}
            except SyncError as exc:
                failed.update(self.refused([(deal_id, new)], exc))
                continue
            if answer.get("success") is False:
                failed[deal_id] = self.said(answer.get("error")) if answer.get("error") else self.unanswered()
        return failed


class SalesforceWriter(Writer):
    """An Opportunity field, through the composite sObject collections (``allOrNone`` false)."""

    def _data(self) -> str:
        from hitrate.sync.salesforce import DATA

        return DATA

    def resolve(self, prop: str) -> str:
        fields = self.client.get(f"{self._data()}/sobjects/Opportunity/describe").get("fields", [])
        for f in fields:
            if str(f.get("name", "")).lower() == prop.lower():
                if f.get("updateable") is False or f.get("calculated"):
                    raise SyncError("push.read_only", crm=self.client.label, property=str(f["name"]))
                return str(f["name"])
        raise self.no_property(prop)

    def read(self, key: str, ids: list[str]) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for chunk in _chunks(ids, READ_BATCH["salesforce"]):
            params = {"ids": ",".join(chunk), "fields": f"Id,{key}"}
            for record in self.client.get(f"{self._data()}/composite/sobjects/Opportunity", params=params) or []:
                if record:  # an id Salesforce does not have answers null
                    out[str(record["Id"])] = cell(record.get(key))
        return out

    def write(self, key: str, items: list[tuple[str, str]]) -> dict[str, str | Message]:
        records = [{"attributes": {"type": "Opportunity"}, "id": i, key: v} for i, v in items]
        try:
            answer = self.client.patch(
                f"{self._data()}/composite/sobjects", json={"allOrNone": False, "records": records}
            )
        except SyncError as exc:
            return self.refused(items, exc)
        failed: dict[str, str | Message] = {}
        for (deal_id, _), result in zip(items, answer or [], strict=False):  # in the order of the records sent
            if not result.get("success"):
                errors = result.get("errors") or [{}]
                failed[deal_id] = self.said(
                    "; ".join(f"{e.get('statusCode', 'ERROR')}: {e.get('message', '')}" for e in errors)
                )
        for deal_id, _ in items[len(answer or []) :]:
            failed[deal_id] = self.unanswered()
        return failed


WRITERS: dict[str, type[Writer]] = {
    "hubspot": HubSpotWriter,
    "pipedrive": PipedriveWriter,
    "salesforce": SalesforceWriter,
}
