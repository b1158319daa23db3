"""Excel out (issue 21): ``--format xlsx --output FILE`` on every table command writes a workbook with a sheet per
table, numbers as numeric cells equal to the JSON's, percentages and money formatted, the header row frozen, a
notes sheet (definitions hash, command, method, warnings) and no cell a spreadsheet would run; ``--output`` is the
one name of the output file, the older ``--out`` a hidden alias."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.report.safe_cells import runs_in_a_spreadsheet
from hitrate.report.workbook import (
    COUNT_FORMAT,
    PERCENT_FORMAT,
    DataTable,
    WorkbookNotes,
    money_format,
    sheet_name,
    write_workbook,
)
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo

runner = CliRunner()
HOSTILE = '=HYPERLINK("http://x","y")'
PLUS = "+1+1"

#: Each command: its arguments, the sheets it writes, and per sheet where the JSON holds the same rows.
COMMANDS: dict[str, tuple[list[str], dict[str, str]]] = {
    "rates": (["rates", "--by", "rep"], {"Hit rates": "rows"}),
    "benchmark": (["benchmark", "--by", "rep"], {"Benchmark": "rows"}),
    "trend": (["trend", "--period", "month"], {"Trend": "rows", "Seasonal factors": ""}),
    "compare": (["compare", "Team North", "Team South", "--by", "team"], {"Comparison": ""}),
    "funnel": (["funnel"], {"Stage funnel": "rows"}),
    "reasons": (["reasons", "--by", "rep"], {"Loss reasons": "rows"}),
    "forecast": (["forecast", "--as-of", "2024-06-01", "--by", "team"], {"Forecast": "rows"}),
    "forecast backtest": (
        ["forecast", "backtest", "--from", "2024-03-01", "--to", "2024-04-01"],
        {"Backtest": "points", "Accuracy": "summary"},
    ),
}


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo store: two reps named as formulas, every deal in DKK."""
    path = tmp_path_factory.mktemp("xlsx") / "hitrate.duckdb"
    with Store(path) as store:
        build_demo(store, seed=5, n_opportunities=500, force=True)
        reps = [r for (r,) in store.fetch("SELECT rep FROM reps ORDER BY rep LIMIT 2")]
        for old, new in zip(reps, [HOSTILE, PLUS], strict=True):
            store.raw.execute("UPDATE opportunities SET rep = ? WHERE rep = ?", [new, old])
            store.raw.execute("UPDATE reps SET rep = ? WHERE rep = ?", [new, old])
        store.raw.execute("ALTER TABLE opportunities ADD COLUMN currency VARCHAR")
        store.raw.execute("UPDATE opportunities SET currency = 'dkk'")
    return path


def invoke(store_path: Path, *args: str) -> Any:
    return runner.invoke(app, [*args, "--db", str(store_path)], catch_exceptions=False)


def run(store_path: Path, *args: str) -> str:
    result = invoke(store_path, *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def made(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Each command's workbook and its JSON output."""
    folder = tmp_path_factory.mktemp("books")
    out: dict[str, tuple[Path, dict[str, Any]]] = {}
    for name, (args, _) in COMMANDS.items():
        book = folder / f"{name.replace(' ', '-')}.xlsx"
        result = invoke(store_path, *args, "--format", "xlsx", "--output", str(book))
        assert result.exit_code == 0, result.stderr
        assert result.stdout == "" and f"Written to {book}." in result.stderr
        out[name] = (book, json.loads(run(store_path, *args, "--format", "json")))
    return out


def sheet_rows(sheet: Worksheet) -> Iterator[dict[str, Any]]:
    """The sheet's rows as ``{header: cell}``."""
    rows = sheet.iter_rows()
    heads = [c.value for c in next(rows)]
    for row in rows:
        yield dict(zip(heads, row, strict=True))


def json_rows(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The JSON's rows a sheet holds: a list, a mapping of methods to values, or (``""``) the document itself."""
    if not key:
        flat = dict(data)
        for side in ("a", "b"):
            if isinstance(data.get(side), dict):
                flat.update({side: data[side]["label"], **{f"{k}_{side}": v for k, v in data[side].items()}})
        return [flat]
    found = data[key]
    if isinstance(found, dict):
        return [{"method": m, **values} for m, values in found.items()]
    return list(found)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_table_command_writes_its_tables_as_numbers_with_a_frozen_header(
    name: str, made: dict[str, tuple[Path, dict[str, Any]]]
) -> None:
    path, data = made[name]
    sheets = COMMANDS[name][1]
    book = load_workbook(path)
    expected = [s for s in sheets if s != "Seasonal factors" or data.get("seasonal_factors")]
    assert book.sheetnames == [*expected, "Notes"]
    compared = 0
    for title in expected:
        sheet = book[title]
        assert sheet.freeze_panes == "A2"
        assert all(c.font.bold for c in sheet[1])
        if not sheets[title] and title == "Seasonal factors":
            factors = [r for r in sheet_rows(sheet)]
            assert len(factors) == len(data["seasonal_factors"])
            for r in factors:
                assert r["factor"].value == pytest.approx(data["seasonal_factors"][str(r["period_of_year"].value)])
                assert r["rate_effect"].number_format == PERCENT_FORMAT
            continue
        rows = list(sheet_rows(sheet))
        want = json_rows(data, sheets[title])
        assert len(rows) == len(want) > 0
        for got, row in zip(rows, want, strict=True):
            for key, value in row.items():
                if key not in got or isinstance(value, (bool, dict, list)):
                    continue
                cell = got[key]
                if isinstance(value, (int, float)):
                    assert cell.data_type == "n", (title, key, cell.value)
                    assert cell.value == pytest.approx(value, rel=1e-12), (title, key)
                    compared += 1
                elif value is None:
                    assert cell.value is None
    assert compared > 0


def formats(path: Path, sheet: str) -> dict[str, set[str]]:
    """Each column's number formats over its numeric cells."""
    out: dict[str, set[str]] = {}
    for row in sheet_rows(load_workbook(path)[sheet]):
        for key, cell in row.items():
            if cell.data_type == "n" and cell.value is not None:
                out.setdefault(key, set()).add(cell.number_format)
    return out


def test_rates_are_percentages_counts_whole_numbers_and_amounts_money_in_the_stores_currency(
    made: dict[str, tuple[Path, dict[str, Any]]],
) -> None:
    rates = formats(made["rates"][0], "Hit rates")
    for column in ("hit_rate", "ci_low", "ci_high", "value_hit_rate"):
        assert rates[column] == {PERCENT_FORMAT}, column
    assert rates["attempts"] == rates["hits"] == {COUNT_FORMAT}
    assert rates["amount_won"] == {money_format("DKK")} == {"#,##0.00 [$DKK]"}
    benchmark = formats(made["benchmark"][0], "Benchmark")
    assert benchmark["shrunk_rate"] == benchmark["funnel95_low"] == {PERCENT_FORMAT}
    assert PERCENT_FORMAT not in benchmark["p_value"]
    forecast = formats(made["forecast"][0], "Forecast")
    assert forecast["expected_amount"] == forecast["amount_low"] == {"#,##0.00 [$DKK]"}
    assert formats(made["funnel"][0], "Stage funnel")["win_rate"] == {PERCENT_FORMAT}
    assert formats(made["reasons"][0], "Loss reasons")["share"] == {PERCENT_FORMAT}
    assert formats(made["compare"][0], "Comparison")["change"] == {PERCENT_FORMAT}
    assert formats(made["forecast backtest"][0], "Accuracy")["mape"] == {PERCENT_FORMAT}


def notes(path: Path | io.BytesIO) -> dict[str, list[str]]:
    sheet = load_workbook(path)["Notes"]
    assert sheet.freeze_panes == "A2"
    out: dict[str, list[str]] = {}
    for what, value in sheet.iter_rows(min_row=2, values_only=True):
        out.setdefault(str(what), []).append(str(value))
    return out


def test_the_notes_sheet_holds_the_definitions_command_method_and_warnings(
    store_path: Path, made: dict[str, tuple[Path, dict[str, Any]]]
) -> None:
    in_force = made["rates"][1]["definitions"]["hash"]
    for name, (path, data) in made.items():
        said = notes(path)
        wanted = (data.get("definitions") or {}).get("hash", in_force)
        assert said["Definitions (hash)"] == [wanted], name
        assert said["Definitions (name)"] == ["default"], name
        command = said["Command"][0]
        assert command.startswith(f"hitrate {name} ") and f"--output {path}" in command, command
        assert f"--db {store_path}" in command
        assert said["Currency"] == ["DKK"]
        for warning in data.get("warnings", []):
            assert warning in said["Note"], (name, warning)
        if name != "forecast backtest":
            assert said["Method"], name
    assert "Wilson score interval (95%)" in notes(made["rates"][0])["Method"][0]
    assert "Wilson score interval (95%)" in notes(made["funnel"][0])["Method"][0]
    assert "Newcombe" in notes(made["compare"][0])["Method"][0]
    assert notes(made["forecast"][0])["Method"] == [made["forecast"][1]["method"]]
    assert "'Team North' 'Team South'" in notes(made["compare"][0])["Command"][0]


def test_no_cell_runs_and_a_formula_named_rep_is_neutralised_as_in_csv(
    made: dict[str, tuple[Path, dict[str, Any]]],
) -> None:
    for name, (path, _) in made.items():
        for sheet in load_workbook(path):
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (name, sheet.title, cell.coordinate, cell.value)
                    assert not runs_in_a_spreadsheet(cell.value), (name, sheet.title, cell.value)
    reps = {r["rep"].value for r in sheet_rows(load_workbook(made["rates"][0])["Hit rates"])}
    assert {"'" + HOSTILE, "'" + PLUS} <= reps
    reasons = {r["rep"].value for r in sheet_rows(load_workbook(made["reasons"][0])["Loss reasons"])}
    assert "'" + HOSTILE in reasons


def test_sheet_names_and_notes_speak_the_command_lines_language(store_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "udvikling.xlsx"
    result = runner.invoke(
        app, ["--lang", "da", "trend", "--format", "xlsx", "--output", str(path), "--db", str(store_path)]
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(path)
    assert book.sheetnames[0] == "Udvikling" and book.sheetnames[-1] == "Noter"
    assert "Definitioner (hash)" in {r[0] for r in book["Noter"].iter_rows(values_only=True)}


def test_output_with_another_format_writes_the_file_instead_of_stdout(store_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    result = invoke(store_path, "rates", "--by", "team", "--format", "csv", "--output", str(path))
    assert result.exit_code == 0 and result.stdout == ""
    assert path.read_text(encoding="utf-8") == run(store_path, "rates", "--by", "team", "--format", "csv")
    path = tmp_path / "funnel.json"
    assert invoke(store_path, "funnel", "--format", "json", "--output", str(path)).stdout == ""
    assert json.loads(path.read_text(encoding="utf-8"))["rows"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["rates", "--format", "xlsx"], "--output FILE"),
        (["reasons", "--format", "xlsx"], "--output FILE"),
        (["rates", "--format", "xlsx", "--output", "{tmp}/no/such/folder/r.xlsx"], "cannot be written"),
        (["funnel", "--format", "xlsx", "--output", "{tmp}"], "cannot be written"),
        (["rates", "--format", "json", "--output", "{tmp}/no/such/folder/r.json"], "cannot be written"),
    ],
    ids=["rates no output", "reasons no output", "missing folder", "a folder", "json missing folder"],
)
def test_xlsx_without_output_and_an_unwritable_path_are_user_errors(
    store_path: Path, tmp_path: Path, args: list[str], says: str
) -> None:
    result = invoke(store_path, *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert result.exit_code == 2, result.stderr
    assert "--output" in result.stderr and says in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_a_workbook_without_output_is_said_before_the_data_are_opened(tmp_path: Path) -> None:
    for args in (["forecast", "backtest", "--from", "2024-01-01", "--to", "2024-06-01"], ["funnel"], ["trend"]):
        result = invoke(tmp_path / "no-such-store.duckdb", *args, "--format", "xlsx")
        assert result.exit_code == 2 and "--format xlsx" in result.stderr and "--output FILE" in result.stderr, args
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def model(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import sklearn.ensemble  # noqa: F401  (loaded first: threadpool_limits limits the libraries loaded)
    from threadpoolctl import threadpool_limits

    path = tmp_path_factory.mktemp("model") / "m.skops"
    with threadpool_limits(1):
        run(store_path, "score", "train", "--model", str(path))
    return path


def test_score_predict_writes_a_workbook_and_keeps_out_as_an_alias(
    store_path: Path, model: Path, tmp_path: Path
) -> None:
    from threadpoolctl import threadpool_limits

    book, old = tmp_path / "scores.xlsx", tmp_path / "scores.data"
    with threadpool_limits(1):  # the model's threads only slow a small prediction down on a busy machine
        run(store_path, "score", "predict", "--model", str(model), "--output", str(book))
        run(store_path, "score", "predict", "--model", str(model), "--out", str(old), "--format", "xlsx")
    sheets = load_workbook(book)
    assert sheets.sheetnames == ["Lead scores", "Notes"]
    rows = list(sheet_rows(sheets["Lead scores"]))
    again = list(sheet_rows(load_workbook(io.BytesIO(old.read_bytes()))["Lead scores"]))
    assert [r["id"].value for r in rows] == [r["id"].value for r in again] and len(rows) > 100
    assert {r["probability"].number_format for r in rows} == {PERCENT_FORMAT}
    assert all(r["probability"].data_type == "n" and 0 <= r["probability"].value <= 1 for r in rows)
    said = notes(book)
    assert said["Definitions (hash)"] and said["Command"][0].startswith("hitrate score predict ")
    assert "--out" in notes(io.BytesIO(old.read_bytes()))["Command"][0].split()
    new = tmp_path / "new.csv"
    both = invoke(store_path, "score", "predict", "--model", str(model), "--output", str(new), "--out", str(old))
    assert both.exit_code == 2 and "--out" in both.stderr and "Traceback" not in both.stderr
    neither = invoke(store_path, "score", "predict", "--model", str(model))
    assert neither.exit_code == 2 and "--output FILE" in neither.stderr


def test_hidden_aliases_stay_out_of_help() -> None:
    import re

    for args, old in ((["score", "predict"], "--out"), (["demo"], "--report"), (["coach"], "--html")):
        shown = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "200"}).stdout
        assert re.search(r"│\s+--output\s", shown), args
        assert not re.search(rf"│\s+{old}\s", shown), args


def test_the_writer_keeps_numbers_numbers_and_names_sheets_safely() -> None:
    rows = [{"name": "@SUM(1)", "n": 3, "share": 0.25, "amount": -5.0, "tags": ["a", "=b"], "missing": None}]
    table = DataTable("rates", ("name", "n", "share", "amount", "tags", "missing"), rows, frozenset({"share"}),
                      money=frozenset({"amount"}))  # fmt: skip
    buffer = io.BytesIO()
    write_workbook([table, table], WorkbookNotes(command="=1+1", currency="EUR"), buffer, lang="en")
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["Hit rates", "Hit rates (2)", "Notes"]
    row = [c for c in book["Hit rates"][2]]
    assert [c.value for c in row] == ["'@SUM(1)", 3, 0.25, -5, "a; =b", None]
    assert [c.number_format for c in row[1:4]] == [COUNT_FORMAT, PERCENT_FORMAT, "#,##0.00 [$EUR]"]
    assert dict(book["Notes"].iter_rows(min_row=2, max_row=2, values_only=True))["Command"] == "'=1+1"
    assert money_format("kr.") == money_format(None) == "#,##0.00"
    taken: set[str] = set()
    assert sheet_name("no such key: [x]*?", "en", taken) == "no such key   x"
    assert len(sheet_name("a" * 40, "en", taken)) == 31


def test_the_command_line_hides_a_password_in_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from hitrate.cli.output import command_line

    monkeypatch.setattr("sys.argv", ["hitrate", "rates", "--engine", "postgresql://ann:secret@db/sales", "--by", "x y"])
    assert command_line() == "hitrate rates --engine 'postgresql://ann:***@db/sales' --by 'x y'"
