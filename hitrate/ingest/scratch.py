"""The import's scratch tables in the store's DuckDB connection, and cleaning up after them.

Every name here is a fixed constant: the only table names that reach the import's SQL text besides the
canonical tables and the ``_hr_file<n>`` tables large CSV files are read into.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

RAW = "_hr_raw"  # the file's text cells (``c0``... and ``_row``): a view, a registered Arrow table, or a sample
CHECK = "_hr_check"  # row, key and problems of every row
OUT = "_hr_out"  # the rows left out: with problems, or an earlier row of a repeated key
ENTRIES = "_hr_entries"  # a file's quarantine entries, on their way into the quarantine table
LOST = "_hr_lost"  # the cells of earlier rows of a repeated key, deleted from the file's table
STAGE = "_hr_stage"  # rows staged for the upsert, or the rows whose key hash repeats
EMPTY = "''"


class NotClean(Exception):
    """A large CSV file read straight from disk turned out not to be clean: the import starts again with the
    file read into a table (see :func:`hitrate.ingest.direct.store_direct`)."""


def drop_scratch(con: Any) -> None:
    """Drop the scratch tables; after a failure the transaction is aborted and rollback drops them."""
    import duckdb

    with contextlib.suppress(duckdb.Error):
        sample = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [RAW]
        ).fetchone()
        if sample and sample[0]:  # the first rows of a file read straight from disk
            con.execute(f"DROP TABLE {RAW}")
        else:  # an Arrow table registered, or a view over the file's table
            con.unregister(RAW)
            con.execute(f"DROP VIEW IF EXISTS {RAW}")
        for name in (CHECK, OUT, STAGE, LOST):
            con.execute(f"DROP TABLE IF EXISTS {name}")


def drop_file_tables(con: Any) -> None:
    """Drop the temporary tables that large CSV files were read into (``_hr_file<n>``)."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, '_hr_file')"
    ).fetchall()
    for (name,) in rows:
        if re.fullmatch(r"_hr_file\d+", str(name)):  # only generated names reach the SQL
            con.execute(f"DROP TABLE IF EXISTS {name}")


def reset_optimizers(con: Any) -> None:
    """Undo the ``disabled_optimizers`` setting of an upsert."""
    import duckdb

    # In an aborted transaction this fails; import_files resets it again once the transaction is rolled back.
    with contextlib.suppress(duckdb.Error):
        con.execute("RESET disabled_optimizers")
