"""Loss reasons: reps' recorded reasons (scoped), and the distribution of reasons by group and period."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.improve.feedback import NotYourDeal, add_feedback, list_feedback, reasons
from hitrate.store.embedded import Store
from hitrate.store.users import User
from hitrate.synth.demo import load_synth
from hitrate.synth.generator import generate

ENV = {"COLUMNS": "200"}


@pytest.fixture
def lost_store(tmp_path: Path) -> Store:
    data = generate(seed=5, n_opportunities=4000, with_activities=False, with_history=False)
    s = Store(tmp_path / "reasons.duckdb")
    load_synth(s, data, label="test")
    yield s
    s.close()


def _lost(store: Store, n: int = 3) -> list[tuple[str, str, str]]:
    return store.fetch(
        "SELECT o.id, o.rep, r.team FROM opportunities o JOIN reps r USING (rep) WHERE outcome = 'lost' "
        f"ORDER BY o.id LIMIT {n}"
    )


def test_a_rep_records_reasons_only_on_their_own_lost_deals(lost_store):
    (d1, rep1, team1), (d2, rep2, _), _ = _lost(lost_store)
    me = User("me", "rep", (), rep1)
    rec = add_feedback(lost_store, deal_id=d1, reason="  Price ", note="too dear", user=me)
    assert rec["reason"] == "Price" and rec["recorded_by"] == "me"
    if rep2 != rep1:
        with pytest.raises(NotYourDeal, match=f"deal '{d2}': not found among your deals"):
            add_feedback(lost_store, deal_id=d2, reason="Price", user=me)
    with pytest.raises(NotYourDeal, match="'NOPE'"):
        add_feedback(lost_store, deal_id="NOPE", reason="Price", user=me)
    with pytest.raises(NotYourDeal):
        add_feedback(lost_store, deal_id=d1, reason="x", user=User("m", "manager", ("Team Elsewhere",)))
    add_feedback(lost_store, deal_id=d1, reason="Timing", user=User("m", "manager", (team1,)))  # replaces
    won = lost_store.fetch("SELECT id FROM opportunities WHERE outcome = 'won' LIMIT 1")[0][0]
    with pytest.raises(Exception, match="is not lost"):
        add_feedback(lost_store, deal_id=won, reason="Price")
    rows = list_feedback(lost_store)
    assert [(r["id"], r["reason"]) for r in rows] == [(d1, "Timing")]
    assert list_feedback(lost_store, user=me) == rows
    assert list_feedback(lost_store, user=User("o", "rep", (), "Someone Else")) == []


def test_reasons_count_in_the_engine_and_reps_override_the_crm(lost_store):
    s = lost_store
    base = reasons(s, by=["team"])
    ref = s.fetch(
        "SELECT r.team, lower(loss_reason), count(*) FROM opportunities o JOIN reps r USING (rep) "
        "WHERE outcome = 'lost' GROUP BY ALL"
    )
    assert {(r["team"], r["reason"]): r["lost"] for r in base.rows} == {(t, x): n for t, x, n in ref}
    for row in base.rows:
        assert row["of"] == sum(r["lost"] for r in base.rows if r["team"] == row["team"])
        assert row["ci_low"] <= row["share"] <= row["ci_high"]
    (d1, _, team1), *_ = _lost(s)
    crm = s.fetch("SELECT lower(loss_reason) FROM opportunities WHERE id = ?", [d1])[0][0]
    add_feedback(s, deal_id=d1, reason="Bad fit")
    after = {(r["team"], r["reason"]): r for r in reasons(s, by=["team"]).rows}
    assert after[(team1, "bad fit")]["lost"] == 1 and after[(team1, "bad fit")]["recorded_by_reps"] == 1
    before = {(r["team"], r["reason"]): r["lost"] for r in base.rows}
    assert after[(team1, crm)]["lost"] == before[(team1, crm)] - 1


def test_reasons_by_period_carry_the_change_test(lost_store):
    from hitrate.stats.compare import change_flags

    r = reasons(lost_store, by=["segment"], period="year")
    rows = [x for x in r.rows if x["segment"] == "SMB" and x["reason"] == "price"]
    assert [x["period"] for x in rows] == ["2022", "2023", "2024"]
    diff, low, high, p, flag = change_flags([x["lost"] for x in rows], [x["of"] for x in rows])
    assert rows[0]["change"] is None
    assert rows[2]["change"] == pytest.approx(diff[2]) and rows[2]["change_p"] == pytest.approx(p[2])
    assert "Benjamini-Hochberg" in r.method


def test_feedback_and_reasons_cli(lost_store):
    path = lost_store.path
    (d1, rep1, _), *_ = _lost(lost_store)
    lost_store.close()
    run = CliRunner().invoke
    r = run(app, ["feedback", "add", d1, "--reason", "Price", "--note", "lost on price", "--recorded-by", "kim",
                  "--db", path])  # fmt: skip
    assert r.exit_code == 0 and r.stdout.strip() == f"deal {d1} ({rep1}): lost to 'Price'"
    r = run(app, ["feedback", "list", "--format", "json", "--db", path])
    assert json.loads(r.stdout)[0]["recorded_by"] == "kim"
    r = run(app, ["reasons", "--by", "team", "--period", "year", "--db", path], env=ENV)
    assert r.exit_code == 0 and "1 with a rep's own reason" in r.stdout
    r = run(app, ["reasons", "--from", "2024-01-01", "--to", "2024-06-30", "--format", "json", "--db", path])
    payload = json.loads(r.stdout)
    assert payload["lost"] == sum(x["lost"] for x in payload["rows"])
    for args, message in (
        (["feedback", "add", "NOPE", "--reason", "Price"], "deal 'NOPE'"),
        (["feedback", "add", d1, "--reason", ""], "reason ''"),
        (["reasons", "--by", "nofield"], "unknown field 'nofield'"),
        (["reasons", "--from", "2024-02-30"], "'2024-02-30' is not a date"),
    ):
        r = run(app, [*args, "--db", path])
        assert r.exit_code == 2, r.output
        assert message in r.stderr and "Traceback" not in r.output


def test_reasons_by_the_stage_a_deal_was_lost_from_recover_the_generators_mix(tmp_path: Path):
    """``--by lost_at_stage``: the last stage before the closing one, from the stage history. The generator draws
    each lost deal's reason from a distribution per stage it dropped out of (``_LOSS_REASON_BY_STAGE``); every
    share's 99.9% Wilson interval must cover it, and the counts must equal a pandas count on the frames."""
    import numpy as np

    from hitrate.synth.generator import _LOSS_REASON_BY_STAGE, LOSS_REASONS, STAGES

    data = generate(seed=5, n_opportunities=8000, with_activities=False)
    with Store(tmp_path / "stages.duckdb") as s:
        load_synth(s, data, label="test")
        r = reasons(s, by=["lost_at_stage"], confidence=0.999)
    h = data.stage_history.sort_values(["id", "entered_at"])
    h = h[h.stage != "Lost"].groupby("id").stage.last()
    lost = data.opportunities[data.opportunities.outcome == "lost"].set_index("id")
    ref = lost.assign(at=h.reindex(lost.index)).groupby(["at", "loss_reason"]).size()
    got = {(row["lost_at_stage"], row["reason"]): row["lost"] for row in r.rows}
    assert got == {k: int(v) for k, v in ref.items()}
    for row in r.rows:
        truth = _LOSS_REASON_BY_STAGE[list(STAGES).index(row["lost_at_stage"]), list(LOSS_REASONS).index(row["reason"])]
        assert row["ci_low"] <= truth <= row["ci_high"], row
    assert np.isclose(sum(x["share"] for x in r.rows if x["lost_at_stage"] == "Proposal"), 1.0)
    assert "stage history" in r.method


def test_reasons_show_the_result_face_and_recent_lost_deals_are_plain_data(lost_store):
    from hitrate.improve.feedback import recent_lost_deals
    from tests.improve_faces import check_face

    check_face(reasons(lost_store, by=["team"], period="year"))
    deals = recent_lost_deals(lost_store, limit=5)
    assert len(deals) == 5 and set(deals[0]) == {"id", "closed_at", "loss_reason"}
    dates = [d["closed_at"] for d in deals]
    assert dates == sorted(dates, reverse=True)
    lost = {r[0] for r in lost_store.fetch("SELECT id FROM opportunities WHERE outcome = 'lost'")}
    assert {d["id"] for d in deals} <= lost
    team = _lost(lost_store, 1)[0][2]
    mine = recent_lost_deals(lost_store, where={"team": [team]}, limit=1000)
    assert mine and len(mine) < len(lost)


def test_no_reason_recorded_anywhere_is_said_in_words_not_as_a_hundred_percent_none(maven_store):
    """Maven has no loss_reason field and no rep recorded one: no "(none) 100.0%" row anywhere, the result says
    so (JSON, terminal, Danish), and a reason recorded later shows up as a row with its share."""
    result = reasons(maven_store)
    assert result.rows == [] and result.lost == 2473
    assert any("no loss reasons" in str(n).lower() for n in result.notes())
    assert json.loads(json.dumps(result.to_dict(), default=str))["rows"] == []
    runner = CliRunner()
    shown = runner.invoke(app, ["reasons", "--db", str(maven_store.path)])
    assert shown.exit_code == 0 and "No loss reasons recorded yet: 2,473 lost deals" in shown.stdout
    assert "(none)" not in shown.stdout and "100.0%" not in shown.stdout
    da = runner.invoke(app, ["--lang", "da", "reasons", "--db", str(maven_store.path)])
    assert "Ingen tabsårsager registreret endnu: 2.473 tabte handler" in da.stdout
    lost = maven_store.fetch("SELECT id FROM opportunities WHERE outcome = 'lost' ORDER BY id LIMIT 1")[0][0]
    add_feedback(maven_store, lost, reason="price", recorded_by="ann")
    rows = reasons(maven_store).rows
    assert {r["reason"] for r in rows} == {"price", "(none)"} and sum(r["lost"] for r in rows) == 2473


def test_the_reasons_page_says_none_recorded_yet(maven_store, tmp_path: Path):
    from tests.conftest import require_module

    require_module("fastapi")
    from fastapi.testclient import TestClient

    from hitrate.store.users import add_user
    from hitrate.web import create_app
    from tests.web_helpers import PASSWORD, sign_in

    add_user(maven_store, "ann", "admin", password=PASSWORD)
    maven_store.close()
    client = TestClient(create_app(maven_store.path, secret="s"))
    sign_in(client, "ann")
    from tests.words import main_text

    page = client.get("/reasons?lang=en").text
    # no "(none)" row in what a reader meets; the folded method block may name the placeholder
    assert "No loss reasons recorded yet" in page and "(none)" not in main_text(page)
    assert "Ingen tabsårsager registreret endnu" in client.get("/reasons?lang=da").text
