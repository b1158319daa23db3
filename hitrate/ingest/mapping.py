"""Which source column feeds which canonical field.

Order of precedence: ``mapping`` (``--map FIELD=COLUMN``), then the preset, then a column whose
normalised name is the field's own name. Every other column is kept as a text
dimension under its normalised name, so nothing in the file is lost.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from hitrate.errors import InputFileError
from hitrate.i18n import Joined, Param
from hitrate.ingest.errors import ImportParameterError
from hitrate.store.schema import IDENTIFIER, TableSchema, normalise_name

RESERVED = {"outcome", "_batch", "_key", "_row"}


@dataclass(frozen=True)
class ColumnMap:
    """``fields``: canonical or dimension field -> index of the source column."""

    fields: dict[str, int]
    dimensions: tuple[str, ...]

    def source(self, columns: list[str]) -> dict[str, str]:
        """Field -> source column name, for reports."""
        return {f: columns[i] for f, i in self.fields.items()}


def parse_map_flags(flags: list[str] | None) -> dict[str, str]:
    """``["rep=Sælger", "amount=Beløb"]`` -> ``{"rep": "Sælger", "amount": "Beløb"}``."""
    out: dict[str, str] = {}
    for flag in flags or []:
        field, sep, column = flag.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not field or not column:
            raise ImportParameterError(
                "ingest.map_not_field_column", parameters=["map"], value=flag, param=Param("map")
            )
        name = normalise_name(field)
        if not IDENTIFIER.match(name) or name in RESERVED:
            raise ImportParameterError("ingest.map_not_a_field_name", parameters=["map"], field=field)
        out[name] = column
    return out


def find_column(columns: list[str], wanted: str) -> int | None:
    """Index of ``wanted`` among the header columns: exact, then case-insensitive, then normalised."""
    if wanted in columns:
        return columns.index(wanted)
    low = [c.lower() for c in columns]
    if wanted.lower() in low:
        return low.index(wanted.lower())
    norm = [normalise_name(c) for c in columns]
    key = normalise_name(wanted)
    return norm.index(key) if key in norm else None


def first_column(columns: list[str], candidates: list[str]) -> int | None:
    """Index of the first of ``candidates`` found among the header ``columns`` (see :func:`find_column`)."""
    for wanted in candidates:
        idx = find_column(columns, wanted)
        if idx is not None:
            return idx
    return None


def resolve(
    path: str,
    columns: list[str],
    schema: TableSchema,
    user_map: dict[str, str],
    preset_map: dict[str, list[str]],
    *,
    as_dimension: bool = False,
) -> ColumnMap:
    """Map the header ``columns`` onto ``schema``; raise :class:`InputFileError` naming what is missing.

    ``preset_map`` gives each field its candidate columns in order of preference (API name, label,
    translated labels); the first one the file has is used, and a field none of them matches is left
    to the same-name rule. A ``user_map`` field that is not the table's but is close to one of its fields
    (``ammount``) is refused as a likely typo unless ``as_dimension``.
    """
    fields: dict[str, int] = {}
    for field, column in user_map.items():
        near = difflib.get_close_matches(field, list(schema.fields), n=1, cutoff=0.8)
        if field not in schema.fields and near and not as_dimension:
            raise ImportParameterError(
                "ingest_checks.map_close_to_field",
                parameters=["map"],
                field=field,
                table=schema.name,
                canonical=near[0],
                param=Param("map_as_dimension"),
            )
        idx = find_column(columns, column)
        if idx is None:
            raise InputFileError(
                path, "ingest.map_no_column", param=Param("map"), field=field, column=column, columns=Joined(columns)
            )
        fields[field] = idx
    for field, candidates in preset_map.items():
        if field not in fields:
            idx = first_column(columns, candidates)
            if idx is not None:  # a preset names columns a given export may not have
                fields[field] = idx
    used = set(fields.values())
    for field in schema.fields:
        if field not in fields:
            idx = find_column(columns, field)
            if idx is not None and idx not in used:
                fields[field] = idx
                used.add(idx)
    missing = [f for f in schema.required if f not in fields]
    if missing:
        field = missing[0]
        raise InputFileError(
            path,
            "ingest.no_column_for",
            field=field,
            table=schema.name,
            param=Param("map"),
            columns=Joined(columns),
        )
    dims: list[str] = [f for f in fields if f not in schema.fields]  # mapped under a dimension's name
    for idx, column in enumerate(columns):
        if idx in used:
            continue
        name = normalise_name(column)
        if name in RESERVED or name in fields or name == schema.key:
            name = f"source_{name}".replace("__", "_")
        base, n = name, 2
        while name in fields:
            name, n = f"{base}_{n}", n + 1
        fields[name] = idx
        used.add(idx)
        dims.append(name)
    return ColumnMap(fields, tuple(dims))
