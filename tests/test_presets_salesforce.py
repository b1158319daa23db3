"""The salesforce preset: API-name exports, Excel re-saves, report exports with footers, translated
labels, OpportunityHistory, and the two genuine sample exports."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from hitrate.analysis.rates import rates
from hitrate.cli import app
from hitrate.ingest import import_files

from .conftest import require
from .crm_files import CRM_EXPORTS, auto_import, close_dates_by_outcome, stored, write_csv, write_xlsx

SF = CRM_EXPORTS / "salesforce"
# The describe-order header of a real API export (SFDC-Assets/data-cloud-workshop, NOTES.md section B).
API_HEADER = [
    "Id",
    "IsDeleted",
    "AccountId",
    "Name",
    "Description",
    "StageName",
    "Amount",
    "Probability",
    "CloseDate",
    "Type",
    "NextStep",
    "LeadSource",
    "IsClosed",
    "IsWon",
    "ForecastCategory",
    "ForecastCategoryName",
    "CampaignId",
    "HasOpportunityLineItem",
    "Pricebook2Id",
    "OwnerId",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
    "LastActivityDate",
    "FiscalQuarter",
    "FiscalYear",
    "Fiscal",
    "LastViewedDate",
    "LastReferencedDate",
    "HasOpenActivity",
    "HasOverdueTask",
    "External_id__c",
    "Product__c",
]
REPORT_HEADER = [
    "Opportunity Owner", "Account Name", "Opportunity Name", "Stage", "Fiscal Period", "Amount",
    "Probability (%)", "Age", "Close Date", "Created Date", "Type",
]  # fmt: skip
# The default stage picklist with default probabilities; closed stages carry IsClosed/IsWon.
DEFAULT_STAGES = [
    ("Prospecting", 10), ("Qualification", 10), ("Needs Analysis", 20), ("Value Proposition", 50),
    ("Id. Decision Makers", 60), ("Perception Analysis", 70), ("Proposal/Price Quote", 75),
    ("Negotiation/Review", 90), ("Closed Won", 100), ("Closed Lost", 0),
]  # fmt: skip
FOOTER = [
    "Total",
    "Confidential Information - Do Not Distribute",
    "Copyright © 2000-2025 salesforce.com, inc. All rights reserved.",
]


def api_rows(true: str, false: str, close: str, created: str) -> list[dict[str, object]]:
    rows = []
    for i, (stage, prob) in enumerate(DEFAULT_STAGES):
        closed, won = stage.startswith("Closed"), stage == "Closed Won"
        rows.append(
            {"Id": f"006A{i:03d}", "StageName": stage, "Amount": 1000 * (i + 1), "Probability": prob,
             "CloseDate": close, "CreatedDate": created, "OwnerId": "005X01", "IsDeleted": false,
             "IsClosed": true if closed else false, "IsWon": true if won else false,
             "ForecastCategoryName": "Closed" if won else "Omitted" if closed else "Pipeline"}
        )  # fmt: skip
    return rows


def test_api_export_with_bom_flags_as_1_or_empty_and_zoned_timestamps(store, tmp_path):
    rows = api_rows("1", "", "2024-11-10", "2024-01-22T16:14:25.000+0000")
    path = write_csv(tmp_path / "Opportunity.csv", API_HEADER, rows, bom=True)
    rep = auto_import(store, path)
    assert rep.preset == "salesforce" and "StageName" in rep.preset_reason and "IsWon" in rep.preset_reason
    assert (rep.read, rep.imported, rep.quarantined) == (10, 10, 0)
    assert rep.encoding == "utf-8-sig"
    assert rep.outcomes == {"won": 1, "lost": 1, "open": 8}
    assert rep.outcome_from == ["IsWon", "IsClosed", "StageName"]
    created = store.fetch("SELECT DISTINCT created_at FROM opportunities")
    assert created == [(dt.datetime(2024, 1, 22, 16, 14, 25),)]


def test_excel_resaved_api_export_reads_true_false_and_two_digit_years(store, tmp_path):
    rows = api_rows("TRUE", "FALSE", "02/03/24", "02/23/26 08:55 PM")
    path = write_csv(tmp_path / "Opportunity.csv", API_HEADER, rows)
    rep = auto_import(store, path)
    assert rep.outcomes == {"won": 1, "lost": 1, "open": 8}
    assert rep.date_format == "MM/DD/YYYY"
    assert stored(store, "closed_at, created_at", "id")[8] == (
        dt.datetime(2024, 2, 3),
        dt.datetime(2026, 2, 23, 20, 55),
    )


def test_flags_decide_over_renamed_stages(store, tmp_path):
    rows = [
        {"Id": "1", "StageName": "Signed", "IsClosed": "1", "IsWon": "1"},  # an org's own won stage
        {"Id": "2", "StageName": "Dead", "IsClosed": "1", "IsWon": ""},  # an org's own lost stage
        {"Id": "3", "StageName": "Closed Won", "IsClosed": "", "IsWon": ""},  # flags say open: they win
        {"Id": "4", "StageName": "Discovery", "IsClosed": "", "IsWon": ""},
    ]
    rep = auto_import(store, write_csv(tmp_path / "o.csv", API_HEADER, rows))
    assert stored(store, "id, outcome") == [("1", "won"), ("2", "lost"), ("3", "open"), ("4", "open")]
    assert rep.stages["Signed"]["outcome"] == "won"


def test_report_export_footer_and_blank_rows_are_not_data(store, tmp_path):
    rows = [
        {"Opportunity Owner": "Ann Lee", "Opportunity Name": f"Deal {i}", "Stage": stage, "Amount": "1,500.00",
         "Close Date": "5/21/2019", "Created Date": "1/2/2019", "Fiscal Period": "Q2-2019"}
        for i, (stage, _) in enumerate(DEFAULT_STAGES)
    ]  # fmt: skip
    path = write_csv(tmp_path / "report1558000000000.csv", REPORT_HEADER, rows, quote_all=True)
    # the footer: a blank record, a Total row with sums, then the single-cell trailer lines
    with path.open("a", encoding="utf-8") as f:
        f.write('"","","","","","","","","","",""\n' + '"Total","","","","","15,000.00","","","","",""\n')
        f.write('""\n""\n' + "".join(f'"{line}"\n' for line in FOOTER[1:]))
    rep = auto_import(store, path)
    assert rep.preset == "salesforce"
    assert (rep.read, rep.imported, rep.quarantined, rep.skipped_non_data) == (10, 10, 0, 4)
    assert rep.outcomes == {"won": 1, "lost": 1, "open": 8}
    assert rep.adds_up()
    assert store.fetch("SELECT count(*) FROM opportunities WHERE rep = 'Ann Lee'") == [(10,)]


def test_report_export_in_french_labels(store, tmp_path):
    header = ["Propriétaire de l'opportunité", "Nom du compte", "Nom de l'opportunité", "Étape", "Montant",
              "Date de clôture", "Date de création"]  # fmt: skip
    rows = [
        {"Propriétaire de l'opportunité": "Anne", "Nom de l'opportunité": n, "Étape": s, "Montant": "1 000,50",
         "Date de clôture": "21/05/2019", "Date de création": "02/01/2019"}
        for n, s in (("A", "Fermée gagnée"), ("B", "Fermée perdue"), ("C", "Qualification"))
    ]  # fmt: skip
    rep = auto_import(store, write_csv(tmp_path / "rapport.csv", header, rows))
    assert rep.preset == "salesforce"
    assert rep.mapping["stage"] == "Étape" and rep.mapping["rep"] == "Propriétaire de l'opportunité"
    assert rep.outcomes == {"won": 1, "lost": 1, "open": 1}
    assert sorted(r[0] for r in store.fetch("SELECT amount FROM opportunities")) == [1000.5] * 3


def test_xlsx_report_with_formula_residue_in_won_and_closed_columns(store, tmp_path):
    header = ["Opportunity Owner", "Opportunity Name", "Stage", "Won", "Closed", "Close Date"]
    rows = [
        {"Opportunity Name": name, "Stage": stage, "Won": f"={won}()", "Closed": f"={closed}()", "Close Date": day}
        for name, stage, won, closed, day in (
            ("A", "Contract", "TRUE", "TRUE", dt.date(2024, 3, 1)),
            ("B", "Gone", "FALSE", "TRUE", dt.date(2024, 3, 2)),
            ("C", "Talking", "FALSE", "FALSE", dt.date(2024, 9, 1)),
        )
    ]
    rows.append({"Opportunity Name": "Confidential Information - Do Not Distribute"})
    rep = auto_import(store, write_xlsx(tmp_path / "Pipeline-2024-03-05.xlsx", header, rows))
    assert rep.outcomes == {"won": 1, "lost": 1, "open": 1}
    assert rep.read == 4  # the footer sits in the second column here, so it is data (and quarantined: no stage)
    assert rep.quarantined == 1


def test_an_open_deals_close_date_is_a_forecast(store, tmp_path):
    rows = api_rows("1", "", "2024-11-10", "2024-01-22")
    auto_import(store, write_csv(tmp_path / "o.csv", API_HEADER, rows))
    assert close_dates_by_outcome(store) == [("lost", 1, 0), ("open", 0, 8), ("won", 1, 0)]


def test_an_export_without_lost_deals_warns_how_to_include_them(store, tmp_path):
    rows = [r for r in api_rows("1", "", "2024-11-10", "2024-01-22") if r["StageName"] != "Closed Lost"]
    report = import_files(store, [write_csv(tmp_path / "o.csv", API_HEADER, rows)], preset="auto")
    [warning] = [str(w) for w in report.warnings]  # messages, in English
    assert warning.startswith("o.csv: no lost deals among 9 rows") and "Opportunity Status" in warning
    assert report.to_dict()["warnings"] == [warning]


def test_loss_reason_is_kept_for_lost_deals_only(store, tmp_path):
    header = [*API_HEADER, "Loss_Reason__c"]
    rows = [
        {"Id": "1", "StageName": "Closed Lost", "IsClosed": "1", "Loss_Reason__c": "Price"},
        {"Id": "2", "StageName": "Closed Won", "IsClosed": "1", "IsWon": "1", "Loss_Reason__c": "stale"},
    ]
    auto_import(store, write_csv(tmp_path / "o.csv", header, rows))
    assert stored(store, "id, loss_reason") == [("1", "Price"), ("2", None)]


def test_several_currencies_in_one_amount_column_warn(store, tmp_path):
    header = [*API_HEADER, "CurrencyIsoCode"]
    rows = [
        {"Id": str(i), "StageName": s, "IsClosed": "1", "IsWon": "1" if s == "Closed Won" else "", "Amount": 10,
         "CurrencyIsoCode": c}
        for i, (s, c) in enumerate([("Closed Won", "EUR"), ("Closed Lost", "USD"), ("Closed Won", "EUR")])
    ]  # fmt: skip
    rep = auto_import(store, write_csv(tmp_path / "o.csv", header, rows))
    assert any("amounts in 2 currencies (EUR 2, USD 1)" in w for w in rep.warnings)


def test_genuine_samples_give_the_expected_closed_basis_rates(tmp_path):
    if not SF.exists():
        require(f"the shared data folder {SF} is missing")
    from hitrate.store.embedded import Store

    for name, attempts, hits in (
        ("sfdc-assets_data-cloud-workshop__Opportunity.csv", 15, 12),
        ("earthfink1982_salesforce-in-powerbi__Opportunity.csv", 20, 12),
    ):
        with Store(tmp_path / f"{name}.duckdb") as s:
            report = import_files(s, [SF / name], preset="salesforce")
            assert report.quarantined == 0
            rows = rates(s).to_dict()["rows"]
            assert (sum(r["attempts"] for r in rows), sum(r["hits"] for r in rows)) == (attempts, hits)


def test_opportunity_history_becomes_stage_history(store):
    if not SF.exists():
        require(f"the shared data folder {SF} is missing")
    report = import_files(store, [SF / "earthfink1982_salesforce-in-powerbi__OpportunityHistory.csv"], preset="auto")
    rep = report.files[0]
    assert (rep.table, rep.preset, rep.read, rep.imported) == ("stage_history", "salesforce", 48, 48)
    per_opp = store.fetch(
        "SELECT n, count(*) FROM (SELECT id, count(*) n FROM stage_history GROUP BY 1) GROUP BY 1 ORDER BY 1"
    )
    assert per_opp == [(1, 25), (2, 10), (3, 1)]


def test_cli_import_auto_names_the_preset_and_reports_skipped_rows_in_json(tmp_path):
    rows = [{"Opportunity Owner": "Ann", "Opportunity Name": "A", "Stage": "Closed Won", "Close Date": "2024-01-02"}]
    path = write_csv(tmp_path / "r.csv", REPORT_HEADER, rows, quote_all=True)
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(f'"{line}"\n' for line in FOOTER))
    db = tmp_path / "s.duckdb"
    result = CliRunner().invoke(app, ["import", str(path), "--format", "json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["read"], data["skipped_non_data"]) == (1, 3)
    assert data["files"][0]["preset"] == "salesforce"
    human = CliRunner().invoke(app, ["import", str(path), "--db", str(db)])
    assert "preset salesforce recognised from columns" in human.stdout
    assert "3 non-data row(s) skipped" in human.stdout
    assert "warning: r.csv: no lost deals" in human.stderr
