"""Appending the next daily export touches only the rows that are new or changed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hitrate.ingest import import_files
from hitrate.store.embedded import Store


def export(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_second_export_updates_only_new_and_changed_rows(tmp_path: Path) -> None:
    day1 = pd.DataFrame(
        {
            "id": [f"D{i:04d}" for i in range(500)],
            "stage": ["Won" if i % 4 == 0 else "Lost" if i % 4 == 1 else "Open" for i in range(500)],
            "created_at": ["2024-03-01"] * 500,
            "amount": [float(100 + i) for i in range(500)],
            "segment": ["SMB" if i % 2 else "Enterprise" for i in range(500)],
        }
    )
    day2 = day1.copy()
    moved = day2.index[day2["stage"] == "Open"][:7]
    day2.loc[moved, "stage"] = "Won"  # seven open deals closed overnight
    day2.loc[4, "segment"] = "Mid-market"  # one dimension corrected (a won deal, not among the moved)
    new = pd.DataFrame(
        {"id": ["D9000", "D9001"], "stage": ["Open", "Open"], "created_at": ["2024-03-02"] * 2, "amount": [1.0, 2.0],
         "segment": ["SMB", "SMB"]}
    )  # fmt: skip
    day2 = pd.concat([day2, new], ignore_index=True)
    with Store(tmp_path / "s.duckdb") as store:
        first = import_files(store, [export(tmp_path / "day1.csv", day1)], won=["Won"], lost=["Lost"])
        second = import_files(store, [export(tmp_path / "day2.csv", day2)], won=["Won"], lost=["Lost"])
        batches = dict(store.fetch("SELECT _batch, count(*) FROM opportunities GROUP BY _batch"))
        changed = {r[0] for r in store.fetch("SELECT id FROM opportunities WHERE _batch = ?", [max(batches)])}
        again = import_files(store, [tmp_path / "day2.csv"], won=["Won"], lost=["Lost"])
        after = dict(store.fetch("SELECT _batch, count(*) FROM opportunities GROUP BY _batch"))
        keys = store.fetch("SELECT count(*), count(DISTINCT id) FROM opportunities")[0]
    assert (first.imported, first.updated, first.unchanged) == (500, 0, 0)
    assert (second.read, second.imported, second.updated, second.unchanged) == (502, 2, 8, 492)
    # Rows that did not change keep the batch that wrote them: nothing else was rewritten.
    assert batches == {min(batches): 492, max(batches): 10}
    assert changed == {*day1["id"][moved], "D0004", "D9000", "D9001"}
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 502)
    assert after == batches
    assert keys == (502, 502)  # the importer keeps keys unique (the table has no PRIMARY KEY constraint)
