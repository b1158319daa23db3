"""``hitrate serve`` beside CLI writes: the server holds no connection between requests, so a CLI import runs
while it is up and the next request sees it; a request that meets a writer's lock waits for it."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import require_module

require_module("fastapi")
import httpx  # noqa: E402

from tests.web_helpers import build_web_store, serving  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("serve")
    web = build_web_store(folder / "store.duckdb", n=1500)
    with serving(web.path, folder / "server.log") as url:
        yield web, url


def _attempts(url: str, token: str) -> int:
    r = httpx.get(url + "/api/rates", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert r.status_code == 200, r.text
    return int(r.json()["rows"][0]["attempts"])


def test_a_cli_import_while_the_server_runs_is_visible_after_it(server, tmp_path: Path):
    web, url = server
    token = web.tokens["admin"]
    before = _attempts(url, token)
    csv = tmp_path / "late.csv"
    csv.write_text("id,rep,stage,created_at,closed_at\nlate1,Zed,Won,2024-01-02,2024-02-01\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "hitrate.cli", "import", str(csv), "--db", str(web.path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert _attempts(url, token) == before + 1
    token_after = subprocess.run(
        [sys.executable, "-m", "hitrate.cli", "users", "token", "ann", "--db", str(web.path)],
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout.splitlines()[-1]
    assert _attempts(url, token_after) == before + 1  # a token made by the CLI works at once


def test_a_request_waits_while_another_process_writes(server, tmp_path: Path):
    """Another process holds the store open (DuckDB's file lock) for 1.5 s; a request sent meanwhile must wait
    for it rather than fail. No clock is read: the holder writes a marker file just before it lets go, so a
    request answered (200) only after the marker exists is one that waited for the writer."""
    web, url = server
    marker = tmp_path / "releasing"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, pathlib, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "time.sleep(1.5); pathlib.Path(sys.argv[2]).write_text('x'); c.close()",
            str(web.path),
            str(marker),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    result: dict[str, object] = {}

    def request() -> None:
        headers = {"Authorization": f"Bearer {web.tokens['admin']}"}
        code = httpx.get(url + "/api/rates?by=segment", headers=headers, timeout=60).status_code
        result.update(code=code, after_release=marker.exists())

    t = threading.Thread(target=request)
    t.start()
    t.join(60)
    holder.wait(30)
    assert result["code"] == 200
    assert result["after_release"]  # it waited for the writer instead of failing or reading around the lock
