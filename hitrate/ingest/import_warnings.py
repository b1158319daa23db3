"""Warnings for imports where hit rate would silently go wrong.

- **No lost deals** in an export whose CRM hides lost ones by default (Odoo archives them; a
  Salesforce report may filter them out): hit rate would be inflated. The preset says how to include them.
- **Several pipelines** in one export (HubSpot, Pipedrive, Zoho): stages and hit rates differ per pipeline.
- **Several currencies** behind one amount column (a currency column, or codes/signs in the amount
  cells): value-weighted rates add unlike units.

The SQL reads only generated identifiers (scratch tables, ``c0``..., checked field names).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
) -> list[str]:
    """Warnings for one imported file; ``stored`` holds its rows as stored, ``raw`` its text cells (None:
    the caller made sure no amount cell carries a currency code)."""
    out: list[str] = []
    rows = sum(outcomes.values())
    if ptable is not None and ptable.warn_no_lost and rows and not outcomes.get("lost"):
        out.append(
            f"no lost deals among {rows} rows, so hit rate counts only wins and is inflated. {ptable.warn_no_lost}"
        )
    if "pipeline" in cmap.fields:
        pipelines = _counts(store, f"SELECT pipeline, count(*) FROM {stored} WHERE pipeline IS NOT NULL GROUP BY 1")
        if len(pipelines) > 1:
            out.append(
                f"{len(pipelines)} pipelines in one export ({_list(pipelines)}): stages and hit rates differ "
                "between pipelines; see them apart with `hitrate rates --by pipeline`"
            )
    currencies = _currencies(store, stored, raw, cmap)
    if len(currencies) > 1:
        out.append(
            f"amounts in {len(currencies)} currencies ({_list(currencies)}): value-weighted rates add them as one "
            "unit and are not comparable; compare with `hitrate rates --by currency`, or convert the amounts to "
            "one currency before importing"
        )
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


def _list(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in counts.items())
