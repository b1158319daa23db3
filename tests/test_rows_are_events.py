"""Rows are events unless an id says otherwise (issue 18): in a file without an id column, identical rows are
distinct events, each with a stable id (content hash and occurrence number), for every import.

Expected counts come from the files the tests write (numpy over the same rows), never from hitrate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hitrate.domains.betting import bets
from hitrate.domains.slots import slots_spins
from hitrate.ingest import fastcsv, import_files
from hitrate.store.embedded import Store


def counts(report) -> tuple[int, int, int, int, int]:
    return report.read, report.imported, report.updated, report.unchanged, report.quarantined


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def spin_log(path: Path, n: int = 50_000) -> tuple[Path, np.ndarray]:
    """A spin log of ``n`` spins on two machines with wagers 1 and 2 and a few pays: nearly every row repeats
    word for word (there are 24 distinct rows). Returns the file and the wins."""
    rng = np.random.default_rng(18)
    machine = rng.choice(["A", "B"], size=n)
    wager = rng.choice([1, 2], size=n)
    win = wager * rng.choice([0, 0, 0, 0, 1, 2, 5, 0, 0, 10, 0, 0], size=n)
    outcome = np.where(win > 0, "win", "lose")
    lines = [f"{m},{s},{w},{o}\n" for m, s, w, o in zip(machine, wager, win, outcome, strict=True)]
    write(path, "machine,wager,win,outcome\n" + "".join(lines))
    return path, win


def test_fifty_thousand_spins_with_identical_rows_are_all_kept(store, tmp_path):
    """The probe: 2,077 of 50,000 spin rows were dropped as duplicates. All of them are spins."""
    path, win = spin_log(tmp_path / "spins.csv")
    distinct = len(set(path.read_text(encoding="utf-8").splitlines()[1:]))
    assert distinct < 30  # the rows repeat word for word
    stats = slots_spins(path, by=["machine"])
    assert (stats.outcomes, stats.hits) == (50_000, int((win > 0).sum()))
    first = import_files(store, [path], mapping={"stage": "outcome"}, won=["win"], lost=["lose"])
    assert counts(first) == (50_000, 50_000, 0, 0, 0)
    got = store.fetch("SELECT count(*), count(*) FILTER (WHERE outcome = 'won'), count(DISTINCT id) FROM opportunities")
    assert got == [(50_000, int((win > 0).sum()), 50_000)]
    again = import_files(store, [path], mapping={"stage": "outcome"}, won=["win"], lost=["lose"])
    assert counts(again) == (50_000, 0, 0, 50_000, 0)


def test_two_identical_bets_are_two_bets(store, tmp_path):
    """A top-up: the same bet placed twice. By hand: stakes 10 + 10 + 5 = 25; returns 2.5×10 × 2 = 50;
    yield (50 − 25) / 25 = 100%; 3 bets, 2 hits."""
    log = write(
        tmp_path / "bets.csv",
        "date,tipster,odds,stake,result\n2024-03-02,A,2.5,10,won\n2024-03-02,A,2.5,10,won\n2024-03-03,A,1.8,5,lost\n",
    )
    report = import_files(store, [log], mapping={"stage": "result"}, won=["won"], lost=["lost"])
    assert counts(report) == (3, 3, 0, 0, 0)
    row = bets(store, strategy="log").rows[0]
    assert (row["bets"], row["hits"]) == (3, 2)
    assert row["stakes"] == pytest.approx(25) and row["yield"] == pytest.approx(1.0)


def test_identical_rows_without_an_id_import_once_each_and_reimport_unchanged(store, tmp_path):
    path = write(tmp_path / "o.csv", "rep,stage,amount\nAnn,Won,10\nAnn,Won,10\nBo,Lost,5\n")
    assert counts(import_files(store, [path])) == (3, 3, 0, 0, 0)
    ids = sorted(r[0] for r in store.fetch("SELECT id FROM opportunities WHERE rep = 'Ann'"))
    assert len(ids[0]) == 21 and ids[1] == ids[0] + ".2"  # the content hash, then its occurrence number
    assert counts(import_files(store, [path])) == (3, 0, 0, 3, 0)
    assert sorted(r[0] for r in store.fetch("SELECT id FROM opportunities WHERE rep = 'Ann'")) == ids
    assert store.count("quarantine") == 0


def test_a_third_copy_added_to_the_file_is_one_new_row(store, tmp_path):
    path = write(tmp_path / "o.csv", "rep,stage\nAnn,Won\nAnn,Won\n")
    import_files(store, [path])
    write(path, "rep,stage\nAnn,Won\nBo,Lost\nAnn,Won\nAnn,Won\n")
    assert counts(import_files(store, [path])) == (4, 2, 0, 2, 0)
    assert store.count("opportunities") == 4


def test_a_repeated_real_id_is_still_a_duplicate(store, tmp_path):
    path = write(tmp_path / "o.csv", "id,rep,stage\n1,Ann,Won\n1,Ann,Won\n2,Bo,Lost\n")
    assert counts(import_files(store, [path])) == (3, 2, 0, 0, 1)
    reason = store.fetch('SELECT "row", reason FROM quarantine')
    assert reason == [(2, "duplicate id '1': row 3 later in the file replaces this row")]


def test_empty_id_cells_and_stage_changes_keep_the_content_hash(store, tmp_path):
    """An id column says what a row is: a row with an empty id cell that repeats another is a duplicate, and so
    is a stage change repeated word for word (one deal enters one stage at one moment once)."""
    path = write(tmp_path / "o.csv", "id,rep,stage\n,Ann,Won\n,Ann,Won\n7,Bo,Lost\n")
    assert counts(import_files(store, [path])) == (3, 2, 0, 0, 1)
    hist = write(tmp_path / "h.csv", "id,stage,entered_at\n1,Won,2020-02-01\n1,Won,2020-02-01\n")
    assert counts(import_files(store, [hist], table="stage_history")) == (2, 1, 0, 0, 1)


def test_a_large_file_read_straight_from_disk_keeps_identical_rows(tmp_path, monkeypatch):
    """The direct path for large clean files numbers identical rows the same way as the table path."""
    path, _ = spin_log(tmp_path / "spins.csv", n=2_000)
    stored = {}
    for name, threshold in (("fast", 0), ("slow", 10**12)):
        monkeypatch.setattr(fastcsv, "FAST_PATH_MIN_BYTES", threshold)
        with Store(tmp_path / f"{name}.duckdb") as store:
            report = import_files(store, [path], mapping={"stage": "outcome"}, won=["win"], lost=["lose"])
            assert counts(report) == (2_000, 2_000, 0, 0, 0)
            stored[name] = store.fetch("SELECT id, machine, wager, win, outcome FROM opportunities ORDER BY id")
    assert stored["fast"] == stored["slow"]
