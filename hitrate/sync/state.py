"""A sync's bookkeeping in the store: each source's cursor and last run (``crm_sync``), its pipelines' stages
(``crm_stages``) and the deals it removed (``crm_deleted``).

Everything here runs inside the sync's transaction (:func:`hitrate.sync.load.store_fetched`), except
:func:`record_error`, which notes a failed run after its transaction rolled back: the rows and the cursor stay
as they were, and the dashboard can show what went wrong.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hitrate.ingest.import_report import ImportReport
    from hitrate.store.embedded import Store
    from hitrate.sync.records import StageDef


@dataclass(frozen=True)
class SourceState:
    """What the store knows of one source: its cursor (None before the first sync), when it last synced and
    with which counts, and the last error (None once a later run succeeded)."""

    source: str
    cursor: dict[str, str] | None
    synced_at: dt.datetime | None
    counts: dict[str, int]
    error: str | None
    error_at: dt.datetime | None


COUNTS = ("read", "imported", "updated", "unchanged", "quarantined", "deleted")


def source_state(store: Store, source: str) -> SourceState:
    """The state of ``source`` (``hubspot``...): empty when it never synced."""
    rows = store.fetch(
        'SELECT cursor, synced_at, "read", imported, updated, unchanged, quarantined, deleted, error, error_at '
        "FROM crm_sync WHERE source = ?",
        [source],
    )
    if not rows:
        return SourceState(source, None, None, {}, None, None)
    cursor, synced_at, *counts, error, error_at = rows[0]
    numbers = {k: int(v) for k, v in zip(COUNTS, counts, strict=True) if v is not None}
    return SourceState(source, json.loads(cursor) if cursor else None, synced_at, numbers, error, error_at)


def sync_states(store: Store) -> list[SourceState]:
    """Every source that ever synced (or tried), by name: what a dashboard shows."""
    return [source_state(store, str(r[0])) for r in store.fetch("SELECT source FROM crm_sync ORDER BY source")]


def save_run(store: Store, source: str, cursor: dict[str, str], report: ImportReport, deleted: int) -> None:
    """The run's cursor and counts, replacing the source's earlier row (its error cleared)."""
    store.raw.execute("DELETE FROM crm_sync WHERE source = ?", [source])
    store.raw.execute(
        "INSERT INTO crm_sync VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
        [
            source,
            json.dumps(cursor, sort_keys=True),
            dt.datetime.now(),
            report.batch_id,
            report.read,
            report.imported,
            report.updated,
            report.unchanged,
            report.quarantined,
            deleted,
        ],
    )


def record_error(store: Store, source: str, error: str) -> None:
    """Note a failed run (its English one-line message, which holds no credential) beside the source's last
    good run; its own small transaction."""
    with store.transaction():
        found = store.fetch("SELECT count(*) FROM crm_sync WHERE source = ?", [source])
        if found and found[0][0]:
            store.raw.execute(
                "UPDATE crm_sync SET error = ?, error_at = ? WHERE source = ?", [error, dt.datetime.now(), source]
            )
        else:
            store.raw.execute(
                "INSERT INTO crm_sync (source, error, error_at) VALUES (?, ?, ?)", [source, error, dt.datetime.now()]
            )


def save_stages(store: Store, source: str, stages: list[StageDef]) -> None:
    """The source's pipelines and stages as the CRM defines them now (the earlier definitions replaced)."""
    store.raw.execute("DELETE FROM crm_stages WHERE source = ?", [source])
    if stages:
        store.raw.executemany(
            "INSERT INTO crm_stages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [source, s.pipeline_id, s.pipeline, s.stage_id, s.stage, s.position, s.probability, s.is_won, s.is_lost]
                for s in stages
            ],
        )


def stages(store: Store, source: str) -> list[dict[str, Any]]:
    """The source's stages, by pipeline and order."""
    rows = store.fetch(
        "SELECT pipeline_id, pipeline, stage_id, stage, position, probability, is_won, is_lost FROM crm_stages "
        "WHERE source = ? ORDER BY pipeline, position, stage",
        [source],
    )
    names = ("pipeline_id", "pipeline", "stage_id", "stage", "position", "probability", "is_won", "is_lost")
    return [dict(zip(names, r, strict=True)) for r in rows]


def remove_deleted(store: Store, source: str, ids: list[str]) -> int:
    """Move the deals deleted or archived in the CRM out of the counts: their rows kept as JSON in
    ``crm_deleted`` (their stage history stays where it is), then removed from ``opportunities`` with their lead
    scores. Returns how many stored deals were removed (ids the store does not hold count nothing)."""
    if not ids:
        return 0
    found = store.fetch("SELECT count(*) FROM opportunities WHERE id IN (SELECT unnest(?::VARCHAR[]))", [ids])
    removed = int(found[0][0]) if found else 0
    if not removed:
        return 0
    store.raw.execute("DELETE FROM crm_deleted WHERE source = ? AND id IN (SELECT unnest(?::VARCHAR[]))", [source, ids])
    store.raw.execute(
        "INSERT INTO crm_deleted SELECT ?, o.id, ?, to_json(o)::VARCHAR FROM opportunities o "
        "WHERE o.id IN (SELECT unnest(?::VARCHAR[]))",
        [source, dt.datetime.now(), ids],
    )
    store.raw.execute("DELETE FROM opportunities WHERE id IN (SELECT unnest(?::VARCHAR[]))", [ids])
    store.raw.execute("DELETE FROM lead_scores WHERE id IN (SELECT unnest(?::VARCHAR[]))", [ids])
    return removed


def deleted_ids(store: Store, source: str) -> list[str]:
    """The ids of the source's deals removed because the CRM deleted or archived them."""
    return [str(r[0]) for r in store.fetch("SELECT id FROM crm_deleted WHERE source = ? ORDER BY id", [source])]
