"""A throwaway Spark Connect server for tests, from the PySpark installation itself.

PySpark's wheel carries Spark's jars, ``spark-connect_2.13-<version>.jar`` among them, and its ``bin/spark-submit``.
:func:`start` runs ``spark-submit --class org.apache.spark.sql.connect.service.SparkConnectServer`` with a
``local[2]`` master, the gRPC port bound to a free port on 127.0.0.1, no UI, few shuffle partitions (the test
data are small), and waits until the port accepts connections. :meth:`ConnectServer.stop` ends the process
group it started (spark-submit execs the JVM) and waits for it.

Usage (``tests/conftest.py`` has it as the session fixture ``spark_connect_server``)::

    with running(tmp_path_factory.mktemp("spark-connect")) as server:
        url = server.url("/path/to/parquet/folder")   # sc://127.0.0.1:PORT/path/to/parquet/folder

:func:`running` skips the requesting tests when PySpark, its Spark Connect client or Java is missing or the
server does not come up, or fails them when ``HITRATE_REQUIRE_ALL`` is set (as in CI).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import require

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
#: Seconds to wait for the port to accept connections (the JVM starts in ~20 s on a busy 2-core machine).
START_TIMEOUT = 240.0


class ServerUnavailable(RuntimeError):
    """No Spark Connect server could be started here; the message says why."""


@dataclass
class ConnectServer:
    """A running server: its process, port, log file and how long it took to accept connections."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    start_seconds: float

    def url(self, folder: Path | str | None = None, params: str = "", host: str = "127.0.0.1") -> str:
        """``sc://HOST:PORT[/folder][;params]`` as ``--engine`` takes it."""
        path = str(folder) if folder is not None else "/"
        return f"sc://{host}:{self.port}{path}" + (f";{params}" if params else "")

    def stop(self) -> None:
        """End the server's process group (SIGTERM, then SIGKILL after 30 s) and wait for it."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)


def spark_home() -> Path:
    """The PySpark installation (its ``bin/spark-submit`` and ``jars/``); ServerUnavailable without one."""
    try:
        import pyspark
    except ImportError as exc:
        raise ServerUnavailable(f"PySpark is not installed (pip install hitrate[spark]): {exc}") from None
    home = Path(pyspark.__file__).parent
    if not (home / "bin" / "spark-submit").exists() or not list((home / "jars").glob("spark-connect_*.jar")):
        raise ServerUnavailable(f"{home} has no bin/spark-submit or no jars/spark-connect_*.jar")
    try:
        import pyspark.sql.connect.session  # noqa: F401  (checks grpcio and friends)
    except ImportError as exc:
        raise ServerUnavailable(
            f"the Spark Connect client is not installed (pip install hitrate[spark]): {exc}"
        ) from None
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise ServerUnavailable("Spark needs Java: no java on PATH and no JAVA_HOME")
    return home


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def accepts(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


def start(workdir: Path, timeout: float = START_TIMEOUT, conf: dict[str, str] | None = None) -> ConnectServer:
    """Start a server whose files (log, warehouse, Derby metastore) live under ``workdir``; ``conf`` adds or
    overrides Spark settings (``spark.driver.memory``, say)."""
    home = spark_home()
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir / "server.log"
    settings = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": str(workdir / "warehouse"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={workdir}",
    } | (conf or {})
    command = [str(home / "bin" / "spark-submit"), "--master", "local[2]", "--class", SERVER_CLASS]
    for key, value in settings.items():
        command += ["--conf", f"{key}={value}"]
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    began = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = ConnectServer(process, port, log, 0.0)
    while not accepts(port):
        if process.poll() is not None:
            raise ServerUnavailable(f"the server exited with {process.returncode}{_log_tail(log)}")
        if time.perf_counter() - began > timeout:
            server.stop()
            raise ServerUnavailable(f"no connection on port {port} after {timeout:.0f} s{_log_tail(log)}")
        time.sleep(0.5)
    server.start_seconds = time.perf_counter() - began
    return server


@contextlib.contextmanager
def running(workdir: Path) -> Iterator[ConnectServer]:
    """A started server for the ``with`` block, stopped after it; skip (or fail under HITRATE_REQUIRE_ALL)
    when none can be started."""
    try:
        server = start(workdir)
    except ServerUnavailable as exc:
        require(f"no Spark Connect server: {exc}")
    try:
        yield server
    finally:
        server.stop()


def _log_tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return ""
    tail = "\n".join(text.splitlines()[-lines:])
    return f"\n--- server log ({log}) ---\n{tail}" if tail else ""
