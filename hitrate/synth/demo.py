"""The demo store: the synthetic generator's pipeline loaded into the canonical tables."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pyarrow as pa

from hitrate.errors import StoreError
from hitrate.i18n import Param
from hitrate.store.embedded import Store
from hitrate.store.schema import TABLES, normalise_name, quote
from hitrate.store.users import end_every_session
from hitrate.synth.generator import SynthData, generate

DATA_TABLES = tuple(TABLES)


def load_frame(store: Store, table: str, frame: Any, batch_id: int) -> int:
    """Append a DataFrame (or Arrow table) whose columns are canonical field names to a canonical table.

    Known fields are cast to their canonical types; other columns become text dimensions.
    Returns the number of rows written. Used for generated data, which needs no quarantine.
    """
    schema = TABLES[table]
    data = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    names = [normalise_name(c) for c in data.column_names]
    data = data.rename_columns(names)
    dims = [c for c in names if c not in schema.fields and c not in schema.derived and c != schema.key]
    store.add_text_columns(table, dims)
    exprs, cols = [], []
    for c in names:
        kind = schema.fields.get(c, "text")
        sql_type = {"text": "VARCHAR", "timestamp": "TIMESTAMP", "number": "DOUBLE"}[kind]
        exprs.append(f"CAST({quote(c)} AS {sql_type})")
        cols.append(quote(c))
    if schema.key not in names:  # stage_history: surrogate key over its fields
        parts = ", ".join(f"coalesce(CAST({quote(c)} AS VARCHAR), '')" for c in sorted(schema.fields) if c in names)
        exprs.append(f"'k' || substr(sha256(concat_ws(chr(31), {parts})), 1, 20)")
        cols.append(quote(schema.key))
    store.raw.register("_hr_frame", data)
    try:
        store.raw.execute(
            f"INSERT INTO {quote(table)} ({', '.join(cols)}, _batch) "
            f"SELECT {', '.join(exprs)}, {int(batch_id)} FROM _hr_frame"
        )
    finally:
        store.raw.unregister("_hr_frame")
    return int(data.num_rows)


def load_synth(store: Store, data: SynthData, *, label: str, empty: bool = False, keep_users: bool = False) -> int:
    """Replace every data table of the store with a generated pipeline; one transaction. With ``empty`` the
    store first loses everything else too (:meth:`Store.empty`), the accounts excepted with ``keep_users``,
    whose sessions and API tokens end all the same."""
    started = dt.datetime.now()
    total = 0
    with store.transaction():
        if empty:
            store.empty(keep=("users",) if keep_users else ())
            end_every_session(store)
        else:
            store.reset_data_tables()
        batch_id = store.next_batch_id()
        opps = data.opportunities.copy()
        total += load_frame(store, "opportunities", opps, batch_id)
        total += load_frame(store, "reps", data.reps, batch_id)
        if len(data.stage_history):
            total += load_frame(store, "stage_history", data.stage_history, batch_id)
        if len(data.activities):
            total += load_frame(store, "activities", data.activities, batch_id)
        store.raw.execute(
            "INSERT INTO import_batches VALUES (?, 'synth', ?, ?, ?, ?, ?, ?, 0, 0, 0)",
            [batch_id, ",".join(DATA_TABLES), json.dumps([label]), started, dt.datetime.now(), total, total],
        )
    return total


def build_demo(
    store: Store, *, seed: int = 7, n_opportunities: int = 20_000, force: bool = False, keep_users: bool = False
) -> SynthData:
    """Fill the store with the synthetic demo pipeline.

    Refuses (:class:`StoreError`) a store that holds imported data, unless ``force``. With ``force`` the demo
    starts from an empty store: nothing of the replaced one stays (goals, interventions, feedback, lead scores,
    definitions, import history, accounts and their tokens), except, with ``keep_users``, the accounts; their
    sessions and tokens end even then. Without ``force`` (a store with no imported data, such as an earlier
    demo) only the data tables are replaced.
    """
    if store.has_imported_data() and not force:
        raise StoreError("synth.demo_over_import", path=store.path, force=Param("force"), db=Param("db"))
    data = generate(seed=seed, n_opportunities=n_opportunities)
    load_synth(store, data, label=f"synth:seed={seed},n={n_opportunities}", empty=force, keep_users=keep_users)
    return data
