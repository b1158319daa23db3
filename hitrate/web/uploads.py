"""Imports through the server: ``POST /api/imports`` and the upload form of the Import page.

Both take the options of ``hitrate import`` as form fields named as the library names them (``preset``, ``map``,
``won``, ``lost``, ``date_format``, ``decimal``, ``table``, ``strict``, ``attempts``, ``hits``,
``allow_outcome_changes``, ``map_as_dimension``, ``sheet``, ``skip_rows``, ``delimiter``) and import with
:func:`hitrate.ingest.import_given`, the command line's own call: no preset and no mapping means ``auto``, and an
error names these fields (:data:`UPLOAD_FIELDS`), never a command-line flag. The uploads are saved under their
own base names in a private folder, which no answer, error or stored record names.
"""

from __future__ import annotations

import copy
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Form, UploadFile

from hitrate.errors import UserInputError
from hitrate.i18n import Message, Param, text
from hitrate.web import data
from hitrate.web.i18n import renamed

T = TypeVar("T")

#: How the import's errors name its parameters here: the form's fields (``files`` for the library's ``paths``).
UPLOAD_FIELDS = renamed({"paths": "files", "mapping": "map", "map_items": "map"})


@dataclass(frozen=True)
class ImportOptions:
    """The import's options as a form gives them; empty fields are left out (the library's defaults apply)."""

    table: str | None = None
    preset: str | None = None
    map_items: tuple[str, ...] = ()
    won: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    date_format: str | None = None
    decimal: str | None = None
    strict: bool = False
    attempts: str | None = None
    hits: str | None = None
    allow_outcome_changes: bool = False
    map_as_dimension: bool = False
    sheet: str | None = None
    skip_rows: int = 0
    delimiter: str | None = None

    def kwargs(self) -> dict[str, Any]:
        """The keywords of :func:`hitrate.ingest.import_given`."""
        out = asdict(self)
        for name in ("map_items", "won", "lost"):
            out[name] = list(out[name]) or None
        return out


def items(values: list[str] | None) -> tuple[str, ...]:
    """Repeated fields (``map``, ``won``, ``lost``), each value possibly several lines (a text area): one item
    per non-empty line, trimmed."""
    return tuple(line.strip() for value in values or [] for line in value.splitlines() if line.strip())


def _text(value: str | None) -> str | None:
    """An empty field is no value (a form sends every field, filled or not)."""
    return value.strip() if value and value.strip() else None


def import_options(
    table: Annotated[str | None, Form(max_length=40, description=text("web_api.import_table"))] = None,
    preset: Annotated[
        str | None, Form(pattern=r"^[a-z0-9_-]{0,40}$", description=text("web_api.a_crm_preset_or_auto"))
    ] = None,
    map: Annotated[list[str] | None, Form(description=text("web_api.import_map"))] = None,  # noqa: A002
    won: Annotated[list[str] | None, Form(description=text("web_api.import_won"))] = None,
    lost: Annotated[list[str] | None, Form(description=text("web_api.import_lost"))] = None,
    date_format: Annotated[str | None, Form(max_length=40, description=text("web_api.import_date_format"))] = None,
    decimal: Annotated[str | None, Form(max_length=3, description=text("web_api.import_decimal"))] = None,
    strict: Annotated[bool, Form(description=text("web_api.import_strict"))] = False,
    attempts: Annotated[str | None, Form(max_length=200, description=text("web_api.import_attempts"))] = None,
    hits: Annotated[str | None, Form(max_length=200, description=text("web_api.import_hits"))] = None,
    allow_outcome_changes: Annotated[bool, Form(description=text("web_api.import_allow_outcome_changes"))] = False,
    map_as_dimension: Annotated[bool, Form(description=text("web_api.import_map_as_dimension"))] = False,
    sheet: Annotated[str | None, Form(max_length=100, description=text("web_api.import_sheet"))] = None,
    skip_rows: Annotated[int, Form(ge=0, le=100_000, description=text("web_api.import_skip_rows"))] = 0,
    delimiter: Annotated[str | None, Form(max_length=3, description=text("web_api.import_delimiter"))] = None,
) -> ImportOptions:
    """The form fields of an import (a FastAPI dependency of both routes)."""
    return ImportOptions(
        table=_text(table),
        preset=_text(preset),
        map_items=items(map),
        won=items(won),
        lost=items(lost),
        date_format=_text(date_format),
        decimal=_text(decimal),
        strict=strict,
        attempts=_text(attempts),
        hits=_text(hits),
        allow_outcome_changes=allow_outcome_changes,
        map_as_dimension=map_as_dimension,
        sheet=_text(sheet),
        skip_rows=skip_rows,
        delimiter=delimiter or None,  # a delimiter may be a space: not trimmed
    )


@dataclass(frozen=True)
class Uploaded:
    """An import through the server: its ``report`` as ``hitrate import --format json`` prints it, and its
    ``warnings`` as messages for a page to say in its language."""

    report: dict[str, Any]
    warnings: list[Message]


def import_uploads(store_access: data.StoreAccess, files: list[UploadFile], options: ImportOptions) -> Uploaded:
    """Save the uploads to a private folder under their base names and import them in one write with
    ``options``. The report, the warnings, any error and the stored batch and quarantine name the uploaded
    file, not the folder."""
    from hitrate.ingest import import_given

    with tempfile.TemporaryDirectory(prefix="hitrate-upload-") as folder:
        paths = []
        for i, upload in enumerate(files):
            path = Path(folder) / str(i) / (Path(upload.filename or "").name or "upload.csv")
            path.parent.mkdir()
            with path.open("wb") as out:
                shutil.copyfileobj(upload.file, out)
            paths.append(path)
        try:
            with store_access.writing() as store:
                report = import_given(store, paths, **options.kwargs())
                # the batch records and the quarantine name the uploaded file, not the server's folder
                pattern = re.escape(folder) + "/[0-9]+/"
                for table, column in (("import_batches", "sources"), ("quarantine", "source")):
                    store.raw.execute(f"UPDATE {table} SET {column} = regexp_replace({column}, ?, '', 'g')", [pattern])
        except UserInputError as exc:
            raise UserInputError(exc.key, **without_folder(exc.message, folder).params) from None
        return Uploaded(without_folder(report.to_dict(), folder), without_folder(report.warnings, folder))


def without_folder(message: T, folder: str) -> T:
    """``message`` (or any JSON-like value) with the uploads' private folder (``<folder>/<n>/``) taken out of every
    path it names."""
    prefix = re.compile(re.escape(folder) + r"/\d+/")

    def strip(value: Any) -> Any:
        if isinstance(value, Message):
            out = copy.copy(value)
            object.__setattr__(out, "params", {k: strip(v) for k, v in value.params.items()})
            return out
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        if isinstance(value, str | Path) and not isinstance(value, Param):
            return prefix.sub("", str(value))
        return value

    stripped: T = strip(message)
    return stripped
