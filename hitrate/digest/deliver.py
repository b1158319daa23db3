"""Sending digests (:func:`send_digest`): to each recipient by e-mail (SMTP, STARTTLS and a login from the
environment) and/or to a chat's incoming webhook, each at most once per period.

Recipients are the dashboard's users with an e-mail address (``hitrate users email``), or those named with
``to``; each gets the digest of their own scope (:func:`~hitrate.digest.content.build_digest`). What was sent is
kept in ``digest_sent`` (period, recipient, channel): a second run for the same ISO week sends nothing again,
unless ``resend``. A webhook's URL is a secret (it is the chat's key): only a hash of it is kept, and neither it
nor the SMTP password is ever shown.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any

from hitrate.errors import HitrateError, UserInputError
from hitrate.i18n import DEFAULT_LANG, Message
from hitrate.report.result import Result, english

if TYPE_CHECKING:
    import pandas as pd

    from hitrate.digest.content import Digest
    from hitrate.store.embedded import Store
    from hitrate.store.users import User


class DeliveryError(HitrateError):
    """A digest could not be delivered (the mail server or the webhook refused or could not be reached)."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how mail is sent: ``host``, ``port`` (465: TLS from the start; otherwise STARTTLS, refused
    when the server does not offer it unless ``insecure``), the login (``HITRATE_SMTP_USER`` and
    ``HITRATE_SMTP_PASSWORD`` by default), the sender, and a CA file for a private mail server's certificate
    (``HITRATE_SMTP_CAFILE``)."""

    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    insecure: bool = False
    cafile: str | None = None
    timeout: float = 30.0

    @classmethod
    def parse(cls, host_port: str, sender: str | None = None, *, insecure: bool = False) -> SmtpSettings:
        """``HOST:PORT`` with the login, sender and CA file from the environment."""
        host, sep, port = host_port.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UserInputError("digest.smtp_bad", value=host_port)
        sender = sender or os.environ.get("HITRATE_DIGEST_FROM")
        if not sender:
            raise UserInputError("digest.from_missing")
        from hitrate.store.users import check_email

        check_email(sender)
        return cls(
            host=host,
            port=int(port),
            sender=sender,
            user=os.environ.get("HITRATE_SMTP_USER") or None,
            password=os.environ.get("HITRATE_SMTP_PASSWORD") or None,
            insecure=insecure,
            cafile=os.environ.get("HITRATE_SMTP_CAFILE") or None,
        )


@dataclass(frozen=True)
class Delivery:
    """One digest to one recipient by one channel (``email`` or ``webhook``): ``sent``, ``already`` (sent
    before for this period) or ``failed`` with the error's one line."""

    user: str
    recipient: str
    channel: str
    status: str
    error: str | None = None


@dataclass
class DigestReport(Result):
    """What a digest run did: the period (ISO week), and each delivery."""

    period: str
    deliveries: list[Delivery] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(d.status == status for d in self.deliveries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "sent": self.count("sent"),
            "already_sent": self.count("already"),
            "failed": self.count("failed"),
            "deliveries": [
                {"user": d.user, "recipient": d.recipient, "channel": d.channel, "status": d.status, "error": d.error}
                for d in self.deliveries
            ],
            "warnings": english(self.notes()),
        }

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            [vars(d) for d in self.deliveries], columns=["user", "recipient", "channel", "status", "error"]
        )

    def title(self) -> Message:
        return Message("digest.title")

    def headline(self) -> Message:
        return Message(
            "digest.sent",
            period=self.period,
            sent=self.count("sent"),
            skipped=self.count("already"),
            failed=self.count("failed"),
        )

    def notes(self) -> list[Message | str]:
        return [
            Message("digest.failed_to", recipient=d.recipient, channel=d.channel, error=d.error or "")
            for d in self.deliveries
            if d.status == "failed"
        ]

    def plot(self, lang: str = DEFAULT_LANG) -> Any:
        """Deliveries per status, as bars."""
        import plotly.graph_objects as go

        statuses = ("sent", "already", "failed")
        fig = go.Figure(go.Bar(x=list(statuses), y=[self.count(s) for s in statuses]))
        fig.update_layout(title=self.headline().render(lang))
        return fig


def recipients(store: Store, to: Sequence[str] | None = None) -> list[User]:
    """The users a digest goes to: those whose address is in ``to``, else every user with an address."""
    from hitrate.store.users import list_users

    users = [u for u in list_users(store) if u.email]
    if not to:
        if not users:
            raise UserInputError("digest.no_recipients")
        return users
    by_email = {u.email.lower(): u for u in users if u.email}
    chosen = []
    for email in to:
        user = by_email.get(email.strip().lower())
        if user is None:
            raise UserInputError("digest.unknown_recipient", email=email)
        if user not in chosen:
            chosen.append(user)
    return chosen


def webhook_channel(url: str) -> str:
    """How a webhook is named in ``digest_sent`` and reports: ``webhook`` and a short hash, never the URL."""
    return "webhook:" + hashlib.sha256(url.encode()).hexdigest()[:12]


def check_webhook(url: str) -> str:
    if not url.startswith(("https://", "http://")):
        raise UserInputError("digest.webhook_bad", value=url)
    return url


def send_digest(
    store: Store,
    *,
    to: Sequence[str] | None = None,
    smtp: SmtpSettings | None = None,
    webhook: str | None = None,
    lang: str = DEFAULT_LANG,
    as_of: dt.date | str | None = None,
    dashboard_url: str | None = None,
    resend: bool = False,
) -> DigestReport:
    """Build and send each recipient's digest (see the module docstring) by mail (``smtp``) and/or to
    ``webhook``; returns what was sent, skipped as already sent, or failed (a failure does not stop the
    others)."""
    from hitrate.digest.content import build_digest, week_key
    from hitrate.engine.query import as_date
    from hitrate.improve.goals import data_as_of

    if smtp is None and webhook is None:
        raise UserInputError("digest.no_channel")
    if webhook is not None:
        check_webhook(webhook)
    people = recipients(store, to)
    day = as_date(as_of, "as_of") if as_of is not None else data_as_of(store)
    assert day is not None
    period = week_key(day)
    report = DigestReport(period)
    channels = (["email"] if smtp is not None else []) + ([webhook_channel(webhook)] if webhook else [])
    mailer = _Mailer(smtp) if smtp is not None else None
    try:
        for user in people:
            assert user.email is not None
            pending = [c for c in channels if resend or not _was_sent(store, period, user.email, c)]
            report.deliveries += [Delivery(user.name, user.email, c, "already") for c in channels if c not in pending]
            if not pending:
                continue
            digest = build_digest(store, user, as_of=day, lang=lang, dashboard_url=dashboard_url)
            for channel in pending:
                try:
                    if channel == "email":
                        assert mailer is not None
                        mailer.send(user.email, digest)
                    else:
                        assert webhook is not None
                        _post(webhook, digest)
                except DeliveryError as exc:
                    report.deliveries.append(Delivery(user.name, user.email, channel, "failed", str(exc)))
                    continue
                _mark_sent(store, period, user.email, channel)
                report.deliveries.append(Delivery(user.name, user.email, channel, "sent"))
    finally:
        if mailer is not None:
            mailer.close()
    return report


def _was_sent(store: Store, period: str, recipient: str, channel: str) -> bool:
    rows = store.fetch(
        "SELECT 1 FROM digest_sent WHERE period = ? AND recipient = ? AND channel = ?", [period, recipient, channel]
    )
    return bool(rows)


def _mark_sent(store: Store, period: str, recipient: str, channel: str) -> None:
    store.raw.execute(
        "INSERT INTO digest_sent VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET sent_at = excluded.sent_at",
        [period, recipient, channel, dt.datetime.now(dt.UTC).replace(tzinfo=None)],
    )


def message(digest: Digest, sender: str, recipient: str) -> EmailMessage:
    """The mail: the subject, a plain-text part and an HTML alternative."""
    from hitrate.digest.render import html, plain, view

    v = view(digest)  # every line translated and formatted once, for the subject and both parts
    mail = EmailMessage()
    mail["Subject"] = v["subject"]
    mail["From"] = sender
    mail["To"] = recipient
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    mail.set_content(plain(digest, v))
    mail.add_alternative(html(digest, v), subtype="html")
    return mail


class _Mailer:
    """One SMTP connection for a run, opened on the first mail: TLS (port 465) or STARTTLS, then the login."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None
        self.failed: DeliveryError | None = None

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context(cafile=s.cafile)
        where = f"{s.host}:{s.port}"
        try:
            if s.port == 465:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=context)
                    smtp.ehlo()
                elif not s.insecure:
                    smtp.close()
                    raise DeliveryError("digest.smtp_no_starttls", host=where)
            if s.user and s.password:
                _login(smtp, s.user, s.password)
        except DeliveryError:
            raise
        except smtplib.SMTPException as exc:
            raise DeliveryError("digest.smtp_failed", host=where, error=_smtp_error(exc)) from None
        except (OSError, ssl.SSLError) as exc:
            raise DeliveryError("digest.smtp_unreachable", host=where, error=type(exc).__name__) from None
        return smtp

    def send(self, recipient: str, digest: Digest) -> None:
        if self.failed is not None:  # a server that refused the connection or the login is not asked again
            raise self.failed
        if self.smtp is None:
            try:
                self.smtp = self._open()
            except DeliveryError as exc:
                self.failed = exc
                raise
        where = f"{self.settings.host}:{self.settings.port}"
        try:
            self.smtp.send_message(message(digest, self.settings.sender, recipient))
        except smtplib.SMTPException as exc:
            raise DeliveryError("digest.smtp_failed", host=where, error=_smtp_error(exc)) from None
        except OSError as exc:
            raise DeliveryError("digest.smtp_unreachable", host=where, error=type(exc).__name__) from None

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Sign in once, with the first of PLAIN, LOGIN and CRAM-MD5 the server offers (over TLS by now).

    ``smtplib.SMTP.login`` tries every mechanism in turn after a refusal, so a wrong password counts as two or
    three failed logins where servers lock accounts after a few; one attempt is enough to know."""
    advertised = smtp.esmtp_features.get("auth", "").upper().split()
    smtp.user, smtp.password = user, password
    for name in ("PLAIN", "LOGIN", "CRAM-MD5"):
        if name in advertised:
            smtp.auth(name, getattr(smtp, "auth_" + name.lower().replace("-", "_")))
            return
    smtp.login(user, password)  # no mechanism in common: smtplib's own error says so


def _smtp_error(exc: smtplib.SMTPException) -> str:
    """The server's code and kind of refusal (never the login it was given)."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__} {code}" if code else type(exc).__name__


def _post(url: str, digest: Digest) -> None:
    """POST the digest's chat message to ``url`` (errors name the status, never the URL)."""
    from hitrate.digest.render import webhook_payload

    body = json.dumps(webhook_payload(digest)).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (http(s) only: check_webhook)
            answer.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError("digest.webhook_failed", status=exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError("digest.webhook_unreachable", error=type(exc).__name__) from None
