"""The weekly digest (``hitrate digest``), end to end: a local mail server (aiosmtpd, STARTTLS with a trustme
certificate and a login) and a local webhook receiver get one message per recipient, each in the recipient's
scope (a rep's mail names no other rep, a manager's no other team's people), in English and Danish; nothing is
sent twice for one week; the login and the webhook URL are never shown; the HTML mail is opened in Chromium and
a screenshot kept in ``tests/artifacts/``. The numbers are held to ``hitrate rates`` over the same days, the
changes to statsmodels' Benjamini–Hochberg and to a planted change."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import require_module

require_module("aiosmtpd")
require_module("trustme")
require_module("jinja2")

import hitrate  # noqa: E402
from hitrate.cli import app  # noqa: E402
from hitrate.digest import build_digest, html, plain, week_key  # noqa: E402
from hitrate.digest.content import spans  # noqa: E402
from hitrate.store.embedded import Store  # noqa: E402
from hitrate.store.users import add_user, get_user  # noqa: E402
from tests.web_helpers import free_port  # noqa: E402

runner = CliRunner()
SMTP_USER, SMTP_PASSWORD = "mailer", "smtp-secret-123"
MANAGED = "Team North"
AS_OF = "2024-12-30"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store (3,000 deals, data up to 2024-12-30) with an admin, a manager of Team North and one of its
    reps with addresses, a manager of another team without one, scored open leads and an off-track goal."""
    path = tmp_path_factory.mktemp("digest") / "store.duckdb"
    with Store(path) as s:
        hitrate.build_demo(s, n_opportunities=3000, seed=11, force=True)
        team_of = dict(s.fetch("SELECT rep, team FROM reps"))
        rep = sorted(r for r, t in team_of.items() if t == MANAGED)[0]
        add_user(s, "ann", "admin", email="ann@example.com")
        add_user(s, "mo", "manager", teams=[MANAGED], email="mo@example.com")
        add_user(s, "rita", "rep", rep=rep, email="rita@example.com")
        add_user(s, "sam", "manager", teams=["Team South"])
        s.raw.execute(
            "INSERT INTO lead_scores SELECT id, (hash(id) % 1000) / 1000.0, 'B', "
            '\'[{"feature": "lead_source", "value": "Referral", "effect": 0.1}]\', \'[]\', \'m\', \'\', '
            "now()::TIMESTAMP FROM opportunities WHERE outcome = 'open'"
        )
        hitrate.set_goal(s, f"rep={rep}", target=0.9, period="2024-12", set_by="ann")
    return path


def team_of(path: Path) -> dict[str, str]:
    with Store(path, read_only=True) as s:
        return dict(s.fetch("SELECT rep, team FROM reps"))


# -- what the digest says ---------------------------------------------------------------------------------------
def test_spans_are_this_week_and_month_so_far_the_one_before_and_a_year_before():
    weeks = spans(dt.date(2024, 12, 4))  # a Wednesday of ISO week 49
    assert weeks["week"] == (
        (dt.date(2024, 12, 2), dt.date(2024, 12, 4)),
        (dt.date(2024, 11, 25), dt.date(2024, 12, 1)),
        (dt.date(2023, 12, 4), dt.date(2023, 12, 6)),  # ISO week 49 of 2023, Monday to Wednesday
    )
    assert weeks["month"] == (
        (dt.date(2024, 12, 1), dt.date(2024, 12, 4)),
        (dt.date(2024, 11, 1), dt.date(2024, 11, 30)),
        (dt.date(2023, 12, 1), dt.date(2023, 12, 4)),
    )
    leap = spans(dt.date(2024, 2, 29))["month"]
    assert leap[1] == (dt.date(2024, 1, 1), dt.date(2024, 1, 31)) and leap[2][1] == dt.date(2023, 2, 28)
    assert spans(dt.date(2021, 1, 3))["week"][0] == (dt.date(2020, 12, 28), dt.date(2021, 1, 3))  # ISO 2020-W53
    assert week_key(dt.date(2021, 1, 3)) == "2020-W53" and week_key(dt.date(2024, 12, 30)) == "2025-W01"


def test_every_rate_is_hitrate_rates_over_the_same_days_in_the_users_scope(store_path: Path):
    with Store(store_path, read_only=True) as s:
        rita = get_user(s, "rita")
        assert rita is not None and rita.rep
        digest = build_digest(s, rita, as_of=AS_OF)
        for window in digest.windows:
            for rate in (window.current, window.previous, window.last_year):
                ref = hitrate.rates(s, date_from=rate.start, date_to=rate.end, where={"rep": [rita.rep]})
                rows = ref.rows.to_dict("records")
                assert rate.attempts == (int(rows[0]["attempts"]) if rows else 0)
                if rate.attempts:
                    assert (rate.hits, rate.rate, rate.low, rate.high) == (
                        int(rows[0]["hits"]),
                        rows[0]["hit_rate"],
                        rows[0]["ci_low"],
                        rows[0]["ci_high"],
                    )
        month = digest.windows[1]
        assert (month.days_so_far, month.days_in_all) == (21, 22)  # working days of December 2024 to the 30th
        assert digest.period == "2025-W01"
        # the five best open leads in scope, best first; every one of them the rep's
        assert 0 < len(digest.leads) <= 5 and all(lead["rep"] == rita.rep for lead in digest.leads)
        probabilities = [lead["probability"] for lead in digest.leads]
        assert probabilities == sorted(probabilities, reverse=True)
        top = s.fetch(
            "SELECT max(l.probability) FROM lead_scores l JOIN opportunities o USING (id) "
            "WHERE o.rep = ? AND o.outcome = 'open'",
            [rita.rep],
        )[0][0]
        assert probabilities[0] == pytest.approx(top)
        assert [g["value"] for g in digest.goals] == [rita.rep] and digest.goals[0]["probability"] < 0.5
        assert digest.forecast is not None and digest.forecast["end"] == "2024-12-31"


def test_changes_are_benjamini_hochberg_over_the_digests_comparisons():
    """Reference: ``statsmodels.stats.multitest.multipletests(p, method="fdr_bh")`` on the same p-values, which
    are :func:`compare_proportions` (itself held to scipy and statsmodels in tests/test_stats_compare.py)."""
    from statsmodels.stats.multitest import multipletests

    from hitrate.digest.content import NOISE_FDR, _beyond_noise
    from hitrate.stats.compare import compare_proportions

    counts = [(30, 50, 15, 50), (12, 40, 10, 40), (45, 60, 20, 60), (8, 20, 9, 21), (20, 50, 10, 50)]
    tests = [(f"g{i}", "month", "previous", compare_proportions(*c)) for i, c in enumerate(counts)]
    reject, q, _, _ = multipletests([t[3].p_value for t in tests], alpha=NOISE_FDR, method="fdr_bh")
    changes = _beyond_noise(tests)
    assert {c.subject for c in changes} == {f"g{i}" for i in range(5) if reject[i]} == {"g0", "g2", "g4"}
    for c in changes:
        assert c.p_adjusted == pytest.approx(q[int(c.subject[1:])], rel=1e-12)
    assert [c.subject for c in changes] == ["g2", "g0", "g4"]  # the larger change first


def test_a_planted_change_is_listed_and_no_other(tmp_path: Path):
    """This month's closed deals of one team all won (planted): the digest names that team, up; the others'
    months are as generated, with no change beyond noise."""
    path = tmp_path / "planted.duckdb"
    with Store(path) as s:
        hitrate.build_demo(s, n_opportunities=12000, seed=11, force=True)
        add_user(s, "ann", "admin", email="ann@example.com")
        s.raw.execute(
            "UPDATE opportunities SET outcome = 'won', stage = 'Won' WHERE outcome = 'lost' "
            "AND closed_at >= '2024-12-01' "
            "AND rep IN (SELECT rep FROM reps WHERE team = 'Team East')"
        )
        ann = get_user(s, "ann")
        assert ann is not None
        digest = build_digest(s, ann, as_of=AS_OF)
    teams = [c for c in digest.changes if c.subject]
    assert [c.subject for c in teams] == ["Team East"] and teams[0].difference.difference > 0
    assert teams[0].difference.rate_a == 1.0
    assert "Team East: This month 100.0%, up" in plain(digest)


def test_scope_a_reps_mail_names_no_other_rep_and_a_managers_no_other_team(store_path: Path):
    teams = team_of(store_path)
    with Store(store_path, read_only=True) as s:
        for name in ("rita", "mo"):
            user = get_user(s, name)
            assert user is not None
            digest = build_digest(s, user, as_of=AS_OF, dashboard_url="http://dash.example/")
            text, page = plain(digest), html(digest)
            if name == "rita":
                others = [r for r in teams if r != user.rep]
            else:
                others = [r for r, t in teams.items() if t != MANAGED] + sorted(set(teams.values()) - {MANAGED})
            leaked = [o for o in others if o in text or o in page]
            assert not leaked, f"{name}'s digest names {leaked}"


def test_both_languages(store_path: Path):
    with Store(store_path, read_only=True) as s:
        mo = get_user(s, "mo")
        assert mo is not None
        en, da = (plain(build_digest(s, mo, as_of=AS_OF, lang=lang)) for lang in ("en", "da"))
    assert "This month" in en and "working days" in en and "Dec 30, 2024" in en
    assert "Denne måned" in da and "arbejdsdage" in da and "30. dec. 2024" in da and " %" in da
    for english in ("This month", "Last week", "working days", "of making it", "Open leads", "Goals off track"):
        assert english not in da


# -- sending: a real SMTP server with STARTTLS and a login, a webhook receiver ---------------------------------
class Inbox:
    """What the test mail server received: (envelope recipients, parsed message) per mail."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], email.message.EmailMessage]] = []
        self.logins: list[tuple[str, str]] = []
        self.attempts = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Inbox]]:
    """A mail server on a free port that offers STARTTLS (a trustme CA's certificate, trusted through
    HITRATE_SMTP_CAFILE) and requires a login after it; the login in HITRATE_SMTP_USER/PASSWORD."""
    import ssl

    import trustme
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    inbox = Inbox()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        inbox.attempts += 1
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        if ok:
            inbox.logins.append((data.login.decode(), mechanism))
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    monkeypatch.setenv("HITRATE_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("HITRATE_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("HITRATE_SMTP_CAFILE", str(cafile))
    try:
        yield f"127.0.0.1:{port}", inbox
    finally:
        controller.stop()


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]], dict[str, int]]]:
    """A chat's incoming webhook: records each JSON body; ``status["code"]`` is what it answers."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[dict[str, Any]] = []
    status = {"code": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if status["code"] == 200:
                received.append(json.loads(body))
            self.send_response(status["code"])
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/XXXX", received, status
    finally:
        server.shutdown()
        server.server_close()


def digest(db: Path, *args: str) -> Any:
    return runner.invoke(app, ["digest", *args, "--as-of", AS_OF, "--db", str(db)])


def test_one_mail_per_recipient_over_starttls_with_a_login_in_scope_and_never_twice(
    store_path: Path, tmp_path: Path, smtp: tuple[str, Inbox]
):
    db = tmp_path / "s.duckdb"
    db.write_bytes(store_path.read_bytes())
    host, inbox = smtp
    args = ["--smtp", host, "--from", "hitrate@example.com", "--dashboard-url", "http://dash.example/"]
    first = digest(db, *args, "--format", "json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert (report["period"], report["sent"], report["already_sent"], report["failed"]) == ("2025-W01", 3, 0, 0)
    assert sorted(to for to, _ in inbox.mails) == [["ann@example.com"], ["mo@example.com"], ["rita@example.com"]]
    assert inbox.logins and inbox.logins[0][0] == SMTP_USER  # the login, after STARTTLS (the server requires it)
    for to, mail in inbox.mails:
        assert mail["From"] == "hitrate@example.com" and mail["To"] == to[0]
        assert mail["Subject"].startswith("Hit rate, week 2025-W01")
        parts = {part.get_content_type(): part.get_content() for part in mail.iter_parts()}
        assert set(parts) == {"text/plain", "text/html"}
        assert "This month so far" in parts["text/plain"] and 'href="http://dash.example/"' in parts["text/html"]
    rita_mail = next(m for to, m in inbox.mails if to == ["rita@example.com"])
    rita_text = rita_mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    teams = team_of(store_path)
    with Store(db, read_only=True) as s:
        rita = get_user(s, "rita")
    assert rita is not None and rita.rep in rita_text
    assert not [r for r in teams if r != rita.rep and r in rita_text]
    assert SMTP_PASSWORD not in first.output

    again = digest(db, *args)
    assert again.exit_code == 0 and len(inbox.mails) == 3  # nothing sent twice for the same week
    assert "0 sent, 3 already sent for this period" in again.stdout
    only = digest(db, *args, "--to", "mo@example.com", "--resend", "--lang", "da")
    assert only.exit_code == 0 and len(inbox.mails) == 4 and inbox.mails[-1][0] == ["mo@example.com"]
    da = inbox.mails[-1][1]
    assert da["Subject"].startswith("Hitrate, uge 2025-W01")
    assert "Denne måned" in da.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_a_server_without_starttls_is_refused_and_a_wrong_login_fails_without_showing_it(
    store_path: Path, tmp_path: Path, smtp: tuple[str, Inbox], monkeypatch: pytest.MonkeyPatch
):
    from aiosmtpd.controller import Controller

    db = tmp_path / "s.duckdb"
    db.write_bytes(store_path.read_bytes())
    plain_inbox = Inbox()
    port = free_port()
    controller = Controller(plain_inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        refused = digest(db, "--smtp", f"127.0.0.1:{port}", "--from", "h@example.com")
        assert refused.exit_code == 1 and "does not offer STARTTLS" in refused.output and not plain_inbox.mails
        assert SMTP_PASSWORD not in refused.output
    finally:
        controller.stop()
    host, inbox = smtp
    monkeypatch.setenv("HITRATE_SMTP_PASSWORD", "wrong-password-9")
    wrong = digest(db, "--smtp", host, "--from", "h@example.com")
    assert wrong.exit_code == 1 and "refused" in wrong.output and "wrong-password-9" not in wrong.output
    assert not inbox.mails
    assert inbox.attempts == 1  # one login for three recipients: a wrong password is not tried again and again
    assert wrong.stderr.count("not sent to") == 3  # one line per recipient on stderr, besides the table


def test_the_webhook_gets_each_digest_as_json_slack_and_teams_accept(
    store_path: Path, tmp_path: Path, hook: tuple[str, list[dict[str, Any]], dict[str, int]]
):
    db = tmp_path / "s.duckdb"
    db.write_bytes(store_path.read_bytes())
    url, received, status = hook
    status["code"] = 500
    failed = digest(db, "--webhook", url, "--to", "rita@example.com")
    assert failed.exit_code == 1 and "HTTP 500" in failed.output and url not in failed.output
    assert "XXXX" not in failed.output  # the URL is the chat's key: never shown
    status["code"] = 200
    ok = digest(db, "--webhook", url, "--to", "rita@example.com", "--to", "mo@example.com", "--format", "json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["sent"] == 2 and len(received) == 2
    assert all(set(body) == {"text"} and body["text"].startswith("*Hit rate, week 2025-W01") for body in received)
    assert url not in ok.stdout
    assert digest(db, "--webhook", url, "--to", "rita@example.com").exit_code == 0 and len(received) == 2


def test_every_week_runs_on_a_schedule_and_sends_a_week_once(
    store_path: Path, tmp_path: Path, hook: tuple[str, list[dict[str, Any]], dict[str, int]]
):
    db = tmp_path / "s.duckdb"
    db.write_bytes(store_path.read_bytes())
    url, received, _ = hook
    result = digest(db, "--webhook", url, "--to", "ann@example.com", "--every", "0.1s", "--runs", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and "1 sent" in lines[0] and "0 sent, 1 already sent" in lines[1]
    assert len(received) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "say where the digest goes"),
        (["--smtp", "mail.example.com"], "is not HOST:PORT"),
        (["--smtp", "mail.example.com:587"], "say who the digest is from"),
        (["--smtp", "mail.example.com:587", "--from", "not an address"], "write one e-mail address"),
        (["--webhook", "ftp://x"], "is not an http(s) URL"),
        (["--webhook", "https://x.example", "--to", "nobody@example.com"], "no user has the address"),
        (["--webhook", "https://x.example", "--every", "fortnightly"], "is not a schedule"),
    ],
)
def test_user_mistakes_get_a_message_naming_them(store_path: Path, args: list[str], message: str, monkeypatch):
    monkeypatch.delenv("HITRATE_DIGEST_FROM", raising=False)
    monkeypatch.delenv("HITRATE_DIGEST_WEBHOOK", raising=False)
    result = digest(store_path, *args)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_users_email_sets_shows_and_removes_an_address(tmp_path: Path):
    db = str(tmp_path / "u.duckdb")
    assert (
        runner.invoke(app, ["users", "add", "ann", "--role", "admin", "--email", "a@x.dk", "--db", db]).exit_code == 0
    )
    bad = runner.invoke(app, ["users", "email", "ann", "Ann <a@x.dk>", "--db", db])
    assert bad.exit_code == 2 and "write one e-mail address" in bad.output
    assert runner.invoke(app, ["users", "email", "ann", "ann@y.dk", "--db", db]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["users", "list", "--format", "json", "--db", db]).stdout)
    assert listed[0]["email"] == "ann@y.dk"
    assert runner.invoke(app, ["users", "email", "ann", "--remove", "--db", db]).exit_code == 0
    with Store(db, read_only=True) as s:
        user = get_user(s, "ann")
    assert user is not None and user.email is None
    both = runner.invoke(app, ["users", "email", "ann", "a@x.dk", "--remove", "--db", db])
    assert both.exit_code == 2 and "not both" in both.output


def test_the_html_mail_in_a_browser(store_path: Path):
    """The mail as a mail client shows it (Chromium, no network): every section there, a screenshot kept."""
    from tests.test_web_browser import ARTIFACTS, _chromium

    require_module("playwright")
    from playwright.sync_api import sync_playwright

    with Store(store_path, read_only=True) as s:
        pages = {}
        for name, lang in (("mo", "en"), ("rita", "da")):
            user = get_user(s, name)
            assert user is not None
            pages[(name, lang)] = html(build_digest(s, user, as_of=AS_OF, lang=lang, dashboard_url="http://d.example/"))
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 800, "height": 1000})
        page.route("**/*", lambda route: route.abort())  # a mail loads nothing from the network
        for (name, lang), body in pages.items():
            page.set_content(body)
            for section in ("#headline", "#rates", "#changes", "#goals", "#leads", "#forecast", "#method"):
                assert page.locator(section).is_visible(), section
            assert page.locator("#rates tr").count() == 7  # a header and six periods
            assert page.locator("a[href='http://d.example/']").count() == 1
            headline = page.locator("#headline").inner_text()
            assert ("This month so far" if lang == "en" else "Indtil videre i denne måned") in headline
            page.screenshot(path=str(ARTIFACTS / f"digest-{name}-{lang}.png"), full_page=True)
        browser.close()
    assert (ARTIFACTS / "digest-mo-en.png").stat().st_size > 10_000


def test_month_so_far_counts_working_days():
    from hitrate.engine.query import month_so_far, working_days

    assert working_days(dt.date(2024, 12, 2), dt.date(2024, 12, 6)) == 5
    assert working_days(dt.date(2024, 12, 7), dt.date(2024, 12, 8)) == 0  # a weekend
    assert month_so_far("2024-12", dt.date(2024, 12, 30)) == (21, 22)
    assert month_so_far("2024-12", dt.date(2024, 12, 31)) is None  # the month is over that day
    assert month_so_far("2024-11", dt.date(2024, 12, 30)) is None
    assert month_so_far("2024-02", dt.date(2024, 2, 14)) == (10, 21)


def test_a_digest_report_shows_all_five_faces(
    store_path: Path, tmp_path: Path, hook: tuple[str, list[dict[str, Any]], dict[str, int]]
):
    """send_digest from Python: its DigestReport has a summary (English and Danish), a frame, JSON, a notebook
    view and a chart, like every result."""
    import plotly.graph_objects as go

    from hitrate.digest import send_digest

    db = tmp_path / "s.duckdb"
    db.write_bytes(store_path.read_bytes())
    url, received, _ = hook
    with Store(db) as s:
        report = send_digest(s, to=["rita@example.com", "mo@example.com"], webhook=url, as_of=AS_OF)
    assert len(received) == 2 and report.count("sent") == 2
    assert "2 sent, 0 already sent for this period, 0 failed" in report.summary()
    assert "2 sendt" in report.summary("da")
    frame = report.to_frame()
    assert list(frame["status"]) == ["sent", "sent"] and set(frame["recipient"]) == {
        "rita@example.com",
        "mo@example.com",
    }
    data = json.loads(json.dumps(report.to_dict()))
    assert data["sent"] == 2 and all(url not in json.dumps(d) for d in data["deliveries"])
    assert "<table" in report._repr_html_()
    figure = report.plot()
    assert isinstance(figure, go.Figure) and list(figure.data[0].y) == [2, 0, 0]
