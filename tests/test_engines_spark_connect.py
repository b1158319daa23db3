"""``--engine sc://host:port[/path/to/tables][;params]``: Spark Connect. How the URL splits, what is hidden in
messages, and on a real Spark Connect server (``spark_connect_server``, started from the PySpark installation):
the command line answers, and every way a URL can be wrong is one line naming ``--engine`` and the URL, the
token shown as ``***``. (The parity tests in ``test_engines.py`` and ``test_engines_cli.py`` run the same
queries through the server as through DuckDB.)"""

from __future__ import annotations

import json
import os
import socketserver
import threading
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.errors import UserInputError
from hitrate.store.backends import close, connect, connect_address, is_spark_connect, redact
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo
from tests import spark_connect_server as scs
from tests.conftest import require_module
from tests.test_engines import write_parquet

runner = CliRunner()
SECRET = "dapi0123456789abcdef"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# --- the URL, no server needed -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "remote", "folder"),
    [
        ("sc://localhost:15002", "sc://localhost:15002/", None),
        ("sc://localhost:15002/", "sc://localhost:15002/", None),
        ("sc://spark.internal:15002/data/crm", "sc://spark.internal:15002/", "/data/crm"),
        ("sc://spark.internal:15002/data/my%20crm/", "sc://spark.internal:15002/", "/data/my crm"),
        ("sc://h:15002/s3a://bucket/crm", "sc://h:15002/", "s3a://bucket/crm"),
        ("sc://h:15002/dbfs:/crm;use_ssl=true", "sc://h:15002/;use_ssl=true", "dbfs:/crm"),
        (
            f"sc://adb-1.azuredatabricks.net:443/;token={SECRET};x-databricks-cluster-id=0123-abc",
            f"sc://adb-1.azuredatabricks.net:443/;token={SECRET};x-databricks-cluster-id=0123-abc",
            None,
        ),
    ],
)
def test_connect_address_splits_the_server_from_the_tables(url: str, remote: str, folder: str | None) -> None:
    assert connect_address(url) == (remote, folder)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"sc://h:443/;token={SECRET};x-databricks-cluster-id=c1", "sc://h:443/;token=***;x-databricks-cluster-id=c1"),
        (f"sc://h:443/data;x-databricks-cluster-id=c1;TOKEN={SECRET}", "sc://h:443/data;x-databricks-cluster-id=c1;TOKEN=***"),
        ("sc://h:15002/data", "sc://h:15002/data"),
        ("postgresql://bob:hunter2@db:5432/sales", "postgresql://bob:***@db:5432/sales"),
        ("postgresql://db/sales?password=hunter2&sslmode=require", "postgresql://db/sales?password=***&sslmode=require"),
        ("postgresql://bob:hunter2@db:port/sales", "postgresql://bob:***@db:port/sales"),
    ],
)  # fmt: skip
def test_redact_hides_tokens_and_passwords(url: str, shown: str) -> None:
    assert redact(url) == shown


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sc://:15002/", "no host; expected sc://host:port"),
        ("sc://spark.internal:port/", "not a Spark Connect URL"),
        (f"sc://h:15002/;token={SECRET};use_ssl", "should be provided as a key-value pair"),
    ],
)
def test_malformed_urls_are_refused_in_one_line(url: str, message: str) -> None:
    require_module("pyspark.sql.connect.session")  # no server needed: the URL is refused first
    code, out, err = run("rates", "--engine", url)
    assert code == 2 and message in err, err
    assert err.startswith(f"error: --engine {redact(url)}: ") and len(err.strip().splitlines()) == 1, err
    assert SECRET not in out + err and "Traceback" not in err


def test_no_server_there_is_one_line_with_the_token_hidden() -> None:
    require_module("pyspark.sql.connect.session")
    port = scs.free_port()
    url = f"sc://127.0.0.1:{port}/data/crm;token={SECRET}"
    code, out, err = run("rates", "--engine", url)
    assert code == 2, err
    assert err.strip() == (
        f"error: --engine sc://127.0.0.1:{port}/data/crm;token=***: no Spark Connect server answers at "
        f"127.0.0.1:{port} ([Errno 111] Connection refused)"
    )
    assert SECRET not in out + err


def test_through_a_proxy_grpc_itself_says_what_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a proxy configured, a direct connection proves nothing: gRPC goes through the proxy and its
    failure is the one line (after a few quick retries, not Spark's ten minutes)."""
    require_module("pyspark.sql.connect.session")
    proxy, port = scs.free_port(), scs.free_port()
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{proxy}")
    url = f"sc://127.0.0.1:{port}/;token={SECRET}"
    code, out, err = run("rates", "--engine", url)
    assert code == 2, err
    assert err.startswith(
        f"error: --engine sc://127.0.0.1:{port}/;token=***: the Spark Connect server at 127.0.0.1:{port} failed: "
    )
    assert len(err.strip().splitlines()) == 1 and SECRET not in out + err


# --- on a running server ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sc-demo")
    with Store(path / "demo.duckdb") as store:
        build_demo(store, seed=5, n_opportunities=1_000)
        write_parquet(store, path / "tables")
    return path


def test_rates_through_spark_connect_on_the_command_line(folder: Path, spark_connect_server: Any) -> None:
    """``hitrate rates --engine sc://localhost:PORT/folder``: the same rows as the store's."""
    url = spark_connect_server.url(folder / "tables", host="localhost")
    code, there, err = run("rates", "--by", "team", "--format", "json", "--engine", url)
    assert code == 0, err
    code, here, err = run("rates", "--by", "team", "--format", "json", "--db", str(folder / "demo.duckdb"))
    assert code == 0, err
    assert json.loads(there)["rows"] == json.loads(here)["rows"]
    assert sum(r["attempts"] for r in json.loads(there)["rows"]) > 0


def test_a_session_of_its_own_ended_by_close(folder: Path, spark_connect_server: Any) -> None:
    """Each connection has its own server session (its table views are its own), ended by ``close``; the
    process is not switched into Spark Connect mode, so local-mode Spark still works beside it."""
    a = connect(spark_connect_server.url(folder / "tables"))
    b = connect(spark_connect_server.url(folder / "tables"))
    assert is_spark_connect(a) and is_spark_connect(b)
    assert a._session.session_id != b._session.session_id
    assert "SPARK_CONNECT_MODE_ENABLED" not in os.environ
    close(a)
    assert a._session.is_stopped and not b._session.is_stopped
    assert int(b.table("opportunities").count().to_pyarrow().as_py()) == 1_000
    close(b)


class _Http400(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def test_a_refused_connection_ends_its_server_session(
    tmp_path: Path, spark_connect_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    stopped: list[Any] = []
    stop = ConnectSession.stop
    monkeypatch.setattr(ConnectSession, "stop", lambda self: (stopped.append(self), stop(self))[1])
    with pytest.raises(UserInputError, match="no table 'opportunities' there"):
        connect(spark_connect_server.url(tmp_path))
    assert len(stopped) == 1 and stopped[0].is_stopped


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param("empty-folder", "no table 'opportunities' there", id="empty-folder"),
        pytest.param("missing-folder", "no table 'opportunities' there", id="missing-folder"),
        pytest.param(
            "not-parquet",
            "the Spark Connect server at 127.0.0.1:{port} failed: "
            "file:{folder}/opportunities.parquet is not a Parquet file",
            id="not-parquet",
        ),
        pytest.param(
            "token-on-plain-server", "the Spark Connect server at 127.0.0.1:{port} failed: ", id="token-on-plain-server"
        ),  # + a handshake
        pytest.param(
            "not-spark-connect",
            "the Spark Connect server at 127.0.0.1:{port} failed: failed to connect",
            id="not-spark-connect",
        ),
    ],
)
def test_what_the_server_refuses_is_one_line(
    make: str, message: str, tmp_path: Path, spark_connect_server: Any
) -> None:
    port = spark_connect_server.port
    if make == "empty-folder":
        url = spark_connect_server.url(tmp_path)
    elif make == "missing-folder":
        url = spark_connect_server.url(tmp_path / "nowhere")
    elif make == "not-parquet":
        (tmp_path / "opportunities.parquet").write_text("id,stage\n1,Won\n")
        url = spark_connect_server.url(tmp_path)
    elif make == "token-on-plain-server":  # a token turns TLS on; this server speaks plain gRPC
        url = spark_connect_server.url(tmp_path, params=f"token={SECRET}")
    else:  # something that accepts connections but is no Spark Connect server: an HTTP/1 server saying 400
        fake = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Http400)
        threading.Thread(target=fake.serve_forever, daemon=True).start()
        port = fake.server_address[1]
        url = f"sc://127.0.0.1:{port}/"
    try:
        code, out, err = run("rates", "--engine", url)
    finally:
        if make == "not-spark-connect":
            fake.shutdown()
            fake.server_close()
    assert code == 2, err
    assert message.format(port=port, folder=tmp_path) in err, err
    if make == "token-on-plain-server":
        assert "handshake failed" in err.lower(), err
    assert err.startswith(f"error: --engine {redact(url)}: ") and len(err.strip().splitlines()) == 1, err
    assert SECRET not in out + err and "Traceback" not in err


# --- the test server helper ------------------------------------------------------------------------------


def test_the_server_came_up_from_the_pyspark_installation(spark_connect_server: Any) -> None:
    assert spark_connect_server.process.poll() is None
    assert scs.accepts(spark_connect_server.port)
    assert 0 < spark_connect_server.start_seconds < scs.START_TIMEOUT
    assert "SparkConnectServer" in " ".join(spark_connect_server.process.args)


def test_no_server_skips_or_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def missing() -> Path:
        raise scs.ServerUnavailable("no java, say")

    monkeypatch.setattr(scs, "spark_home", missing)
    monkeypatch.delenv("HITRATE_REQUIRE_ALL", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no java, say"), scs.running(tmp_path):
        pass
    monkeypatch.setenv("HITRATE_REQUIRE_ALL", "1")
    with (
        pytest.raises(pytest.fail.Exception, match="HITRATE_REQUIRE_ALL is set but: .*no java, say"),
        scs.running(tmp_path),
    ):
        pass
