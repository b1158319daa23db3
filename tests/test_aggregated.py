"""Any attempts/hits table: row-level with a success column, or already aggregated (--attempts/--hits)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hitrate.analysis.rates import rates
from hitrate.cli import app, flag_name
from hitrate.errors import InputFileError
from hitrate.ingest import import_files

TABLE = (
    "channel,visitor,visits,purchases\n"
    "email,new,100,12\nemail,returning,80,10\nsearch,new,300,15\nsearch,returning,0,0\n"
)


def test_aggregated_counts_become_attempts_and_hits(store, tmp_path):
    path = tmp_path / "funnel.csv"
    path.write_text(TABLE)
    report = import_files(store, [path], attempts="visits", hits="purchases")
    assert report.imported == 480 and report.quarantined == 0
    got = rates(store, by=["channel", "visitor"]).rows
    assert got[["attempts", "hits"]].values.tolist() == [[100, 12], [80, 10], [300, 15]]
    by_channel = rates(store, by=["channel"]).rows.set_index("channel")
    assert by_channel.loc["email", "hit_rate"] == pytest.approx(22 / 180)
    again = import_files(store, [path], attempts="visits", hits="purchases")
    assert (again.imported, again.unchanged) == (0, 480)  # ids are stable: r<row>.<n>


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("a,1,2\n", "row 2: purchases 2 is more than visits 1"),
        ("a,x,0\n", "row 2, column 'visits': 'x' is not a whole number"),
        ("a,3,-1\n", "column 'purchases': '-1' is not a whole number"),
        ("a,2.5,1\n", "column 'visits': '2.5'"),
    ],
)
def test_bad_counts_name_the_file_row_and_column(store, tmp_path, body, message):
    path = tmp_path / "bad.csv"
    path.write_text("channel,visits,purchases\n" + body)
    with pytest.raises(InputFileError, match=message):
        import_files(store, [path], attempts="visits", hits="purchases")
    with pytest.raises(InputFileError, match="attempts visitz: no such column") as info:
        import_files(store, [path], attempts="visitz", hits="purchases")
    assert "--attempts visitz: no such column" in info.value.render("en", flag_name)
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
    import json

    got = {r["channel"]: (r["attempts"], r["hits"]) for r in json.loads(js.stdout)["rows"]}
    assert got == {"email": (2, 1), "search": (3, 1)}
    agg = tmp_path / "agg.csv"
    agg.write_text(TABLE)
    db2 = tmp_path / "a.duckdb"
    out = runner.invoke(app, ["import", str(agg), "--attempts", "visits", "--hits", "purchases", "--db", str(db2)])
    assert out.exit_code == 0, out.stderr
    bad = runner.invoke(app, ["import", str(agg), "--attempts", "visits", "--hits", "nope", "--db", str(db2)])
    assert bad.exit_code == 2 and "--hits nope: no such column" in bad.stderr
