"""The import plan: the caller's choices checked, and each file's preset, table and column map.

Nothing here touches the store's tables: a plan is made for every file before the transaction starts, so a
file that cannot be mapped stops the import before any row is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hitrate.i18n import Joined, Message, Param
from hitrate.ingest import mapping as mapping_mod
from hitrate.ingest.aggregated import ATTEMPT_ID, OUTCOME
from hitrate.ingest.errors import ImportParameterError
from hitrate.ingest.parsing import DateFormat, date_format_from_flag
from hitrate.ingest.presets import Preset, PresetTable, load_preset, preset_names
from hitrate.ingest.readers import RawTable, drop_non_data
from hitrate.ingest.recognise import recognise
from hitrate.store.schema import TABLES, TableSchema

if TYPE_CHECKING:
    from hitrate.store.embedded import Store

DEFAULT_WON = ("won", "closed won", "closed-won", "closedwon", "win", "vundet", "vundne")
DEFAULT_LOST = ("lost", "closed lost", "closed-lost", "closedlost", "loss", "tabt", "tabte")


@dataclass
class Options:
    """The caller's choices for every file of one import, checked (see :func:`options`)."""

    table: str | None
    preset: Preset | None  # a preset given by name or file
    pool: list[Preset] | None  # ``preset="auto"``: the presets to recognise each file's CRM among
    mapping: dict[str, str]
    won: Sequence[str] | None
    lost: Sequence[str] | None
    date_format: DateFormat | None
    decimal: str | None
    strict: bool
    counts: bool = False  # already-aggregated input (attempts and hits columns)
    allow_outcome_changes: bool = False
    map_as_dimension: bool = False

    def won_values(self, ptable: PresetTable | None) -> list[str]:
        """The stage values meaning won, lower case: given, else the preset table's, else :data:`DEFAULT_WON`."""
        return _stage_values(self.won or (ptable.won if ptable and ptable.won else DEFAULT_WON))

    def lost_values(self, ptable: PresetTable | None) -> list[str]:
        """The stage values meaning lost, as :meth:`won_values`."""
        return _stage_values(self.lost or (ptable.lost if ptable and ptable.lost else DEFAULT_LOST))


def _stage_values(values: Sequence[str]) -> list[str]:
    return [v.strip().lower() for v in values]


def options(
    *,
    table: str | None,
    preset: str | None,
    mapping: dict[str, str] | None,
    won: Sequence[str] | None,
    lost: Sequence[str] | None,
    date_format: str | None,
    decimal: str | None,
    strict: bool,
    attempts: str | None,
    hits: str | None,
    allow_outcome_changes: bool = False,
    map_as_dimension: bool = False,
) -> Options:
    """The parameters of :func:`~hitrate.ingest.import_files` checked and resolved (presets loaded, the date
    format parsed); raises :class:`~hitrate.ingest.errors.ImportParameterError` naming the parameter."""
    if table is not None and table not in TABLES:
        raise ImportParameterError("ingest.unknown_table", parameters=["table"], table=table, tables=Joined(TABLES))
    if decimal is not None and decimal not in {",", "."}:
        raise ImportParameterError("ingest.bad_decimal", parameters=["decimal"], value=decimal)
    fmt = date_format_from_flag(date_format) if date_format else None
    pool = [load_preset(n) for n in preset_names()] if preset == "auto" else None
    given = load_preset(preset) if preset and preset != "auto" else None
    if (attempts is None) != (hits is None):
        raise ImportParameterError("ingest.give_both_counts", parameters=["attempts", "hits"])
    user_map = dict(mapping or {})
    if attempts is not None:
        user_map.setdefault("id", ATTEMPT_ID)
        user_map.setdefault("stage", OUTCOME)
        won, lost = won or ["won"], lost or ["lost"]
    return Options(
        table,
        given,
        pool,
        user_map,
        won,
        lost,
        fmt,
        decimal,
        strict,
        attempts is not None,
        allow_outcome_changes,
        map_as_dimension,
    )


@dataclass
class Plan:
    """One file, read and mapped, before the store is touched."""

    raw: RawTable
    schema: TableSchema
    ptable: PresetTable | None
    cmap: mapping_mod.ColumnMap
    preset: str | None
    reason: Message | str  # why this preset ("" without one)


def plan(store: Store, raw: RawTable, opts: Options) -> Plan:
    """Choose the preset (given, or recognised among ``opts.pool``) and table; drop non-data rows; map."""
    preset = opts.preset
    reason: Message | str = (
        Message("ingest_recognise.given", preset=preset.name, param=Param("preset")) if preset else ""
    )
    if opts.pool is not None:
        recognition = recognise(raw.path, raw.columns, opts.pool)
        preset, reason = recognition.preset, recognition.reason
    tname = opts.table or (preset.table_for(raw.columns) if preset else None) or "opportunities"
    ptable = preset.tables.get(tname) if preset else None
    if ptable is not None and ptable.non_data is not None:
        raw = raw.materialized(store.raw)
        raw = drop_non_data(raw, ptable.non_data.first_cell, blank_rows=ptable.non_data.blank_rows)
    preset_map = {f: ptable.columns_for(f) for f in ptable.map} if ptable else {}
    cmap = mapping_mod.resolve(
        raw.path, raw.columns, TABLES[tname], opts.mapping, preset_map, as_dimension=opts.map_as_dimension
    )
    return Plan(raw, TABLES[tname], ptable, cmap, preset.name if preset else None, reason)
