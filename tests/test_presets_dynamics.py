"""The dynamics preset: the Export to Excel workbook with hidden (Do Not Modify) columns, Status and
Status Reason, Actual Close Date against Est. close date."""

from __future__ import annotations

import datetime as dt

from .crm_files import auto_import, stored, write_csv, write_xlsx

HEADER = ["(Do Not Modify) Opportunity", "(Do Not Modify) Row Checksum", "(Do Not Modify) Modified On", "Topic",
          "Potential Customer", "Est. close date", "Est. revenue", "Actual Close Date", "Actual Revenue",
          "Probability", "Rating", "Sales Stage", "Pipeline Phase", "Status", "Status Reason", "Owner", "Created On",
          "Currency"]  # fmt: skip
# Every Status with each of its Status Reasons.
STATUSES = [("Open", "In Progress"), ("Open", "On Hold"), ("Won", "Won"), ("Lost", "Canceled"), ("Lost", "Out-Sold")]


def rows() -> list[dict[str, object]]:
    out = []
    for i, (status, reason) in enumerate(STATUSES):
        out.append(
            {"(Do Not Modify) Opportunity": f"6a1e{i:04d}-5d2c-ee11-bdf4-000d3a3b1c{i:02d}",
             "(Do Not Modify) Row Checksum": "kX0b9Q==", "(Do Not Modify) Modified On": dt.datetime(2024, 5, 1, 8, 0),
             "Topic": f"100 Airpot Coffee Makers {i}", "Potential Customer": "Fourth Coffee",
             "Est. close date": dt.datetime(2024, 6, 30), "Est. revenue": 25000.0,
             "Actual Close Date": dt.datetime(2024, 5, 20) if status != "Open" else None,
             "Actual Revenue": 25000.0 if status == "Won" else None, "Probability": 40, "Rating": "Warm",
             "Sales Stage": ["Qualify", "Develop", "Close", "Propose", "Propose"][i],
             "Pipeline Phase": "3-Propose", "Status": status, "Status Reason": reason, "Owner": "Alex Wu",
             "Created On": dt.datetime(2024, 1, 15, 10, 30), "Currency": "US Dollar"}
        )  # fmt: skip
    return out


def test_export_to_excel_workbook(store, tmp_path):
    rep = auto_import(store, write_xlsx(tmp_path / "Open Opportunities 5-1-2024 8-00-00 AM.xlsx", HEADER, rows()))
    assert rep.preset == "dynamics" and "(Do Not Modify) Opportunity" in rep.preset_reason
    assert (rep.read, rep.imported, rep.quarantined) == (5, 5, 0)
    assert rep.outcomes == {"won": 1, "lost": 2, "open": 2}
    assert rep.mapping["id"] == "(Do Not Modify) Opportunity" and rep.mapping["amount"] == "Est. revenue"
    got = stored(store, "outcome, loss_reason, status_reason, closed_at IS NOT NULL, expected_close IS NOT NULL")
    assert got == [
        ("open", None, "In Progress", False, True),
        ("open", None, "On Hold", False, True),
        ("won", None, "Won", True, True),
        ("lost", "Canceled", "Canceled", True, True),
        ("lost", "Out-Sold", "Out-Sold", True, True),
    ]


def test_header_casing_and_leading_space_variants(store, tmp_path):
    header = [
        {"(Do Not Modify) Modified On": "(Do Not Modify) Modified on", "Owner": " Owner"}.get(h, h) for h in HEADER
    ]
    data = [{{"(Do Not Modify) Modified On": "(Do Not Modify) Modified on", "Owner": " Owner"}.get(k, k): v
             for k, v in r.items()} for r in rows()]  # fmt: skip
    rep = auto_import(store, write_xlsx(tmp_path / "opps.xlsx", header, data))
    assert rep.preset == "dynamics" and rep.mapping["rep"] == "Owner"
    assert rep.outcomes == {"won": 1, "lost": 2, "open": 2}


def test_csv_from_other_tooling_reads_the_same(store, tmp_path):
    data = [{k: (v.strftime("%m/%d/%Y %I:%M %p") if isinstance(v, dt.datetime) else v) for k, v in r.items()}
            for r in rows()]  # fmt: skip
    rep = auto_import(store, write_csv(tmp_path / "opps.csv", HEADER, data))
    assert (rep.preset, rep.quarantined) == ("dynamics", 0)
    assert stored(store, "created_at")[0] == (dt.datetime(2024, 1, 15, 10, 30),)
