"""Import presets: how one CRM's export maps onto the canonical tables, kept as data (YAML).

A preset lives in ``hitrate/ingest/presets/NAME.yaml`` (or in a user's own YAML file, which may
``extends`` a shipped one). Each table it knows has:

- ``detect``: columns that all identify a file of that table within the preset;
- ``signature``: column -> weight, the evidence ``--preset auto`` adds up to recognise the CRM;
- ``map``: canonical field (or dimension) -> source column, or a list of alternatives (API names,
  labels, translated labels); the first one present in the file is used;
- ``signals`` and ``outcome``: columns the CRM uses to flag won/lost (``IsWon``, ``Status``...) and
  rules over them, tried in order before the ``won``/``lost`` stage names;
- ``non_data``: footer/total rows that are not data;
- ``open_close_date``, ``loss_reason_only_lost``, ``warn_no_lost``: what the dates and reasons mean;
- ``id_from``: for files without an id column, the source columns whose values identify a row (a match:
  league, date and teams), or ``[row]`` for the file's name and row number (sessions that may repeat word
  for word); without it a row's id is a hash of all its cells and its occurrence number among identical rows.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hitrate.errors import InputFileError
from hitrate.i18n import Joined, Message
from hitrate.ingest.errors import UnknownPresetError
from hitrate.store.schema import TABLES

Condition = bool | float | list[str] | str
"""A rule's test of one signal: ``true``/``false`` (a yes/no flag; an empty cell is no), a number
(``100``), a list of values (case-insensitive), ``any`` (the column is in the file), or for ``stage``
the word ``won``/``lost`` (the stage is one of the table's won/lost values)."""


class OutcomeRule(BaseModel):
    """``outcome`` for a row when every condition in ``when`` holds.

    A rule naming a signal the file does not have is skipped for the whole file.
    """

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["won", "lost", "open"]
    when: dict[str, Condition]

    @field_validator("when")
    @classmethod
    def _stage_condition(cls, when: dict[str, Condition]) -> dict[str, Condition]:
        if "stage" in when and when["stage"] not in ("won", "lost"):
            raise ValueError(Message("ingest_presets.stage_condition"))
        if not when:
            raise ValueError(Message("ingest_presets.no_condition"))
        return when


class NonData(BaseModel):
    """Rows that are not data: report footers, totals, blank rows."""

    model_config = ConfigDict(extra="forbid")

    first_cell: list[str] = Field(default_factory=list)  # regular expressions, full match, ignoring case
    blank_rows: bool = False


class PresetTable(BaseModel):
    """How one canonical table is read from a CRM's export."""

    model_config = ConfigDict(extra="forbid")

    detect: list[str] = Field(default_factory=list)
    signature: dict[str, int] = Field(default_factory=dict)
    map: dict[str, str | list[str]] = Field(default_factory=dict)
    signals: dict[str, list[str]] = Field(default_factory=dict)
    outcome: list[OutcomeRule] = Field(default_factory=list)
    won: list[str] = Field(default_factory=list)
    lost: list[str] = Field(default_factory=list)
    date_format: str | None = None
    decimal: str | None = None
    non_data: NonData | None = None
    open_close_date: Literal["keep", "expected_close", "drop"] = "keep"
    loss_reason_only_lost: bool = False
    warn_no_lost: str | None = None
    id_from: list[str] = Field(default_factory=list)  # source columns whose values make a row's id; [row]: row number

    @model_validator(mode="after")
    def _rules_name_signals(self) -> PresetTable:
        for rule in self.outcome:
            unknown = set(rule.when) - set(self.signals) - {"stage"}
            if unknown:
                raise ValueError(Message("ingest_presets.rule_names_no_signal", names=str(sorted(unknown))))
        return self

    def columns_for(self, field: str) -> list[str]:
        """The source columns ``map`` names for ``field``, in order of preference."""
        value = self.map.get(field, [])
        return [value] if isinstance(value, str) else list(value)


class Preset(BaseModel):
    """A named import preset."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    source: str = ""  # where the facts behind it come from
    tables: dict[str, PresetTable]

    def table_for(self, columns: list[str]) -> str | None:
        """The table whose ``detect`` columns are all present in ``columns`` (most specific first)."""
        have = {c.strip().lower() for c in columns}
        candidates = [
            (len(t.detect), name)
            for name, t in self.tables.items()
            if t.detect and {d.lower() for d in t.detect} <= have
        ]
        return max(candidates)[1] if candidates else None


def preset_names() -> list[str]:
    """Names of the presets shipped with hitrate."""
    folder = resources.files("hitrate.ingest") / "presets"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def is_preset_file(name: str) -> bool:
    """Whether ``--preset`` names a file (a path or a ``.yaml``/``.yml`` name) rather than a shipped preset."""
    return "/" in name or "\\" in name or name.lower().endswith((".yaml", ".yml"))


def load_preset(name: str) -> Preset:
    """Load a shipped preset by name, or a user's preset file (YAML, optionally ``extends: NAME``)."""
    if is_preset_file(name):
        return _load_file(Path(name))
    if name not in preset_names():
        raise UnknownPresetError(
            "ingest_presets.unknown", parameters=["preset"], name=name, names=Joined(preset_names())
        )
    source = resources.files("hitrate.ingest") / "presets" / f"{name}.yaml"
    return _validate(_parse_yaml(source.read_text(encoding="utf-8"), str(source)), str(source))


def _parse_yaml(text: str, where: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputFileError(where, "ingest_presets.not_yaml", error=str(exc)) from None


def _load_file(path: Path) -> Preset:
    if not path.is_file():
        raise InputFileError(str(path), "ingest_presets.no_such_file")
    data = _parse_yaml(path.read_text(encoding="utf-8"), str(path))
    if not isinstance(data, dict):
        raise InputFileError(str(path), "ingest_presets.not_a_mapping")
    base_name = data.pop("extends", None)
    if base_name is not None:
        if not isinstance(base_name, str) or is_preset_file(base_name):
            raise InputFileError(str(path), "ingest_presets.extends_not_shipped", got=repr(base_name))
        base = load_preset(base_name).model_dump(exclude_defaults=True)
        base.pop("name")
        data = merge(base, data)
        data.setdefault("name", f"{base_name}+{path.stem}")
    data.setdefault("name", path.stem)
    return _validate(data, str(path))


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` laid over ``base``: mappings merge key by key, every other value (lists too) replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _validate(data: Any, where: str) -> Preset:
    try:
        preset = Preset.model_validate(data)
    except ValidationError as exc:
        raise InputFileError(where, "ingest_presets.invalid", problems=_problems(exc)) from None
    unknown = set(preset.tables) - set(TABLES)
    if unknown:
        raise InputFileError(
            where, "ingest_presets.unknown_tables", tables=str(sorted(unknown)), expected=Joined(TABLES)
        )
    return preset


def _problems(exc: ValidationError) -> Joined:
    """Each problem pydantic found, at its place in the file: our own validators' messages (a
    :class:`~hitrate.i18n.Message` inside the ``ValueError``) in the reader's language, pydantic's own as
    pydantic words them."""
    found: list[Message] = []
    for e in exc.errors():
        error = e.get("ctx", {}).get("error")
        own = error.args[0] if isinstance(error, ValueError) and error.args else None
        problem = Message("ingest_presets.value_error", problem=own) if isinstance(own, Message) else e["msg"]
        found.append(Message("ingest_presets.problem_at", at=".".join(str(p) for p in e["loc"]), problem=problem))
    return Joined(found, "; ")


def preset_yaml(preset: Preset) -> str:
    """The preset as YAML (what ``hitrate presets show`` prints; a starting point for a user's own file)."""
    data = preset.model_dump(exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
