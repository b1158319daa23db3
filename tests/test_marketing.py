"""Marketing: sessions -> purchases on the UCI online shoppers data, against pandas."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hitrate.analysis.rates import rates
from hitrate.cli import app
from hitrate.ingest import import_files
from hitrate.spec.model import load_definitions
from tests.conftest import DATA, ROOT, require

SHOPPERS = DATA / "uci_online_shoppers_intention" / "online_shoppers_intention.csv"


@pytest.fixture
def shoppers() -> Path:
    if not SHOPPERS.exists():
        require(f"{SHOPPERS} is missing")
    return SHOPPERS


def test_conversion_by_month_and_visitor_type_matches_pandas(store, shoppers):
    report = import_files(store, [shoppers], preset="online-shoppers")
    assert report.imported == 12_330 and report.quarantined == 0  # sessions that repeat word for word all kept
    result = rates(store, by=["month", "visitor_type"])
    got = result.rows.set_index(["month", "visitor_type"])
    df = pd.read_csv(shoppers)
    ref = df.groupby(["Month", "VisitorType"])["Revenue"].agg(["size", "sum", "mean"])
    assert len(got) == len(ref)
    for (month, visitor), row in ref.iterrows():
        g = got.loc[(month, visitor)]
        assert (g.attempts, g.hits) == (row["size"], row["sum"])
        assert g.hit_rate == pytest.approx(row["mean"], abs=1e-12)


def test_sessions_definitions_name_the_conversion_rate(tmp_path, shoppers):
    db = tmp_path / "s.duckdb"
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(shoppers), "--preset", "online-shoppers", "--db", str(db)]).exit_code == 0
    defs = ROOT / "docs" / "examples" / "sessions.yaml"
    assert load_definitions(defs).denominator == "sessions"
    out = runner.invoke(app, ["rates", "--by", "visitor_type", "--definitions", str(defs), "--db", str(db)])
    assert out.exit_code == 0 and "Conversion rate" in out.stdout and "sessions" in out.stdout
    js = runner.invoke(app, ["rates", "--by", "month", "--format", "json", "--db", str(db)])
    data = json.loads(js.stdout)
    assert "conversion rate" in data["method"]
    total = sum(r["hits"] for r in data["rows"])
    assert total == int(pd.read_csv(shoppers)["Revenue"].sum())


def test_auto_recognises_the_shoppers_and_football_files():
    from hitrate.ingest.recognise import recognise
    from tests.conftest import DATA

    shoppers = pd.read_csv(SHOPPERS, nrows=1).columns.tolist() if SHOPPERS.exists() else None
    if shoppers is None:
        require(f"{SHOPPERS} is missing")
    assert recognise("s.csv", shoppers).preset.name == "online-shoppers"
    football = ["Div", "Date", "HomeTeam", "AwayTeam", "FTHG", "FTAG", "FTR", "B365H", "B365D", "B365A"]
    assert recognise("E0.csv", football).preset.name == "football-data"
    assert DATA.exists()


def test_trend_without_dates_is_a_user_error(tmp_path, shoppers):
    db = tmp_path / "s.duckdb"
    runner = CliRunner()
    runner.invoke(app, ["import", str(shoppers), "--preset", "online-shoppers", "--db", str(db)])
    out = runner.invoke(app, ["trend", "--db", str(db)])
    assert out.exit_code == 2 and "no attempts have a closed_at" in out.stderr
    report = runner.invoke(app, ["report", "--output", str(tmp_path / "r.html"), "--db", str(db)])
    assert report.exit_code == 0 and (tmp_path / "r.html").exists()  # the report leaves the seasonal picture out
