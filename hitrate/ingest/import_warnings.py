"""Warnings for imports where hit rate would silently go wrong.

- **No lost deals** in an export whose CRM hides lost ones by default (Odoo archives them; a
  Salesforce report may filter them out): hit rate would be inflated. The preset says how to include them
  (``warn_no_lost``: the advice is the preset's own text, a user's preset file can have its own; the
  sentence around it comes from the catalogue).
- **Several pipelines** in one export (HubSpot, Pipedrive, Zoho): stages and hit rates differ per pipeline.
- **Several currencies** behind one amount column (a currency column, or codes/signs in the amount
  cells): value-weighted rates add unlike units.

Each warning is a :class:`~hitrate.i18n.Message`. The SQL reads only generated identifiers (scratch tables,
``c0``..., checked field names).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hitrate.i18n import Joined, Message, Param
from hitrate.ingest.mapping import ColumnMap
from hitrate.ingest.presets import PresetTable

if TYPE_CHECKING:
    from hitrate.store.embedded import Store

_CODE = "'^([A-Za-z]{3}|[$€£¥])[^A-Za-z]|[^A-Za-z]([A-Za-z]{3}|[$€£¥])$'"


def amount_code_sql(cell: str) -> str:
    """SQL for the currency code or sign in an amount cell (upper case), NULL when it has none. A cell that
    reads as a finite number is not searched (a CASE, so that the cheap test runs first). ``cell`` is a
    generated column name (``c0``...)."""
    trimmed = f"trim({cell})"
    token = f"upper(nullif(regexp_extract({trimmed}, {_CODE}, 1) || regexp_extract({trimmed}, {_CODE}, 2), ''))"
    return f"CASE WHEN coalesce(isfinite(TRY_CAST({trimmed} AS DOUBLE)), false) THEN NULL ELSE {token} END"


def file_warnings(
    store: Store,
    stored: str,
    raw: str | None,
    ptable: PresetTable | None,
    cmap: ColumnMap,
    outcomes: dict[str, int],
) -> list[Message]:
    """Warnings for one imported file; ``stored`` holds its rows as stored, ``raw`` its text cells (None:
    the caller made sure no amount cell carries a currency code)."""
    out: list[Message] = []
    rows = sum(outcomes.values())
    if ptable is not None and ptable.warn_no_lost and rows and not outcomes.get("lost"):
        out.append(Message("ingest_warnings.no_lost", rows=rows, advice=ptable.warn_no_lost))
    if "pipeline" in cmap.fields:
        pipelines = _counts(store, f"SELECT pipeline, count(*) FROM {stored} WHERE pipeline IS NOT NULL GROUP BY 1")
        if len(pipelines) > 1:
            out.append(Message("ingest_warnings.pipelines", n=len(pipelines), counts=_list(pipelines), by=Param("by")))
    currencies = _currencies(store, stored, raw, cmap)
    if len(currencies) > 1:
        out.append(Message("ingest_warnings.currencies", n=len(currencies), counts=_list(currencies), by=Param("by")))
    return out


def _currencies(store: Store, stored: str, raw: str | None, cmap: ColumnMap) -> dict[str, int]:
    """Rows per currency: the ``currency`` column where mapped, else a code or sign in the amount cell."""
    if "currency" in cmap.fields:
        return _counts(
            store, f"SELECT upper(trim(currency)), count(*) FROM {stored} WHERE currency IS NOT NULL GROUP BY 1"
        )
    if "amount" not in cmap.fields or raw is None:
        return {}
    code = amount_code_sql(f"c{cmap.fields['amount']}")
    return _counts(store, f"SELECT t, count(*) FROM (SELECT {code} AS t FROM {raw}) WHERE t IS NOT NULL GROUP BY 1")


def _counts(store: Store, sql: str) -> dict[str, int]:
    return {str(k): int(n) for k, n in store.raw.execute(f"{sql} ORDER BY 2 DESC, 1").fetchall()}


def _list(counts: dict[str, int]) -> Joined:
    return Joined([Message("ingest_warnings.value_count", value=k, n=n) for k, n in counts.items()])
