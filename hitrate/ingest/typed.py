"""Typing and problem detection: the SQL that turns a file's text cells into typed rows.

Each cell is parsed once, in an inner query; the outer query reads the parsed values and whether each
cell had text, and gives every row the list of its problems (indexes into :attr:`TypedRows.problems`),
NULL for a row without any. A row's key is its id cell, or a stable hash when it has none (with the row's
occurrence number among identical rows in a file without an id column: rows are events). For
opportunities, the outcome (won, lost or open) comes from the preset's rules and the stage lists.

Only generated identifiers (``c0``..., checked field names) reach the SQL text; formats, stage values and
file names are bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hitrate.i18n import Message
from hitrate.ingest import mapping as mapping_mod
from hitrate.ingest import nondata
from hitrate.ingest.outcome import outcome_sql
from hitrate.ingest.parsing import DateFormat, date_sql, number_sql, text_sql
from hitrate.ingest.plan import Plan
from hitrate.ingest.presets import PresetTable
from hitrate.ingest.readers import RawTable
from hitrate.store.schema import quote


@dataclass(frozen=True)
class Problem:
    """What can be wrong with a row: a cell of ``column`` that is not a date, not a number, or missing; or the
    whole row is not data (``non_data``, no column).

    ``expected`` is the date format's label, the decimal separator, the missing field's name (None: a date
    when no format is known), or the kind of non-data row."""

    column: str
    kind: Literal["date", "number", "missing", "non_data"]
    expected: str | None = None

    def describe(self, value: Any) -> Message:
        """The quarantine reason for ``value``, the cell of a row with this problem."""
        if self.kind == "non_data":  # expected: the kind of row (see hitrate.ingest.nondata)
            return Message("ingest_checks.not_data", kind=Message(f"ingest_checks.kind_{self.expected}"))
        if self.kind == "date":
            expected = self.expected or Message("ingest_quarantine.a_date")
            return Message("ingest_quarantine.not_a_date", column=self.column, value=value, expected=expected)
        if self.kind == "number":
            return Message("ingest_quarantine.not_a_number", column=self.column, value=value, decimal=self.expected)
        return Message("ingest_quarantine.missing", column=self.column, field=self.expected)


@dataclass
class TypedRows:
    """The typed rows of a file as SQL over its text cells (see :meth:`sql`), and what the query binds."""

    plan: Plan
    select: list[str] = field(default_factory=list)  # the inner query's values: ``<sql> AS <field>``
    present: list[str] = field(default_factory=list)  # whether a checked cell has text: ``... AS _has_<i>``
    flags: list[str] = field(default_factory=list)  # one condition per problem
    nondata: list[int] = field(default_factory=list)  # problems that make a row not data, checked first
    nondata_sql: list[str] = field(default_factory=list)  # their conditions over the text cells
    outcome_expr: str = "'open'"  # the outcome of a row, over its text cells
    problems: list[Problem] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    moved: bool = False  # open deals' close dates go to ``expected_close`` (see :func:`moves_close_date`)
    outcome_from: list[str] = field(default_factory=list)  # the source columns the outcome is read from

    def sql(self, cells: str) -> str:
        """The typed rows of the cells in ``cells`` (a generated table name or subquery), with ``_row`` and
        ``_problems``."""
        present = list(dict.fromkeys(self.present))  # a column mapped to two fields is checked once
        helpers = [p.rsplit(" AS ", 1)[1] for p in present]
        keep = f"* EXCLUDE ({', '.join(helpers)})" if helpers else "*"
        inner = f"SELECT {', '.join([*self.select, *present])} FROM {cells}"
        typed = f"SELECT {keep}, {self._problem_list()} AS _problems FROM ({inner})"
        if self.plan.schema.name == "opportunities" and self.plan.ptable is not None:
            typed = _closed_fields_only_when_closed(typed, self.plan.ptable, self.plan.cmap)
        return typed

    def _problem_list(self) -> str:
        """The list of a row's problems, NULL for a row without any: built only for the rows that have one. A
        row that is not data has that one problem only."""
        whens = [f"WHEN _nd_{k} THEN [{k}]::INTEGER[]" for k in self.nondata]
        if self.flags:
            whens.append(
                f"WHEN {' OR '.join(f'({c})' for c in self.flags)} THEN list_filter(["
                + ", ".join(f"CASE WHEN {c} THEN {k} END" for k, c in enumerate(self.flags))
                + "]::INTEGER[], lambda x: x IS NOT NULL)"
            )
        return f"CASE {' '.join(whens)} END" if whens else "CAST(NULL AS INTEGER[])"

    def columns(self) -> list[str]:
        """The columns a file's rows fill in its table: the key first, then the mapped fields, and for
        opportunities the outcome (and ``expected_close`` when open deals' close dates move there)."""
        columns = [self.key, *[c for c in self.plan.cmap.fields if c != self.key]]
        if self.plan.schema.name == "opportunities":
            columns += ["outcome", *(["expected_close"] if self.moved else [])]
        return columns

    def staged(self, cells: str) -> str:
        """The query of the rows to store from ``cells``: the stored columns of the rows without a problem."""
        return f"SELECT {', '.join(quote(c) for c in self.columns())} FROM ({self.sql(cells)}) WHERE _problems IS NULL"


def typed_rows(plan: Plan, fmt: DateFormat | None, decimal: str | None, won: list[str], lost: list[str]) -> TypedRows:
    """The typed rows of ``plan``'s file with dates read by ``fmt``, numbers by ``decimal``, and for
    opportunities the outcome by the preset's rules and the stage values ``won`` and ``lost``."""
    raw, schema, cmap = plan.raw, plan.schema, plan.cmap
    rows = TypedRows(plan, select=["_row"], key=schema.key)
    for f, idx in cmap.fields.items():
        _add_field(rows, f, idx, schema.fields.get(f, "text"), fmt, decimal or ".")
    for f in schema.required:
        idx = cmap.fields[f]
        rows.flags.append(f"NOT _req_{idx}")
        rows.problems.append(Problem(raw.columns[idx], "missing", f))
        rows.present.append(f"{text_sql(f'c{idx}')} IS NOT NULL AS _req_{idx}")
    for kind, condition in nondata.checks(plan, rows.params):
        rows.nondata.append(len(rows.problems))
        rows.present.append(f"({condition}) AS _nd_{len(rows.problems)}")
        rows.nondata_sql.append(f"({condition})")
        rows.problems.append(Problem("", "non_data", kind))
    if fmt is not None and columns_of_kind(plan, "timestamp"):
        rows.params["fmts"] = list(fmt.patterns)
    _add_key(rows, plan)
    rows.moved = moves_close_date(plan.ptable, cmap)
    if schema.name == "opportunities":
        rule = outcome_sql(plan.ptable, raw.columns, f"lower(trim(c{cmap.fields['stage']}))")
        rows.select.append(f"{rule.sql} AS outcome")
        rows.outcome_expr = rule.sql
        rows.params.update(rule.params)
        rows.params["won"], rows.params["lost"] = won, lost
        rows.outcome_from = [*rule.columns, raw.columns[cmap.fields["stage"]]]
        if rows.moved:
            rows.select.append("CAST(NULL AS TIMESTAMP) AS expected_close")
    return rows


def columns_of_kind(plan: Plan, kind: str) -> list[int]:
    """The source columns (indexes) of the mapped fields that ``plan``'s table types as ``kind``
    (``timestamp``, ``number``); a dimension is text."""
    return [i for f, i in plan.cmap.fields.items() if plan.schema.fields.get(f, "text") == kind]


def _add_field(rows: TypedRows, name: str, idx: int, kind: str, fmt: DateFormat | None, decimal: str) -> None:
    """The value of field ``name`` from cell ``c<idx>``, typed as ``kind``, with its problem if it has one."""
    cell = text_sql(f"c{idx}")
    column = rows.plan.raw.columns[idx]
    if kind == "timestamp":
        value = date_sql(cell, fast_iso=fmt is not None and fmt.name == "iso", raw=f"c{idx}")
        rows.problems.append(Problem(column, "date", fmt.label if fmt else None))
    elif kind == "number":
        value = number_sql(cell, decimal)
        rows.problems.append(Problem(column, "number", decimal))
    else:
        rows.select.append(f"{cell} AS {quote(name)}")
        return
    rows.flags.append(f"_has_{idx} AND {quote(name)} IS NULL")
    rows.present.append(f"{cell} IS NOT NULL AS _has_{idx}")
    rows.select.append(f"{value} AS {quote(name)}")


def _add_key(rows: TypedRows, plan: Plan) -> None:
    """The key: the id cell, or for a row without one a stable id made from its content.

    In a file without an id column, rows are events: identical rows are distinct, so the id is the content hash
    (``h`` + 20 hex digits) with the row's occurrence number among the identical rows of the file after a dot
    from the second on (``h….2``), numbered in the engine by a window function. The same file imported again
    gives the same ids, so nothing changes and nothing is dropped. An empty cell of an id column keeps the plain
    content hash (a repeat is a duplicate, as a repeated id is), and so do stage changes (``_key``: an
    opportunity entering one stage at one moment twice is one change) and a preset's ``id_from``."""
    raw, cmap, key = plan.raw, plan.cmap, rows.key
    cells = ", ".join(f"coalesce(c{i}, '')" for f, i in sorted(cmap.fields.items()) if f != key)
    content = f"concat_ws(chr(31), {cells})"
    digest = f"substr(sha256({content}), 1, 20)"
    preset_id = _preset_id(plan.ptable, raw, rows.params)
    if key in cmap.fields:
        given = text_sql(f"c{cmap.fields[key]}")
        at = rows.select.index(f"{given} AS {quote(key)}")
        made = preset_id or f"'h' || {digest}"
        rows.select[at] = f"coalesce({given}, {made}) AS {quote(key)}"
    elif preset_id is not None:
        rows.select.append(f"{preset_id} AS {quote(key)}")
    elif key == "_key":
        rows.select.append(f"'k' || {digest} AS {quote(key)}")
    else:
        occurrence = f"row_number() OVER (PARTITION BY {content} ORDER BY _row)"
        rows.select.append(f"'h' || {digest} || coalesce('.' || nullif({occurrence}, 1), '') AS {quote(key)}")


def _preset_id(ptable: PresetTable | None, raw: RawTable, params: dict[str, Any]) -> str | None:
    """SQL for the id of a row without one when the preset says how (``id_from``): a hash of the named source
    columns (a stable match key), or with ``[row]`` of the file's name and the row number (rows that may
    repeat word for word, such as sessions). None: the content hash."""
    if ptable is None or not ptable.id_from:
        return None
    if ptable.id_from == ["row"]:
        params["id_file"] = Path(raw.path).name
        return "'r' || substr(sha256(concat_ws(chr(31), $id_file, CAST(_row AS VARCHAR))), 1, 20)"
    found = [mapping_mod.find_column(raw.columns, c) for c in ptable.id_from]
    if any(i is None for i in found):
        return None
    cells = ", ".join(f"coalesce(trim(c{i}), '')" for i in found)
    return f"'m' || substr(sha256(concat_ws(chr(31), {cells})), 1, 20)"


def moves_close_date(ptable: PresetTable | None, cmap: mapping_mod.ColumnMap) -> bool:
    """Whether open rows' close dates become ``expected_close`` in a column the file does not map."""
    return (
        ptable is not None
        and ptable.open_close_date == "expected_close"
        and "closed_at" in cmap.fields
        and "expected_close" not in cmap.fields
    )


def _closed_fields_only_when_closed(typed: str, ptable: PresetTable, cmap: mapping_mod.ColumnMap) -> str:
    """With a preset: ``closed_at`` only on won and lost rows (an open deal's close date is a forecast,
    kept as ``expected_close`` or dropped, as the preset says), ``loss_reason`` only on lost ones.
    ``typed`` is the query of typed rows; the result is that query with those columns replaced."""
    replace: list[str] = []
    if "closed_at" in cmap.fields and ptable.open_close_date != "keep":
        if ptable.open_close_date == "expected_close":
            replace.append(
                "CASE WHEN outcome = 'open' THEN coalesce(expected_close, closed_at) ELSE expected_close END "
                "AS expected_close"
            )
        replace.append("CASE WHEN outcome = 'open' THEN NULL ELSE closed_at END AS closed_at")
    if "loss_reason" in cmap.fields and ptable.loss_reason_only_lost:
        replace.append("CASE WHEN outcome <> 'lost' THEN NULL ELSE loss_reason END AS loss_reason")
    return f"SELECT * REPLACE ({', '.join(replace)}) FROM ({typed})" if replace else typed
