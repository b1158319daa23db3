"""Run the engine's aggregation and fetch the small table of counts.

On the embedded store, the SQL that Ibis compiles from :func:`hitrate.engine.count_expr`
is kept in the store (``compiled_queries``), keyed by everything it depends on: the
engine's own source, the Ibis and sqlglot versions, the definitions hash, the query and
the store's schema version. A repeated query, in this process or a later one, then runs
that SQL on DuckDB directly, without importing Ibis, like a prepared statement. Any other
Ibis backend (PostgreSQL, Spark) runs the expression through Ibis.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from hitrate.engine.query import Query
from hitrate.spec.model import Definitions

COUNT_COLUMNS = ("attempts", "hits", "amount_won", "amount_known")
INT_COLUMNS = ("attempts", "hits")


@dataclass
class Counts:
    """The engine's answer: one entry per group, as numpy arrays, ordered by the groups."""

    columns: dict[str, np.ndarray]
    groups: list[str]

    def __len__(self) -> int:
        return len(self.columns["attempts"])


@cache
def _engine_fingerprint() -> str:
    """What the compiled SQL depends on besides the query: hitrate's counting code and the compiler."""
    digest = hashlib.sha256()
    root = Path(__file__).parents[1]
    for name in ("engine/expressions.py", "engine/query.py", "spec/model.py", "store/schema.py"):
        digest.update((root / name).read_bytes())
    for dist in ("ibis-framework", "sqlglot", "duckdb"):
        try:
            digest.update(f"{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(dist.encode())
    return digest.hexdigest()


def query_key(defs: Definitions, query: Query, schema_version: str) -> str:
    """The key of a compiled query: engine fingerprint, definitions hash, query and schema version."""
    text = json.dumps([_engine_fingerprint(), defs.hash, repr(query), schema_version])
    return hashlib.sha256(text.encode()).hexdigest()


def count(source: Any, defs: Definitions, query: Query) -> Counts:
    """Attempts, hits and amounts per group, from a :class:`hitrate.Store` or any Ibis backend. The query's
    ``where`` values are bound parameters of the SQL, never part of its text."""
    from hitrate.store.embedded import Store

    if isinstance(source, Store):
        key = query_key(defs, query, source.schema_version())
        body = source.compiled(key)
        if body is None:
            import ibis

            from hitrate.engine.expressions import bound_values, count_expr

            with bound_values() as values:
                expr, groups = count_expr(source, defs, query)
            sql = bind(ibis.to_sql(expr, dialect="duckdb"), values, "${}")
            body = source.remember(key, json.dumps({"sql": sql, "groups": groups, "params": _encode(values)}))
        spec = json.loads(body)
        return _tidy(_fetch_sql(source, spec["sql"], _decode(spec.get("params", {}))), list(spec["groups"]))
    from hitrate.engine.expressions import bound_values, count_expr

    with bound_values() as values:
        expr, groups = count_expr(source, defs, query)
    return _tidy(_fetch_bound(source, expr, values), groups)


def bind(sql: str, values: dict[str, Any], marker: str) -> str:
    """``sql`` with each collected value's placeholder (:data:`hitrate.engine.expressions.PLACEHOLDER`, quoted)
    replaced by the engine's parameter ``marker`` (``$p0`` for DuckDB, ``%(p0)s`` for psycopg, ``:p0`` for
    Spark)."""
    from hitrate.engine.expressions import PLACEHOLDER

    for name in values:
        quoted = "'" + PLACEHOLDER.format(name) + "'"
        if quoted not in sql:  # the compiler wrote it another way: never run a placeholder as a value
            raise RuntimeError(name)
        sql = sql.replace(quoted, marker.format(name))
    return sql


def _encode(values: dict[str, Any]) -> dict[str, list[Any]]:
    """Bound values as JSON (kept with the compiled SQL): ``[kind, value]``."""
    out: dict[str, list[Any]] = {}
    for name, value in values.items():
        if isinstance(value, dt.datetime):
            out[name] = ["datetime", value.isoformat()]
        elif isinstance(value, dt.date):
            out[name] = ["date", value.isoformat()]
        else:
            out[name] = ["plain", value]
    return out


def _decode(encoded: dict[str, list[Any]]) -> dict[str, Any]:
    kinds = {"datetime": dt.datetime.fromisoformat, "date": dt.date.fromisoformat}
    return {name: kinds[kind](value) if kind in kinds else value for name, (kind, value) in encoded.items()}


def fetch(source: Any, expr: Any) -> dict[str, np.ndarray]:
    """Run a small aggregation expression on a store or any Ibis backend; numpy columns back."""
    from hitrate.store.embedded import Store

    if isinstance(source, Store):
        import ibis

        return _fetch_sql(source, ibis.to_sql(expr, dialect="duckdb"))
    table = expr.to_pyarrow()
    return {
        name: _plain(table.column(name).to_numpy(zero_copy_only=False))
        if table.column(name).null_count
        else table.column(name).to_numpy(zero_copy_only=False)
        for name in table.column_names
    }


def _fetch_bound(source: Any, expr: Any, values: dict[str, Any]) -> dict[str, np.ndarray]:
    """:func:`fetch` on an Ibis backend, the collected ``values`` bound as parameters (PostgreSQL through
    psycopg, Spark through ``spark.sql(..., args=...)``)."""
    import ibis

    if not values:
        return fetch(source, expr)
    name = getattr(source, "name", "")
    if name == "postgres":
        sql = bind(ibis.to_sql(expr, dialect="postgres").replace("%", "%%"), values, "%({})s")
        with source.con.cursor() as cursor:
            cursor.execute(sql, values)
            names = [d[0] for d in cursor.description or []]
            rows = cursor.fetchall()
    elif name == "pyspark":
        frame = source._session.sql(bind(ibis.to_sql(expr, dialect="pyspark"), values, ":{}"), args=values)
        names, rows = list(frame.columns), [tuple(r) for r in frame.collect()]
    else:  # an Ibis DuckDB connection
        sql = bind(ibis.to_sql(expr, dialect="duckdb"), values, "${}")
        cursor = source.con.execute(sql, values)
        names = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    return {n: _column([r[i] for r in rows]) for i, n in enumerate(names)}


def _fetch_sql(store: Any, sql: str, params: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    cursor = store.raw.execute(sql, params) if params else store.raw.execute(sql)
    names = [d[0] for d in cursor.description or []]
    rows = cursor.fetchall()  # a small table; fetchnumpy() would import pandas
    return {name: _column([r[i] for r in rows]) for i, name in enumerate(names)}


def _tidy(columns: dict[str, np.ndarray], groups: list[str]) -> Counts:
    """Missing sums are zero, counts are int64, and masked arrays (NULLs) become plain arrays."""
    out: dict[str, np.ndarray] = {}
    for name, values in columns.items():
        if name in COUNT_COLUMNS:
            filled = np.ma.filled(values, 0) if _masked(values) else values
            arr = np.asarray(filled, dtype=float)
            arr = np.nan_to_num(arr, nan=0.0)
            out[name] = arr.astype("int64") if name in INT_COLUMNS else arr
        else:
            out[name] = _plain(values)
    return Counts(out, groups)


def _column(values: list[Any]) -> np.ndarray:
    """A fetched column as a numpy array (object dtype, so text, datetimes and None stay as they are)."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def _plain(values: Any) -> np.ndarray:
    """A group column as an object array with None for missing values."""
    if _masked(values):
        data = values.data.astype(object)
        data[np.ma.getmaskarray(values)] = None
        return np.asarray(data, dtype=object)
    arr = np.asarray(values)
    if arr.dtype.kind == "M":  # datetimes: keep as numpy datetime64 (NaT for missing)
        return arr
    out = arr.astype(object)
    if arr.dtype.kind == "f":
        out[np.isnan(arr)] = None
    return out


def _masked(values: Any) -> bool:
    """A masked array (Arrow nulls), checked without importing numpy.ma on the store's path."""
    return type(values).__name__ == "MaskedArray"
