"""``hitrate doctor`` on a file written here with one of each problem; each count is held to the rows written
(counted here in Python, independently of the engine), and the five faces, the command line and the report
show the findings (issue 15, deliverable 5)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hitrate
from hitrate.cli import app

START = dt.date(2024, 1, 1)
TEAM_OF = {"R0": "T1", "R1": "T2", "R2": "T1", "R3": "T2"}
HEAD = ["id", "rep", "team", "stage", "created_at", "closed_at", "amount", "account", "currency"]


def deals() -> list[dict[str, object]]:
    """Forty clean deals (ten days to close), then one of each problem."""
    rows: list[dict[str, object]] = []
    for i in range(40):
        created = START + dt.timedelta(days=i)
        rep = f"R{i % 4}"
        rows.append({"id": f"D{i}", "rep": rep, "team": TEAM_OF[rep], "stage": "Won" if i % 2 else "Lost",
                     "created_at": created, "closed_at": created + dt.timedelta(days=10), "amount": 100 + i,
                     "account": f"A{i}", "currency": "EUR"})  # fmt: skip

    def add(id_: str, **changes: object) -> None:
        base = {"id": id_, "rep": "R2", "team": "T1", "stage": "Won", "created_at": dt.date(2024, 2, 1),
                "closed_at": dt.date(2024, 2, 11), "amount": 300, "account": f"acct-{id_}",
                "currency": "EUR"}  # fmt: skip
        rows.append({**base, **changes})

    add("OL1", created_at=dt.date(2024, 3, 10), closed_at=dt.date(2024, 3, 8))  # won before first contact
    add("S1", stage="Open", created_at=dt.date(2023, 6, 1), closed_at=None)  # forgotten
    add("S2", stage="Open", created_at=dt.date(2023, 9, 1), closed_at=None)
    add("O1", stage="Open", created_at=dt.date(2024, 3, 5), closed_at=None)  # young: not stale
    add("B1", rep="")  # no rep
    add("T0", rep="R0", team="")  # no team of its own, while reps.team has one: the rep's team counts
    add("T9", rep="R9", team="")  # no team of its own, and a rep the reps table does not know: no team
    add("Z1", stage="Lost", amount=0)
    add("Z2", stage="Lost", amount=0)
    for k in range(3):
        add(f"U{k}", currency="USD")
    add("K1", stage="Dead", created_at=dt.date(2024, 1, 5), closed_at=dt.date(2024, 1, 20))  # nobody mapped Dead
    add("K2", stage="Dead", created_at=dt.date(2024, 1, 6), closed_at=dt.date(2024, 1, 21))
    add("DUP1", account="Acme", amount=500)
    add("DUP2", account="Acme", amount=500)
    add("X1", rep="R1", team="Other")  # its own team differs from reps.team
    return rows


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("doctor")
    rows = deals()
    text = [",".join(HEAD)] + [",".join("" if r[h] is None else str(r[h]) for h in HEAD) for r in rows]
    (folder / "deals.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    (folder / "reps.csv").write_text("rep,team\n" + "".join(f"{r},{t}\n" for r, t in TEAM_OF.items()), encoding="utf-8")
    path = folder / "s.duckdb"
    with hitrate.Store(path) as store:
        hitrate.import_files(store, [folder / "reps.csv"], table="reps")
        hitrate.import_files(
            store, [folder / "deals.csv"], mapping={h: h for h in HEAD[:7]}, won=["Won"], lost=["Lost"]
        )
    return path


def expected() -> dict[str, int]:
    """The counts, from the rows written."""
    rows = deals()
    decided = [r for r in rows if r["stage"] in ("Won", "Lost") and r["closed_at"]]
    days = sorted(max((r["closed_at"] - r["created_at"]).days, 0) for r in decided)  # type: ignore[operator]
    assert days[len(days) // 2] == 10
    as_of = max(max(r["created_at"] for r in rows), max(r["closed_at"] for r in rows if r["closed_at"]))  # type: ignore[type-var]
    open_ = [r for r in rows if r["stage"] not in ("Won", "Lost")]
    return {
        "closed_before_created": sum(1 for r in rows if r["closed_at"] and r["closed_at"] < r["created_at"]),  # type: ignore[operator]
        "stale_open": sum(1 for r in open_ if (as_of - r["created_at"]).days > 30),  # type: ignore[operator]
        "blank_rep": sum(1 for r in rows if not r["rep"]),
        "blank_team": sum(1 for r in rows if not r["team"] and str(r["rep"]) not in TEAM_OF),
        "zero_amount_lost_only": sum(1 for r in rows if r["amount"] == 0 and r["stage"] == "Lost"),
        "mixed_currencies": sum(1 for r in rows if r["currency"] == "USD"),
        "unmapped_outcomes": sum(1 for r in rows if r["stage"] == "Dead"),
        "duplicates": sum(1 for r in rows if r["account"] == "Acme") - 1,
        "shadowed_lookup": sum(1 for r in rows if r["rep"] in TEAM_OF and r["team"] != TEAM_OF[str(r["rep"])]),
    }


def test_every_check_counts_what_was_written(store_path):
    with hitrate.Store(store_path, read_only=True) as store:
        result = hitrate.doctor(store)
    assert {f.check: f.count for f in result.findings} == expected()
    assert result.opportunities == len(deals())
    first = result.finding("closed_before_created")
    assert first is not None and [e["id"] for e in first.examples] == ["OL1"]
    assert first.examples[0]["counted_as"] == "won"
    stale = result.finding("stale_open")
    assert stale is not None and [e["id"] for e in stale.examples] == ["S1", "S2", "K1", "K2"]
    shadow = result.finding("shadowed_lookup")
    assert shadow is not None and "differs on 1 deals, where the deal's own value counts" in str(shadow.detail)
    assert "empty on 1, where reps.team counts" in str(shadow.detail)
    dup = result.finding("duplicates")
    assert dup is not None and dup.examples[0]["ids"] in ("DUP1, DUP2", "DUP2, DUP1")
    unmapped = result.finding("unmapped_outcomes")
    assert unmapped is not None and "Dead" in str(unmapped.fix)


def test_five_faces_and_danish(store_path):
    with hitrate.Store(store_path, read_only=True) as store:
        result = hitrate.doctor(store)
    assert "id=OL1" in result.summary() and "what to do" in result.summary()
    assert "hvad der skal gøres" in result.summary(lang="da")
    frame = result.to_frame()
    assert list(frame.columns) == ["check", "count", "finding", "fix"] and len(frame) == len(expected())
    data = result.to_dict()
    json.dumps(data)
    assert data["findings"][0]["examples"][0]["id"] == "OL1"
    assert len(result.plot().data[0].y) == len(expected())
    assert "Data quality of the store" in result._repr_html_()


def test_command_line_and_report(store_path, tmp_path):
    runner = CliRunner()
    out = runner.invoke(app, ["doctor", "--db", str(store_path), "--format", "json"])
    assert out.exit_code == 0, out.stderr
    assert {f["check"]: f["count"] for f in json.loads(out.stdout)["findings"]} == expected()
    out = runner.invoke(app, ["doctor", "--db", str(store_path)])
    assert out.exit_code == 0 and "id=OL1" in out.stdout
    report = tmp_path / "r.html"
    out = runner.invoke(app, ["report", "--db", str(store_path), "--output", str(report)])
    assert out.exit_code == 0, out.stderr
    page = report.read_text(encoding="utf-8")
    assert "Data quality of the store" in page and "closed before they were created" in page


def test_future_dates_and_a_clean_store(store_path, tmp_path):
    import shutil

    copy = tmp_path / "c.duckdb"
    shutil.copy(store_path, copy)
    with hitrate.Store(copy) as store:
        store.raw.execute("UPDATE opportunities SET closed_at = TIMESTAMP '2099-01-01' WHERE id IN ('D1', 'D3')")
        future = hitrate.doctor(store).finding("future_dates")
        assert future is not None and future.count == 2
        store.raw.execute("DELETE FROM opportunities WHERE id NOT LIKE 'D%' OR id LIKE 'DUP%'")
        store.raw.execute("UPDATE opportunities SET closed_at = created_at + INTERVAL 10 DAY")
        clean = hitrate.doctor(store)
    assert clean.findings == [] and "no data-quality problems" in clean.summary()


def test_a_deals_own_team_counts_and_the_reps_team_fills_in(store_path):
    """The file's ``team`` column sets the team of its deals; where a deal's own team is empty its rep's team
    (``reps.team``) counts, never nothing (issue 15: a ``team`` column hid every stored deal's team)."""
    from hitrate.engine.expressions import analysis_table

    with hitrate.Store(store_path, read_only=True) as store:
        got = {r["id"]: r["team"] for r in analysis_table(store.con, {"id", "team"}).to_pyarrow().to_pylist()}
    assert got == {r["id"]: r["team"] or TEAM_OF.get(str(r["rep"])) for r in deals()}
    assert got["X1"] == "Other" and got["T0"] == "T1" and got["T9"] is None


def test_where_keeps_the_checks_to_those_deals(store_path):
    """``where`` (the web's scope) narrows every finding's count and examples; the command's ``--where`` too."""
    rows = deals()
    with hitrate.Store(store_path, read_only=True) as store:
        result = hitrate.doctor(store, where={"rep": ["R1"]})
    assert result.opportunities == sum(1 for r in rows if r["rep"] == "R1")
    shadow = result.finding("shadowed_lookup")
    assert shadow is not None and [e["id"] for e in shadow.examples] == ["X1"]
    ids = {str(e.get("id")) for f in result.findings for e in f.examples if "id" in e}
    assert ids <= {str(r["id"]) for r in rows if r["rep"] == "R1"}
    assert result.finding("closed_before_created") is None  # OL1 is R2's
    out = CliRunner().invoke(app, ["doctor", "--db", str(store_path), "--where", "rep=R2", "--format", "json"])
    assert out.exit_code == 0, out.stderr
    found = {f["check"]: f["examples"] for f in json.loads(out.stdout)["findings"]}
    assert [e["id"] for e in found["closed_before_created"]] == ["OL1"] and "shadowed_lookup" not in found


def test_deals_with_nothing_but_an_account_in_common_are_no_duplicates(tmp_path):
    """Deals at one account with no created date are not "the same account, amount and dates": the Maven
    sample's Prospecting deals (no amount, no dates) were 90 of its 103 "duplicates". Open deals at one account
    created the same day, with no amount, still are."""
    rows = [
        "id,rep,stage,created_at,closed_at,amount,account",
        *(f"P{k},R{k},Prospecting,,,,Acme" for k in range(3)),
        "E1,R1,Engaging,2017-03-01,,,Beta",
        "E2,R2,Engaging,2017-03-01,,,Beta",
        "W1,R1,Won,2017-01-01,2017-02-01,100,Gamma",
        "L1,R2,Lost,2017-01-02,2017-02-02,0,Gamma",
    ]
    (tmp_path / "deals.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with hitrate.Store(tmp_path / "s.duckdb") as store:
        hitrate.import_files(store, [tmp_path / "deals.csv"])
        dup = hitrate.doctor(store).finding("duplicates")
    assert dup is not None and dup.count == 1
    assert [(e["account"], e["deals"]) for e in dup.examples] == [("Beta", 2)]
