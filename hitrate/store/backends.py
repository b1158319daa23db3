"""Where the data lives: engine URLs for ``--engine`` / ``HITRATE_ENGINE``.

Every analysis takes a *source*: the embedded :class:`~hitrate.store.Store` (DuckDB) or any Ibis backend
holding the canonical tables (``opportunities`` and, when present, ``reps``, ``accounts``, ``products``,
``activities``, ``lead_scores``). :func:`connect` turns a URL into one:

``duckdb:///path/to/store.duckdb``
    The embedded store (the same as ``--db path``).
``postgresql://user:password@host:port/database``
    Tables of that name in the database's search path (``?options=-csearch_path%3Dsales`` picks a schema).
``spark+local://[/path/to/tables]``
    PySpark in local mode (all cores of this machine); ``spark://host:port/path/to/tables`` a cluster.
    Each canonical table is read from Parquet under the path: ``opportunities.parquet`` (a file or a folder
    of part files) or ``opportunities/``. Without a path, tables come from the session's catalog.

Counting is the same Ibis expression on every engine (:mod:`hitrate.engine`); only the connection differs.
Connection failures raise :class:`~hitrate.errors.UserInputError` (PySpark missing:
:class:`~hitrate.errors.MissingDependencyError`) naming the engine and what failed, with the password replaced
by ``***``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from hitrate.errors import MissingDependencyError, UserInputError
from hitrate.i18n import Joined, Param
from hitrate.store.schema import TABLES

SCHEMES = ("duckdb", "postgresql", "postgres", "spark", "spark+local")
#: The parameter an engine URL comes in by (``--engine`` on the command line), for messages.
ENGINE = Param("engine")
_EXTRA_TABLES = ("lead_scores",)


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def scheme(url: str) -> str:
    """The engine named by ``url`` (``duckdb``, ``postgresql``, ``spark`` or ``spark+local``)."""
    name = urlsplit(url).scheme.lower()
    if name not in SCHEMES:
        raise UserInputError("store.unknown_engine", param=ENGINE, url=redact(url), name=name)
    return "postgresql" if name == "postgres" else name


def duckdb_path(url: str) -> Path:
    """The store file of a ``duckdb:///path`` URL."""
    parts = urlsplit(url)
    path = unquote(parts.netloc + parts.path)
    if not path:
        raise UserInputError("store.duckdb_url", param=ENGINE, url=url)
    return Path(path)


def is_embedded(url: str | None) -> bool:
    """Whether ``url`` means the embedded DuckDB store (no URL means the default store)."""
    return url is None or scheme(url) == "duckdb"


def connect(url: str) -> Any:
    """Open the source a URL names: a :class:`~hitrate.store.Store` for ``duckdb://``, else an Ibis backend."""
    kind = scheme(url)
    if kind == "duckdb":
        from hitrate.store.embedded import Store

        return Store(duckdb_path(url))
    if kind == "postgresql":
        return _postgres(url)
    return _spark(url, local=kind == "spark+local")


def _postgres(url: str) -> Any:
    import ibis

    try:
        con = ibis.connect(url)
    except Exception as exc:  # psycopg's OperationalError and friends: say which engine, hide the password
        raise UserInputError("store.postgres_failed", param=ENGINE, url=redact(url), reason=_clean(exc, url)) from None
    _require_opportunities(con, url)
    return con


def _spark(url: str, *, local: bool) -> Any:
    import ibis

    parts = urlsplit(url)
    master = "local[*]" if local else f"spark://{parts.netloc}"
    folder = Path(unquote(parts.path)) if parts.path not in ("", "/") else None
    if folder is not None and not folder.is_dir():
        raise UserInputError("store.not_parquet_folder", param=ENGINE, url=redact(url), folder=str(folder))
    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode: no network lookups, no warning
    try:
        from pyspark.sql import SparkSession

        shared = (
            SparkSession.builder.master(master)
            .appName("hitrate")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(max(2, (os.cpu_count() or 2) * 2)))
            .getOrCreate()
        )
        shared.sparkContext.setLogLevel("ERROR")
        # A session of its own: its table views never clash with another connection's in this process.
        session = shared.newSession()
        session.conf.set("spark.sql.session.timeZone", "UTC")
        con = ibis.pyspark.connect(session)
    except ImportError:
        raise MissingDependencyError("store.no_pyspark", param=ENGINE, url=redact(url)) from None
    except Exception as exc:  # Java gateway or cluster errors
        raise UserInputError("store.spark_failed", param=ENGINE, url=redact(url), reason=_clean(exc, url)) from None
    if folder is not None:
        for name in (*TABLES, *_EXTRA_TABLES):
            path = _parquet_for(folder, name)
            if path is not None:
                con.read_parquet(str(path), table_name=name)
    _require_opportunities(con, url)
    return con


def _parquet_for(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.parquet", folder / name):
        if candidate.exists():
            return candidate
    return None


def _require_opportunities(con: Any, url: str) -> None:
    if "opportunities" not in set(con.list_tables()):
        raise UserInputError("store.no_opportunities", param=ENGINE, url=redact(url), tables=Joined(TABLES))


def _clean(exc: Exception, url: str) -> str:
    """The first line of an error, never the password."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def close(source: Any) -> None:
    """Close a source from :func:`connect` (the Spark session is left for reuse in this process)."""
    if hasattr(source, "close"):
        source.close()
    elif hasattr(source, "disconnect") and getattr(source, "name", "") != "pyspark":
        source.disconnect()
