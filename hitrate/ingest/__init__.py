"""Readers, CRM presets, validation and quarantine: getting any CRM export into the store."""

from hitrate.ingest.importer import FileReport, ImportReport, import_files, unmatched_keys
from hitrate.ingest.mapping import parse_map_flags
from hitrate.ingest.presets import load_preset, preset_names

__all__ = [
    "FileReport",
    "ImportReport",
    "import_files",
    "load_preset",
    "parse_map_flags",
    "preset_names",
    "unmatched_keys",
]
