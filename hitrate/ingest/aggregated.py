"""Already-aggregated input: one row per group with its number of attempts and hits.

``hitrate import FILE --attempts COL --hits COL`` turns each row into ``attempts`` rows, ``hits`` of them
won and the rest lost, every other column kept as it is (the group's dimensions). After that the table
is like any row-level import, so every command (rates, benchmark, trend, compare) reads it unchanged.
The expansion runs in DuckDB (``unnest(range(...))``), never row by row in Python.

Each expanded row gets the id ``r<source row>.<n>`` in the column :data:`ATTEMPT_ID` and its outcome
(``won``/``lost``) in :data:`OUTCOME`; row numbers in import reports and the quarantine count expanded
rows, and the id names the source row.
"""

from __future__ import annotations

from dataclasses import replace

from hitrate.errors import InputFileError
from hitrate.i18n import Joined, Param
from hitrate.ingest import mapping as mapping_mod
from hitrate.ingest.readers import RawTable

ATTEMPT_ID = "hitrate_attempt"
OUTCOME = "hitrate_outcome"


def expand_counts(raw: RawTable, attempts: str, hits: str) -> RawTable:
    """``raw`` with each row repeated ``attempts`` times: the first ``hits`` copies won, the rest lost.

    Raises :class:`InputFileError` naming the file, row, column and value when a count is not a whole
    number, is negative, or hits exceed attempts.
    """
    import duckdb

    idx = {}
    for param, name in (("attempts", attempts), ("hits", hits)):
        i = mapping_mod.find_column(raw.columns, name)
        if i is None:
            raise InputFileError(
                raw.path, "ingest.count_no_column", param=Param(param), column=name, columns=Joined(raw.columns)
            )
        idx[param] = i
    a, h = idx["attempts"], idx["hits"]
    if a == h:
        raise InputFileError(raw.path, "ingest.counts_same_column", attempts=Param("attempts"), hits=Param("hits"))
    keep = [i for i in range(len(raw.columns)) if i not in (a, h)]
    con = duckdb.connect()
    try:
        con.register("src", raw.arrow())
        counts = f"SELECT *, TRY_CAST(trim(c{a}) AS DOUBLE) AS _a, TRY_CAST(trim(c{h}) AS DOUBLE) AS _h FROM src"
        bad = con.execute(
            f"SELECT _row, c{a}, c{h}, _a IS NULL OR _a < 0 OR _a <> floor(_a), "
            f"_h IS NULL OR _h < 0 OR _h <> floor(_h) FROM ({counts}) "
            "WHERE _a IS NULL OR _h IS NULL OR _a < 0 OR _h < 0 OR _a <> floor(_a) OR _h <> floor(_h) OR _h > _a "
            "ORDER BY _row LIMIT 1"
        ).fetchone()
        if bad is not None:
            row, av, hv, bad_a, bad_h = bad
            if bad_a or bad_h:
                col, value = (raw.columns[a], av) if bad_a else (raw.columns[h], hv)
                raise InputFileError(raw.path, "ingest.count_not_whole", row=row, column=col, value=value)
            raise InputFileError(
                raw.path,
                "ingest.hits_above_attempts",
                row=row,
                hits=raw.columns[h],
                h=hv,
                attempts=raw.columns[a],
                a=av,
            )
        cols = ", ".join(f"c{i} AS c{k}" for k, i in enumerate(keep))
        n = len(keep)
        expanded = con.execute(
            f"SELECT {cols}{', ' if cols else ''}"
            f"'r' || _row || '.' || _i AS c{n}, CASE WHEN _i <= _h THEN 'won' ELSE 'lost' END AS c{n + 1}, "
            f"row_number() OVER (ORDER BY _row, _i) AS _row "
            f"FROM (SELECT *, unnest(range(1, CAST(_a AS BIGINT) + 1)) AS _i FROM ({counts})) ORDER BY _row"
        ).fetch_arrow_table()
    finally:
        con.close()
    columns = [raw.columns[i] for i in keep] + [ATTEMPT_ID, OUTCOME]
    raw.release()
    return replace(raw, columns=columns, cells=expanded, duck=None)
