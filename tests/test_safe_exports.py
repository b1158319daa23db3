"""Exports safe to open (issue 16): every CSV file hitrate writes gives text a spreadsheet would run (a rep, lead
or product named ``=HYPERLINK(...)``, ``+1+1``, ``@SUM(1)``, ``-2+3``) a leading ``'``, and numbers (a -5
amount as well) stay numbers. Each writer is tested: ``--format csv`` of rates, benchmark, trend, forecast and
forecast backtest; ``score predict --out`` and the library's ``score_predict(out=...)``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import hitrate
from hitrate.cli import app
from hitrate.report.safe_cells import runs_in_a_spreadsheet, safe_cell, safe_frame, safe_records
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo

#: Names a spreadsheet would run, and what the file must hold instead.
FORMULAS = {
    '=HYPERLINK("http://x","y")': '\'=HYPERLINK("http://x","y")',
    "+1+1": "'+1+1",
    "@SUM(1)": "'@SUM(1)",
    "-2+3": "'-2+3",
}
NOT_FORMULAS = ["-5", "+1.5e3", "-0.25", "Team North", "", "a=b", "50%"]

runner = CliRunner()


def test_text_that_runs_gets_a_quote_and_nothing_else_changes() -> None:
    for given, written in FORMULAS.items():
        assert runs_in_a_spreadsheet(given) and safe_cell(given) == written
    for lead in ("\tx", "\r=1", "=", "-", "@"):
        assert safe_cell(lead) == "'" + lead
    for given in NOT_FORMULAS:
        assert not runs_in_a_spreadsheet(given) and safe_cell(given) == given
    for number in (-5, -5.0, np.float64(-2.5), None, np.nan):
        assert safe_cell(number) is number
    assert list(safe_records([{"rep": "=1+1", "amount": -5}])) == [{"rep": "'=1+1", "amount": -5}]


def test_a_frame_changes_only_its_text_cells_and_keeps_numbers_numeric() -> None:
    frame = pd.DataFrame(
        {
            "id": [*FORMULAS, "-5"],
            "amount": [-5, 1, 2, 3, -7],
            "mixed": [-5.0, "=1", None, np.nan, "ok"],
            "product": pd.Categorical(["@SUM(1)", "a", "b", "c", "d"]),
            "text": pd.array(["+1+1", None, "c", "-2", "x"], dtype="string"),
        }
    )
    out = safe_frame(frame)
    assert list(out["id"]) == [*FORMULAS.values(), "-5"]
    assert out["amount"].dtype == frame["amount"].dtype and list(out["amount"]) == [-5, 1, 2, 3, -7]
    assert out["mixed"].iloc[0] == -5.0 and out["mixed"].iloc[1] == "'=1" and out["mixed"].iloc[2] is None
    assert list(out["product"])[:2] == ["'@SUM(1)", "a"]
    assert out["text"].iloc[0] == "'+1+1" and out["text"].iloc[3] == "-2"
    assert frame["id"].iloc[0] == '=HYPERLINK("http://x","y")', "the caller's frame is not changed"
    clean = pd.DataFrame({"a": [1.0, -2.0], "b": ["x", "-3"]})
    assert safe_frame(clean) is clean
    assert list(safe_frame(pd.DataFrame({"=1": [1]})).columns) == ["'=1"]


def cells(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo store whose first four reps, one product and four deal ids are formulas; one won deal of
    the first rep has the amount -5."""
    path = tmp_path_factory.mktemp("safe") / "hitrate.duckdb"
    with Store(path) as store:
        build_demo(store, seed=4, n_opportunities=600, force=True)
        reps = [r for (r,) in store.fetch("SELECT rep FROM reps ORDER BY rep LIMIT 4")]
        for old, new in zip(reps, FORMULAS, strict=True):
            store.raw.execute("UPDATE opportunities SET rep = ? WHERE rep = ?", [new, old])
            store.raw.execute("UPDATE reps SET rep = ? WHERE rep = ?", [new, old])
        store.raw.execute("UPDATE opportunities SET product = '@SUM(1)' WHERE product = 'Analytics'")
        ids = [i for (i,) in store.fetch("SELECT id FROM opportunities ORDER BY id LIMIT 5")]
        for old, new in zip(ids, [*FORMULAS, "-5"], strict=True):
            store.raw.execute("UPDATE opportunities SET id = ? WHERE id = ?", [new, old])
        won = store.fetch(
            "SELECT min(id) FROM opportunities WHERE rep = ? AND outcome = 'won'", ['=HYPERLINK("http://x","y")']
        )[0][0]
        store.raw.execute("UPDATE opportunities SET amount = -5 WHERE id = ?", [won])
        store.set_meta("test_won_id", won)
    return path


def run(path: Path, *args: str) -> str:
    result = runner.invoke(app, [*args, "--db", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def assert_safe(rows: list[dict[str, str]], column: str) -> None:
    """Every formula name in ``column`` came out with its quote, and no cell anywhere would run."""
    written = {r[column] for r in rows}
    assert set(FORMULAS.values()) <= written, written
    assert not [c for r in rows for c in r.values() if runs_in_a_spreadsheet(c)]


@pytest.mark.parametrize(
    "args",
    [
        ["rates", "--by", "rep"],
        ["benchmark", "--by", "rep"],
        ["trend", "--by", "rep", "--period", "month"],
        ["forecast", "--by", "rep", "--as-of", "2024-06-01"],
        ["forecast", "backtest", "--from", "2024-03-01", "--to", "2024-04-01", "--by", "rep"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_format_csv_writes_formula_names_as_text(
    store_path: Path, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `forecast backtest` opens the default store (in the working folder) in its group before reading --db
    monkeypatch.chdir(store_path.parent)
    rows = cells(run(store_path, *args, "--format", "csv"))
    assert_safe(rows, "rep")


def test_format_csv_keeps_a_negative_amount_a_number(store_path: Path) -> None:
    with Store(store_path, read_only=True) as store:
        won = store.meta("test_won_id")
    rows = cells(run(store_path, "rates", "--by", "rep", "--by", "product", "--where", f"id={won}", "--format", "csv"))
    assert [(r["rep"], float(r["amount_won"])) for r in rows] == [('\'=HYPERLINK("http://x","y")', -5.0)]
    rows = cells(run(store_path, "rates", "--by", "product", "--format", "csv"))
    assert "'@SUM(1)" in {r["product"] for r in rows}


@pytest.fixture(scope="module")
def model(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import sklearn.ensemble  # noqa: F401  (loaded first: threadpool_limits limits the libraries loaded)
    from threadpoolctl import threadpool_limits

    path = tmp_path_factory.mktemp("model") / "m.skops"
    with threadpool_limits(1):  # on a busy machine the trees' OpenMP threads slow the small fit down 4 to 5 times
        run(store_path, "score", "train", "--model", str(path))
    return path


def assert_scores_safe(path: Path) -> None:
    rows = cells(path.read_text(encoding="utf-8"))
    assert_safe(rows, "id")
    assert "-5" in {r["id"] for r in rows}, "an id that is a plain number stays as it is"
    assert all(0 <= float(r["probability"]) <= 1 for r in rows)
    assert pd.read_csv(path)["probability"].dtype == np.float64


def test_score_predict_out_csv_writes_formula_ids_as_text(store_path: Path, model: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    run(store_path, "score", "predict", "--model", str(model), "--out", str(out))
    assert_scores_safe(out)


def test_library_score_predict_out_csv_writes_formula_ids_as_text(
    store_path: Path, model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "scores.csv"
    with Store(store_path) as store:
        result = hitrate.score_predict(store, model=model, out=out)
    assert_scores_safe(out)
    assert '=HYPERLINK("http://x","y")' in set(result.scores["id"]), "the result itself keeps the ids as they are"
    json_out = tmp_path / "scores.json"
    result.write(json_out)
    assert '"=HYPERLINK(' in json_out.read_text(encoding="utf-8"), "JSON is data, not a spreadsheet: unchanged"


def test_score_predict_out_with_another_suffix_is_refused(store_path: Path, model: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["score", "predict", "--model", str(model), "--out", str(tmp_path / "s.xls"), "--db", str(store_path)]
    )
    assert result.exit_code == 2 and "--out" in result.stderr and ".csv" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "s.xls").exists()
