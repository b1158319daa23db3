"""--preset auto, presets list/show, and a user's own preset file extending a shipped one."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from hitrate.cli import app, flag_name
from hitrate.errors import InputFileError
from hitrate.ingest import import_files, load_preset, preset_names
from hitrate.ingest.recognise import recognise

from .crm_files import write_csv

runner = CliRunner()


def test_every_shipped_preset_loads_and_shows_as_a_valid_preset_file(tmp_path):
    assert preset_names() == [
        "dynamics",
        "football-data",
        "hubspot",
        "maven",
        "odoo",
        "online-shoppers",
        "pipedrive",
        "salesforce",
        "zoho",
    ]
    for name in preset_names():
        result = runner.invoke(app, ["presets", "show", name])
        assert result.exit_code == 0
        path = tmp_path / f"{name}.yaml"
        path.write_text(result.stdout, encoding="utf-8")
        assert load_preset(str(path)) == load_preset(name)


def test_presets_list_names_every_preset_and_its_tables():
    result = runner.invoke(app, ["presets", "list", "--format", "json"])
    assert result.exit_code == 0
    rows = yaml.safe_load(result.stdout)
    assert {r["name"] for r in rows} == set(preset_names())
    assert next(r for r in rows if r["name"] == "salesforce")["tables"] == ["opportunities", "stage_history"]
    assert "salesforce" in runner.invoke(app, ["presets", "list"]).stdout


def test_two_presets_that_fit_alike_are_refused_with_the_candidates(store, tmp_path):
    header = ["Record ID", "Deal Name", "Deal Stage", "Deal Owner.id", "Account Name.id", "Closing Date"]
    path = write_csv(tmp_path / "mixed.csv", header, [{"Deal Stage": "Closed Won"}])
    with pytest.raises(
        InputFileError, match=r"cannot tell which CRM.*zoho \(score.*hubspot \(score.*preset zoho"
    ) as info:
        import_files(store, [path], preset="auto")
    assert "Name it with --preset zoho or --preset hubspot, or map the columns with --map" in info.value.render(
        "en", flag_name
    )
    result = runner.invoke(app, ["import", str(path), "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 2 and "cannot tell which CRM" in result.stderr and "Traceback" not in result.output


def test_a_header_with_no_evidence_is_read_by_column_names(store, tmp_path):
    rec = recognise("x.csv", ["id", "stage", "amount"])
    assert rec.preset is None and str(rec.reason).startswith("no preset recognised")
    path = write_csv(tmp_path / "plain.csv", ["id", "stage"], [{"id": "1", "stage": "Won"}])
    rep = import_files(store, [path], preset="auto").files[0]
    assert (rep.preset, rep.outcomes) == (None, {"won": 1})


def test_the_maven_files_are_recognised_table_by_table(maven_dir, store):
    files = [maven_dir / f for f in ("sales_pipeline.csv", "sales_teams.csv", "accounts.csv", "products.csv")]
    report = import_files(store, files, preset="auto")
    assert [(f.preset, f.table) for f in report.files] == [
        ("maven", "opportunities"),
        ("maven", "reps"),
        ("maven", "accounts"),
        ("maven", "products"),
    ]


def test_a_user_preset_file_extends_salesforce_with_renamed_stages(store, tmp_path):
    own = tmp_path / "my-salesforce.yaml"
    own.write_text(
        "extends: salesforce\n"
        "tables:\n"
        "  opportunities:\n"
        "    won: [Signed]\n"
        "    lost: [Dead, Closed Lost]\n"
        "    map: {rep: [Account Executive]}\n",
        encoding="utf-8",
    )
    header = ["Opportunity Name", "Account Executive", "Stage", "Close Date"]
    rows = [{"Opportunity Name": n, "Account Executive": "Kim", "Stage": s, "Close Date": "2024-01-31"}
            for n, s in (("A", "Signed"), ("B", "Dead"), ("C", "Closed Lost"), ("D", "Demo"))]  # fmt: skip
    path = write_csv(tmp_path / "report.csv", header, rows)
    result = runner.invoke(app, ["import", str(path), "--preset", str(own), "--format", "json",
                                 "--db", str(tmp_path / "s.duckdb")])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(result.stdout)["files"][0]
    assert data["preset"] == "salesforce+my-salesforce"
    assert data["outcomes"] == {"won": 1, "lost": 2, "open": 1}
    assert data["mapping"]["rep"] == "Account Executive"
    shown = runner.invoke(app, ["presets", "show", str(own)]).stdout
    assert "Signed" in shown and "StageName" in shown  # the merged preset


def test_broken_preset_files_are_user_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: salesforce\ntables:\n  opportunities:\n    outcome: [{outcome: maybe, when: {}}]\n")
    result = runner.invoke(app, ["presets", "show", str(bad)])
    assert result.exit_code == 2 and "bad.yaml" in result.stderr and "outcome" in result.stderr
    missing = runner.invoke(app, ["presets", "show", "nope.yaml"])
    assert missing.exit_code == 2 and "no such preset file" in missing.stderr
    unknown = runner.invoke(app, ["presets", "show", "nope"])
    assert unknown.exit_code == 2 and "unknown preset 'nope'" in unknown.stderr


def test_map_may_name_a_dimension(store, tmp_path):
    path = write_csv(tmp_path / "k.csv", ["id", "stage", "Kundetype"], [{"id": "1", "stage": "Won", "Kundetype": "A"}])
    rep = import_files(store, [path], mapping={"segment": "Kundetype"}).files[0]
    assert "segment" in rep.dimensions
    assert store.fetch("SELECT segment FROM opportunities") == [("A",)]
