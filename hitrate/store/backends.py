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
``sc://host:15002[/path/to/tables][;token=...;x-databricks-cluster-id=...]``
    A Spark Connect server (a Spark cluster, Databricks): the same table layout under the path, read by the
    server (the path as the cluster sees it; ``/s3a://bucket/crm`` names object storage), or without a path
    the session's current catalog and database. What follows ``;`` goes to Spark Connect as it is (``token``
    is a bearer token and turns TLS on). Only the counted aggregates come back over the connection.

Counting is the same Ibis expression on every engine (:mod:`hitrate.engine`); only the connection differs.
Connection failures raise :class:`~hitrate.errors.UserInputError` (PySpark missing:
:class:`~hitrate.errors.MissingDependencyError`) naming the engine and what failed, with the password and any
``token`` replaced by ``***``.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from hitrate.errors import MissingDependencyError, UserInputError
from hitrate.i18n import Joined, Param
from hitrate.store.schema import TABLES

SCHEMES = ("duckdb", "postgresql", "postgres", "spark", "spark+local", "sc")
#: The parameter an engine URL comes in by (``--engine`` on the command line), for messages.
ENGINE = Param("engine")
_EXTRA_TABLES = ("lead_scores",)
#: A secret among a URL's ``;key=value`` (Spark Connect) or ``?key=value`` parameters.
_SECRET_PARAM = re.compile(r"([;?&](?:token|password)=)[^;&#]*", re.IGNORECASE)
#: How long to wait for a Spark Connect server to accept a connection, in seconds.
CONNECT_TIMEOUT = 10.0
#: With one of these set, gRPC goes through a proxy, and a direct connection says nothing.
_PROXIES = ("grpc_proxy", "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY")


def redact(url: str) -> str:
    """``url`` with any password, and any ``token`` or ``password`` parameter, replaced by ``***`` (for
    messages and logs)."""
    url = _SECRET_PARAM.sub(r"\1***", url)
    try:
        parts = urlsplit(url)
        password, port = parts.password, parts.port
    except ValueError:  # a port that is not a number: hide everything between '//' and '@'
        return re.sub(r"(//[^/@]*:)[^/@]*@", r"\1***@", url)
    if password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def scheme(url: str) -> str:
    """The engine named by ``url`` (``duckdb``, ``postgresql``, ``spark``, ``spark+local`` or ``sc``)."""
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
    if kind == "sc":
        return _spark_connect(url)
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


def connect_address(url: str) -> tuple[str, str | None]:
    """A ``sc://`` URL split into what Spark Connect is given (``sc://host:port/;params``) and the path of
    the tables as the server sees it (None: the session's catalog)."""
    rest = url.split("://", 1)[1]
    head, semicolon, params = rest.partition(";")
    netloc, _, path = head.partition("/")
    remote = f"sc://{netloc}/" + (f";{params}" if semicolon else "")
    path = unquote(path).rstrip("/")
    if not path:
        return remote, None
    return remote, path if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", path) else "/" + path


#: Every Spark Connect session this process opened, held so that none is garbage-collected: PySpark's
#: ``SparkSession.__del__`` closes its client, which shuts down the shared pool of the reattaching iterators and
#: waits for its threads; run by the garbage collector in the middle of another session's gRPC call, that wait
#: never ends (seen: a second connection hung in ``read_parquet``). Sessions are ended with :func:`close`.
_CONNECT_SESSIONS: list[Any] = []


def _spark_connect(url: str) -> Any:
    """An Ibis backend on a session of its own on a Spark Connect server (nothing runs in this process but
    the client: the server reads the tables and counts; only the results come back)."""
    import ibis

    # gRPC's own log lines (a failed TLS handshake, say) would come before the one-line error: errors only.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    try:
        from pyspark.sql.connect.client.core import DefaultChannelBuilder
        from pyspark.sql.connect.client.retries import DefaultPolicy
        from pyspark.sql.connect.session import SparkSession as ConnectSession
    except ImportError as exc:
        key = "store.no_pyspark" if exc.name == "pyspark" else "store.no_spark_connect"
        raise MissingDependencyError(key, param=ENGINE, url=redact(url)) from None
    remote, folder = connect_address(url)
    try:
        channel = DefaultChannelBuilder(remote)
        address = (channel.host, int(channel.endpoint.rsplit(":", 1)[1]))
    except Exception as exc:  # PySparkValueError for a bad parameter, ValueError for a bad port
        raise _failed("spark_connect_url", url, exc) from None
    if not channel.host:
        raise UserInputError("store.spark_connect_no_host", param=ENGINE, url=redact(url))
    endpoint = f"{address[0]}:{address[1]}"
    if not any(os.environ.get(name) for name in _PROXIES):  # through a proxy, only gRPC itself can tell
        try:
            socket.create_connection(address, timeout=CONNECT_TIMEOUT).close()
        except OSError as exc:
            raise _failed("spark_connect_unreachable", url, exc, endpoint) from None
    # A session of its own (not the process's default): its table views never clash with another's.
    session = ConnectSession(connection=channel)  # no request yet: the first is the setting below
    _CONNECT_SESSIONS.append(session)
    try:
        # Connecting: a few quick retries, not Spark's ten minutes of them; the queries get Spark's own.
        patient = session.client.get_retry_policies()
        session.client.set_retry_policies([DefaultPolicy(max_retries=3, max_backoff=2000)])
        session.conf.set("spark.sql.session.timeZone", "UTC")
        con = ibis.pyspark.connect(session)
        session.client.set_retry_policies(patient)
    except Exception as exc:  # gRPC errors: refused, unauthenticated, not a Spark Connect server
        session.stop()
        raise _failed("spark_connect_failed", url, exc, endpoint) from None
    try:
        if folder is not None:
            for name in (*TABLES, *_EXTRA_TABLES):
                _read_remote_parquet(con, folder, name, url, endpoint)
        _require_opportunities(con, url)
    except BaseException:
        session.stop()  # the server's session ends with the failed connection, not at its idle timeout
        raise
    return con


def _read_remote_parquet(con: Any, folder: str, name: str, url: str, endpoint: str) -> None:
    """Table ``name`` from ``folder/name.parquet`` or ``folder/name/`` as the server sees them, if either is
    there (the server says PATH_NOT_FOUND when not)."""
    for candidate in (f"{folder}/{name}.parquet", f"{folder}/{name}"):
        try:
            con.read_parquet(candidate, table_name=name)
        except Exception as exc:
            condition = getattr(exc, "getCondition", getattr(exc, "getErrorClass", str))()
            if condition == "PATH_NOT_FOUND":
                continue
            raise _failed("spark_connect_failed", url, exc, endpoint) from None
        return


def _failed(key: str, url: str, exc: Exception, address: str | None = None) -> UserInputError:
    """The user error ``store.<key>`` for a Spark Connect URL: the URL redacted, the first line of the root
    cause (Spark's "retries exceeded" says less than the gRPC error under it)."""
    extra = {} if address is None else {"address": address}
    return UserInputError(f"store.{key}", param=ENGINE, url=redact(url), reason=_root_reason(exc, url), **extra)


def _root_reason(exc: Exception, url: str) -> str:
    """The innermost cause of a Spark Connect error in one line: a gRPC error's details (not its multi-line
    repr), or the last ``Caused by:`` of the server's Java trace (``... is not a Parquet file``) without the
    exception's class name."""
    root: BaseException = exc
    while root.__cause__ is not None:
        root = root.__cause__
    details = getattr(root, "details", None)
    text = str(details() if callable(details) and details() else root)
    lines = [line.strip() for line in text.splitlines()]
    causes = [line.removeprefix("Caused by:").strip() for line in lines if line.startswith("Caused by:")]
    causes = [cause for cause in causes if not cause.endswith("awaitResult:")]
    if causes:
        text = re.sub(r"^[\w.$]+(?:Exception|Error): ", "", causes[-1])
    return _clean(RuntimeError(text), url)


def _parquet_for(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.parquet", folder / name):
        if candidate.exists():
            return candidate
    return None


def _require_opportunities(con: Any, url: str) -> None:
    if "opportunities" not in set(con.list_tables()):
        raise UserInputError("store.no_opportunities", param=ENGINE, url=redact(url), tables=Joined(TABLES))


def _clean(exc: BaseException, url: str) -> str:
    """The first line of an error, never the password or a token."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    secrets = [m.group(0).split("=", 1)[1] for m in _SECRET_PARAM.finditer(url)]
    with contextlib.suppress(ValueError):  # a port that is not a number
        secrets.append(urlsplit(url).password or "")
    for secret in filter(None, secrets):
        text = text.replace(secret, "***")
    return text


def close(source: Any) -> None:
    """Close a source from :func:`connect` (a local Spark session is left for reuse in this process; a Spark
    Connect session is ended on the server)."""
    if hasattr(source, "close"):
        source.close()
    elif hasattr(source, "disconnect") and (getattr(source, "name", "") != "pyspark" or is_spark_connect(source)):
        source.disconnect()


def is_spark_connect(source: Any) -> bool:
    """Whether ``source`` is an Ibis backend on a Spark Connect session."""
    session = getattr(source, "_session", None)
    return type(session).__module__.startswith("pyspark.sql.connect")
