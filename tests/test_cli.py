"""The CLI, in-process: exact JSON keys, clear errors without tracebacks, every command working."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.store.embedded import Store

runner = CliRunner()


def run(*args: str, db: Path | None = None) -> tuple[int, str, str]:
    argv = [*args]
    if db is not None:
        argv += ["--db", str(db)]
    result = runner.invoke(app, argv, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "cli.duckdb"


def test_import_then_rates_json(db, maven_dir):
    code, out, err = run(
        "import", str(maven_dir / "sales_pipeline.csv"), "--preset", "maven", "--format", "json", db=db
    )
    assert code == 0, err
    rep = json.loads(out)
    assert {k: rep[k] for k in ("read", "imported", "updated", "unchanged", "quarantined")} == {
        "read": 8800,
        "imported": 8800,
        "updated": 0,
        "unchanged": 0,
        "quarantined": 0,
    }
    assert rep["files"][0]["table"] == "opportunities"
    code, out, err = run("rates", "--by", "rep", "--format", "json", db=db)
    assert code == 0
    data = json.loads(out)  # stdout carries only the JSON
    assert len(data["definitions"]["hash"]) == 12
    assert sum(r["attempts"] for r in data["rows"]) == 6711
    assert set(data["rows"][0]) == {
        "rep",
        "attempts",
        "hits",
        "hit_rate",
        "ci_low",
        "ci_high",
        "amount_won",
        "value_hit_rate",
    }
    assert "says nothing" in err  # the value-rate warning goes to stderr


def test_rates_period_where_and_csv(db, maven_dir):
    run("import", str(maven_dir / "sales_pipeline.csv"), "--preset", "maven", db=db)
    code, out, _ = run(
        "rates", "--by", "rep", "--period", "quarter", "--where", "rep=Moses Frase", "--format", "json", db=db
    )
    rows = json.loads(out)["rows"]
    assert {r["rep"] for r in rows} == {"Moses Frase"}
    assert [r["period"] for r in rows] == ["2017-Q1", "2017-Q2", "2017-Q3", "2017-Q4"]
    code, out, _ = run(
        "rates", "--basis", "cohort", "--from", "2017-01-01", "--to", "2017-03-31", "--format", "csv", db=db
    )
    assert code == 0
    assert out.splitlines()[0] == (
        "attempts,hits,hit_rate,ci_low,ci_high,amount_won,value_hit_rate,"
        "eventual_rate,eventual_low,eventual_high,median_days_to_win,median_days_to_lose"
    )
    code, out, _ = run("rates", "--by", "rep", db=db)
    assert "Moses Frase" in out and "95% interval" in out


def test_table_output_of_import_and_quarantine(db, tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("id,stage,amount\n1,Won,10\n2,Lost,abc\n3,Won\n")
    code, out, _ = run("import", str(f), db=db)
    assert code == 0
    assert "quarantined" in out and "hitrate quarantine list" in out
    code, out, _ = run("quarantine", "list", "--format", "json", db=db)
    q = json.loads(out)
    assert q["total"] == 2
    assert [(r["row"], r["column"]) for r in q["rows"]] == [(3, "amount"), (4, None)]
    code, out, _ = run("quarantine", "list", db=db)
    assert "not a number" in out and "expected 3 fields, found 2" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "nope.csv"], "nope.csv: no such file"),
        (["rates", "--by", "reep"], "unknown field 'reep'"),
        (["rates", "--where", "rep"], "expected FIELD=VALUE"),
        (["rates", "--from", "yesterday"], "'yesterday' is not a date"),
        (["import", "x.csv", "--preset", "nope"], "unknown preset 'nope'"),
        (["import", "x.csv", "--map", "stage"], "is not FIELD=COLUMN"),
        (["import", "x.csv", "--decimal", ";"], "expected ',' or '.'"),
    ],
)
def test_user_mistakes_get_a_message_not_a_traceback(db, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("id,stage\n1,Won\n")
    Store(db).close()  # an empty store: reading commands refuse a missing one (tests/test_store_path.py)
    code, out, err = run(*args, db=db)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out


def test_strict_import_fails_and_stores_nothing(db, tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("id,stage,amount\n1,Won,10\n2,Lost,abc\n")
    code, _, err = run("import", str(f), "--strict", db=db)
    assert code == 2 and "--strict" in err
    _, out, _ = run("rates", "--format", "json", db=db)
    assert json.loads(out)["rows"][0]["attempts"] == 0


def test_definitions_commands(db, tmp_path, maven_dir):
    Store(db).close()  # an empty store: reading commands refuse a missing one (tests/test_store_path.py)
    path = tmp_path / "defs.yaml"
    code, _, err = run("definitions", "init", str(path))
    assert code == 0 and path.exists()
    code, _, err = run("definitions", "init", str(path))
    assert code == 2 and "already exists" in err
    path.write_text(path.read_text().replace("basis: closed", "basis: cohort"))
    code, out, _ = run("definitions", "check", str(path), db=db)
    assert code == 0 and "valid, hash" in out
    code, out, _ = run("definitions", "show", "--format", "json", db=db)
    builtin = json.loads(out)["hash"]
    code, out, _ = run("rates", "--format", "json", "--definitions", str(path), db=db)
    cohort_hash = json.loads(out)["definitions"]["hash"]
    assert cohort_hash != builtin
    code, out, _ = run("definitions", "show", db=db)
    assert f"# hash: {cohort_hash}" in out and "basis: cohort" in out
    code, out, _ = run("definitions", "history", "--format", "json", db=db)
    assert [v["hash"] for v in json.loads(out)] == [cohort_hash]
    code, out, _ = run("rates", "--format", "json", "--basis", "closed", db=db)
    assert json.loads(out)["definitions"]["hash"] == builtin  # the override is part of the hash
    bad = tmp_path / "bad.yaml"
    bad.write_text("basis: sometimes\n")
    code, _, err = run("definitions", "check", str(bad), db=db)
    assert code == 2 and "bad.yaml: basis" in err
    run("import", str(maven_dir / "sales_pipeline.csv"), "--preset", "maven", db=db)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("opportunity: [{field: colour, op: eq, value: red}]\n")
    code, _, err = run("definitions", "check", str(unknown), db=db)
    assert code == 2 and "field 'colour' is not in the data" in err


def test_demo_builds_store_prints_table_and_writes_offline_report(db, tmp_path):
    report = tmp_path / "r.html"
    code, out, err = run("demo", "--n", "3000", "--report", str(report), db=db)
    assert code == 0, err
    assert "Hit rate by team" in out and "Team" in out
    html = report.read_text()
    assert "Hit rate by team" in html and "Hit rate by rep" in html and "Monthly trend" in html
    assert "<script src=" not in html
    code, out, _ = run("report", "--output", str(tmp_path / "again.html"), "--lang", "da", db=db)
    assert code == 0 and (tmp_path / "again.html").exists()


def test_demo_refuses_a_store_with_imported_data(db, tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("id,stage\n1,Won\n")
    run("import", str(f), db=db)
    code, _, err = run("demo", "--n", "500", "--report", str(tmp_path / "r.html"), db=db)
    assert code == 2 and "holds imported data" in err and "--force" in err
    code, _, _ = run("demo", "--n", "500", "--force", "--report", str(tmp_path / "r.html"), db=db)
    assert code == 0


def test_help_is_light_and_does_not_import_heavy_libraries():
    code = (
        "import sys, hitrate.cli\n"
        "from typer.main import get_command\n"
        "heavy = [m for m in ('ibis', 'duckdb', 'pandas', 'numpy', 'pyarrow', 'plotly') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_report_language_definitions_folder_and_empty_store(db, tmp_path):
    code, _, err = run("report", "--lang", "fr", "--output", str(tmp_path / "r.html"), db=db)
    assert code == 2 and "Traceback" not in err
    code, _, _ = run("definitions", "init", str(tmp_path / "new" / "folder" / "d.yaml"))
    assert code == 0 and (tmp_path / "new" / "folder" / "d.yaml").exists()
    Store(db).close()  # an empty store: reading commands refuse a missing one (tests/test_store_path.py)
    code, _, _ = run("report", "--output", str(tmp_path / "empty.html"), db=db)
    html = (tmp_path / "empty.html").read_text()
    assert code == 0 and "No opportunities in the store yet" in html and "nan" not in html.split("<script", 1)[0]
    code, _, _ = run("report", "--lang", "da", "--output", str(tmp_path / "da.html"), db=db)
    assert "Udvikling pr. måned" in (tmp_path / "da.html").read_text()


def test_import_progress_bar_appears_only_after_a_second(monkeypatch):
    from hitrate.cli import output as cli

    clock = [100.0]
    monkeypatch.setattr(cli.time, "monotonic", lambda: clock[0])
    bar = cli._LazyProgress("Reading")
    bar(10, 100)
    assert bar.bar is None  # a fast import shows nothing
    clock[0] += 1.5
    bar(50, 100)
    assert bar.bar is not None
    assert bar.bar.tasks[0].completed == 50 and bar.bar.tasks[0].total == 100
    bar.stage("Storing x.csv")  # a step of unknown length: named, pulsing
    assert bar.bar.tasks[0].description == "Storing x.csv" and bar.bar.tasks[0].total is None
    bar.close()


def test_a_slow_step_after_a_fast_read_still_shows_the_bar(monkeypatch):
    from hitrate.cli import output as cli

    clock = [100.0]
    monkeypatch.setattr(cli.time, "monotonic", lambda: clock[0])
    bar = cli._LazyProgress("Reading")
    bar.stage("Reading big.csv")
    assert bar.bar is None
    clock[0] += 2.0
    bar.stage("Checking 10,000,000 rows of big.csv")
    assert bar.bar is not None and bar.bar.tasks[0].description.startswith("Checking")
    bar.close()


def test_import_reports_its_steps(tmp_path):
    from hitrate.ingest import import_files

    path = tmp_path / "d.csv"
    path.write_text("id,stage\nA,Won\nB,Lost\n", encoding="utf-8")
    steps: list[str] = []
    with Store(tmp_path / "s.duckdb") as store:
        import_files(store, [path], stage=steps.append)
    assert steps == ["Reading d.csv", "Checking 2 rows of d.csv", "Storing d.csv", "Committing"]


def test_benchmark_trend_and_compare_commands(db, tmp_path):
    run("demo", "--n", "6000", "--report", str(tmp_path / "r.html"), db=db)
    code, out, err = run("benchmark", "--by", "rep", "--adjust", "lead_source", "--format", "json", db=db)
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert {
        "attempts",
        "hits",
        "hit_rate",
        "ci_low",
        "ci_high",
        "shrunk_rate",
        "shrunk_low",
        "shrunk_high",
        "flag",
        "expected_hits",
        "quality_index",
        "adjusted_rate",
    } <= set(rows[0])
    code, out, _ = run("benchmark", "--by", "rep", "--within", "team", db=db)
    assert code == 0 and "fair rate" in out and "shrunk" not in out
    code, out, _ = run("trend", "--format", "json", db=db)
    data = json.loads(out)
    assert code == 0 and set(data["seasonal_factors"]) == {str(m) for m in range(1, 13)}
    code, out, _ = run("trend", db=db)
    assert code == 0 and "Seasonal factors" in out
    code, out, _ = run("compare", "Team East", "Team West", "--by", "team", "--format", "json", db=db)
    assert code == 0 and json.loads(out)["a"]["label"] == "Team East"
    code, out, _ = run("compare", "2023-Q1", "2024-Q1", "--period", "quarter", db=db)
    assert code == 0 and "Difference" in out
    code, _, err = run("compare", "Team East", "Nobody", "--by", "team", db=db)
    assert code == 2 and "'Nobody' has no attempts" in err


#: The library's reference for the X Education leads model (tests/test_scoring_leads.py asserts AUC >= 0.92).
AUC_REFERENCE = 0.92


def auc_se(auc: float, n_won: int, n_lost: int) -> float:
    """Hanley and McNeil's (1982) standard error of an AUC of ``auc`` on ``n_won`` and ``n_lost`` leads."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = auc * (1 - auc) + (n_won - 1) * (q1 - auc**2) + (n_lost - 1) * (q2 - auc**2)
    return float((var / (n_won * n_lost)) ** 0.5)


def test_score_train_and_predict_on_the_x_education_leads(tmp_path):
    """The acceptance flow on a 3,000-lead sample (the full file is covered by tests/test_scoring_leads.py)."""
    from tests.conftest import DATA

    src = DATA / "lead_scoring_x_education" / "Leads.csv"
    if not src.exists():
        from tests.conftest import require

        require(f"{src} is missing")
    import pandas as pd

    frame = pd.read_csv(src).sample(3000, random_state=0)
    frame.insert(0, "row_id", [f"r{i}" for i in range(len(frame))])
    train_csv, test_csv = tmp_path / "train.csv", tmp_path / "test.csv"
    frame.iloc[:2200].to_csv(train_csv, index=False)
    frame.iloc[2200:].to_csv(test_csv, index=False)
    m = ["--map", "id=row_id", "--map", "stage=Converted", "--won", "1", "--lost", "0"]
    code, out, err = run("score", "train", str(train_csv), *m, "--model", str(tmp_path / "m"), "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert "Tags" in [e["feature"] for e in result["excluded"]]
    assert {"odoo_naive_bayes", "logistic_regression"} <= set(result["baselines"])
    # Held to the library test's reference (tests/test_scoring_leads.py: AUC >= 0.92 on the full file, 2,310 held
    # out, and above both baselines by the same margins), less two Hanley-McNeil standard errors: this sample is
    # not the same data (1,650 leads train, 550 held out, Lead Quality kept), and measured 0.917 (Odoo 0.870,
    # logistic 0.911). A model no better than chance, or than the baselines, fails.
    auc, base = result["metrics"]["auc"], result["baselines"]
    y_train = frame["Converted"].iloc[:2200]
    held_won = round(result["split"]["test"] * y_train.mean())
    assert auc >= AUC_REFERENCE - 2 * auc_se(AUC_REFERENCE, held_won, result["split"]["test"] - held_won)
    assert auc >= base["odoo_naive_bayes"]["auc"] + 0.02 and auc > base["logistic_regression"]["auc"]
    code, _, err = run(
        "score",
        "predict",
        str(test_csv),
        *m,
        "--model",
        str(tmp_path / "m"),
        "--out",
        str(tmp_path / "p.csv"),
        "--db",
        str(tmp_path / "scores.duckdb"),
    )
    assert code == 0, err
    scores = pd.read_csv(tmp_path / "p.csv")
    with Store(tmp_path / "scores.duckdb") as kept:
        assert kept.count("lead_scores") == 800
    assert len(scores) == 800 and set(scores["id"]) == set(frame["row_id"].iloc[2200:])
    assert scores["probability"].between(0, 1).all() and set(scores["band"]) <= set("ABCD")
    y_test = frame.set_index("row_id")["Converted"].loc[scores["id"]].to_numpy()
    from sklearn.metrics import roc_auc_score

    predicted_auc = roc_auc_score(y_test, scores["probability"])  # independent of hitrate's evaluate
    model = str(tmp_path / "m")
    defs = tmp_path / "defs.yaml"
    defs.write_text("post_outcome: [Lead Quality, Tags]\n")
    code, out, err = run(
        "score",
        "train",
        str(train_csv),
        *m,
        "--model",
        str(tmp_path / "m2"),
        "--definitions",
        str(defs),
        "--format",
        "json",
    )
    assert code == 0, err
    reasons = {e["feature"]: e["reason"] for e in json.loads(out)["excluded"]}
    assert "post-outcome" in reasons["Lead Quality"] and "Tags" in reasons
    code, out, err = run("score", "evaluate", str(test_csv), *m, "--model", model, "--format", "json")
    assert code == 0, err
    ev = json.loads(out)
    assert ev["leads"] == 800 and [r["share"] for r in ev["top"]] == [10, 20, 30, 50]
    # evaluate's AUC is scikit-learn's on the probabilities predict wrote (measured 0.924 on these 800 leads)
    assert ev["auc"] == pytest.approx(predicted_auc, abs=1e-12)
    won = int(y_test.sum())
    assert ev["auc"] >= AUC_REFERENCE - 2 * auc_se(AUC_REFERENCE, won, len(y_test) - won)
    code, out, _ = run("score", "evaluate", str(test_csv), *m, "--model", model)
    assert code == 0 and "top k%" in out
    code, out, err = run("score", "explain", str(test_csv), *m, "--model", model, "--format", "json")
    assert code == 0, err
    ex = json.loads(out)
    assert len(ex["leads"]) == 800 and ex["importance"]
    first = ex["leads"][0]
    assert all(f["effect"] > 0 for f in first["up"]) and all(f["effect"] < 0 for f in first["down"])
    code, out, _ = run("score", "explain", str(test_csv), *m, "--model", model, "--limit", "3")
    assert code == 0 and "Global importance" in out
    code, _, err = run(
        "score", "predict", str(test_csv), *m, "--model", str(tmp_path / "nope"), "--out", str(tmp_path / "p.csv")
    )
    assert code == 2 and "Traceback" not in err


def test_cells_read_as_python_formats_them():
    """Numbers go through hitrate.i18n.format, yet the English cells read exactly as the f-strings they replaced
    (Python's rounding, no thousands separators where there were none, a hyphen-minus, the en dash for missing)."""
    from hitrate.cli import cells

    values = [h / n for n in (7, 80, 160, 2000, 3) for h in range(n + 1)] + [-0.05, -0.00004, 0.0, 12.3456, -1234.5]
    for v in values:
        assert cells.percent(v) == f"{v:.1%}"
        assert cells.percent(v, 2) == f"{v:.2%}"
        assert cells.percent(v, sign=True) == f"{v:+.1%}"
        assert cells.number(v * 1000, 1) == f"{v * 1000:,.1f}"
        assert cells.number(v, 3, group=False) == f"{v:.3f}"
        assert cells.number(v * 100, 1, sign=True, group=False) == f"{v * 100:+.1f}"
        assert cells.significant(v) == f"{v:.3g}"
    for n in (0, 7, 1234, 1234567, -42):
        assert cells.integer(n) == f"{n:,}"
        assert cells.integer(n, group=False) == str(n)
    assert cells.percent(None) == cells.number(None) == cells.integer(None) == "–"
    assert cells.rate(None, None, None) == ""
    assert cells.rate(0.5, 0.25, 0.75, style="hyphen") == "50.0% (25.0%-75.0%)"


def test_the_command_line_words_are_ready_for_danish():
    """Every word and number of the command line follows one language setting (a later --lang only sets it)."""
    from hitrate.cli import cells, output

    assert output.language() == "en"
    try:
        output.set_language("da")
        assert output.text("cli.col.attempts") == "forsøg"
        assert cells.percent(0.4502) == "45,0 %" and cells.integer(1234567) == "1.234.567"
        assert cells.rate(0.5, 0.25, 0.75, style="to") == "50,0 % (25,0 % til 75,0 %)"
        assert output.text("cli.db_and_engine_differ", db="a", engine="b").startswith("--db a og --engine b")
    finally:
        output.set_language("en")


@pytest.mark.parametrize(
    ("parameter", "flag"),
    [
        ("by", "--by"),
        ("date_from", "--from"),
        ("date_to", "--to"),
        ("peers_by", "--peers-by"),
        ("mapping", "--map"),
        ("types", "--type"),
        ("tenured_after_days", "--tenured-after"),
        ("n_opportunities", "--n"),
        ("ids", "--goal"),
        ("started", "--start"),
        ("teams", "--team"),
        ("--where", "--where"),
    ],
)
def test_library_parameters_are_written_as_their_options(parameter, flag):
    from hitrate.cli.output import flag_name
    from hitrate.errors import InvalidParameterError

    assert flag_name(parameter) == flag
    err = InvalidParameterError(parameter, "something else", "x")
    assert err.render("en", flag_name) == f"The '{flag}' parameter must be something else. Got 'x' instead."
