"""Storing and counting: new keys inserted, changed rows updated, unchanged rows counted; what was stored
summed up per stage and outcome; the import recorded; keys the lookup tables do not know.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING, Any

from hitrate.ingest.aggregated import GROUP_OF
from hitrate.ingest.import_warnings import file_warnings
from hitrate.ingest.outcome_check import guard_changes
from hitrate.ingest.scratch import STAGE, reset_optimizers
from hitrate.store.schema import TABLES, TableSchema, quote

if TYPE_CHECKING:
    from hitrate.ingest.import_report import FileReport, ImportReport
    from hitrate.ingest.plan import Plan
    from hitrate.ingest.readers import CountLines
    from hitrate.store.embedded import Store


def upsert(
    store: Store,
    schema: TableSchema,
    columns: list[str],
    batch_id: int,
    staged: str,
    params: dict[str, Any],
    *,
    guard: str | None = None,
    lines: CountLines | None = None,
) -> tuple[int, int, int, str]:
    """Insert new keys, update changed rows, count unchanged ones: (imported, updated, unchanged, and the
    table that now holds the file's rows as stored). ``staged`` is the query of the rows to store.
    ``guard``: the file's path, and a re-import that would rewrite many stored outcomes stops
    (:func:`~hitrate.ingest.outcome_check.guard_changes`) before anything changes. ``lines``: the rows are
    the attempts of aggregated lines, and the counts are of lines (:func:`_count_lines`)."""
    con = store.raw
    target, key = quote(schema.name), quote(columns[0])
    cols = ", ".join(quote(c) for c in columns)
    empty = con.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {target})").fetchone()
    # The filter on the problem list must stay above the typing: pushed down, it would type every value it
    # reads a second time (half the insert's time at 10M rows).
    con.execute("SET disabled_optimizers = 'filter_pushdown'")
    try:
        if empty and empty[0]:  # a first import: every row is new, no join and no staged copy needed
            row = con.execute(
                f"INSERT INTO {target} ({cols}, _batch) SELECT {cols}, {int(batch_id)} FROM ({staged})", params
            ).fetchone()
            if lines is not None:  # every group is new; a line of 0 attempts had nothing stored and stores nothing
                groups = con.execute(f"SELECT count(DISTINCT {GROUP_OF.format(key)}) FROM {target}").fetchone()
                return (int(groups[0]) if groups else 0), 0, len(lines.empty_groups), target
            return (int(row[0]) if row else 0), 0, 0, target
        con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGE} AS {staged}", params)
    finally:
        reset_optimizers(con)
    if guard is not None:
        guard_changes(con, guard, schema.name, columns[0], STAGE)
    same = " AND ".join(f"s.{quote(c)} IS NOT DISTINCT FROM t.{quote(c)}" for c in columns[1:]) or "TRUE"
    if lines is not None:
        counted = _count_lines(con, target, key, same, lines)
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE t.{key} IS NULL), "
        f"count(*) FILTER (WHERE t.{key} IS NOT NULL AND NOT ({same})), "
        f"count(*) FILTER (WHERE t.{key} IS NOT NULL AND ({same})) "
        f"FROM {STAGE} s LEFT JOIN {target} t ON s.{key} = t.{key}"
    ).fetchone()
    new, changed, unchanged = (int(v) for v in row) if row else (0, 0, 0)
    if changed:
        sets = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in columns[1:])
        con.execute(
            f"UPDATE {target} AS t SET {sets}, _batch = {int(batch_id)} FROM {STAGE} s "
            f"WHERE s.{key} = t.{key} AND NOT ({same})"
        )
    if new:
        con.execute(
            f"INSERT INTO {target} ({cols}, _batch) SELECT {cols}, {int(batch_id)} FROM {STAGE} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE t.{key} = s.{key})"
        )
    if lines is not None:
        return (*counted, STAGE)
    return new, changed, unchanged, STAGE


def _count_lines(con: Any, target: str, key: str, same: str, lines: CountLines) -> tuple[int, int, int]:
    """For aggregated lines (:mod:`~hitrate.ingest.aggregated`): (imported, updated, unchanged) lines, and the
    stored attempts the lines' groups no longer have removed. A group is imported when none of its attempts
    was stored, unchanged when every attempt is stored as it is and none is left over, else updated; a line
    of 0 attempts is unchanged, or updated when its group had attempts stored. Runs before the staged rows
    (:data:`~hitrate.ingest.scratch.STAGE`) are stored."""
    s_group, t_group = GROUP_OF.format(f"s.{key}"), GROUP_OF.format(f"t.{key}")
    groups = (
        f"SELECT {s_group} AS _g, count(*) AS _n, count(t.{key}) AS _old, count(*) FILTER (WHERE t.{key} IS NOT NULL "
        f"AND ({same})) AS _same FROM {STAGE} s LEFT JOIN {target} t ON s.{key} = t.{key} GROUP BY 1 "
        "UNION ALL SELECT unnest($empty::VARCHAR[]), 0, 0, 0"
    )
    left_over = (
        f"SELECT {t_group} AS _g, count(*) AS _gone FROM {target} t WHERE {t_group} IN (SELECT _g FROM g) "
        f"AND NOT EXISTS (SELECT 1 FROM {STAGE} s WHERE s.{key} = t.{key}) GROUP BY 1"
    )
    row = con.execute(
        f"WITH g AS ({groups}), gone AS ({left_over}), c AS (SELECT _n > 0 AND _old = 0 AND _gone IS NULL AS _new, "
        "_same = _n AND _gone IS NULL AS _kept FROM g LEFT JOIN gone USING (_g)) "
        "SELECT count(*) FILTER (WHERE _new), count(*) FILTER (WHERE NOT _new AND NOT _kept), "
        "count(*) FILTER (WHERE _kept) FROM c",
        {"empty": lines.empty_groups},
    ).fetchone()
    con.execute(
        f"DELETE FROM {target} t WHERE {t_group} IN (SELECT {s_group} FROM {STAGE} s UNION ALL "
        f"SELECT unnest($empty::VARCHAR[])) AND NOT EXISTS (SELECT 1 FROM {STAGE} s WHERE s.{key} = t.{key})",
        {"empty": lines.empty_groups},
    )
    imported, updated, unchanged = (int(v) for v in row) if row else (0, 0, 0)
    return imported, updated, unchanged


def summarise(store: Store, plan: Plan, rep: FileReport, stored: str, cells: str | None) -> None:
    """Stages, outcomes and warnings of an opportunities file, from ``stored`` (the rows as stored) and
    ``cells`` (the text cells; None when no amount cell carries a currency code)."""
    if plan.schema.name != "opportunities":
        return
    rep.stages = _stage_summary(store, stored)
    order = "list_position(['won', 'lost', 'open'], outcome)"
    counted = store.raw.execute(f"SELECT outcome, count(*) FROM {stored} GROUP BY 1 ORDER BY {order}").fetchall()
    rep.outcomes = {str(o): int(n) for o, n in counted}
    rep.warnings = file_warnings(store, stored, cells, plan.ptable, plan.cmap, rep.outcomes)


def _stage_summary(store: Store, stored: str) -> dict[str, dict[str, Any]]:
    """Rows per stage value as stored (trimmed), with the outcome it gave (``mixed`` when rules differ); most
    rows first, ties by stage name, so the report reads the same every run."""
    rows = store.raw.execute(
        f"SELECT stage, CASE WHEN count(DISTINCT outcome) = 1 THEN any_value(outcome) ELSE 'mixed' END, "
        f"count(*) FROM {stored} GROUP BY 1 ORDER BY 3 DESC, 1"
    ).fetchall()
    return {str(s): {"outcome": o, "rows": int(n)} for s, o, n in rows}


def record_batch(store: Store, report: ImportReport, started: dt.datetime) -> None:
    """The import's row in ``import_batches``: tables, files, start and end, and the counts."""
    store.raw.execute(
        "INSERT INTO import_batches VALUES (?, 'import', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            report.batch_id,
            ",".join(sorted({f.table for f in report.files})),
            json.dumps([f.path for f in report.files], ensure_ascii=False),
            started,
            dt.datetime.now(),
            report.read,
            report.imported,
            report.updated,
            report.unchanged,
            report.quarantined,
        ],
    )


def unmatched_keys(store: Store) -> dict[str, dict[str, Any]]:
    """Values of ``rep``/``account``/``product`` in opportunities that the reps/accounts/products table
    does not know, with near matches (same letters and digits, ignoring case, spaces, punctuation)."""
    out: dict[str, dict[str, Any]] = {}
    opp_cols = set(store.columns("opportunities"))
    for lookup in ("reps", "accounts", "products"):
        key = TABLES[lookup].key
        if key not in opp_cols or not store.count(lookup) or not store.count("opportunities"):
            continue
        rows = store.fetch(
            f"SELECT o.{quote(key)}, count(*) FROM opportunities o WHERE o.{quote(key)} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {quote(lookup)} l WHERE l.{quote(key)} = o.{quote(key)}) GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        if not rows:
            continue
        known = [r[0] for r in store.fetch(f"SELECT {quote(key)} FROM {quote(lookup)}")]
        squash = {_squash(k): k for k in known}
        out[key] = {
            "table": lookup,
            "values": [r[0] for r in rows],
            "rows": sum(int(r[1]) for r in rows),
            "suggestions": {r[0]: squash[_squash(r[0])] for r in rows if _squash(r[0]) in squash},
        }
    return out


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", str(text)).lower()
