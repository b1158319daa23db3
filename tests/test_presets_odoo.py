"""The odoo preset: won = a won stage with probability 100, lost = archived with probability 0, and the
warning when archived (lost) leads were left out of the export."""

from __future__ import annotations

from hitrate.ingest import import_files

from .crm_files import auto_import, stored, write_csv

LABELS = ["Opportunity", "Customer", "Salesperson", "Sales Team", "Stage", "Expected Revenue", "Probability",
          "Active", "Expected Closing", "Closed Date", "Lost Reason", "Created on", "Priority", "Tags"]  # fmt: skip
TECHNICAL = ["id", "name", "user_id", "team_id", "stage_id", "expected_revenue", "probability", "active",
             "date_deadline", "date_closed", "lost_reason_id", "create_date"]  # fmt: skip
LABEL_TO_FIELD = dict(zip([h for h in LABELS if h not in ("Customer", "Priority", "Tags")], TECHNICAL[1:], strict=True))
# (stage, probability, active, lost reason): every default stage, lost deals archived with each default reason,
# and a lead lost while sitting in the won stage.
LEADS = [
    ("New", "10.0", "True", ""), ("Qualified", "30.0", "True", ""), ("Proposition", "70.0", "True", ""),
    ("Won", "100.0", "True", ""), ("Won", "100.0", "True", ""),
    ("New", "0.0", "", "Too expensive"), ("Qualified", "0.0", "", "We don't have people/skills"),
    ("Proposition", "0.0", "", "Not enough stock"), ("Won", "0.0", "", "Too expensive"),
]  # fmt: skip


def label_rows(leads=LEADS) -> list[dict[str, object]]:
    rows = []
    for i, (stage, prob, active, reason) in enumerate(leads):
        closed = "2024-05-02 14:03:00" if prob in ("100.0", "0.0") else ""
        rows.append(
            {"Opportunity": f"Lead {i}", "Salesperson": "Mitchell Admin", "Sales Team": "Sales", "Stage": stage,
             "Expected Revenue": "1500.0", "Probability": prob, "Active": active, "Expected Closing": "2024-06-30",
             "Closed Date": closed, "Lost Reason": reason, "Created on": "2024-01-10 09:30:00", "Priority": "Medium"}
        )  # fmt: skip
    return rows


def test_label_export_with_archived_leads(store, tmp_path):
    rep = auto_import(store, write_csv(tmp_path / "Lead (crm.lead).csv", LABELS, label_rows(), quote_all=True))
    assert rep.preset == "odoo" and "Expected Closing" in rep.preset_reason
    assert (rep.read, rep.imported, rep.quarantined) == (9, 9, 0)
    assert rep.outcomes == {"won": 2, "lost": 4, "open": 3}
    assert rep.warnings == []
    lost = store.fetch("SELECT stage, loss_reason FROM opportunities WHERE outcome = 'lost' ORDER BY 1, 2")
    assert ("Won", "Too expensive") in lost  # lost at the won stage
    assert store.fetch("SELECT count(*) FROM opportunities WHERE outcome = 'open' AND closed_at IS NOT NULL") == [(0,)]


def test_default_export_without_archived_leads_warns_how_to_include_them(store, tmp_path):
    rows = label_rows([lead for lead in LEADS if lead[2] == "True"])
    report = import_files(store, [write_csv(tmp_path / "Lead (crm.lead).csv", LABELS, rows)], preset="auto")
    assert report.files[0].outcomes == {"won": 2, "open": 3}
    [warning] = report.warnings
    assert "no lost deals among 5 rows" in warning and 'filter "Lost"' in warning


def test_import_compatible_export_with_technical_names(store, tmp_path):
    rows = [{LABEL_TO_FIELD[k]: v for k, v in r.items() if k in LABEL_TO_FIELD} for r in label_rows()]
    for i, row in enumerate(rows):
        row["id"] = f"__export__.crm_lead_{i}"
    rep = auto_import(store, write_csv(tmp_path / "Lead (crm.lead).csv", TECHNICAL, rows, quote_all=True))
    assert rep.preset == "odoo" and rep.mapping["stage"] == "stage_id"
    assert rep.outcomes == {"won": 2, "lost": 4, "open": 3}
    assert stored(store, "id")[0] == ("__export__.crm_lead_0",)


def test_a_won_stage_below_probability_100_is_still_open(store, tmp_path):
    rows = label_rows([("Won", "90.0", "True", ""), ("Won", "100.0", "True", "")])
    rep = auto_import(store, write_csv(tmp_path / "l.csv", LABELS, rows))
    assert rep.outcomes == {"won": 1, "open": 1}


def test_enterprise_is_won_column_decides(store, tmp_path):
    header = [*LABELS, "Is Won"]
    rows = label_rows(LEADS[:3])
    for row, status in zip(rows, ["Won", "Lost", "Pending"], strict=True):
        row["Is Won"] = status
    rep = auto_import(store, write_csv(tmp_path / "l.csv", header, rows))
    assert rep.outcomes == {"won": 1, "lost": 1, "open": 1}
