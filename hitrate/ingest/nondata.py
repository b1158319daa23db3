"""Rows that are not data, recognised by what they hold wherever they sit in the file.

Exports from reports carry rows a person reads past: a totals or subtotal line (``;;;I alt;123.456,00``),
the header repeated on every printed page, a title or a footer in one cell, a blank separator line. Stored,
a totals line becomes a deal worth the whole pipeline. Each kind is a condition over a row's text cells,
checked before any other problem (:func:`checks`); a row that meets one is quarantined with the reason
"not a data row (totals line)" (or blank line, repeated header, report header or footer) and counts as
read.

* **blank line**: every cell empty.
* **repeated header**: at least two cells, and at least half the columns, hold their own column's name.
* **totals line**: a cell is a totals word (:data:`TOTAL_WORDS`: ``Total``, ``Sum``, ``I alt``,
  ``Subtotal``, ``Grand Total``, ``Gesamt``, ``Totalt``..., with an optional colon or bracketed note) and the
  key cell is empty or is that word; without a key column, at most half the cells are filled.
* **report header or footer**: one cell filled in a file of three or more columns, and the key or a
  required field empty (a rep alone on a line of a reps file is data).

Column names are bound parameters; cells are addressed by generated names (``c0``...) only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hitrate.ingest.parsing import text_sql

if TYPE_CHECKING:
    from hitrate.ingest.plan import Plan

#: Words that label a totals line, lower case, as a regular expression (whole cell, trimmed).
TOTAL_WORDS = (
    r"(?:(?:grand |sub-?|overall |running |report |sub )?totals?(?: general| geral)?|sum|summa|summe|zwischensumme"
    r"|gesamt|gesamtsumme|i alt|alt i alt|i alt i alt|totalt|samlet|samlet sum|totaal|totale|totaux|somme"
    r"|suma|yhteensä|razem|subtotaal|gran total)"
)
#: A cell that is only a totals word, with an optional colon or bracketed note.
TOTAL_CELL = rf"^{TOTAL_WORDS}\s*:?\s*(?:\(.*\))?$"
#: The kinds in the order they are checked; each names its reason ``ingest_checks.kind_<kind>``.
KINDS = ("blank", "header", "totals", "footer")


def checks(plan: Plan, params: dict[str, Any]) -> list[tuple[str, str]]:
    """``(kind, SQL condition over the cells)`` per kind of non-data row, in :data:`KINDS` order; binds the
    column names and the totals pattern into ``params``."""
    columns = plan.raw.columns
    width = len(columns)
    cells = [text_sql(f"c{i}") for i in range(width)]
    filled = " + ".join(f"CAST({c} IS NOT NULL AS INTEGER)" for c in cells)
    key_idx = plan.cmap.fields.get(plan.schema.key)
    params["nd_total"] = TOTAL_CELL
    for i, name in enumerate(columns):
        params[f"nd_h{i}"] = name.strip().lower()
    out = [("blank", f"({filled}) = 0")]
    if width >= 2:
        own_name = " + ".join(f"CAST(coalesce(lower({c}) = $nd_h{i}, false) AS INTEGER)" for i, c in enumerate(cells))
        out.append(("header", f"({own_name}) >= {max(2, (width + 1) // 2)}"))
    is_total = [f"coalesce(regexp_full_match(lower({c}), $nd_total), false)" for c in cells]
    any_total = " OR ".join(is_total)
    if key_idx is not None:
        key_free = f"({cells[key_idx]} IS NULL OR {is_total[key_idx]})"
    else:
        key_free = f"({filled}) * 2 <= {width}"
    out.append(("totals", f"{key_free} AND ({any_total})"))
    if width >= 3:
        needed = [key_idx, *(plan.cmap.fields[f] for f in plan.schema.required)]
        lacking = " OR ".join(f"{cells[i]} IS NULL" for i in dict.fromkeys(needed) if i is not None) or "TRUE"
        out.append(("footer", f"({filled}) = 1 AND ({lacking})"))
    return out
