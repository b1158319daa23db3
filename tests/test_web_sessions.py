"""Sessions and tokens end (issue 16): signing out, a new password, a new role or scope and removing an account end
every session and token of that account at once; tokens expire, remember their last use, and can be listed and
revoked; ``users add`` refuses a rep or team the store does not hold. Each case the probe found is reproduced."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from tests.conftest import require_module  # noqa: E402

require_module("fastapi")
from fastapi.testclient import TestClient  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from hitrate.cli import app as cli  # noqa: E402
from hitrate.store import users  # noqa: E402
from hitrate.store.embedded import SCHEMA_VERSION, Store  # noqa: E402
from tests.web_helpers import PASSWORD, WebStore, build_web_store  # noqa: E402


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> WebStore:
    return build_web_store(tmp_path_factory.mktemp("sessions") / "s.duckdb", n=300)


@pytest.fixture
def web(built: WebStore, tmp_path: Path) -> WebStore:
    """A copy of the built store for each test (each ends sessions or tokens)."""
    import dataclasses
    import shutil

    shutil.copy(built.path, tmp_path / "s.duckdb")
    return dataclasses.replace(built, path=tmp_path / "s.duckdb")


_APPS: dict[Path, object] = {}


def _client(web: WebStore) -> TestClient:
    """A new client (its own cookies) of the store's one app."""
    from hitrate.web import create_app

    if web.path not in _APPS:
        _APPS[web.path] = create_app(web.path, secret="t")
    return TestClient(_APPS[web.path], raise_server_exceptions=False)


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in; the session cookie's value."""
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": name, "password": password, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client.cookies["hitrate_session"]


def signed_in(web: WebStore, cookie: str) -> bool:
    """Whether a fresh client holding only ``cookie`` gets the import page (not the login page)."""
    c = _client(web)
    c.cookies.set("hitrate_session", cookie)
    return c.get("/import", follow_redirects=False).status_code == 200


def api_ok(web: WebStore, token: str) -> bool:
    return _client(web).get("/api/definitions", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_signing_out_ends_the_session_and_every_copy_of_its_cookie(web):
    """Probe: after ``POST /logout`` the old cookie still opened ``/import`` as admin."""
    c = _client(web)
    cookie = login(c, "ann")
    other = login(_client(web), "ann")  # a second browser
    assert signed_in(web, cookie) and signed_in(web, other)
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/").text).group(1)
    assert c.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert not signed_in(web, cookie) and not signed_in(web, other)
    assert api_ok(web, web.tokens["admin"])  # signing out of the pages leaves the API tokens
    assert signed_in(web, login(_client(web), "ann"))  # and a new sign-in works


def test_a_new_password_ends_sessions_and_tokens(web):
    cookie = login(_client(web), "ann")
    with Store(web.path) as s:
        users.set_password(s, "ann", "another-long-password")
    assert not signed_in(web, cookie) and not api_ok(web, web.tokens["admin"])


def test_a_new_role_ends_sessions_and_tokens(web):
    """Probe: a rep re-added as admin kept using the old token (and the old session)."""
    cookie = login(_client(web), "rita")
    with Store(web.path) as s:
        users.add_user(s, "rita", "admin", password=PASSWORD)
    assert not signed_in(web, cookie) and not api_ok(web, web.tokens["rep"])


def test_removing_a_user_ends_sessions_and_tokens(web):
    cookie = login(_client(web), "mo")
    r = CliRunner().invoke(cli, ["users", "remove", "mo", "--db", str(web.path)])
    assert r.exit_code == 0, r.output
    assert not signed_in(web, cookie) and not api_ok(web, web.tokens["manager"])


def test_tokens_expire_and_remember_their_last_use(web):
    with Store(web.path) as s:
        short = users.new_token(s, "ann", days=1, label="ci")
        info = [t for t in users.list_tokens(s, "ann") if t.label == "ci"][0]
        assert info.expires - info.created == dt.timedelta(days=1) and info.last_used is None
        later = info.created + dt.timedelta(days=1, seconds=1)
        assert users.user_for_token(s, short) is not None
        assert users.user_for_token(s, short, now=later) is None
    assert api_ok(web, short)
    with Store(web.path) as s:
        used = [t for t in users.list_tokens(s, "ann") if t.label == "ci"][0].last_used
        assert used is not None and used >= info.created
        s.raw.execute("UPDATE api_tokens SET expires = ? WHERE token_id = ?", [dt.datetime(2000, 1, 1), info.token_id])
    assert not api_ok(web, short)


def test_the_default_token_lives_90_days(web):
    with Store(web.path) as s:
        (info,) = users.list_tokens(s, "mo")
    assert info.expires - info.created == dt.timedelta(days=users.TOKEN_DAYS) == dt.timedelta(days=90)


def test_tokens_are_listed_and_revoked_from_the_command_line(web):
    db = ["--db", str(web.path)]
    run = CliRunner().invoke
    out = run(cli, ["users", "token", "ann", "--label", "laptop", *db])
    laptop = out.stdout.strip().splitlines()[-1]
    listed = json.loads(run(cli, ["users", "tokens", "ann", "--format", "json", *db]).stdout)
    assert [t["label"] for t in listed] == ["token", "laptop"]
    assert set(listed[0]) == {"id", "label", "name", "created", "last_used", "expires"}
    assert laptop not in json.dumps(listed) and web.tokens["admin"] not in json.dumps(listed)
    r = run(cli, ["users", "revoke", "ann", listed[1]["id"], *db])
    assert r.exit_code == 0, r.output
    assert not api_ok(web, laptop) and api_ok(web, web.tokens["admin"])
    assert run(cli, ["users", "revoke", "ann", "nosuchid", *db]).exit_code == 2
    assert run(cli, ["users", "revoke", "ann", *db]).exit_code == 2  # neither an id nor --all
    assert run(cli, ["users", "revoke", "ann", "--all", *db]).exit_code == 0
    assert not api_ok(web, web.tokens["admin"])


def test_users_list_and_passwd(web):
    db = ["--db", str(web.path)]
    listed = json.loads(CliRunner().invoke(cli, ["users", "list", "--format", "json", *db]).stdout)
    assert [u["name"] for u in listed] == ["ann", "mo", "rita", "sam"]
    assert listed[1]["teams"] == ["Team North"] and listed[2]["rep"] == web.rep
    r = CliRunner().invoke(cli, ["users", "passwd", "mo", *db], input="a-brand-new-password\n")
    assert r.exit_code == 0, r.output
    with Store(web.path) as s:
        assert users.check_password(s, "mo", "a-brand-new-password") is not None
        assert users.check_password(s, "mo", PASSWORD) is None
    assert CliRunner().invoke(cli, ["users", "passwd", "mo", *db], input="short\n").exit_code == 2
    assert CliRunner().invoke(cli, ["users", "passwd", "nobody", *db], input="long-enough-pw\n").exit_code == 2


@pytest.mark.parametrize(
    "args", [["--role", "rep", "--rep", "Nobody"], ["--role", "manager", "--team", "Team Ghost"]], ids=["rep", "team"]
)
def test_users_add_refuses_a_scope_the_store_does_not_hold(web, args):
    """Probe: ``users add`` accepted a rep ``Nobody`` and a team ``Team Ghost``; that account saw "No data in your
    scope yet" and nobody was told why."""
    db = ["--db", str(web.path)]
    r = CliRunner().invoke(cli, ["users", "add", "ghost", *args, *db])
    assert r.exit_code == 2 and "--allow-unknown" in r.output and args[-1] in r.output
    assert CliRunner().invoke(cli, ["users", "add", "ghost", *args, "--allow-unknown", *db]).exit_code == 0


def test_a_store_of_layout_5_keeps_its_accounts_and_tokens(tmp_path):
    """A store made before session versions and token expiry: its accounts and tokens still work after the upgrade,
    each token expiring 90 days after it was made."""
    path = tmp_path / "old.duckdb"
    with Store(path) as s:
        users.add_user(s, "old", "admin")
        token = users.new_token(s, "old")
        s.raw.execute("ALTER TABLE users DROP COLUMN email")  # layout 8
        s.raw.execute("ALTER TABLE users DROP COLUMN session_version")
        for col in ("token_id", "label", "expires", "last_used"):
            s.raw.execute(f"ALTER TABLE api_tokens DROP COLUMN {col}")
        s.set_meta("schema_version", "5")
    with Store(path) as s:
        assert s.meta("schema_version") == SCHEMA_VERSION == "8"
        user = users.user_for_token(s, token)
        assert user is not None and user.session_version == 0 and user.email is None
        (info,) = users.list_tokens(s, "old")
        assert info.expires - info.created == dt.timedelta(days=90) and info.label == "token"
