"""Credentials of a CRM: from the environment or from a file only its owner can read, never shown.

Where they come from, first found wins:

1. ``file`` when given (``hitrate sync --credentials FILE``);
2. the environment: ``HITRATE_HUBSPOT_TOKEN``, ``HITRATE_PIPEDRIVE_TOKEN``, ``HITRATE_SALESFORCE_*``
   (``USERNAME``, ``PASSWORD``, ``SECURITY_TOKEN``; or ``CLIENT_ID`` and ``CLIENT_SECRET``; or
   ``ACCESS_TOKEN``; and ``INSTANCE_URL``);
3. ``$HITRATE_CREDENTIALS``, else ``~/.config/hitrate/credentials.toml`` (``$XDG_CONFIG_HOME`` honoured), when
   it exists.

A file is TOML with a table per CRM (``[hubspot] token = "..."``, keys as the variables' endings in lower
case) and is refused unless only its owner may read it (mode 0600 or stricter): the error names the file and the
``chmod`` to run. A secret is held in a :class:`Secret`, whose ``str`` and ``repr`` are ``***``: it reaches a
request header and nothing else (no message, log line or store row).
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hitrate.errors import SyncError

#: The CRMs hitrate syncs with, and the keys of their credentials (``token`` ...).
CRMS: tuple[str, ...] = ("hubspot", "pipedrive", "salesforce")
KEYS: dict[str, tuple[str, ...]] = {
    "hubspot": ("token",),
    "pipedrive": ("token",),
    "salesforce": (
        "username",
        "password",
        "security_token",
        "client_id",
        "client_secret",
        "access_token",
        "instance_url",
    ),
}
#: Keys that are not secret (shown in messages where useful).
PUBLIC_KEYS = frozenset({"instance_url", "username", "client_id"})


class Secret:
    """A credential: ``reveal()`` gives the value, everything else (``str``, ``repr``, f-strings) ``***``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself, for a request header or body; never for a message."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Credentials:
    """One CRM's credentials: the values found (secret or not) and where they came from (``environment`` or a
    file's path), for messages."""

    crm: str
    values: dict[str, Secret] = field(default_factory=dict)
    origin: str = "environment"

    def get(self, key: str) -> str | None:
        """A value revealed, or None when not given."""
        secret = self.values.get(key)
        return secret.reveal() if secret else None

    def given(self, *keys: str) -> bool:
        """Whether every key is given."""
        return all(self.values.get(k) for k in keys)

    def secrets(self) -> list[str]:
        """The secret values, to keep out of anything shown (error text is made without them; this is the
        last guard)."""
        return [v.reveal() for k, v in self.values.items() if k not in PUBLIC_KEYS and v]


def default_file(env: Mapping[str, str] | None = None) -> Path:
    """``$HITRATE_CREDENTIALS``, else ``credentials.toml`` in hitrate's config folder (``$XDG_CONFIG_HOME/hitrate``
    or ``~/.config/hitrate``)."""
    env = os.environ if env is None else env
    if env.get("HITRATE_CREDENTIALS"):
        return Path(env["HITRATE_CREDENTIALS"])
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "hitrate" / "credentials.toml"


def load_credentials(
    crm: str, *, file: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Credentials:
    """``crm``'s credentials: from ``file`` when given, else the environment, else the default file
    (:func:`default_file`) when it exists; empty :class:`Credentials` when none are found (the connector says
    which are needed). A file that others may read is refused (:class:`~hitrate.errors.SyncError`)."""
    check_crm(crm)
    env = os.environ if env is None else env
    if file is not None:
        return _from_file(crm, Path(file))
    prefix = f"HITRATE_{crm.upper()}_"
    found = {k: Secret(env[prefix + k.upper()]) for k in KEYS[crm] if env.get(prefix + k.upper())}
    if found:
        return Credentials(crm, found)
    path = default_file(env)
    if path.exists():
        return _from_file(crm, path)
    return Credentials(crm)


def check_crm(crm: str) -> None:
    """Refuse a CRM hitrate does not sync with, naming the ones it does."""
    if crm not in CRMS:
        raise SyncError("sync.unknown_crm", crm=crm, crms=", ".join(CRMS))


def _from_file(crm: str, path: Path) -> Credentials:
    """The ``[crm]`` table of a credentials file that only its owner can read."""
    try:
        info = path.stat()
    except OSError:
        raise SyncError("sync.credentials_missing_file", crm=crm, path=str(path)) from None
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SyncError(
            "sync.credentials_mode", crm=crm, path=str(path), mode=oct(stat.S_IMODE(info.st_mode))[2:].zfill(4)
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        # The parser's message can quote the line it stopped at, which may hold a secret: not shown.
        raise SyncError("sync.credentials_unreadable", crm=crm, path=str(path)) from None
    table = data.get(crm)
    if not isinstance(table, dict):
        return Credentials(crm, origin=str(path))
    values = {k: Secret(str(table[k])) for k in KEYS[crm] if table.get(k)}
    return Credentials(crm, values, origin=str(path))
