"""Any attempts/hits table: row-level with a success column, or already aggregated (--attempts/--hits)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from hitrate.analysis.rates import rates
from hitrate.cli import app, flag_name
from hitrate.errors import InputFileError
from hitrate.ingest import import_files
from tests.conftest import DATA, require

SHOPPERS = DATA / "uci_online_shoppers_intention" / "online_shoppers_intention.csv"

TABLE = (
    "channel,visitor,visits,purchases\n"
    "email,new,100,12\nemail,returning,80,10\nsearch,new,300,15\nsearch,returning,0,0\n"
)


def test_aggregated_counts_become_attempts_and_hits(store, tmp_path):
    path = tmp_path / "funnel.csv"
    path.write_text(TABLE)
    report = import_files(store, [path], attempts="visits", hits="purchases")
    # Lines are counted: 3 groups stored, the line of 0 visits has nothing to store (unchanged).
    assert (report.read, report.imported, report.unchanged, report.quarantined) == (4, 3, 1, 0)
    assert report.attempts_represented == 480 and report.files[0].adds_up()
    got = rates(store, by=["channel", "visitor"]).rows
    assert got[["attempts", "hits"]].values.tolist() == [[100, 12], [80, 10], [300, 15]]
    by_channel = rates(store, by=["channel"]).rows.set_index("channel")
    assert by_channel.loc["email", "hit_rate"] == pytest.approx(22 / 180)
    again = import_files(store, [path], attempts="visits", hits="purchases")
    assert (again.imported, again.updated, again.unchanged, again.attempts_represented) == (0, 0, 4, 480)


def test_every_bad_line_is_quarantined_in_one_run(store, tmp_path):
    """A non-numeric count, hits above attempts, negative and fractional counts and a totals line: each is
    quarantined with its line and reason in the same run, and the good lines are stored."""
    path = tmp_path / "bad.csv"
    path.write_text(
        "channel,visits,purchases\na,10,2\nb,x,0\nc,1,2\nd,3,-1\ne,2.5,1\nf,-4,1.5\ng,20,5\nTotal,36,8\n",
        encoding="utf-8",
    )
    report = import_files(store, [path], attempts="visits", hits="purchases")
    assert (report.read, report.imported, report.quarantined, report.attempts_represented) == (8, 2, 6, 30)
    assert report.files[0].adds_up()
    rows = store.fetch('SELECT "row", "column", reason FROM quarantine ORDER BY "row"')
    assert rows == [
        (3, "visits", "column 'visits': 'x' is not a whole number of 0 or more"),
        (4, "purchases", "purchases 2 is more than visits 1 (hits cannot exceed attempts)"),
        (5, "purchases", "column 'purchases': '-1' is not a whole number of 0 or more"),
        (6, "visits", "column 'visits': '2.5' is not a whole number of 0 or more"),
        (
            7,
            "visits",
            "column 'visits': '-4' is not a whole number of 0 or more; "
            "column 'purchases': '1.5' is not a whole number of 0 or more",
        ),
        (9, None, "not a data row (totals line)"),
    ]
    assert store.fetch("SELECT count(*), count(*) FILTER (WHERE outcome = 'won') FROM opportunities") == [(30, 7)]


def test_a_problem_in_a_group_cell_quarantines_the_line_once(store, tmp_path):
    path = tmp_path / "months.csv"
    path.write_text("month,visits,purchases\n2024-01-01,50,5\nnot a month,40,4\n2024-03-01,30,3\n", encoding="utf-8")
    report = import_files(store, [path], attempts="visits", hits="purchases", mapping={"created_at": "month"})
    assert (report.read, report.imported, report.quarantined, report.attempts_represented) == (3, 2, 1, 80)
    assert store.fetch('SELECT "row", "column" FROM quarantine') == [(3, "month")]


def test_a_corrected_file_updates_its_groups_and_other_files_add_theirs(store, tmp_path):
    """A line is its group (the cells other than the counts): a corrected count replaces the group's attempts,
    a group set to 0 loses them, and another file's groups are added, never confused with these lines."""
    path = tmp_path / "funnel.csv"
    path.write_text(TABLE)
    import_files(store, [path], attempts="visits", hits="purchases")
    path.write_text(
        "channel,visitor,visits,purchases\n"
        "email,new,90,13\nemail,returning,80,10\nsearch,new,0,0\nsearch,returning,0,0\n"
    )
    report = import_files(store, [path], attempts="visits", hits="purchases")
    assert (report.read, report.imported, report.updated, report.unchanged) == (4, 0, 2, 2)
    assert report.attempts_represented == 170
    got = rates(store, by=["channel", "visitor"]).rows
    assert got[["channel", "attempts", "hits"]].values.tolist() == [["email", 90, 13], ["email", 80, 10]]
    other = tmp_path / "social.csv"
    other.write_text("channel,visitor,visits,purchases\nsocial,new,30,3\n")
    assert import_files(store, [other], attempts="visits", hits="purchases").imported == 1
    assert store.count("opportunities") == 200


def test_identical_lines_are_distinct_groups(store, tmp_path):
    """Rows are events: two identical lines in one file both count."""
    path = tmp_path / "twice.csv"
    path.write_text("channel,visits,purchases\nemail,10,1\nemail,10,1\n")
    report = import_files(store, [path], attempts="visits", hits="purchases")
    assert (report.imported, report.attempts_represented) == (2, 20)
    assert import_files(store, [path], attempts="visits", hits="purchases").unchanged == 2


def test_count_columns_must_exist_and_differ(store, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("channel,visits,purchases\na,1,0\n")
    with pytest.raises(InputFileError, match="attempts visitz: no such column") as info:
        import_files(store, [path], attempts="visitz", hits="purchases")
    assert "--attempts visitz: no such column" in info.value.render("en", flag_name)
    with pytest.raises(InputFileError, match="name the same column"):
        import_files(store, [path], attempts="visits", hits="Visits")
    with pytest.raises(InputFileError, match="give both") as info:
        import_files(store, [path], attempts="visits")
    assert info.value.render("en", flag_name).startswith("--attempts/--hits: give both")


def test_row_level_success_column_and_cli(tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("session,channel,converted\n1,email,1\n2,email,0\n3,search,0\n4,search,1\n5,search,0\n")
    db = tmp_path / "r.duckdb"
    runner = CliRunner()
    out = runner.invoke(
        app,
        [
            "import",
            str(rows),
            "--map",
            "id=session",
            "--map",
            "stage=converted",
            "--won",
            "1",
            "--lost",
            "0",
            "--db",
            str(db),
        ],
    )
    assert out.exit_code == 0, out.stderr
    js = runner.invoke(app, ["rates", "--by", "channel", "--format", "json", "--db", str(db)])
    got = {r["channel"]: (r["attempts"], r["hits"]) for r in json.loads(js.stdout)["rows"]}
    assert got == {"email": (2, 1), "search": (3, 1)}
    agg = tmp_path / "agg.csv"
    agg.write_text(TABLE)
    db2 = tmp_path / "a.duckdb"
    out = runner.invoke(app, ["import", str(agg), "--attempts", "visits", "--hits", "purchases", "--db", str(db2)])
    assert out.exit_code == 0, out.stderr
    assert "lines read" in out.stdout and "attempts" in out.stdout
    out = runner.invoke(
        app, ["import", str(agg), "--attempts", "visits", "--hits", "purchases", "--db", str(db2), "--format", "json"]
    )
    counts = json.loads(out.stdout)
    assert (counts["read"], counts["unchanged"], counts["attempts_represented"]) == (4, 4, 480)
    assert counts["files"][0]["attempts_represented"] == 480
    bad = runner.invoke(app, ["import", str(agg), "--attempts", "visits", "--hits", "nope", "--db", str(db2)])
    assert bad.exit_code == 2 and "--hits nope: no such column" in bad.stderr


def test_the_online_shoppers_sessions_aggregated_by_month_and_visitor_type(store, tmp_path):
    """The UCI file counted by month and visitor type (pandas), then imported as counts: 12,330 sessions and
    1,908 purchases in as many lines as there are groups."""
    import pandas as pd

    if not SHOPPERS.exists():
        require(f"{SHOPPERS} is missing")
    sessions = pd.read_csv(SHOPPERS)
    groups = sessions.groupby(["Month", "VisitorType"]).agg(sessions=("Revenue", "size"), purchases=("Revenue", "sum"))
    path = tmp_path / "by_month.csv"
    groups.reset_index().to_csv(path, index=False)
    report = import_files(store, [path], attempts="sessions", hits="purchases")
    assert (report.read, report.imported, report.quarantined) == (len(groups), len(groups), 0)
    assert report.attempts_represented == len(sessions) == 12_330
    assert store.fetch("SELECT count(*) FILTER (WHERE outcome = 'won') FROM opportunities") == [(1_908,)]
