"""The store is what the user meant (issue 15, deliverable 6): reading commands refuse a ``--db`` that does not
exist, a folder, a data file or a DuckDB file that is not a hitrate store, with a clear message, exit 2 and no
file created or changed; commands that write still make a new store."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.errors import StoreError
from hitrate.store.embedded import Store

runner = CliRunner()
READERS = [["rates"], ["benchmark", "--by", "rep"], ["quarantine", "list"], ["definitions", "show"], ["goals", "list"]]


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.parametrize("command", READERS)
def test_a_missing_store_is_refused_and_not_created(tmp_path: Path, command: list[str]):
    path = tmp_path / "new.duckdb"
    code, out = run(*command, "--db", str(path))
    assert code == 2, out
    assert f"no store at {path}" in out and "hitrate import" in out and "hitrate demo" in out
    assert "Traceback" not in out
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_a_folder_a_csv_file_and_a_foreign_duckdb_file_are_refused(tmp_path: Path):
    csv = tmp_path / "salg.csv"
    csv.write_text("id;stage\nD1;Vundet\n", encoding="utf-8")
    foreign = tmp_path / "other.duckdb"
    duckdb.connect(str(foreign)).execute("CREATE TABLE t (a INTEGER)").close()
    before = {p.name: p.read_bytes() for p in (csv, foreign)}
    for path, says in (
        (tmp_path, "is a folder"),
        (csv, "not a DuckDB database file"),
        (foreign, "not a hitrate store"),
    ):
        code, out = run("rates", "--db", str(path))
        assert code == 2 and says in out and "Traceback" not in out, out
    # a writing command refuses a folder and a data file too
    for path in (tmp_path, csv):
        code, out = run("demo", "--n", "200", "--db", str(path))
        assert code == 2 and "Traceback" not in out, out
    assert {p.name: p.read_bytes() for p in (csv, foreign)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.duckdb", "salg.csv"]


def test_danish_message(tmp_path: Path):
    code, out = run("--lang", "da", "rates", "--db", str(tmp_path / "ny.duckdb"))
    assert code == 2 and "intet lager" in out, out


def test_library_store_can_be_opened_without_creating(tmp_path: Path):
    with pytest.raises(StoreError, match="no store at"):
        Store(tmp_path / "x.duckdb", create=False)
    assert not (tmp_path / "x.duckdb").exists()
    with Store(tmp_path / "x.duckdb") as store:  # the default still creates
        assert store.count("opportunities") == 0
    with Store(tmp_path / "x.duckdb", create=False) as store:
        assert store.count("opportunities") == 0


def test_writing_commands_still_create_a_store(tmp_path: Path):
    code, out = run(
        "users", "add", "bo", "--role", "rep", "--rep", "Bo", "--allow-unknown", "--db", str(tmp_path / "w.duckdb")
    )
    assert code == 0, out
    assert (tmp_path / "w.duckdb").exists()
