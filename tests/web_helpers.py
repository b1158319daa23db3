"""A demo store with one account per role, and a real ``hitrate serve`` in a subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hitrate.store.embedded import Store
from hitrate.store.users import add_user, new_token
from hitrate.synth.demo import build_demo

PASSWORD = "correct-horse-battery"
MANAGED = "Team North"
OTHER_TEAM = "Team South"


@dataclass
class WebStore:
    """The store file, the tokens per role, the rep account's rep, and who is in which team."""

    path: Path
    tokens: dict[str, str]
    rep: str
    team_of: dict[str, str]

    def reps_in(self, team: str) -> set[str]:
        return {r for r, t in self.team_of.items() if t == team}


def build_web_store(path: Path, n: int = 4000) -> WebStore:
    """A demo store with accounts admin (ann), manager of Team North (mo), a rep of Team North (rita), a
    manager of Team South (sam), and scores for a few leads of each team."""
    with Store(path) as store:
        build_demo(store, n_opportunities=n, seed=11, force=True)
        team_of = dict(store.fetch("SELECT rep, team FROM reps"))
        rep = sorted(r for r, t in team_of.items() if t == MANAGED)[0]
        add_user(store, "ann", "admin", password=PASSWORD)
        add_user(store, "mo", "manager", teams=[MANAGED], password=PASSWORD)
        add_user(store, "rita", "rep", rep=rep, password=PASSWORD)
        add_user(store, "sam", "manager", teams=[OTHER_TEAM])
        tokens = {role: new_token(store, name) for role, name in (("admin", "ann"), ("manager", "mo"), ("rep", "rita"))}
        _score_some_leads(store)
    return WebStore(path, tokens, rep, team_of)


def _score_some_leads(store: Store) -> None:
    """Twenty scored leads per rep, as ``score predict`` would keep them."""
    reasons = json.dumps([{"feature": "lead_source", "value": "Referral", "effect": 0.1}])
    store.raw.execute(
        "INSERT INTO lead_scores SELECT id, 0.5, 'B', ?, '[]', 'model', '', now()::TIMESTAMP FROM "
        "(SELECT id, row_number() OVER (PARTITION BY rep ORDER BY id) AS k FROM opportunities) WHERE k <= 20",
        [reasons],
    )


def sign_in(client: Any, name: str, password: str = PASSWORD) -> Any:
    """Sign ``name`` in through the login form (a ``TestClient``); the answer to the form."""
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"username": name, "password": password, "csrf": csrf}, follow_redirects=False)


def form_token(client: Any, url: str) -> str:
    """The CSRF token of the form on page ``url`` (a signed-in ``TestClient``)."""
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(url).text)
    assert found is not None, f"no form on {url}"
    return found.group(1)


def free_port() -> int:
    """A port free a moment ago (another process may take it before the server binds: see :func:`serving`)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PORT_ATTEMPTS = 5


def _start(
    db: Path, out: IO[bytes], log: Path, args: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str] | None:
    """``hitrate serve`` on a free port, once ready; None when it exited first (e.g. the port was taken)."""
    import httpx

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hitrate.cli", "serve", "--db", str(db), "--port", str(port), *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HITRATE_SECRET": "test-secret", **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url + "/login", timeout=2)
            return proc, url
        except httpx.HTTPError:
            if proc.poll() is not None:
                return None
            if time.monotonic() > deadline:
                proc.terminate()
                proc.wait(timeout=20)
                raise RuntimeError(f"hitrate serve did not start: {log.read_text()}") from None
            time.sleep(0.2)


@contextlib.contextmanager
def serving(db: Path, log: Path, args: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Iterator[str]:
    """``hitrate serve`` (with more ``args``, and ``env`` added to the environment) on a free port for the block;
    yields its base URL. The port is taken with retry: when
    the server exits before answering (another process bound the port between :func:`free_port` and the
    server's bind), a new port is tried, up to :data:`PORT_ATTEMPTS` times."""
    with log.open("wb") as out:
        for _ in range(PORT_ATTEMPTS):
            started = _start(db, out, log, args, env)
            if started is not None:
                break
        else:
            raise RuntimeError(f"hitrate serve did not start on {PORT_ATTEMPTS} ports: {log.read_text()}")
        proc, url = started
        try:
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)
