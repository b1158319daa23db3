"""The pipedrive preset: English ``Deal - X`` headers (CSV and the XLSX list export), Brazilian Portuguese
bare labels with repeated custom-field labels, and won/lost from Status only."""

from __future__ import annotations

from hitrate.ingest import import_files

from .crm_files import auto_import, header_of, stored, write_csv, write_xlsx


def en_header() -> list[str]:
    """The English Pipedrive deals header (read from the shared data when a test runs, not at collection)."""
    return header_of(
        "pipedrive_deals_en_xlsx__HEADER_ONLY__hydr-sales-leads-tracker_deals-22614642-11.csv", "pipedrive"
    )


def pt_header() -> list[str]:
    """The Brazilian Portuguese Pipedrive deals header."""
    return header_of("pipedrive_deals_ptBR_csv__HEADER_ONLY__hsgrowth-sistema_deals-21427617-45.csv", "pipedrive")


def en_rows() -> list[dict[str, object]]:
    """Every Status value; stages are the account's own names and never say won or lost."""
    rows = []
    for i, (status, stage) in enumerate([("Open", "Contact made"), ("Open", "Qualified"), ("Won", "Qualified"),
                                         ("Lost", "Contact made"), ("Lost", "Proposal made")]):  # fmt: skip
        closed = "2024-03-05 10:11:12" if status != "Open" else None
        rows.append(
            {"Deal - ID": 100 + i, "Deal - Title": f"Deal {i}", "Deal - Owner": "Ivan", "Deal - Pipeline": "Pipeline",
             "Deal - Stage": stage, "Deal - Status": status, "Deal - Deal created": "2024-01-02 09:00:00",
             "Deal - Won time": closed if status == "Won" else None,
             "Deal - Lost time": closed if status == "Lost" else None, "Deal - Deal closed on": closed,
             "Deal - Lost reason": "[Sample] Proposal too high" if status == "Lost" else None,
             "Deal - Value": 1500, "Deal - Currency of Value": "BGN", "Deal - Expected close date": "2024-04-30",
             "Deal - Archive status": "Not archived", "Deal - Visible to": "All users"}
        )  # fmt: skip
    return rows


def test_english_csv_with_deal_prefix_headers(store, tmp_path):
    rep = auto_import(store, write_csv(tmp_path / "deals-22614642-11.csv", en_header(), en_rows(), quote_all=True))
    assert rep.preset == "pipedrive" and "Deal - Status" in rep.preset_reason
    assert (rep.read, rep.imported, rep.quarantined) == (5, 5, 0)
    assert rep.outcomes == {"won": 1, "lost": 2, "open": 2}
    assert rep.stages["Qualified"]["outcome"] == "mixed"  # the stage does not decide; Status does
    assert stored(store, "id, loss_reason, closed_at IS NULL, expected_close IS NULL")[0] == ("100", None, True, False)
    assert stored(store, "loss_reason")[3] == ("[Sample] Proposal too high",)


def test_the_xlsx_list_export_sheet_deal_list(store, tmp_path):
    path = write_xlsx(tmp_path / "deals-22614642-11.xlsx", en_header(), en_rows(), sheet="deal list")
    rep = auto_import(store, path)
    assert (rep.preset, rep.read, rep.quarantined) == ("pipedrive", 5, 0)
    assert rep.outcomes == {"won": 1, "lost": 2, "open": 2}
    assert store.fetch("SELECT DISTINCT amount FROM opportunities") == [(1500.0,)]


def pt_rows() -> list[dict[str, object]]:
    rows = []
    for i, status in enumerate(["Aberto", "Ganho", "Perdido", "Perdido"]):
        closed = "2024-03-05 10:11:12" if status != "Aberto" else ""
        rows.append(
            {"ID": str(i + 1), "Título": f"Negócio {i}", "Proprietário": "Erick", "Valor": "1234.5",
             "Moeda de Valor": "BRL", "Funil": "Vendas", "Etapa": "NEGOCIAÇÃO", "Status": status,
             "Negócio criado em": "2024-01-02 09:00:00", "Ganho em": closed if status == "Ganho" else "",
             "Data de perda": closed if status == "Perdido" else "", "Negócio fechado em": closed,
             "Motivo da perda": "Sem orçamento" if status == "Perdido" else "",
             "Data de fechamento esperada": "2024-06-30", "É SAL?": "Sim"}
        )  # fmt: skip
    return rows


def test_portuguese_bare_labels_localised_status_and_repeated_custom_labels(store, tmp_path):
    rep = auto_import(store, write_csv(tmp_path / "deals-21427617-45.csv", pt_header(), pt_rows(), quote_all=True))
    assert rep.preset == "pipedrive"
    assert (rep.read, rep.imported, rep.quarantined) == (4, 4, 0)
    assert rep.outcomes == {"won": 1, "lost": 2, "open": 1}
    assert len(rep.renamed_columns) == 11 and "É SAL? (2)" in rep.renamed_columns
    assert rep.mapping["stage"] == "Etapa" and rep.mapping["closed_at"] == "Negócio fechado em"
    assert store.fetch("SELECT DISTINCT amount, currency FROM opportunities") == [(1234.5, "BRL")]
    assert store.fetch("SELECT count(*) FROM opportunities WHERE loss_reason = 'Sem orçamento'") == [(2,)]


def test_mixed_pipelines_and_currencies_warn(store, tmp_path):
    rows = en_rows()
    rows[0].update({"Deal - Pipeline": "Partners", "Deal - Currency of Value": "EUR"})
    report = import_files(store, [write_csv(tmp_path / "deals.csv", en_header(), rows)], preset="auto")
    assert len(report.warnings) == 2
    assert "2 pipelines" in report.warnings[0] and "2 currencies (BGN 4, EUR 1)" in report.warnings[1]
