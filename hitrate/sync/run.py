"""One sync of a CRM into the store (:func:`sync`), and the authenticated client a connector or a write-back
uses (:func:`connect`)."""

from __future__ import annotations

import contextlib
import importlib
import os
import time
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

from hitrate.errors import SyncError
from hitrate.i18n import Message
from hitrate.sync.client import LABELS, CrmClient, RetryPolicy
from hitrate.sync.credentials import Credentials, check_crm, load_credentials

if TYPE_CHECKING:
    from hitrate.store.embedded import Store
    from hitrate.sync.report import SyncReport


def connector(crm: str) -> ModuleType:
    """The module of ``crm``'s connector (:mod:`hitrate.sync.hubspot`...): ``DEFAULT_BASE``, ``connect`` and
    ``fetch``."""
    check_crm(crm)
    return importlib.import_module(f"hitrate.sync.{crm}")


def connect(
    crm: str,
    *,
    credentials: Credentials | None = None,
    credentials_file: str | os.PathLike[str] | None = None,
    api_base: str | None = None,
    retry: RetryPolicy | None = None,
) -> CrmClient:
    """An authenticated :class:`~hitrate.sync.client.CrmClient` of ``crm`` (``hubspot``, ``pipedrive`` or
    ``salesforce``): credentials given, else read (:func:`~hitrate.sync.credentials.load_credentials`), at
    ``api_base`` (default the vendor's; an EU data centre, a sandbox or a test server otherwise), with ``retry``'s
    behaviour. Salesforce signs in here (a token for the session). Missing credentials raise a
    :class:`~hitrate.errors.SyncError` naming what to set."""
    module = connector(crm)
    creds = credentials if credentials is not None else load_credentials(crm, file=credentials_file)
    client: CrmClient = module.connect(creds, (api_base or module.DEFAULT_BASE).rstrip("/"), retry or RetryPolicy())
    return client


def sync(
    store: Store,
    crm: str,
    *,
    credentials: Credentials | None = None,
    credentials_file: str | os.PathLike[str] | None = None,
    api_base: str | None = None,
    retry: RetryPolicy | None = None,
    full: bool = False,
    rescore: bool = True,
    stage: Callable[[str], None] | None = None,
) -> SyncReport:
    """Sync ``crm``'s deals, owners, pipelines and stage history into ``store``, in one transaction.

    The first sync (or ``full``) fetches every deal; later ones what changed since the cursor saved by the last
    good sync. Deals go through the same import path as files (the CRM's preset, outcome rules, quarantine and
    counts); deleted or archived deals leave the counts (kept in ``crm_deleted``, their stage history kept); the
    cursor is saved with the rows. A failure (:class:`~hitrate.errors.SyncError`, or anything else) leaves rows
    and cursor as they were; the error's one line is noted for the source (``crm_sync.error``) and raised.

    After the commit, with ``rescore``, the lead scores the store keeps are refreshed for the deals this sync
    imported or updated (:mod:`hitrate.sync.rescore`).
    """

    def given() -> contextlib.AbstractContextManager[Store]:
        return contextlib.nullcontext(store)

    return sync_steps(
        given,
        given,
        crm,
        credentials=credentials,
        credentials_file=credentials_file,
        api_base=api_base,
        retry=retry,
        full=full,
        rescore=rescore,
        stage=stage,
    )


def sync_steps(
    reading: Callable[[], contextlib.AbstractContextManager[Store]],
    writing: Callable[[], contextlib.AbstractContextManager[Store]],
    crm: str,
    *,
    credentials: Credentials | None = None,
    credentials_file: str | os.PathLike[str] | None = None,
    api_base: str | None = None,
    retry: RetryPolicy | None = None,
    full: bool = False,
    rescore: bool = True,
    stage: Callable[[str], None] | None = None,
) -> SyncReport:
    """:func:`sync` with the store opened only while it is needed: ``reading()`` for the cursor, then no store
    while the CRM is fetched, then ``writing()`` for the transaction (and the scores, or the error's note). A
    server passes its own short-lived connections, so its readers go on reading the last committed data while a
    sync fetches.

    ``stage(label)``, when given, is told each step as it starts (a progress display; the number of pages is
    not known beforehand): connecting, the records fetched so far after each page, the import's steps, the
    scores refreshed. A label is English text carrying its message (:class:`~hitrate.ingest.importer.StepLabel`)."""
    from hitrate.ingest.importer import StepLabel
    from hitrate.sync import rescore as rescoring
    from hitrate.sync import state
    from hitrate.sync.load import store_fetched
    from hitrate.sync.report import SyncReport

    def step(key: str, **params: object) -> None:
        if stage is not None:
            stage(StepLabel(Message(f"sync.step_{key}", **params)))

    started = time.monotonic()
    module = connector(crm)
    try:
        step("connecting", crm=LABELS.get(crm, crm))
        client = connect(
            crm, credentials=credentials, credentials_file=credentials_file, api_base=api_base, retry=retry
        )
        client.on_page = lambda records: step("fetching", crm=client.label, records=records)
        step("fetching", crm=client.label, records=0)
        with reading() as store:
            cursor = None if full else state.source_state(store, crm).cursor
        fetched = module.fetch(client, cursor)
        with writing() as store:
            report, deleted = store_fetched(store, fetched, stage=stage)
    except SyncError as exc:
        _note_error(writing, crm, str(exc))
        raise
    except Exception as exc:  # its text may quote a request: only its kind is noted
        _note_error(writing, crm, type(exc).__name__)
        raise
    result = SyncReport(
        crm=crm,
        imports=report,
        deleted=deleted,
        full=fetched.full,
        cursor=fetched.cursor,
        requests=client.requests,
    )
    if rescore:
        step("rescoring")
        with writing() as store:
            changed = rescoring.changed_ids(store, report.batch_id)
            result.rescored, result.notes_ = rescoring.refresh_scores(store, changed)
    result.seconds = time.monotonic() - started
    return result


def _note_error(writing: Callable[[], contextlib.AbstractContextManager[Store]], crm: str, error: str) -> None:
    """Note a failed run for the source; a store that cannot take the note does not hide the failure itself."""
    from hitrate.sync import state

    with contextlib.suppress(Exception), writing() as store:
        state.record_error(store, crm, error)
