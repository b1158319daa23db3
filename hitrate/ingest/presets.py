"""Import presets: small data files with a column mapping and won/lost stage values per table.

A preset lives in ``hitrate/ingest/presets/NAME.yaml``; each table it knows has ``detect``
(columns that identify a file of that table), ``map`` (canonical field -> source column)
and, for opportunities, ``won``/``lost`` stage values.
"""

from __future__ import annotations

from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputFileError
from ..schema import TABLES


class PresetTable(BaseModel):
    """How one canonical table is read from a CRM's export."""

    model_config = ConfigDict(extra="forbid")

    detect: list[str] = Field(default_factory=list)
    map: dict[str, str] = Field(default_factory=dict)
    won: list[str] = Field(default_factory=list)
    lost: list[str] = Field(default_factory=list)
    date_format: str | None = None
    decimal: str | None = None


class Preset(BaseModel):
    """A named import preset."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    tables: dict[str, PresetTable]

    def table_for(self, columns: list[str]) -> str | None:
        """The table whose ``detect`` columns are all present in ``columns`` (most specific first)."""
        have = set(columns)
        candidates = [(len(t.detect), name) for name, t in self.tables.items() if t.detect and set(t.detect) <= have]
        return max(candidates)[1] if candidates else None


def preset_names() -> list[str]:
    """Names of the presets shipped with hitrate."""
    folder = resources.files("hitrate.ingest") / "presets"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_preset(name: str) -> Preset:
    """Load a shipped preset by name."""
    if name not in preset_names():
        raise InputFileError("--preset", f"unknown preset '{name}'; expected one of: {', '.join(preset_names())}")
    text = (resources.files("hitrate.ingest") / "presets" / f"{name}.yaml").read_text(encoding="utf-8")
    try:
        preset = Preset.model_validate(yaml.safe_load(text))
    except ValidationError as exc:  # a broken shipped preset is our bug, but say where
        raise InputFileError(f"preset {name}", str(exc)) from None
    unknown = set(preset.tables) - set(TABLES)
    if unknown:
        raise InputFileError(f"preset {name}", f"unknown tables {sorted(unknown)}")
    return preset
