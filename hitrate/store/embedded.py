"""The embedded store: a DuckDB file holding the canonical tables, opened through Ibis.

Reads (counting) go through the Ibis connection :attr:`Store.con`, so the same
expressions run on PostgreSQL or Spark. Writes (imports, bookkeeping) are the
store's own business and use the DuckDB connection underneath, with fixed SQL
text, quoted checked identifiers and bound parameters: never user strings.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Collection, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitrate.store.schema import TABLES, quote

if TYPE_CHECKING:
    import duckdb
    import ibis.expr.types as ir
    from ibis.backends.duckdb import Backend

DEFAULT_DB = "hitrate.duckdb"
# 2: compiled_queries; 3: lead_scores; 4: users, api_tokens; 5: goals, interventions, deal_feedback;
# 6: users.session_version, api_tokens' id, label, expiry and last use; 7: crm_sync, crm_stages, crm_deleted;
# 8: users.email, digest_sent
SCHEMA_VERSION = "8"

_BOOKKEEPING = [
    """CREATE TABLE IF NOT EXISTS hitrate_meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS import_batches (
        batch_id BIGINT PRIMARY KEY, kind VARCHAR, table_name VARCHAR, sources VARCHAR,
        started_at TIMESTAMP, finished_at TIMESTAMP,
        "read" BIGINT, imported BIGINT, updated BIGINT, unchanged BIGINT, quarantined BIGINT)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        batch_id BIGINT, table_name VARCHAR, source VARCHAR, "row" BIGINT,
        "column" VARCHAR, reason VARCHAR, raw VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS definitions (
        hash VARCHAR PRIMARY KEY, body VARCHAR, source VARCHAR, first_seen TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS lead_scores (
        id VARCHAR PRIMARY KEY, probability DOUBLE, band VARCHAR, reasons_up VARCHAR, reasons_down VARCHAR,
        model VARCHAR, model_sha256 VARCHAR, scored_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS compiled_queries (
        key VARCHAR PRIMARY KEY, body VARCHAR, created TIMESTAMP DEFAULT current_timestamp)""",
    """CREATE TABLE IF NOT EXISTS definitions_history (
        seq BIGINT PRIMARY KEY, hash VARCHAR, source VARCHAR, "at" TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS users (
        name VARCHAR PRIMARY KEY, role VARCHAR, teams VARCHAR, rep VARCHAR, password_hash VARCHAR,
        created TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS api_tokens (
        token_sha256 VARCHAR PRIMARY KEY, name VARCHAR, created TIMESTAMP)""",
    # 6: a store made before keeps its accounts; its tokens expire 90 days after they were made
    "ALTER TABLE users ADD COLUMN IF NOT EXISTS session_version BIGINT DEFAULT 0",
    "ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS token_id VARCHAR",
    "ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS label VARCHAR",
    "ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS expires TIMESTAMP",
    "ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS last_used TIMESTAMP",
    "UPDATE users SET session_version = 0 WHERE session_version IS NULL",
    "UPDATE api_tokens SET token_id = substr(token_sha256, 1, 12) WHERE token_id IS NULL",
    "UPDATE api_tokens SET label = 'token' WHERE label IS NULL",
    "UPDATE api_tokens SET expires = created + INTERVAL 90 DAY WHERE expires IS NULL",
    """CREATE TABLE IF NOT EXISTS goals (
        goal_id BIGINT PRIMARY KEY, field VARCHAR, value VARCHAR, target DOUBLE, period_start DATE,
        period_end DATE, set_by VARCHAR, created TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS interventions (
        intervention_id BIGINT PRIMARY KEY, field VARCHAR, value VARCHAR, kind VARCHAR, started DATE,
        note VARCHAR, added_by VARCHAR, created TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS deal_feedback (
        id VARCHAR PRIMARY KEY, reason VARCHAR, note VARCHAR, rep VARCHAR, recorded_by VARCHAR,
        recorded TIMESTAMP)""",
    # 7: CRM syncs (hitrate.sync): each source's cursor and last run, its pipelines' stages, its deleted deals.
    # No PRIMARY KEY: a sync deletes and inserts a source's rows in one transaction, which DuckDB's index refuses.
    """CREATE TABLE IF NOT EXISTS crm_sync (
        source VARCHAR, cursor VARCHAR, synced_at TIMESTAMP, batch_id BIGINT, "read" BIGINT, imported BIGINT,
        updated BIGINT, unchanged BIGINT, quarantined BIGINT, deleted BIGINT, error VARCHAR, error_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS crm_stages (
        source VARCHAR, pipeline_id VARCHAR, pipeline VARCHAR, stage_id VARCHAR, stage VARCHAR, position BIGINT,
        probability DOUBLE, is_won BOOLEAN, is_lost BOOLEAN)""",
    """CREATE TABLE IF NOT EXISTS crm_deleted (
        source VARCHAR, id VARCHAR, deleted_at TIMESTAMP, "row" VARCHAR)""",
    # 8: the weekly digest (hitrate.digest): each user's address, and what was sent for which period, once
    "ALTER TABLE users ADD COLUMN IF NOT EXISTS email VARCHAR",
    """CREATE TABLE IF NOT EXISTS digest_sent (
        period VARCHAR, recipient VARCHAR, channel VARCHAR, sent_at TIMESTAMP,
        PRIMARY KEY (period, recipient, channel))""",
]


_TOKEN = re.compile(r"^[0-9A-Za-z_.]+$")


def token(value: str) -> str:
    """A SQL literal for one of hitrate's own tokens (hex hashes, meta keys), checked to hold nothing else.

    Used on the read path instead of a bound parameter because DuckDB imports pandas (a quarter of a
    second) the first time it binds one; user text never goes through here.
    """
    if not _TOKEN.match(value):
        from hitrate.errors import InvalidParameterError
        from hitrate.i18n import Message

        raise InvalidParameterError("value", Message("store.token_expected"), value, caller="token")
    return f"'{value}'"


def _connect(path: str, read_only: bool, lock_wait: float) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection, retried for up to ``lock_wait`` seconds while another process holds the lock."""
    import time

    import duckdb

    deadline = time.monotonic() + lock_wait
    delay = 0.01
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _check_path(path: Path, create: bool) -> None:
    """Refuse a folder, a file that is not a DuckDB database (a CSV file, a spreadsheet: DuckDB's own header
    says ``DUCK`` at byte 8), and (unless ``create``) a path where no file is, naming the path."""
    from hitrate.errors import StoreError

    if path.is_dir():
        raise StoreError("store_open.is_folder", path=str(path))
    if not path.exists():
        if not create:
            raise StoreError("store_open.missing", path=str(path))
        return
    with path.open("rb") as f:
        head = f.read(12)
    if head and head[8:12] != b"DUCK":
        raise StoreError("store_open.not_duckdb", path=str(path))


def _open(path: str, read_only: bool, lock_wait: float) -> duckdb.DuckDBPyConnection:
    """:func:`_connect`, with a file that is not a DuckDB database (a CSV file, a spreadsheet) refused by name."""
    import duckdb

    try:
        return _connect(path, read_only, lock_wait)
    except (duckdb.IOException, duckdb.SerializationException, duckdb.InvalidInputException) as exc:
        if "lock" in str(exc).lower():
            raise
        from hitrate.errors import StoreError

        raise StoreError("store_open.not_duckdb", path=path) from None


def default_path() -> Path:
    """The store path: ``$HITRATE_DB`` if set, else ``./hitrate.duckdb``."""
    return Path(os.environ.get("HITRATE_DB") or DEFAULT_DB)


class Store:
    """A hitrate store in a DuckDB file (``":memory:"`` for a throwaway one).

    Parameters
    ----------
    path:
        The DuckDB file; created with the canonical tables if it does not exist.
    read_only:
        Open without taking the write lock (the file must exist at the current layout).
    create:
        Create the file when it does not exist (the default, for commands that write). False: a path that
        does not exist, a folder, a file that is not a DuckDB database, or a DuckDB database that is not a
        hitrate store is refused with a :class:`~hitrate.errors.StoreError` naming the path, and no file is
        created (what reading commands want: a mistyped ``--db`` must not become an empty store).
    lock_wait:
        Seconds to keep retrying while another process holds the file's lock (DuckDB allows one
        writing process, and no reader in another process beside it); then the lock error is raised.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        read_only: bool = False,
        lock_wait: float = 2.0,
        create: bool = True,
    ) -> None:
        self.path = str(default_path() if path is None else path)
        self.read_only = read_only
        if self.path != ":memory:":
            _check_path(Path(self.path), create and not read_only)
        if self.path != ":memory:" and not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.raw = _open(self.path, read_only, lock_wait)
        if not create and not self._is_hitrate_store():
            self.raw.close()
            from hitrate.errors import StoreError

            raise StoreError("store_open.not_hitrate", path=self.path)
        # DuckDB draws a progress bar on stdout for long queries, even into a pipe: it would corrupt JSON.
        self.raw.execute("SET enable_progress_bar = false")
        self._con: Backend | None = None
        self._tables: dict[str, ir.Table] = {}
        self._names: list[str] | None = None
        self._compiled: dict[Hashable, Any] = {}
        self._ensure_schema()

    @property
    def con(self) -> Backend:
        """The Ibis connection over the same DuckDB connection (Ibis is imported on first use)."""
        if self._con is None:
            import ibis

            self._con = ibis.duckdb.from_connection(self.raw)
        return self._con

    # -- schema -----------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        """Create what is missing; a store already at this layout version is left alone (one query)."""
        if self._layout_is_current():
            return
        if self.read_only:
            from hitrate.errors import StoreError

            raise StoreError("store.older_layout", path=self.path)
        for ddl in _BOOKKEEPING:
            self.raw.execute(ddl)
        for schema in TABLES.values():
            cols = ", ".join(f"{quote(n)} {t}" for n, t in schema.sql_columns())
            if schema.key not in schema.fields:  # surrogate key (stage_history)
                cols = f"{quote(schema.key)} VARCHAR, " + cols
            # No PRIMARY KEY: the importer keeps keys unique (last row wins, upsert by key), and an ART index
            # made a 10M-row import three times slower (docs/architecture.md).
            self.raw.execute(f"CREATE TABLE IF NOT EXISTS {quote(schema.name)} ({cols})")
        self.raw.execute(
            f"INSERT INTO hitrate_meta VALUES ('schema_version', {token(SCHEMA_VERSION)}) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )

    def _is_hitrate_store(self) -> bool:
        """Whether the file holds hitrate's bookkeeping (a DuckDB file of someone else's does not)."""
        row = self.raw.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'hitrate_meta' AND schema_name = current_schema()"
        ).fetchone()
        return bool(row and row[0])

    def _layout_is_current(self) -> bool:
        import duckdb

        try:
            row = self.raw.execute("SELECT value FROM hitrate_meta WHERE key = 'schema_version'").fetchone()
        except duckdb.CatalogException:  # a new file
            return False
        if row is None or row[0] != SCHEMA_VERSION:
            return False
        have = {r[0] for r in self.raw.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        return have >= set(TABLES)

    def reset_data_tables(self) -> None:
        """Drop and recreate every canonical data table (dimension columns go too) and empty the quarantine."""
        for name in TABLES:
            self.raw.execute(f"DROP TABLE IF EXISTS {quote(name)}")
        self.raw.execute("DELETE FROM quarantine")
        self._ensure_schema()
        self._forget_schema()

    def empty(self, *, keep: Collection[str] = ()) -> None:
        """Empty the store as if it were new, apart from the tables named in ``keep``: every data table and
        every bookkeeping table (quarantine, import batches, definitions and their history, lead scores, goals,
        interventions, feedback, accounts, tokens...), found in the file itself so none is forgotten; of
        ``hitrate_meta`` only the layout keys stay (so the definitions in force are the built-in ones)."""
        self.reset_data_tables()
        rows = self.raw.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = current_schema() ORDER BY table_name"
        ).fetchall()
        for (name,) in rows:
            if name not in TABLES and name not in keep and name != "hitrate_meta":
                self.raw.execute(f"DELETE FROM {quote(name)}")
        self.raw.execute("DELETE FROM hitrate_meta WHERE key NOT IN ('schema_version', 'schema_changes')")
        self._forget_schema()

    def columns(self, table: str) -> list[str]:
        """Column names of a canonical table, bookkeeping columns (``_``-prefixed) left out."""
        return [c for c in self._all_columns(table) if not c.startswith("_")]

    def _all_columns(self, table: str) -> list[str]:
        rows = self.raw.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_schema = current_schema() ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return [str(r[0]) for r in rows]

    def add_text_columns(self, table: str, names: list[str]) -> None:
        """Add dimension columns (text) that the table does not have yet (a source column ``1XBH`` is the
        dimension ``_1_xbh``: underscore-led, yet not bookkeeping)."""
        have = set(self._all_columns(table))
        new = [name for name in names if name not in have]
        for name in new:
            self.raw.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(name)} VARCHAR")
        if new:
            self._forget_schema()

    # -- access -------------------------------------------------------------------------------
    def table(self, name: str) -> ir.Table:
        """The Ibis table expression for a canonical table (cached until the store's schema changes)."""
        if name not in self._tables:
            self._tables[name] = self.con.table(name)
        return self._tables[name]

    def list_tables(self) -> list[str]:
        """Names of the tables in the store (cached until the store's schema changes)."""
        if self._names is None:
            self._names = list(self.con.list_tables())
        return self._names

    def schema_version(self) -> str:
        """A counter that changes whenever a table of the store changes shape."""
        return self.meta("schema_changes") or "0"

    def compiled(self, key: str) -> str | None:
        """A compiled query kept by :meth:`remember` (in this process or an earlier one), or None.

        Keys must cover everything the text depends on (see :func:`hitrate.engine.query_key`), the
        store's :meth:`schema_version` included, so an entry can never be stale.
        """
        if key not in self._compiled:
            row = self.raw.execute(f"SELECT body FROM compiled_queries WHERE key = {token(key)}").fetchone()
            if row is None:
                return None
            self._compiled[key] = str(row[0])
        return str(self._compiled[key])

    def remember(self, key: str, body: str) -> str:
        """Keep a compiled query, in memory and in the store (like a prepared statement)."""
        self._compiled[key] = body
        import duckdb

        with contextlib.suppress(duckdb.Error):  # a read-only store still answers, only uncached
            self.raw.execute(
                "INSERT INTO compiled_queries (key, body) VALUES (?, ?) ON CONFLICT DO NOTHING", [key, body]
            )
        return body

    def _forget_memory(self) -> None:
        self._tables = {}
        self._names = None
        self._compiled = {}

    def _forget_schema(self) -> None:
        """Drop cached schemas and compiled queries: a table changed shape."""
        self._forget_memory()
        count = int(self.meta("schema_changes") or 0) + 1
        self.set_meta("schema_changes", str(count))
        self.raw.execute("DELETE FROM compiled_queries")

    def count(self, table: str) -> int:
        """Number of rows in a canonical table."""
        result = self.raw.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()
        return int(result[0]) if result else 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction: everything inside commits together or not at all."""
        self.raw.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.raw.execute("ROLLBACK")
            self._forget_memory()  # a shape change inside was rolled back too
            raise
        else:
            self.raw.execute("COMMIT")

    def next_batch_id(self) -> int:
        row = self.raw.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM import_batches").fetchone()
        return int(row[0]) if row else 1

    def has_imported_data(self) -> bool:
        """True when any batch came from a real import (not the demo generator)."""
        row = self.raw.execute("SELECT count(*) FROM import_batches WHERE kind = 'import'").fetchone()
        return bool(row and row[0])

    def meta(self, key: str) -> str | None:
        row = self.raw.execute(f"SELECT value FROM hitrate_meta WHERE key = {token(key)}").fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.raw.execute(
            "INSERT INTO hitrate_meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def fetch(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a fixed read-only bookkeeping query (never user text) and return its rows."""
        return self.raw.execute(sql, params or []).fetchall()

    def close(self) -> None:
        """Close the store (and its Ibis connection, if one was opened)."""
        if self._con is not None:
            self._con.disconnect()
        else:
            self.raw.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
