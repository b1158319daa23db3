"""Betting: strategies on football-data.co.uk files and bet logs, against direct pandas/scipy computations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.domains.betting import bets
from hitrate.ingest import import_files
from hitrate.store.embedded import Store
from tests.conftest import DATA, require

E0 = DATA / "football_data_co_uk_odds" / "E0"
HEADER = "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,FTR,B365H,B365D,B365A\n"


@pytest.fixture(scope="module")
def e0_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not E0.exists():
        require(f"the shared data folder {E0} is missing")
    path = tmp_path_factory.mktemp("e0") / "e0.duckdb"
    with Store(path) as s:
        import_files(s, sorted(E0.glob("*.csv")), preset="football-data")
    return path


def pandas_favourite(files: list[Path]) -> pd.DataFrame:
    """The reference: per season (starting 1 August), the Bet365 favourite's bets, hits, hit rate, mean 1/odds
    and yield, skipping matches with a missing odd or a tie for the lowest odds."""
    frames = []
    for f in files:
        df = pd.read_csv(f, encoding="latin-1")
        df = df[df["Date"].notna() & df["FTR"].notna()]
        frames.append(df.reindex(columns=["Date", "FTR", "B365H", "B365D", "B365A"]))
    df = pd.concat(frames, ignore_index=True)
    df["date"] = pd.to_datetime(df["Date"], format="mixed", dayfirst=True)
    start = np.where(df["date"].dt.month >= 8, df["date"].dt.year, df["date"].dt.year - 1)
    df["season"] = [f"{s}/{(s + 1) % 100:02d}" for s in start]
    odds = df[["B365H", "B365D", "B365A"]].astype(float)
    low = odds.min(axis=1, skipna=False)
    ties = odds.eq(low, axis=0).sum(axis=1)
    ok = odds.notna().all(axis=1) & (ties == 1)
    pick = odds.fillna(np.inf).idxmin(axis=1).str[-1].where(ok)
    df = df.assign(_ok=ok, _low=low, _hit=ok & (df["FTR"] == pick))
    taken = df[df._ok]
    out = taken.groupby("season").agg(bets=("_ok", "size"), hits=("_hit", "sum"), inv=("_low", lambda s: (1 / s).sum()))
    out["returns"] = taken[taken._hit].groupby("season")["_low"].sum()
    out["returns"] = out["returns"].fillna(0.0)
    out["hit_rate"] = out.hits / out.bets
    out["break_even"] = out.inv / out.bets
    out["yield"] = (out.returns - out.bets) / out.bets
    out["skipped"] = df[~df._ok].groupby("season").size().reindex(out.index).fillna(0).astype(int)
    return out


def test_favourite_per_season_matches_pandas_to_4_decimals(e0_store):
    ref = pandas_favourite(sorted(E0.glob("*.csv")))
    with Store(e0_store) as s:
        result = bets(s, strategy="favourite", by=["season"])
    got = {r["season"]: r for r in result.rows}
    assert len(ref) == 21  # 2002/03 onwards (the two oldest files have no Bet365 odds)
    for season, row in ref.iterrows():
        g = got[season]
        assert (g["bets"], g["hits"], g["skipped"]) == (row.bets, row.hits, row.skipped)
        for key in ("hit_rate", "break_even", "yield"):
            assert round(g[key], 4) == round(row[key], 4), (season, key)
    # The oldest seasons import but every match is skipped; 2019/20 ran to 26 July 2020.
    assert got["2000/01"]["bets"] == 0 and got["2000/01"]["skipped"] == 380
    assert got["2019/20"]["bets"] + got["2019/20"]["skipped"] == 380


def test_cli_bets_json_and_table(e0_store):
    runner = CliRunner()
    out = runner.invoke(
        app,
        ["bets", "--strategy", "favourite", "--by", "season", "--format", "json", "--db", str(e0_store)],
        catch_exceptions=False,
    )
    assert out.exit_code == 0
    rows = json.loads(out.stdout)["rows"]
    assert {"season", "bets", "hits", "hit_rate", "break_even", "yield"} <= set(rows[-1])
    table = runner.invoke(
        app, ["bets", "--by", "odds_band", "--db", str(e0_store)], catch_exceptions=False, env={"COLUMNS": "200"}
    )  # a wide terminal: at 80 columns Rich shortens the headers
    assert table.exit_code == 0 and "1.00-1.49" in table.stdout and "break-even" in table.stdout
    trend = runner.invoke(app, ["trend", "--format", "json", "--db", str(e0_store)])  # home-win rate by month
    assert trend.exit_code == 0 and json.loads(trend.stdout)["rows"]
    bad = runner.invoke(app, ["bets", "--by", "nope", "--db", str(e0_store)])
    assert bad.exit_code == 2 and "unknown field 'nope'" in bad.stderr


def write(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="latin-1")
    return path


def test_strategies_skip_ties_and_missing_odds_and_test_against_break_even(store, tmp_path):
    rows = [
        "E0,10/08/19,A,B,1,0,H,1.5,4.0,6.0",  # favourite home, wins at 1.5
        "E0,11/08/19,C,D,0,1,A,2.0,3.5,3.0",  # favourite home, loses
        "E0,12/08/19,E,F,1,1,D,2.5,3.0,2.5",  # tie for lowest: skipped
        "E0,13/08/19,G,H,2,2,D,,3.0,2.5",  # missing odds: skipped
        "E0,26/07/20,I,J,0,2,A,5.0,4.0,1.8",  # 2019/20 still: favourite away, wins at 1.8
        "E0,01/08/20,K,L,1,0,H,1.9,3.4,4.0",  # 2020/21
    ]
    import_files(store, [write(tmp_path / "E0.csv", rows)], preset="football-data")
    fav = {r["season"]: r for r in bets(store, strategy="favourite", by=["season"]).rows}
    s = fav["2019/20"]
    assert (s["bets"], s["hits"], s["skipped"]) == (3, 2, 2)
    assert s["break_even"] == pytest.approx((1 / 1.5 + 1 / 2.0 + 1 / 1.8) / 3)
    assert s["yield"] == pytest.approx((1.5 + 1.8 - 3) / 3)
    fair = np.mean(
        [(1 / o) / sum(1 / x for x in trio) for o, trio in [(1.5, (1.5, 4, 6)), (2.0, (2, 3.5, 3)), (1.8, (5, 4, 1.8))]]
    )
    assert s["break_even_fair"] == pytest.approx(fair)
    test = binomtest(2, 3, p=s["break_even"], alternative="greater")
    assert s["p_value"] == pytest.approx(test.pvalue)
    assert fav["2020/21"]["bets"] == 1
    draw = bets(store, strategy="draw").rows[0]
    assert (draw["bets"], draw["hits"]) == (5, 1)  # the match with a missing odd is skipped
    under = bets(store, strategy="underdog").rows[0]
    assert under["bets"] == 5 and under["hits"] == 1  # the draw at 3.0, highest of 2.5/3.0/2.5


def test_a_bet_log_by_tipster_and_market(store, tmp_path):
    log = write(
        tmp_path / "bets.csv",
        [
            f"b{i},t{i % 2},1x2,{odds},{stake},{res}"
            for i, (odds, stake, res) in enumerate(
                [(2.0, 10, "won"), (2.0, 10, "lost"), (3.0, 5, "won"), (1.5, 20, "lost"), (2.5, 10, "won")]
            )
        ],
        header="id,tipster,market,odds,stake,stage\n",
    )
    import_files(store, [log])
    rows = {r["tipster"]: r for r in bets(store, strategy="log", by=["tipster"]).rows}
    t0 = rows["t0"]  # bets 0, 2, 4: stakes 10, 5, 10; all won
    assert (t0["bets"], t0["hits"]) == (3, 3)
    assert t0["returns"] == pytest.approx(20 + 15 + 25)
    assert t0["yield"] == pytest.approx((60 - 25) / 25)
    assert t0["break_even"] == pytest.approx((1 / 2 + 1 / 3 + 1 / 2.5) / 3)
    assert t0["break_even_fair"] is None
    assert rows["t1"]["yield"] == pytest.approx(-1.0)
    from hitrate.errors import UnknownFieldError

    with pytest.raises(UnknownFieldError, match=r"\(stake \(the stake of each bet\)\)") as info:
        bets(store, strategy="log", stake="wager")
    assert "(--stake (the stake of each bet))" in info.value.render("en", lambda p: f"--{p}")


def test_wrong_strategy_and_missing_odds_field_are_user_errors(store, tmp_path):
    from hitrate.errors import UnknownFieldError, UserInputError

    import_files(store, [write(tmp_path / "x.csv", ["a,won"], header="id,stage\n")])
    with pytest.raises(UserInputError, match="strategy"):
        bets(store, strategy="martingale")
    with pytest.raises(UnknownFieldError, match="odds"):
        bets(store, strategy="log")


def test_reimporting_a_file_with_digit_led_columns_changes_nothing(store, tmp_path):
    """``1XBH`` (a 2024/25 bookmaker column) is the dimension ``_1_xbh``: a second import must not re-add it."""
    path = write(tmp_path / "E0.csv", ["E0,16/08/24,A,B,1,0,H,1.5,4.0,6.0,1.55"], header=HEADER.strip() + ",1XBH\n")
    import_files(store, [path], preset="football-data")
    again = import_files(store, [path], preset="football-data")
    assert (again.imported, again.unchanged) == (0, 1)


def test_the_bets_result_face(store, tmp_path):
    """summary, to_frame, to_dict, _repr_html_ and plot; the sentences in English and Danish."""
    from hitrate.domains import BetsResult
    from hitrate.domains import bets as bets_face

    rows = [
        "E0,10/08/19,A,B,1,0,H,1.5,4.0,6.0",
        "E0,11/08/19,C,D,0,1,A,2.0,3.5,3.0",
        "E0,26/07/20,I,J,0,2,A,5.0,4.0,1.8",
        "E0,01/08/20,K,L,1,0,H,1.9,3.4,4.0",
    ]
    import_files(store, [write(tmp_path / "E0.csv", rows)], preset="football-data")
    result = bets_face(store, strategy="favourite", by=["season"])
    assert isinstance(result, BetsResult)
    data = result.to_dict()
    assert list(data) == ["strategy", "by", "method", "warnings", "rows", "problems"]
    assert json.loads(json.dumps(data)) == data and data["warnings"] == [str(w) for w in result.warnings]
    assert data["warnings"][0] == "season=2019/20: only 3 bets; the test against break-even has little power"
    assert result.warnings[0].render("da") == "season=2019/20: kun 3 væddemål; testen mod break-even har ringe styrke"
    assert result.method.render("da").startswith("hitrate med et 95 %-Wilson-scoreinterval")
    frame = result.to_frame()
    assert list(frame["season"]) == ["2019/20", "2020/21"] and list(frame["bets"]) == [3, 1]
    summary = result.summary().splitlines()
    assert summary[:2] == [
        "Backing the favourite, by season",
        "3 of 4 bets won (75.0%) against a break-even rate of 56.2%; yield 30.0%",
    ]
    assert result.summary("da").splitlines()[1].startswith("3 af 4 væddemål vundet (75,0 %)")
    assert "<table" in result._repr_html_()
    fig = result.plot()
    assert list(fig.data[0].x) == ["2019/20", "2020/21"] and list(fig.data[1].y) == list(frame["break_even"])
    assert fig.data[1].name == "break-even" and result.plot("da").data[0].name == "hitrate"
