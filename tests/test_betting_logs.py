"""Bet logs as bettors write them: odds in every format, half results, voids, dead heats, bad rows.

Every expected number is computed by hand from the bets in the test (exact fractions where it matters), never
by hitrate's own code.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.domains.betting import bets
from hitrate.domains.odds import decimal_odds_expr, from_decimal, to_decimal
from hitrate.ingest import import_files

LOG_HEADER = "id,date,tipster,odds,stake,result\n"


def write_log(path: Path, rows: list[str]) -> Path:
    path.write_text(LOG_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def load_log(store, path: Path) -> None:
    import_files(store, [path], mapping={"stage": "result"}, won=["won"], lost=["lost"])


@pytest.mark.parametrize(
    ("text", "fmt", "decimal"),
    [
        ("2.10", "auto", 2.1),
        ("2,10", "auto", 2.1),
        ("5/2", "auto", 3.5),
        ("evens", "auto", 2.0),
        ("1/4", "fractional", 1.25),
        ("+300", "auto", 4.0),
        ("-150", "auto", 1 + 100 / 150),
        ("-100", "american", 2.0),
        ("300", "american", 4.0),
        ("300", "decimal", 300.0),
        ("1.0", "auto", None),  # decimal odds must be above 1
        ("0.9", "auto", None),
        ("+50", "auto", None),  # American odds are never between -100 and +100
        ("5/2", "decimal", None),
        ("2.10", "fractional", None),
        ("abc", "auto", None),
    ],
)
def test_each_format_converts_exactly(text, fmt, decimal):
    """Decimal = 1 + 5/2 for fractional 5/2; 1 + 300/100 for +300; 1 + 100/150 for -150 (by hand)."""
    got = to_decimal(text, fmt)
    assert got == (None if decimal is None else pytest.approx(decimal, rel=1e-15))


def _engine(values: list[str], fmt: str) -> list[float | None]:
    t = ibis.memtable({"odds": values, "i": list(range(len(values)))})
    out = t.mutate(d=decimal_odds_expr(t.odds, fmt)).order_by("i").d.to_pyarrow().to_pylist()
    return [None if v is None else float(v) for v in out]


def test_the_engine_reads_odds_as_python_does_and_a_signed_column_makes_plain_numbers_american():
    """In a column with ``-150``, ``300`` is +300 (decimal 4.0); without signed values it stays decimal 300."""
    signed = ["-150", "300", "2.5", "5/2", "evens", "0.9", "x"]
    assert _engine(signed, "auto") == pytest.approx([1 + 100 / 150, 4.0, 2.5, 3.5, 2.0, None, None], nan_ok=True)
    assert _engine(["300", "2.5"], "auto") == [300.0, 2.5]
    for fmt in ("decimal", "fractional", "american"):
        mixed = ["2.10", "2,10", "5/2", "+300", "-150", "300", "1.0", "evens"]
        assert _engine(mixed, fmt) == [to_decimal(v, fmt) for v in mixed]


@settings(max_examples=25, deadline=None)
@given(
    st.fractions(min_value=Fraction(101, 100), max_value=Fraction(1000), max_denominator=200),
    st.sampled_from(["decimal", "fractional", "american"]),
)
def test_round_trip_between_formats(decimal, fmt):
    """Any decimal price written as fractional or American odds reads back as the same price (to 1e-12),
    in Python and in the engine."""
    price = float(decimal)
    written = from_decimal(price, fmt)
    assert to_decimal(written, fmt) == pytest.approx(price, rel=1e-12)
    assert to_decimal(written, "auto") == pytest.approx(price, rel=1e-12)
    assert _engine([written], fmt)[0] == pytest.approx(price, rel=1e-12)


def test_american_odds_are_not_read_as_decimal(store, tmp_path):
    """The probe's log: American odds read as decimal gave a yield of thousands of percent.

    By hand: +300 → 4.0, -150 → 5/3, +120 → 2.2, -200 → 1.5; stakes 1; won, lost, won, won.
    break-even = (1/4 + 3/5 + 1/2.2 + 2/3) / 4; returns 4 + 2.2 + 1.5 = 7.7; yield = (7.7 - 4) / 4 = 92.5%.
    """
    rows = ["1,2024-01-05,A,+300,1,won", "2,2024-01-06,A,-150,1,lost", "3,2024-01-07,A,+120,1,won",
            "4,2024-01-08,A,-200,1,won"]  # fmt: skip
    load_log(store, write_log(tmp_path / "us.csv", rows))
    row = bets(store).rows[0]
    assert row["bets"] == 4 and row["hits"] == 3
    assert row["break_even"] == pytest.approx((1 / 4 + 3 / 5 + 1 / 2.2 + 2 / 3) / 4, rel=1e-12)
    assert row["yield"] == pytest.approx((7.7 - 4) / 4, rel=1e-12)
    assert row["p_value"] == pytest.approx(binomtest(3, 4, row["break_even"], alternative="greater").pvalue)


def test_half_results_voids_and_dead_heats_are_settled_exactly(store, tmp_path):
    """Asian handicap and dead heats, by hand (stake s, decimal odds o):

    won 2.0×10 → returns 20; lost 1.8×10 → 0; half-win 1.9×10 → 5×1.9 + 5 = 14.5;
    half-lose 2.2×10 → 5; void 3.0×10 → left out; dead heat 6.0×10, 2 tied (dead_heat column) → 5×6 = 30.
    Bets = 1 + 1 + ½ + ½ + 1 = 4, hits = 1 + ½ + ½ = 2, staked 50, returned 69.5, yield 39%.
    With the half results and the dead heat read as open (the old behaviour): 2 bets, yield (20 - 20)/20 = 0%.
    """
    path = tmp_path / "ah.csv"
    path.write_text(
        "id,odds,stake,result,dead_heat\n"
        "a,2.0,10,won,\nb,1.8,10,lost,\nc,1.9,10,half-win,\nd,2.2,10,Half Lose,\n"
        "e,3.0,10,void,\nf,6.0,10,dead heat,2\n",
        encoding="utf-8",
    )
    load_log(store, path)
    row = bets(store, strategy="log").rows[0]
    assert (row["bets"], row["hits"], row["settled"], row["void"]) == (4, 2, 5, 1)
    assert row["stakes"] == pytest.approx(50) and row["returns"] == pytest.approx(69.5)
    assert row["yield"] == pytest.approx(19.5 / 50)
    weights = {2.0: 1, 1.8: 1, 1.9: 0.5, 2.2: 0.5, 6.0: 1}
    assert row["break_even"] == pytest.approx(sum(w / o for o, w in weights.items()) / 4)
    # Whole counts: the beta forms equal scipy's exact binomial test and Clopper-Pearson interval.
    assert row["p_value"] == pytest.approx(binomtest(2, 4, row["break_even"], alternative="greater").pvalue)
    ci = binomtest(2, 4).proportion_ci(method="exact")
    assert (row["exact_ci_low"], row["exact_ci_high"]) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_bad_odds_and_stakes_are_left_out_by_row_with_the_reason(store, tmp_path):
    rows = ["1,2024-01-05,A,0.9,1,won", "2,2024-01-06,A,1.0,1,lost", "3,2024-01-07,A,2.0,-5,won",
            "4,2024-01-08,A,two,1,lost", "5,2024-01-09,A,2.5,1,won", "6,2024-01-10,A,2.5,1,pending"]  # fmt: skip
    load_log(store, write_log(tmp_path / "bad.csv", rows))
    result = bets(store, strategy="log")
    row = result.rows[0]
    assert (row["bets"], row["invalid"], row["open"], row["skipped"]) == (1, 4, 1, 5)
    problems = {p["problem"]: p for p in result.problems}
    assert problems["not_above_one"]["count"] == 2
    assert [e["id"] for e in problems["not_above_one"]["examples"]] == ["1", "2"]
    assert problems["stake_not_positive"]["examples"] == [{"id": "3", "odds": "2.0", "stake": "-5"}]
    assert problems["unreadable"]["count"] == 1
    assert "2 bets left out: decimal odds must be above 1.0 (e.g. 1 (0.9), 2 (1.0))" in result.to_dict()["warnings"]
    assert any("indsats" in w.render("da") for w in result.warnings)


def test_a_log_is_recognised_without_strategy_and_its_date_column_gives_seasons(store, tmp_path):
    rows = ["1,2024-07-30,A,2.0,1,won", "2,2024-08-02,A,2.0,1,lost", "3,2025-03-01,B,5/2,1,won"]
    load_log(store, write_log(tmp_path / "log.csv", rows))
    result = bets(store, by=["season"])
    assert result.strategy == "log"
    assert str(result.warnings[0]).startswith("read as a bet log")
    assert {r["season"]: r["bets"] for r in result.rows} == {"2023/24": 1, "2024/25": 2}


def test_cli_odds_format_profit_and_a_store_without_odds(store, tmp_path):
    db = str(tmp_path / "cli.duckdb")
    path = write_log(tmp_path / "frac.csv", ["1,2024-01-05,A,6/4,2,won", "2,2024-01-06,A,11/10,2,lost"])
    runner = CliRunner()
    imported = runner.invoke(app, ["import", str(path), "--map", "stage=result", "--won", "won", "--lost", "lost",
                                   "--db", db])  # fmt: skip
    assert imported.exit_code == 0, imported.output
    out = runner.invoke(app, ["bets", "--odds-format", "fractional", "--format", "json", "--db", db])
    row = json.loads(out.stdout)["rows"][0]
    assert row["returns"] == pytest.approx(2 * 2.5) and row["profit"] == pytest.approx(1.0)
    table = runner.invoke(app, ["bets", "--db", db], env={"COLUMNS": "250"})
    assert "95% Wilson interval" in table.stdout and "profit (units)" in table.stdout and "1.00" in table.stdout
    decimal_only = runner.invoke(app, ["bets", "--odds-format", "decimal", "--format", "json", "--db", db])
    assert json.loads(decimal_only.stdout)["rows"][0]["invalid"] == 2
    empty = tmp_path / "none.csv"
    empty.write_text("id,stage\na,won\n", encoding="utf-8")
    other = str(tmp_path / "none.duckdb")
    runner.invoke(app, ["import", str(empty), "--db", other])
    refused = runner.invoke(app, ["bets", "--db", other])
    assert refused.exit_code == 2 and "home_odds" in refused.stderr and "--strategy" in refused.stderr
