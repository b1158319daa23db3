"""The zoho preset: Record Id, lookup ``.id`` pairs, zcrm_ ids, the typical stages, Closing Date as forecast."""

from __future__ import annotations

import datetime as dt

from .crm_files import auto_import, close_dates_by_outcome, stored, write_csv

HEADER = [
    "Record Id", "Deal Owner.id", "Deal Owner", "Deal Name", "Account Name.id", "Account Name", "Contact Name.id",
    "Contact Name", "Type", "Lead Source", "Amount", "Currency", "Stage", "Probability (%)", "Expected Revenue",
    "Closing Date", "Next Step", "Reason For Loss", "Created By.id", "Created By", "Modified By.id", "Modified By",
    "Created Time", "Modified Time", "Last Activity Time", "Pipeline.id", "Pipeline", "Description",
]  # fmt: skip
STAGES = ["Qualification", "Needs Analysis", "Value Proposition", "Identify Decision Makers", "Proposal/Price Quote",
          "Negotiation/Review", "Closed Won", "Closed Lost", "Closed Lost to Competition"]  # fmt: skip


def rows(created: str = "2024-07-08 14:56:28", closing: str = "2024-09-30") -> list[dict[str, object]]:
    out = []
    for i, stage in enumerate(STAGES):
        out.append(
            {"Record Id": f"zcrm_48768760000003{i:02d}", "Deal Owner.id": "zcrm_4876876000000311",
             "Deal Owner": "Patricia Boyle", "Deal Name": f"Deal {i}", "Account Name.id": f"zcrm_48768760000009{i}",
             "Account Name": "Zylker", "Type": "New Business", "Amount": "25000", "Currency": "USD", "Stage": stage,
             "Probability (%)": "10", "Closing Date": closing, "Created Time": created,
             "Reason For Loss": "Price" if stage.startswith("Closed Lost") else "", "Pipeline": "Standard"}
        )  # fmt: skip
    return out


def test_deals_export_with_every_typical_stage(store, tmp_path):
    rep = auto_import(store, write_csv(tmp_path / "Deals_2025_10_07.csv", HEADER, rows()))
    assert rep.preset == "zoho" and "Deal Owner.id" in rep.preset_reason
    assert (rep.read, rep.imported, rep.quarantined) == (9, 9, 0)
    assert rep.outcomes == {"won": 1, "lost": 2, "open": 6}
    assert rep.stages["Closed Lost to Competition"]["outcome"] == "lost"
    assert rep.mapping["rep"] == "Deal Owner" and "deal_owner_id" in rep.dimensions
    assert stored(store, "id, rep")[0] == ("zcrm_4876876000000300", "Patricia Boyle")
    assert store.fetch("SELECT count(*) FROM opportunities WHERE loss_reason = 'Price'") == [(2,)]


def test_an_open_deals_closing_date_is_a_forecast(store, tmp_path):
    auto_import(store, write_csv(tmp_path / "Deals.csv", HEADER, rows()))
    assert close_dates_by_outcome(store) == [("lost", 2, 0), ("open", 0, 6), ("won", 1, 0)]


def test_datetimes_as_the_users_date_format_setting_writes_them(store, tmp_path):
    auto_import(store, write_csv(tmp_path / "Deals.csv", HEADER, rows("Oct 7, 2025 6:55 PM", "Dec 31, 2025")))
    assert stored(store, "created_at, expected_close")[0] == (
        dt.datetime(2025, 10, 7, 18, 55),
        dt.datetime(2025, 12, 31),
    )


def test_currency_codes_in_the_amount_cells_warn_without_a_currency_column(store, tmp_path):
    header = [h for h in HEADER if h != "Currency"]
    data = [{k: v for k, v in r.items() if k != "Currency"} for r in rows()]
    for i, row in enumerate(data):
        row["Amount"] = f"EUR {1000 + i}" if i % 3 else f"${1000 + i}"
    rep = auto_import(store, write_csv(tmp_path / "Deals.csv", header, data))
    assert rep.quarantined == 0
    assert any("amounts in 2 currencies (EUR 6, $ 3)" in w for w in rep.warnings)
