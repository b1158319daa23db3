"""Writing CRM export fixtures the way each CRM writes them, and importing them with ``--preset auto``."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from hitrate.ingest import import_files

from .conftest import DATA

CRM_EXPORTS = DATA / "crm_exports"


def write_csv(
    path: Path, header: list[str], rows: list[dict[str, Any]], *, quote_all: bool = False, bom: bool = False
) -> Path:
    """A CSV with exactly ``header``; each row gives some columns by name, the others are empty."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        unknown = set(row) - set(header)
        assert not unknown, f"fixture names columns not in the header: {unknown}"
        w.writerow(["" if row.get(h) is None else row[h] for h in header])
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[dict[str, Any]], *, sheet: str = "Sheet1") -> Path:
    """An Excel workbook with one sheet named ``sheet``; values keep their Python types (dates, numbers)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append([row.get(h) for h in header])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula, as some exports write it
    wb.save(path)
    return path


def header_of(name: str, folder: str) -> list[str]:
    """The header row of a real (header-only) export in the shared data; skips the test (fails under
    HITRATE_REQUIRE_ALL) when the shared data is not there."""
    from .conftest import require

    path = CRM_EXPORTS / folder / name
    if not path.exists():
        require(f"the shared data folder {CRM_EXPORTS} is missing (a clone without ../shared)")
    text = path.read_text(encoding="utf-8")
    return next(csv.reader([text.splitlines()[0]]))


def auto_import(store: Any, path: Path, **kwargs: Any) -> Any:
    """Import one file with ``--preset auto``; return its file report."""
    return import_files(store, [path], preset="auto", **kwargs).files[0]


def stored(store: Any, columns: str, order: str = "id") -> list[tuple[Any, ...]]:
    return [tuple(r) for r in store.fetch(f"SELECT {columns} FROM opportunities ORDER BY {order}")]


def close_dates_by_outcome(store: Any) -> list[tuple[Any, ...]]:
    """Per outcome: rows with ``closed_at`` and rows with ``expected_close``."""
    sql = "SELECT outcome, count(closed_at), count(expected_close) FROM opportunities GROUP BY 1 ORDER BY 1"
    return [tuple(r) for r in store.fetch(sql)]
