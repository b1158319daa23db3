"""Storing what a sync fetched: the same import path as files, and the cursor in the same transaction.

The deals go through :func:`hitrate.ingest.import_tables` with the CRM's preset (its outcome rules over the CRM's
own won/lost flags, ``closed_at`` only on closed deals, loss reasons only on lost ones), owners into ``reps``,
stage history into ``stage_history``; every count is the import's (``read = imported + updated + unchanged +
quarantined``). Inside the same transaction, before it commits: deleted or archived deals leave
``opportunities`` (kept in ``crm_deleted``, their stage history left in place), the pipelines' stages are
replaced, and the source's cursor and counts are saved. So a sync that fails anywhere leaves the rows and the
cursor as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hitrate.i18n import Message
from hitrate.ingest.importer import TableInput, import_tables
from hitrate.ingest.readers import RawTable
from hitrate.sync import state

if TYPE_CHECKING:
    from hitrate.ingest.import_report import ImportReport
    from hitrate.store.embedded import Store
    from hitrate.sync.records import Fetched, Table


def inputs(fetched: Fetched) -> list[TableInput]:
    """The tables of a fetch as the importer takes them; empty ones left out (an incremental sync that found
    nothing new imports nothing)."""
    crm = fetched.crm
    out = []
    parts: list[tuple[str, Table, str, str | None]] = [
        ("deals", fetched.deals, "opportunities", crm),
        ("owners", fetched.owners, "reps", None),
        ("stage_history", fetched.history, "stage_history", crm if fetched.history_preset else None),
    ]
    for name, table, target, preset in parts:
        if len(table):
            raw = RawTable.from_records(f"{crm}:{name}", table.columns, table.rows)
            out.append(TableInput(raw, target, preset))
    return out


def store_fetched(
    store: Store,
    fetched: Fetched,
    *,
    stage: Callable[[str], None] | None = None,
    fail_before_commit: Callable[[], None] | None = None,
) -> tuple[ImportReport, int]:
    """Store a fetch in one transaction: the import's report and the number of deals removed because the CRM
    deleted or archived them. ``fail_before_commit`` is called last inside the transaction (tests use it to
    prove that a failure there leaves nothing behind)."""
    removed = [0]

    def before_commit(report: ImportReport) -> None:
        source = fetched.crm
        store.raw.execute(
            "DELETE FROM crm_deleted WHERE source = ? AND id IN (SELECT id FROM opportunities)", [source]
        )  # deals restored in the CRM came back
        removed[0] = state.remove_deleted(store, source, fetched.deleted)
        state.save_stages(store, source, fetched.stages)
        state.save_run(store, source, fetched.cursor, report, removed[0])
        if fail_before_commit is not None:
            fail_before_commit()

    # The CRM is the record: a deal it moved from won to lost is stored so (the file import's guard against a
    # mistaken export does not apply).
    report = import_tables(store, inputs(fetched), allow_outcome_changes=True, stage=stage, before_commit=before_commit)
    for f in report.files:
        if f.preset:  # the preset was the sync's choice, not a --preset the user typed
            f.preset_reason = Message("sync.preset_of_crm", preset=f.preset)
    return report, removed[0]
