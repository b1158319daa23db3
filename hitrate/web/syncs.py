"""The CRM syncs page (``/sync``): each CRM's last sync, counts and last error; an admin starts a sync.

Admins and managers see the page (the sync state is the store's, not any team's); a rep is refused (403). An
admin's ``POST /sync`` (with the form's CSRF token) starts a sync in a background thread of the server
(:class:`SyncRunner`) and returns at once: the sync holds no connection while it fetches from the CRM, so every
page keeps reading the last committed data; it takes the store for writing only to store what it fetched (the
import's one transaction), as an upload does. One sync per CRM runs at a time. Credentials are the server's
(its environment or credentials file, :mod:`hitrate.sync.credentials`); what a failed sync says is noted in the
store (``crm_sync.error``) and shown here.

``hitrate serve --sync CRM --sync-every 1h`` schedules the same syncs in the server process
(:meth:`SyncRunner.schedule`): a thread runs one round of the CRMs named now and then every interval, each CRM's
sync in the runner's own thread as a button would start it (a CRM already syncing is not started twice), and a
failing round does not stop the next. The server's start and stop start and end the schedule.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hitrate.i18n import format as fmt
from hitrate.i18n import text
from hitrate.sync.credentials import CRMS
from hitrate.web import data
from hitrate.web.pages import Page, table

pages_router = APIRouter(include_in_schema=False)


class SyncRunner:
    """Background syncs of one store (through ``access``'s short-lived connections), one thread per running CRM.
    ``api_bases`` gives a CRM another base URL (``--api-base``), ``credentials_file`` the credentials file."""

    def __init__(
        self,
        access: data.StoreAccess,
        *,
        api_bases: Mapping[str, str] | None = None,
        credentials_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self.access = access
        self.api_bases = dict(api_bases or {})
        self.credentials_file = credentials_file
        self.running: dict[str, dt.datetime] = {}
        self.threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._scheduler: threading.Thread | None = None
        self.rounds = 0
        self.last: dict[str, str] = {}

    def start(self, crm: str) -> bool:
        """Start a sync of ``crm`` in the background; False when one is already running."""
        with self._lock:
            if crm in self.running:
                return False
            self.running[crm] = dt.datetime.now()
            thread = threading.Thread(target=self._run, args=(crm,), name=f"hitrate-sync-{crm}", daemon=True)
            self.threads[crm] = thread
        thread.start()
        return True

    def wait(self, crm: str, timeout: float | None = None) -> None:
        """Wait for the running sync of ``crm`` (if any) to end."""
        thread = self.threads.get(crm)
        if thread is not None:
            thread.join(timeout)

    def schedule(self, crms: Sequence[str], interval: float) -> None:
        """Sync ``crms`` now and then every ``interval`` seconds, in a background thread, until :meth:`stop`."""
        from hitrate.sync.credentials import check_crm
        from hitrate.sync.schedule import run_every

        for crm in crms:
            check_crm(crm)
        if not crms or self._scheduler is not None:
            return
        self._stop.clear()

        def round_() -> str:
            started = [crm for crm in crms if self.start(crm)]
            for crm in started:
                self.wait(crm)
            self.rounds += 1
            return "; ".join(f"{crm}: {self.last.get(crm, '')}" for crm in started) or text("sync.round_all_busy")

        self._scheduler = threading.Thread(
            target=run_every,
            args=(round_, interval),
            kwargs={"stop": self._stop},
            name="hitrate-sync-schedule",
            daemon=True,
        )
        self._scheduler.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        """End the schedule (a running sync is let finish, up to ``timeout`` seconds each)."""
        self._stop.set()
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.join(timeout)
        for crm in list(self.threads):
            self.wait(crm, timeout)

    def _run(self, crm: str) -> None:
        from hitrate.sync.run import sync_steps
        from hitrate.sync.schedule import safe_text

        try:
            # a failure is noted in the store by the sync itself (the page shows it); the thread keeps its line
            # (the error's own text when hitrate wrote it, which holds no credential, else only its kind)
            report = sync_steps(
                self.access.reading,
                self.access.writing,
                crm,
                credentials_file=self.credentials_file,
                api_base=self.api_bases.get(crm),
            )
            self.last[crm] = report.headline().render()
        except Exception as exc:
            self.last[crm] = "failed: " + safe_text(exc)
        finally:
            with self._lock:
                self.running.pop(crm, None)


def runner(request: Request) -> SyncRunner:
    return request.app.state.syncs  # type: ignore[no-any-return]


def _states(access: data.StoreAccess) -> dict[str, Any]:
    from hitrate.sync.state import sync_states

    return access.cached(("sync_states",), lambda store: {s.source: s for s in sync_states(store)})


def _context(p: Page) -> dict[str, Any]:
    """The table of each CRM's last sync, and for an admin the buttons that start one."""
    from hitrate.sync.client import LABELS

    states = _states(p.access)
    running = runner(p.request).running
    rows = []
    for crm in CRMS:
        s = states.get(crm)
        counts = " / ".join(fmt.integer((s.counts if s else {}).get(k, 0), p.lang) for k in _COUNTS)
        synced = fmt.datetime(s.synced_at, p.lang) if s and s.synced_at else p.t["sync_never"]
        error = p.t("sync_error_at", at=fmt.datetime(s.error_at, p.lang), error=s.error) if s and s.error else ""
        now = p.t("sync_running", at=fmt.datetime(running[crm], p.lang)) if crm in running else p.t["sync_idle"]
        rows.append([LABELS[crm], synced, counts if s and s.synced_at else "", error, now])
    headers = [p.t[k] for k in ("sync_source", "sync_synced_at", "sync_counts", "sync_error", "sync_status")]
    context: dict[str, Any] = {"tables": [table("syncs", p.t["sync_caption"], headers, rows)]}
    if p.user is not None and p.user.role == "admin":
        context["sync_buttons"] = [{"crm": crm, "label": p.t("sync_start", crm=LABELS[crm])} for crm in CRMS]
    return context


_COUNTS = ("read", "imported", "updated", "unchanged", "quarantined", "deleted")


@pages_router.get("/sync")
def sync_page(request: Request) -> Response:
    """Each CRM's last sync (admins and managers); a rep is refused."""
    p = Page(request)
    if p.user is None:
        return p.login_first()
    if p.user.role == "rep":
        return p.show("sync", 403, message=p.t["sync_not_for_reps"])
    started = request.query_params.get("started")
    if started in CRMS:
        from hitrate.sync.client import LABELS

        message = p.t("sync_started", crm=LABELS[started])
    else:
        message = p.t["sync_note"]
    return p.show("sync", message=message, **_context(p))


@pages_router.post("/sync")
def sync_start(
    request: Request,
    crm: Annotated[str, Form(max_length=40)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Start a sync of ``crm`` in the background (admins), then back to the page."""
    from hitrate.sync.client import LABELS

    p = Page(request)
    if (refused := p.refuse_form("sync", csrf)) is not None:
        return refused
    assert p.user is not None
    if p.user.role != "admin":
        return p.show("sync", 403, message=p.t["sync_admins_only"])
    if crm not in CRMS:
        return p.show("sync", 400, message=p.t("sync_unknown", crm=crm), **_context(p))
    if not runner(request).start(crm):
        return p.show("sync", 409, message=p.t("sync_already", crm=LABELS[crm]), **_context(p))
    return p.finish(RedirectResponse(f"/sync?started={crm}", status_code=303))
