"""The embedded store: a DuckDB file holding the canonical tables, opened through Ibis.

Reads (counting) go through the Ibis connection :attr:`Store.con`, so the same
expressions run on PostgreSQL or Spark. Writes (imports, bookkeeping) are the
store's own business and use the DuckDB connection underneath, with fixed SQL
text, quoted checked identifiers and bound parameters: never user strings.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .schema import TABLES, quote

if TYPE_CHECKING:
    import duckdb
    import ibis.expr.types as ir
    from ibis.backends.duckdb import Backend

DEFAULT_DB = "hitrate.duckdb"
SCHEMA_VERSION = "1"

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
    """CREATE TABLE IF NOT EXISTS definitions_history (
        seq BIGINT PRIMARY KEY, hash VARCHAR, source VARCHAR, "at" TIMESTAMP)""",
]


def default_path() -> Path:
    """The store path: ``$HITRATE_DB`` if set, else ``./hitrate.duckdb``."""
    return Path(os.environ.get("HITRATE_DB") or DEFAULT_DB)


class Store:
    """A hitrate store in a DuckDB file (``":memory:"`` for a throwaway one).

    Parameters
    ----------
    path:
        The DuckDB file; created with the canonical tables if it does not exist.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        import ibis

        self.path = str(default_path() if path is None else path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.con: Backend = ibis.duckdb.connect(self.path)
        self.raw: duckdb.DuckDBPyConnection = self.con.con
        self._tables: dict[str, ir.Table] = {}
        self._names: list[str] | None = None
        self._compiled: dict[Hashable, Any] = {}
        self._ensure_schema()

    # -- schema -----------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        for ddl in _BOOKKEEPING:
            self.raw.execute(ddl)
        for schema in TABLES.values():
            cols = ", ".join(f"{quote(n)} {t}" for n, t in schema.sql_columns())
            if schema.key not in schema.fields:  # surrogate key (stage_history)
                cols = f"{quote(schema.key)} VARCHAR, " + cols
            self.raw.execute(
                f"CREATE TABLE IF NOT EXISTS {quote(schema.name)} ({cols}, PRIMARY KEY ({quote(schema.key)}))"
            )
        self.raw.execute(
            "INSERT INTO hitrate_meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", [SCHEMA_VERSION]
        )

    def reset_data_tables(self) -> None:
        """Drop and recreate every canonical data table (dimension columns go too) and empty the quarantine."""
        for name in TABLES:
            self.raw.execute(f"DROP TABLE IF EXISTS {quote(name)}")
        self.raw.execute("DELETE FROM quarantine")
        self._ensure_schema()
        self._forget_schema()

    def columns(self, table: str) -> list[str]:
        """Column names of a canonical table, bookkeeping columns (``_``-prefixed) left out."""
        rows = self.raw.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_schema = current_schema() ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return [r[0] for r in rows if not r[0].startswith("_")]

    def add_text_columns(self, table: str, names: list[str]) -> None:
        """Add dimension columns (text) that the table does not have yet."""
        have = set(self.columns(table))
        for name in names:
            if name not in have:
                self.raw.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(name)} VARCHAR")
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

    def compiled(self, key: Hashable) -> Any:
        """A compiled query kept by :meth:`remember`, or None."""
        return self._compiled.get(key)

    def remember(self, key: Hashable, value: Any) -> Any:
        """Keep a compiled query until the schema changes (at most 256, oldest dropped first)."""
        if len(self._compiled) >= 256:
            self._compiled.pop(next(iter(self._compiled)))
        self._compiled[key] = value
        return value

    def _forget_schema(self) -> None:
        self._tables = {}
        self._names = None
        self._compiled = {}

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
            raise
        else:
            self.raw.execute("COMMIT")
        finally:
            self._forget_schema()

    def next_batch_id(self) -> int:
        row = self.raw.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM import_batches").fetchone()
        return int(row[0]) if row else 1

    def has_imported_data(self) -> bool:
        """True when any batch came from a real import (not the demo generator)."""
        row = self.raw.execute("SELECT count(*) FROM import_batches WHERE kind = 'import'").fetchone()
        return bool(row and row[0])

    def meta(self, key: str) -> str | None:
        row = self.raw.execute("SELECT value FROM hitrate_meta WHERE key = ?", [key]).fetchone()
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
        self.con.disconnect()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
