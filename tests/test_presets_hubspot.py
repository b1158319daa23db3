"""The hubspot preset: deals exports with labels or internal values, calculated flags, pipelines."""

from __future__ import annotations

import datetime as dt

import pytest

from hitrate.cli.output import flag_name
from hitrate.errors import InputFileError
from hitrate.ingest import import_files

from .crm_files import CRM_EXPORTS, auto_import, close_dates_by_outcome, stored, write_csv

HEADER = [
    "Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Currency", "Close Date", "Create Date",
    "Deal owner", "Deal Type", "Is Deal Closed?", "Is Closed Won", "Is closed lost", "Closed Lost Reason",
    "Closed Won Reason", "Deal probability",
]  # fmt: skip
# The default Sales Pipeline: label, internal value, closed, won.
STAGES = [
    ("Appointment Scheduled", "appointmentscheduled", False, False),
    ("Qualified To Buy", "qualifiedtobuy", False, False),
    ("Presentation Scheduled", "presentationscheduled", False, False),
    ("Decision Maker Bought-In", "decisionmakerboughtin", False, False),
    ("Contract Sent", "contractsent", False, False),
    ("Closed Won", "closedwon", True, True),
    ("Closed Lost", "closedlost", True, False),
]


def deals(*, internal: bool = False, pipeline: str = "Sales Pipeline") -> list[dict[str, object]]:
    rows = []
    for i, (label, value, closed, won) in enumerate(STAGES):
        rows.append(
            {"Record ID": str(10677684120 + i), "Deal Name": f"Deal {i}", "Deal Stage": value if internal else label,
             "Pipeline": pipeline, "Amount": f"{1000 + i}.0", "Currency": "USD", "Close Date": "2023-11-30 20:09",
             "Create Date": "2023-11-15 20:09", "Deal owner": "Carter McKay", "Deal Type": "New Business",
             "Is Deal Closed?": str(closed), "Is Closed Won": str(won), "Is closed lost": str(closed and not won),
             "Closed Lost Reason": "Went with a competitor" if closed and not won else ""}
        )  # fmt: skip
    return rows


def test_labels_export_all_fields_quoted_with_calculated_flags(store, tmp_path):
    path = write_csv(tmp_path / "hubspot-crm-exports-all-deals-2025-11-28.csv", HEADER, deals(), quote_all=True)
    rep = auto_import(store, path)
    assert rep.preset == "hubspot" and "Deal Stage" in rep.preset_reason
    assert (rep.read, rep.imported, rep.quarantined) == (7, 7, 0)
    assert rep.outcomes == {"won": 1, "lost": 1, "open": 5}
    assert rep.outcome_from[:3] == ["Is Closed Won", "Is closed lost", "Is Deal Closed?"]
    assert stored(store, "rep, amount", "id")[0] == ("Carter McKay", 1000.0)
    assert stored(store, "created_at", "id")[0] == (dt.datetime(2023, 11, 15, 20, 9),)
    assert stored(store, "loss_reason", "id")[6] == ("Went with a competitor",)


def test_internal_values_without_flag_columns_fall_back_to_stage_ids(store, tmp_path):
    header = [h for h in HEADER if not h.startswith("Is ")]
    rows = [{k: v for k, v in r.items() if not k.startswith("Is ")} for r in deals(internal=True)]
    rep = auto_import(store, write_csv(tmp_path / "deals.csv", header, rows, quote_all=True))
    assert rep.outcomes == {"won": 1, "lost": 1, "open": 5}
    assert rep.stages["closedwon"]["outcome"] == "won" and rep.stages["closedlost"]["outcome"] == "lost"


def test_flags_decide_for_custom_stages(store, tmp_path):
    rows = deals()
    rows[0].update({"Deal Stage": "Signed (Partner pipeline)", "Is Closed Won": "True", "Is Deal Closed?": "True"})
    rows[1].update({"Deal Stage": "No budget", "Is closed lost": "True", "Is Deal Closed?": "True"})
    rep = auto_import(store, write_csv(tmp_path / "deals.csv", HEADER, rows, quote_all=True))
    assert rep.outcomes == {"won": 2, "lost": 2, "open": 3}


def test_open_deals_close_date_is_kept_as_expected_close(store, tmp_path):
    auto_import(store, write_csv(tmp_path / "deals.csv", HEADER, deals(), quote_all=True))
    assert close_dates_by_outcome(store) == [("lost", 1, 0), ("open", 0, 5), ("won", 1, 0)]


def test_several_pipelines_in_one_export_warn(store, tmp_path):
    rows = deals() + [dict(r, **{"Record ID": r["Record ID"] + "9"}) for r in deals(pipeline="Renewals")]
    report = import_files(store, [write_csv(tmp_path / "deals.csv", HEADER, rows, quote_all=True)], preset="auto")
    [warning] = report.warnings
    assert "2 pipelines in one export (Renewals 7, Sales Pipeline 7)" in warning
    assert "(--by pipeline)" in warning.render("en", flag_name) and "--" not in str(warning)
    assert store.fetch("SELECT count(DISTINCT pipeline) FROM opportunities") == [(2,)]


def test_a_leading_space_in_a_numeric_cell_is_trimmed(store, tmp_path):
    rows = deals()
    rows[0]["Amount"] = " 45362.12"
    auto_import(store, write_csv(tmp_path / "deals.csv", HEADER, rows, quote_all=True))
    assert stored(store, "amount", "id")[0] == (45362.12,)


def test_the_genuine_view_export_header_is_recognised_and_asks_for_the_stage(store, tmp_path):
    header = (CRM_EXPORTS / "hubspot").glob("*HEADER_ONLY*.csv")
    src = next(header).read_text(encoding="utf-8").strip()
    path = tmp_path / "hubspot-crm-exports-all-deals-2025-11-28.csv"
    path.write_text(src + '\n"11583","12 Example St","Q-1","11015.0"\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="no column for 'stage'"):
        import_files(store, [path], preset="auto")
    rep = import_files(store, [path], preset="auto", mapping={"stage": "Deal Name"}).files[0]
    assert rep.mapping["id"] == "Record ID" and rep.mapping["amount"] == "Amount"
