"""An import as a person gives it, the same through every face: ``hitrate import`` and ``POST /api/imports`` (and
the dashboard's upload form) both call :func:`import_given`.

Three rules live here rather than in a face, so the faces cannot drift apart:

* **The preset** (:func:`default_preset`): none named, no column mapped and no counts given means ``auto``
  (each file's CRM recognised from its header). An import through the API without ``preset`` once stored a
  Salesforce export with made-up ids and no rep, and the same file through the command line stored it again.
* **The mapping** as typed: ``FIELD=COLUMN`` items (:func:`~hitrate.ingest.mapping.parse_map_flags`).
* **The delimiter** as typed (:func:`typed_delimiter`): ``tab`` (or ``\\t``) for a tab.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitrate.ingest.import_report import ImportReport
from hitrate.ingest.importer import import_files
from hitrate.ingest.mapping import parse_map_flags

if TYPE_CHECKING:
    from hitrate.store.embedded import Store

#: How a tab may be typed where a delimiter is asked for.
TAB_NAMES = frozenset({"tab", "TAB", "\\t"})


def default_preset(preset: str | None, *, mapping: object = None, attempts: str | None = None) -> str | None:
    """``preset`` as named, else ``"auto"`` unless the columns are mapped (``mapping``) or the rows are counts
    (``attempts``): then the file is read by its column names and the mapping."""
    if preset is None and not mapping and attempts is None:
        return "auto"
    return preset


def typed_delimiter(given: str | None) -> str | None:
    """The delimiter as typed: ``tab`` or ``\\t`` is a tab; anything else as it is (checked by the import)."""
    return "\t" if given in TAB_NAMES else given


def import_given(
    store: Store,
    paths: Sequence[str | Path],
    *,
    preset: str | None = None,
    map_items: Sequence[str] | None = None,
    delimiter: str | None = None,
    **options: Any,
) -> ImportReport:
    """:func:`~hitrate.ingest.import_files` with the options as a person types them: ``map_items`` as
    ``FIELD=COLUMN`` items, ``preset`` defaulted by :func:`default_preset`, ``delimiter`` by
    :func:`typed_delimiter`; every other option (``won``, ``lost``, ``table``, ``sheet``...) passed on as
    given. Errors name the parameters as :func:`~hitrate.ingest.import_files` does (``map`` for the mapping)."""
    items = list(map_items or [])
    mapping = parse_map_flags(items)
    chosen = default_preset(preset, mapping=items, attempts=options.get("attempts"))
    return import_files(store, paths, preset=chosen, mapping=mapping, delimiter=typed_delimiter(delimiter), **options)


__all__ = ["TAB_NAMES", "default_preset", "import_given", "typed_delimiter"]
