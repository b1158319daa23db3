"""Readers, CRM presets, validation and quarantine: getting any CRM export into the store."""

from hitrate.ingest.errors import ImportParameterError, UnknownPresetError
from hitrate.ingest.given import default_preset, import_given
from hitrate.ingest.import_report import FileReport, ImportReport
from hitrate.ingest.importer import StepLabel, import_files
from hitrate.ingest.mapping import parse_map_flags
from hitrate.ingest.presets import load_preset, preset_names
from hitrate.ingest.upsert import unmatched_keys

__all__ = [
    "FileReport",
    "ImportParameterError",
    "ImportReport",
    "StepLabel",
    "UnknownPresetError",
    "default_preset",
    "import_files",
    "import_given",
    "load_preset",
    "parse_map_flags",
    "preset_names",
    "unmatched_keys",
]
