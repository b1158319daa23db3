"""``--engine`` on the command line: the same answers from PostgreSQL, Spark and Spark Connect as from the store, and
clear errors (naming the engine, never the password) when a URL is wrong."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo
from tests.test_engines import copy_store, spark_or_skip, write_parquet

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-engines") / "demo.duckdb"
    with Store(path) as store:
        build_demo(store, seed=11, n_opportunities=2_000)
    return path


@pytest.fixture(scope="module")
def spark_url(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    spark_or_skip()
    with Store(demo_db) as store:
        return write_parquet(store, tmp_path_factory.mktemp("cli-parquet"))


@pytest.fixture(scope="module")
def sc_url(spark_url: str, spark_connect_server: Any) -> str:
    """The same Parquet folder through the Spark Connect server, addressed as ``sc://localhost:PORT/folder``."""
    return str(spark_connect_server.url(spark_url.removeprefix("spark+local://"), host="localhost"))


@pytest.fixture(scope="module")
def pg_url(demo_db: Path, postgres_server: Any) -> str:
    with Store(demo_db) as store:
        copy_store(postgres_server, store, "hitrate_cli")
    return str(postgres_server.uri("hitrate_cli"))


def rows(out: str) -> list[dict[str, Any]]:
    return json.loads(out)["rows"]


@pytest.mark.parametrize("engine", ["pg_url", "spark_url", "sc_url"])
def test_rates_benchmark_trend_match_the_store(request: pytest.FixtureRequest, demo_db: Path, engine: str) -> None:
    url = request.getfixturevalue(engine)
    for args in (
        ("rates", "--by", "team", "--period", "quarter"),
        ("rates", "--basis", "cohort", "--where", "segment=SMB"),
        ("benchmark", "--by", "rep", "--adjust", "lead_source"),
        ("trend", "--period", "month"),
        ("compare", "Team North", "Team South", "--by", "team"),
    ):
        code, local, err = run(*args, "--format", "json", "--db", str(demo_db))
        assert code == 0, err
        code, there, err = run(*args, "--format", "json", "--engine", url)
        assert code == 0, err
        assert_close(json.loads(local), json.loads(there), args)


def assert_close(a: Any, b: Any, where: Any) -> None:
    """Equal JSON, numbers to 1e-9 relative (sums of floats may differ in the last bit between engines)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            assert_close(a[key], b[key], (where, key))
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for x, y in zip(a, b, strict=True):
            assert_close(x, y, where)
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b)), where
    else:
        assert a == b, where


def test_engine_from_the_environment_and_definitions_file(demo_db: Path, pg_url: str, tmp_path: Path) -> None:
    defs = tmp_path / "defs.yaml"
    defs.write_text("name: smb\nopportunity: [{field: segment, op: eq, value: SMB}]\n")
    code, out, err = run("rates", "--format", "json", "--definitions", str(defs), env={"HITRATE_ENGINE": pg_url})
    assert code == 0, err
    there = json.loads(out)
    code, out, err = run("rates", "--format", "json", "--db", str(demo_db), "--where", "segment=SMB")
    assert code == 0, err
    assert there["rows"][0]["attempts"] == json.loads(out)["rows"][0]["attempts"] > 0
    assert there["definitions"]["name"] == "smb"


def test_report_and_score_train_read_from_spark(spark_url: str, tmp_path: Path) -> None:
    code, _, err = run("report", "--engine", spark_url, "--output", str(tmp_path / "r.html"))
    assert code == 0, err
    assert "Team North" in (tmp_path / "r.html").read_text()
    code, out, err = run("score", "train", "--engine", spark_url, "--model", str(tmp_path / "m"), "--format", "json")
    assert code == 0, err
    assert "activity_meetings" in json.dumps(json.loads(out)["importance"])


def test_password_never_shown_and_engine_named() -> None:
    code, out, err = run("rates", "--engine", "postgresql://bob:hunter2@127.0.0.1:1/sales")
    assert code == 2
    assert "hunter2" not in out + err
    assert "postgresql://bob:***@127.0.0.1:1/sales" in err and "could not connect to PostgreSQL" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rates", "--engine", "mysql://x@y/z"), "unknown engine 'mysql'"),
        (("rates", "--engine", "spark+local:///no/such/folder"), "is not a folder of Parquet tables"),
        (("import", "x.csv", "--engine", "postgresql://a:pw@h/db"), "writes to the embedded store"),
        (("rates", "--engine", "duckdb:///tmp/a.duckdb", "--db", "/tmp/b.duckdb"), "name different stores"),
        (("rates", "--engine", "duckdb://"), "expected duckdb:///path"),
    ],
)
def test_wrong_engine_urls_are_refused_clearly(args: tuple[str, ...], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2 and message in err, err
    assert ":pw@" not in err


def test_a_folder_without_opportunities_is_refused(tmp_path: Path) -> None:
    spark_or_skip()
    code, _, err = run("rates", "--engine", f"spark+local://{tmp_path}")
    assert code == 2 and "no table 'opportunities'" in err


def test_duckdb_url_is_the_store(demo_db: Path) -> None:
    code, a, err = run("rates", "--by", "team", "--format", "json", "--engine", f"duckdb://{demo_db}")
    assert code == 0, err
    code, b, err = run("rates", "--by", "team", "--format", "json", "--db", str(demo_db))
    assert code == 0 and rows(a) == rows(b)
