"""What a connector brings back from its CRM: :class:`Fetched`, the records as text cells for the import path.

A connector turns the CRM's JSON into the columns its preset already maps (API names such as ``hs_object_id``
and ``dealstage``, Pipedrive's export labels, Salesforce's ``StageName``/``IsWon``), with ids resolved to names
(owners, stages, pipelines) as the CRM's own export shows them. :mod:`hitrate.sync.load` stores a
:class:`Fetched` through :func:`hitrate.ingest.import_tables`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

Cell = str | None
R = TypeVar("R", bound=Mapping[str, Any])


@dataclass(frozen=True)
class StageDef:
    """One stage of one pipeline as the CRM defines it: labels, order, probability (0 to 1, None when the CRM has
    none) and whether it means won or lost."""

    pipeline_id: str
    pipeline: str
    stage_id: str
    stage: str
    position: int
    probability: float | None
    is_won: bool
    is_lost: bool


@dataclass
class Table:
    """Records as text cells: ``columns`` and one list of cells per record."""

    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)

    @classmethod
    def of(cls, records: Sequence[Mapping[str, Any]], first: Sequence[str] = ()) -> Table:
        """Records (dicts) as a table: the ``first`` columns in their order, then every other key in the order
        first seen; values as :func:`cell` text."""
        columns = list(first)
        seen = set(columns)
        for record in records:
            for key in record:
                if key not in seen:
                    seen.add(key)
                    columns.append(key)
        return cls(columns, [[cell(r.get(c)) for c in columns] for r in records])

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class Fetched:
    """One sync's records from a CRM: the deals (``deals``, mapped by the CRM's preset), owners (``owners``:
    columns ``rep`` and optionally ``team``, ``email``...), stage history (``history``: ``id``, ``stage``,
    ``entered_at``, or the CRM's own columns when ``history_preset``), the pipelines' stages, the ids of deals
    deleted or archived in the CRM, and the cursor to save with them (``cursor``; the next sync fetches what
    changed after it). ``full`` says whether every deal was fetched (no cursor was given)."""

    crm: str
    deals: Table
    owners: Table
    history: Table
    stages: list[StageDef]
    deleted: list[str]
    cursor: dict[str, str]
    full: bool
    history_preset: bool = False


def cell(value: Any) -> Cell:
    """A JSON value as a text cell: None and ``""`` as None, booleans ``true``/``false``, numbers as Python writes
    them (integral floats without ``.0``), lists and objects as JSON."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def last_wins(records: Iterable[R], key: str) -> list[R]:
    """Records with repeated ``key`` values reduced to the last of each, in the order of their last
    appearance (a record changed while the sync paged through comes back twice)."""
    by_key: dict[Any, R] = {}
    for record in records:
        by_key.pop(record.get(key), None)
        by_key[record.get(key)] = record
    return list(by_key.values())
