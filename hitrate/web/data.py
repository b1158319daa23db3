"""The server's access to the store, and the computations behind pages and endpoints.

The server holds no DuckDB connection between requests: each computation opens the file read-only, runs,
and closes it, so a CLI import (one writing process) can run while the server is up. Results are cached per
(data version, computation, arguments, scope); the data version is the store file's size and modification
time, so an import, a new token or new definitions make every later request compute afresh.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from hitrate.store.users import User
from hitrate.web.scoping import Forbidden, check_peer_group, peer_query, scope_key, scoped_where, whole_months

if TYPE_CHECKING:
    from hitrate.analysis.doctor_result import DoctorResult
    from hitrate.report.result import Result
    from hitrate.report.workbook import DataTable, WorkbookNotes
    from hitrate.store.embedded import Store

T = TypeVar("T")
CACHE_SIZE = 1024


class StoreAccess:
    """Short-lived connections to one store file, with a result cache keyed by its data version.

    Reads take read-only connections (many at once); a write (an import through the API) waits for the
    process's reads to finish and holds the only connection while it runs.
    """

    def __init__(self, path: str | Path, lock_wait: float = 10.0) -> None:
        self.path = Path(path)
        self.lock_wait = lock_wait
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._flights: dict[Hashable, threading.Lock] = {}
        self._rw = threading.Condition()
        self._readers = 0
        self._writing = False

    def version(self) -> tuple[int, ...]:
        """Size and modification time of the store file and its write-ahead log."""
        out: list[int] = []
        for p in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                st = p.stat()
            except FileNotFoundError:
                out += [0, 0]
            else:
                out += [st.st_size, st.st_mtime_ns]
        return tuple(out)

    @contextmanager
    def reading(self) -> Iterator[Store]:
        """A read-only store for the length of the block."""
        from hitrate.store.embedded import Store

        with self._rw:
            self._rw.wait_for(lambda: not self._writing)
            self._readers += 1
        try:
            with Store(self.path, read_only=True, lock_wait=self.lock_wait) as store:
                yield store
        finally:
            with self._rw:
                self._readers -= 1
                self._rw.notify_all()

    @contextmanager
    def writing(self) -> Iterator[Store]:
        """The store open for writing, once this process's reads are done."""
        from hitrate.store.embedded import Store

        with self._rw:
            self._rw.wait_for(lambda: not self._writing and self._readers == 0)
            self._writing = True
        try:
            with Store(self.path, lock_wait=self.lock_wait) as store:
                yield store
        finally:
            with self._rw:
                self._writing = False
                self._rw.notify_all()
            self.clear()

    def cached(self, key: Hashable, compute: Callable[[Store], T]) -> T:
        """``compute(store)``, or its earlier result for the same key and data version."""
        full = (self.version(), key)
        with self._cache_lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]  # type: ignore[no-any-return]
            flight = self._flights.setdefault(full, threading.Lock())
        with flight:  # the same computation asked at once runs once; the others wait for its result
            with self._cache_lock:
                if full in self._cache:
                    return self._cache[full]  # type: ignore[no-any-return]
            try:
                with self.reading() as store:
                    value = compute(store)
                with self._cache_lock:
                    self._cache[full] = value
                    while len(self._cache) > CACHE_SIZE:
                        self._cache.popitem(last=False)
            finally:
                with self._cache_lock:
                    self._flights.pop(full, None)
        return value

    def clear(self) -> None:
        with self._cache_lock:
            self._cache.clear()


@dataclass(frozen=True)
class Computed:
    """A computation within the user's scope: its answer as the API gives it (``data``, what ``--format json``
    prints) and the result it came from, whose :meth:`tables` are what ``--format csv`` and ``xlsx`` write (the
    dashboard's downloads). ``keep`` (column, value) keeps only the rows the user may see of a result computed
    over more (a rep's own row of a benchmark among peers); the notes then leave out the warnings, which may
    name the peers."""

    data: dict[str, Any]
    result: Result | None = None
    keep: tuple[str, str] | None = None

    def tables(self) -> list[DataTable]:
        """The result's tables within the scope (none without a result)."""
        if self.result is None:
            return []
        with self.result._own_words():
            tables = self.result.tables()
        if self.keep is None:
            return tables
        column, value = self.keep
        return [dataclasses.replace(t, rows=[r for r in t.rows if r.get(column) == value]) for t in tables]

    def method(self, lang: str) -> list[str]:
        """How the result was worked out (its ``method``), in ``lang``: a page's method block."""
        from hitrate.i18n import render_all

        found = getattr(self.result, "method", None)
        if self.result is None or not found:
            return []
        with self.result._own_words():
            return render_all([found], lang)

    def notes(self, *, command: str | None, definitions: Any, currency: str | None) -> WorkbookNotes:
        """The workbook's notes: the definitions, the command (the page's address), the method and warnings."""
        from hitrate.report.workbook import WorkbookNotes, result_notes

        if self.result is None:
            return WorkbookNotes(
                command=command,
                definitions_hash=getattr(definitions, "hash", None),
                definitions_name=getattr(definitions, "name", None),
                currency=currency,
            )
        with self.result._own_words():
            notes = result_notes(self.result, command=command, definitions=definitions, currency=currency)
        if self.keep is not None:
            notes.notes = []
        return notes


def computed(result: Result, data: dict[str, Any] | None = None, keep: tuple[str, str] | None = None) -> Computed:
    """``result`` with its JSON answer (``data``, by default ``result.to_dict()``)."""
    return Computed(result.to_dict() if data is None else data, result, keep)


def frozen(where: Mapping[str, Sequence[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``where`` as part of a cache key."""
    return tuple(sorted((k, tuple(v)) for k, v in where.items()))


def _quiet(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


# -- computations: each takes the user, applies their scope, and returns what the CLI's --format json prints --
def rates_json(access: StoreAccess, user: User, **query: Any) -> dict[str, Any]:
    """``hitrate rates --format json`` within the user's scope (:func:`rates_computed`'s answer)."""
    return rates_computed(access, user, **query).data


def rates_computed(
    access: StoreAccess,
    user: User,
    *,
    by: Sequence[str] = (),
    period: str | None = None,
    basis: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    where: Mapping[str, Sequence[str]] | None = None,
) -> Computed:
    """``hitrate rates`` within the user's scope."""
    from hitrate.analysis.rates import rates

    w = scoped_where(user, where)
    key = ("rates", tuple(by), period, basis, date_from, date_to, frozen(w), scope_key(user))

    def compute(store: Store) -> Computed:
        return computed(
            _quiet(rates, store, by=list(by), period=period, basis=basis, date_from=date_from, date_to=date_to, where=w)
        )

    return access.cached(key, compute)


def benchmark_json(access: StoreAccess, user: User, **query: Any) -> dict[str, Any]:
    """``hitrate benchmark --format json`` within the user's scope (:func:`benchmark_computed`'s answer)."""
    return benchmark_computed(access, user, **query).data


def benchmark_computed(
    access: StoreAccess,
    user: User,
    *,
    by: str = "rep",
    adjust: Sequence[str] = (),
    basis: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    where: Mapping[str, Sequence[str]] | None = None,
) -> Computed:
    """``hitrate benchmark`` within the user's scope. A rep benchmarked among reps gets their
    own row and the distribution of the other reps' rates (quantiles, no names): the comparison needs the
    peers, the rep may not see who they are. The peers are the whole store over whole months, never narrowed
    by a ``where`` (refused), and only when they are enough (:func:`~hitrate.web.scoping.check_peer_group`)."""
    from hitrate.analysis.benchmark import benchmark

    peers = user.role == "rep" and by == "rep"
    w = scoped_where(user, where)
    if peers:  # the rows are filtered to the rep's own below, before anything leaves this function
        peer_query(user, w)
        w = {}
        date_from, date_to = whole_months(date_from, date_to)
    key = ("benchmark", by, tuple(adjust), basis, date_from, date_to, frozen(w), scope_key(user))

    def compute(store: Store) -> Computed:
        result = _quiet(
            benchmark, store, by=by, adjust=list(adjust), basis=basis, date_from=date_from, date_to=date_to, where=w
        )
        out = result.to_dict()
        if not peers:
            return computed(result, out)
        rows = out["rows"]
        others = [r for r in rows if r.get("rep") != user.rep]
        check_peer_group(user, len(others), sum(int(r.get("attempts") or 0) for r in others))
        out["rows"] = [r for r in rows if r.get("rep") == user.rep]
        out["peers"] = peer_distribution(others)
        out["warnings"] = []  # they may name peers
        return computed(result, out, keep=("rep", str(user.rep)))

    return access.cached(key, compute)


def coach_json(access: StoreAccess, user: User, rep: str) -> dict[str, Any]:
    """``hitrate coach REP --format json`` for a rep in the user's scope (:class:`Forbidden` otherwise; for an admin,
    an unknown rep is :class:`hitrate.coach.UnknownRepError` with close matches). The card
    compares the rep with their peers, so it reads the peers' rows; for a rep's own card the peers' and the team's
    best names and the reproducing commands (which name the peers) are removed before it leaves this function."""
    from hitrate.analysis.rates import rates
    from hitrate.improve.coach import rep_card

    if user.role != "admin" and rep not in field_values(access, user, "rep"):
        raise Forbidden("web.errors.rep_not_in_scope", rep=rep)  # whether or not the rep exists
    key = ("coach", rep, scope_key(user))

    def compute(store: Store) -> dict[str, Any]:
        if user.role != "admin":  # the card's peers are every other rep: enough of them, or no card
            reps = _quiet(rates, store, by=["rep"]).to_dict()["rows"]
            others = [r for r in reps if r.get("rep") != rep]
            check_peer_group(user, len(others), sum(int(r.get("attempts") or 0) for r in others))
        out = _quiet(rep_card, store, rep).to_dict()
        if user.role == "rep":
            out["peers"], out["best"], out["reproduce"] = [], [], {}
        return out

    return access.cached(key, compute)


def peer_distribution(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Quantiles of the peers' raw and shrunk hit rates: how many, and where they lie; no names."""
    import numpy as np

    out: dict[str, Any] = {"n": len(rows)}
    for col in ("hit_rate", "shrunk_rate"):
        values = np.array([r[col] for r in rows if r.get(col) is not None], dtype=float)
        qs = (0.1, 0.25, 0.5, 0.75, 0.9)
        out[col] = {f"p{int(q * 100)}": float(np.quantile(values, q)) for q in qs} if len(values) >= 5 else None
    return out


def leads_json(
    access: StoreAccess, user: User, *, where: Mapping[str, Sequence[str]] | None = None, limit: int = 100
) -> dict[str, Any]:
    """Scored open leads (``score predict`` kept them in the store) in the user's scope, best first."""
    w = scoped_where(user, where)
    key = ("leads", frozen(w), limit, scope_key(user))
    from hitrate.scoring.stored import scored_leads

    return access.cached(key, lambda store: scored_leads(store, w, limit))


def doctor_result(access: StoreAccess, user: User, *, where: Mapping[str, Sequence[str]] | None = None) -> DoctorResult:
    """``hitrate doctor`` over the deals in the user's scope (:func:`~hitrate.web.scoping.scoped_where`): every
    count and example is of those deals (a rep's own, a manager's teams'); an admin's covers the store."""
    from hitrate.analysis.doctor import doctor

    w = scoped_where(user, where)
    key = ("doctor", frozen(w), scope_key(user))
    return access.cached(key, lambda store: _quiet(doctor, store, where=w))


def definitions_json(access: StoreAccess) -> dict[str, Any]:
    """``hitrate definitions show --format json`` plus ``history`` as ``definitions history`` prints it."""

    def compute(store: Store) -> dict[str, Any]:
        from hitrate.engine.definitions import definitions_history, definitions_in_force

        defs = definitions_in_force(store)
        return {
            "hash": defs.hash,
            "definitions": defs.model_dump(mode="json", exclude_none=True),
            "effective": defs.effective(),
            "history": [
                {"seq": v.seq, "hash": v.hash, "source": v.source, "at": v.at.isoformat(), "in_force": v.in_force}
                for v in definitions_history(store)
            ],
        }

    return access.cached(("definitions",), compute)


def quarantine_json(access: StoreAccess, limit: int = 50) -> dict[str, Any]:
    """``hitrate quarantine list --format json``."""

    def compute(store: Store) -> dict[str, Any]:
        total = store.count("quarantine")
        sql = 'SELECT batch_id, table_name, source, "row", "column", reason, raw FROM quarantine ORDER BY source, "row"'
        rows = store.fetch(sql + " LIMIT ?", [limit])
        keys = ("batch_id", "table", "source", "row", "column", "reason", "raw")
        return {"total": total, "rows": [dict(zip(keys, r, strict=True)) for r in rows]}

    return access.cached(("quarantine", limit), compute)


#: How stale a token's ``last_used`` may get before a request writes it again.
TOUCH_EVERY = dt.timedelta(hours=1)


def user_for_token(access: StoreAccess, token: str) -> User | None:
    """The account of an API token that has not expired (the lookup cached per data version, keyed by the token's
    hash; the expiry checked on every request). The token's last use is written at most once an hour."""
    import hashlib

    import duckdb

    from hitrate.errors import HitrateError
    from hitrate.store import users

    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    found = access.cached(("token", digest), lambda store: users.token_record(store, token))
    if found is None:
        return None
    user, info = found
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if info.expires <= now:
        return None
    if info.last_used is None or now - info.last_used > TOUCH_EVERY:
        try:
            with access.writing() as store:
                users.touch_token(store, info.token_id, now)
        except (HitrateError, duckdb.Error):  # a store busy with an import must not refuse the request
            pass
    return user


def user_named(access: StoreAccess, name: str) -> User | None:
    from hitrate.store import users

    return access.cached(("user", name), lambda store: users.get_user(store, name))


def as_of(access: StoreAccess) -> dt.date:
    """The data's export date (its latest created or closed date): what "this month so far" is measured to."""
    from hitrate.improve.goals import data_as_of

    return access.cached(("as_of",), data_as_of)


def currency(access: StoreAccess) -> str | None:
    """The store's currency (``DKK``), when its deals say so: the pages' amounts are shown in it."""
    from hitrate.engine.currency import store_currency

    return access.cached(("currency",), lambda store: store_currency(store))


def fields(access: StoreAccess) -> list[str]:
    """The fields a query may name (for the team filter and messages)."""
    from hitrate.engine.expressions import fields_available

    return access.cached(("fields",), lambda store: fields_available(store.con))


def field_values(
    access: StoreAccess, user: User, field: str, where: Mapping[str, Sequence[str]] | None = None
) -> list[str]:
    """The values of ``field`` the user may filter on (the team menu): from a rates query in their scope (and
    ``where``: the reps of a team)."""
    result = rates_json(access, user, by=[field], where=where)
    return sorted(str(r[field]) for r in result["rows"] if r.get(field) is not None)


def trend_json(access: StoreAccess, user: User, **query: Any) -> dict[str, Any]:
    """``hitrate trend --format json`` within the user's scope (:func:`trend_computed`'s answer)."""
    return trend_computed(access, user, **query).data


def trend_computed(
    access: StoreAccess, user: User, *, period: str = "month", where: Mapping[str, Sequence[str]] | None = None
) -> Computed:
    """``hitrate trend`` within the user's scope."""
    from hitrate.analysis.trend import trend

    w = scoped_where(user, where)
    key = ("trend", period, frozen(w), scope_key(user))
    return access.cached(key, lambda store: computed(_quiet(trend, store, period=period, where=w)))


def cohorts_json(
    access: StoreAccess, user: User, *, where: Mapping[str, Sequence[str]] | None = None
) -> dict[str, list[Any]]:
    """Cohort curves (share won by deal age) within the user's scope."""
    from hitrate.analysis.cohorts import cohort_curves
    from hitrate.analysis.rates import resolve_definitions

    w = scoped_where(user, where)

    def compute(store: Store) -> dict[str, list[Any]]:
        defs = resolve_definitions(store, None, None)
        curves = _quiet(cohort_curves, store, defs, period="quarter", where=w)
        return {k: [x.item() if hasattr(x, "item") else x for x in v] for k, v in curves.items()}

    return access.cached(("cohorts", frozen(w), scope_key(user)), compute)
