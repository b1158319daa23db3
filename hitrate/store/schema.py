"""The canonical tables every import lands in, and their typed fields.

Whatever the source, data lands in a few canonical tables. Each has a key, a set of
typed *known* fields, and takes any other column as a text *dimension*
(``team``, ``segment``, ``lead_source``...). Names are normalised to
``[a-z_][a-z0-9_]*`` so they are always safe identifiers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from hitrate.i18n import Message

FieldType = Literal["text", "timestamp", "number"]

SQL_TYPES: dict[str, str] = {"text": "VARCHAR", "timestamp": "TIMESTAMP", "number": "DOUBLE"}


@dataclass(frozen=True)
class TableSchema:
    """One canonical table: its key, known typed fields and required fields."""

    name: str
    key: str
    fields: dict[str, FieldType]
    required: tuple[str, ...] = ()
    derived: tuple[str, ...] = field(default=())

    @property
    def description(self) -> Message:
        """What one row of the table is (``one row per person``)."""
        return Message(f"store.table_{self.name}")

    def sql_columns(self) -> list[tuple[str, str]]:
        """Known columns with their SQL types, key first, then bookkeeping columns."""
        cols = [(name, SQL_TYPES[kind]) for name, kind in self.fields.items()]
        cols += [(name, "VARCHAR") for name in self.derived]
        cols.append(("_batch", "BIGINT"))
        return cols


OPPORTUNITIES = TableSchema(
    name="opportunities",
    key="id",
    fields={
        "id": "text",
        "rep": "text",
        "created_at": "timestamp",
        "closed_at": "timestamp",
        "expected_close": "timestamp",
        "stage": "text",
        "amount": "number",
        "loss_reason": "text",
    },
    required=("stage",),
    derived=("outcome",),
)
REPS = TableSchema(
    name="reps",
    key="rep",
    fields={"rep": "text", "team": "text", "manager": "text", "region": "text", "hired_at": "timestamp"},
    required=("rep",),
)
ACCOUNTS = TableSchema(
    name="accounts",
    key="account",
    fields={"account": "text", "sector": "text", "size": "text"},
    required=("account",),
)
PRODUCTS = TableSchema(
    name="products",
    key="product",
    fields={"product": "text"},
    required=("product",),
)
STAGE_HISTORY = TableSchema(
    name="stage_history",
    key="_key",
    fields={"id": "text", "stage": "text", "entered_at": "timestamp"},
    required=("id", "stage", "entered_at"),
)
ACTIVITIES = TableSchema(
    name="activities",
    key="id",
    fields={
        "id": "text",
        "opportunity_id": "text",
        "lead_id": "text",
        "rep": "text",
        "type": "text",
        "at": "timestamp",
        "campaign": "text",
        "variant": "text",
        "outcome": "text",
    },
)

TABLES: dict[str, TableSchema] = {
    t.name: t for t in (OPPORTUNITIES, REPS, ACCOUNTS, PRODUCTS, STAGE_HISTORY, ACTIVITIES)
}

# Attribute tables joined onto opportunities by key when a query names one of their fields.
LOOKUPS: tuple[TableSchema, ...] = (REPS, ACCOUNTS, PRODUCTS)

_TRANSLIT = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "ae", "Ø": "oe", "Å": "aa", "ß": "ss"})
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def normalise_name(name: str) -> str:
    """Turn a source column name into a safe canonical field name.

    ``"Lead Source"`` -> ``lead_source``, ``"Sælger"`` -> ``saelger``, ``"2nd"`` -> ``_2nd``.
    """
    text = name.strip().translate(_TRANSLIT)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)  # LeadSource -> Lead_Source
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    if not text:
        text = "column"
    if text[0].isdigit():
        text = "_" + text
    return text


def quote(identifier: str) -> str:
    """Quote an identifier that has already been checked against :data:`IDENTIFIER`."""
    if not IDENTIFIER.match(identifier):
        from hitrate.errors import InvalidParameterError
        from hitrate.i18n import Message

        raise InvalidParameterError("identifier", Message("store.identifier_expected"), identifier, caller="quote")
    return f'"{identifier}"'
