"""The weekly digest: each user's hit rate, changes beyond noise, goals off track, leads to work and the
forecast, in their scope, by e-mail and to a chat (``hitrate digest``; see docs/digest.md)."""

from hitrate.digest.content import Digest, build_digest, week_key
from hitrate.digest.deliver import DigestReport, SmtpSettings, send_digest
from hitrate.digest.render import html, plain, webhook_payload

__all__ = [
    "Digest",
    "DigestReport",
    "SmtpSettings",
    "build_digest",
    "html",
    "plain",
    "send_digest",
    "webhook_payload",
    "week_key",
]
