"""The definitions in force, kept in the store with their history.

A built-in default applies until a file is given; giving one (``--definitions PATH`` or
:func:`use_definitions`) records it in the store and puts it in force. Every version
ever used stays in ``definitions`` under its hash, and ``definitions_history`` says
when each was put in force and from which file.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from hitrate.spec.model import Definitions, default_definitions, load_definitions, validate_definitions
from hitrate.store.embedded import Store, token

_IN_FORCE = "definitions_in_force"


@dataclass(frozen=True)
class DefinitionsVersion:
    """One entry of the history: when a version was put in force and from where."""

    seq: int
    hash: str
    source: str
    at: dt.datetime
    in_force: bool


def use_definitions(store: Store, path: str | Path) -> Definitions:
    """Validate a definitions file (against the store's data too), record it and put it in force."""
    defs = load_definitions(path)
    if store.count("opportunities"):
        from hitrate.engine.expressions import check_definitions

        check_definitions(store.con, defs)  # a file that does not fit the data is never put in force
    record_definitions(store, defs, str(Path(path).resolve()))
    return defs


def record_definitions(store: Store, defs: Definitions, source: str) -> None:
    """Keep ``defs`` under its hash and put it in force (a no-op if it already is)."""
    if store.meta(_IN_FORCE) == defs.hash:
        return
    now = dt.datetime.now()
    store.raw.execute(
        "INSERT INTO definitions VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [defs.hash, json.dumps(defs.model_dump(mode="json", exclude_none=True)), source, now],
    )
    row = store.raw.execute("SELECT coalesce(max(seq), 0) + 1 FROM definitions_history").fetchone()
    store.raw.execute(
        "INSERT INTO definitions_history VALUES (?, ?, ?, ?)", [int(row[0]) if row else 1, defs.hash, source, now]
    )
    store.set_meta(_IN_FORCE, defs.hash)


def definitions_in_force(store: Store) -> Definitions:
    """The definitions in force in this store (the built-in default if none was given)."""
    h = store.meta(_IN_FORCE)
    if h is None:
        return default_definitions()
    row = store.raw.execute(f"SELECT body, source FROM definitions WHERE hash = {token(h)}").fetchone()
    if row is None:
        return default_definitions()
    return validate_definitions(json.loads(row[0]), source=f"store ({row[1]})")


def definitions_history(store: Store) -> list[DefinitionsVersion]:
    """Every time a version was put in force, oldest first."""
    current = store.meta(_IN_FORCE)
    rows = store.fetch('SELECT seq, hash, source, "at" FROM definitions_history ORDER BY seq')
    last = rows[-1][0] if rows else None
    return [
        DefinitionsVersion(int(s), str(h), str(src), at, in_force=(s == last and h == current))
        for s, h, src, at in rows
    ]
