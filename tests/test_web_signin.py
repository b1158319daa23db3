"""Sign-in throttling an attacker cannot turn against users (issue 16): exponential back-off per (user, client) and
per client, no lockout of a user by a stranger, attempts counted before the password check (so concurrent guesses
count), and ``X-Forwarded-For`` believed only from proxies the operator names."""

from __future__ import annotations

import re
import threading

import pytest

from tests.conftest import require_module  # noqa: E402

require_module("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from hitrate.web.auth import LoginLimiter  # noqa: E402
from tests.web_helpers import PASSWORD, WebStore, build_web_store  # noqa: E402


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_back_off_doubles_after_the_free_failures():
    clock = Clock()
    lim = LoginLimiter(clock=clock)
    assert [lim.begin("ann", "1.2.3.4") for _ in range(5)] == [0.0] * 5
    assert lim.begin("ann", "1.2.3.4") == pytest.approx(1.0)  # 2 ** 0 s after the fifth
    waits = []
    for _ in range(4):
        clock.now += lim.begin("ann", "1.2.3.4")  # wait as told, then fail again
        assert lim.begin("ann", "1.2.3.4") == 0.0
        waits.append(lim.begin("ann", "1.2.3.4"))
    assert waits == pytest.approx([2.0, 4.0, 8.0, 16.0])
    assert lim.begin("ann", "5.6.7.8") == 0.0  # the user, from their own client, is not slowed
    clock.now += LoginLimiter.FORGET + 1
    assert lim.begin("ann", "1.2.3.4") == 0.0  # forgotten an hour after the last failure


def test_a_client_guessing_many_names_is_slowed_too():
    lim = LoginLimiter(clock=Clock())
    assert all(lim.begin(f"user{i}", "9.9.9.9") == 0.0 for i in range(LoginLimiter.FREE_CLIENT))
    assert lim.begin("someone-else", "9.9.9.9") > 0
    assert lim.begin("someone-else", "8.8.8.8") == 0.0


def test_concurrent_guesses_count():
    """Probe: 20 concurrent guesses got 9 password checks instead of 5. Counting when the attempt starts lets
    exactly five through."""
    lim = LoginLimiter()
    passed: list[float] = []
    start = threading.Barrier(20)

    def guess() -> None:
        start.wait()
        passed.append(lim.begin("ann", "1.2.3.4"))

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for w in passed if w == 0.0) == LoginLimiter.FREE_PAIR == 5


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> WebStore:
    return build_web_store(tmp_path_factory.mktemp("signin") / "s.duckdb", n=300)


def _login(client: TestClient, name: str, password: str):
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"username": name, "password": password, "csrf": csrf}, follow_redirects=False)


def test_a_stranger_cannot_lock_a_user_out(web):
    """Probe: five wrong passwords from anywhere locked the user out for five minutes. Now they slow the stranger's
    client only (429 with Retry-After), even when the stranger rotates ``X-Forwarded-For``."""
    from hitrate.web import create_app

    app = create_app(web.path, secret="t")
    stranger = TestClient(app, client=("203.0.113.9", 5000))
    codes = []
    for i in range(6):
        stranger.headers["X-Forwarded-For"] = f"10.0.0.{i}"  # a new address each time: not believed
        codes.append(_login(stranger, "ann", "wrong-password").status_code)
    assert codes == [401] * 5 + [429]
    r = _login(stranger, "ann", PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert _login(TestClient(app, client=("198.51.100.7", 5000)), "ann", PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        ([], {"proxy_headers": False, "forwarded_allow_ips": None}),
        (["--forwarded-allow-ips", "10.0.0.1"], {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.1"}),
    ],
)
def test_forwarded_for_is_believed_only_from_named_proxies(monkeypatch, tmp_path, args, wanted):
    """uvicorn believes ``X-Forwarded-For`` from 127.0.0.1 by default; ``hitrate serve`` turns that off unless
    ``--forwarded-allow-ips`` names the proxies."""
    import uvicorn
    from typer.testing import CliRunner

    from hitrate.cli import app

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    r = CliRunner().invoke(app, ["serve", *args, "--db", str(tmp_path / "x.duckdb")])
    assert r.exit_code == 0, r.output
    assert {k: seen.get(k) for k in wanted} == wanted
