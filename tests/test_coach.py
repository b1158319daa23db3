"""The rep card: its numbers against pandas on the synthetic pipeline, the weak stage against the generator's
truth, the card reproduced by rates/benchmark/funnel commands, the CLI, the HTML file and the web page."""

from __future__ import annotations

import json
import shlex
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.improve.coach import UnknownRepError, rep_card, stage_gaps
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo, load_synth
from hitrate.synth.generator import OPEN_STAGES, generate
from tests.conftest import require_module

ENV = {"COLUMNS": "200"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    path = tmp_path_factory.mktemp("coach") / "demo.duckdb"
    with Store(path) as store:
        data = build_demo(store, seed=3, n_opportunities=4_000)
    return path, data


@pytest.fixture(scope="module")
def card(demo) -> Any:
    path, data = demo
    rep = data.reps["rep"].iloc[0]
    with Store(path) as store, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rep_card(store, rep)


def decided(data: Any) -> pd.DataFrame:
    o = data.opportunities.merge(data.reps[["rep", "team"]], on="rep")
    return o[o["outcome"] != "open"]


# ---- against the truth and against pandas ---------------------------------------------------------------------
def test_the_weak_stage_is_the_generators_for_most_reps(demo) -> None:
    """Measured: 29 to 30 of 30 reps on seeds 1-3 at 4,000 and 8,000 deals; 28-29 of 30 with a weaker effect (an
    extra 20% of lost deals at the weak stage), 18-23 of 30 at 10%. Held here to at least 70%."""
    path, data = demo
    with Store(path) as store:
        gaps = stage_gaps(store)
    truth = data.truth.rep_weak_stage
    assert set(truth.values()) == set(OPEN_STAGES) and gaps.stages == list(OPEN_STAGES)
    enough = [r for i, r in enumerate(gaps.reps) if gaps.reached[i, 0] >= 50]
    assert len(enough) >= 20
    named = sum(gaps.weak[r] == truth[r] for r in enough)
    assert named / len(enough) >= 0.7, f"{named} of {len(enough)}"


def test_without_weak_stages_the_card_names_the_stages_only_by_chance(tmp_path: Path) -> None:
    """A control: with ``weak_stage_share=0`` the same reps get the same (now inert) stages dealt out, and the
    card names them at about chance (1 in 4), far from the 70% above: the match is the data's, not the method's."""
    dealt = generate(seed=4, n_opportunities=200).truth.rep_weak_stage
    data = generate(seed=4, n_opportunities=4_000, weak_stage_share=0.0)
    assert data.truth.rep_weak_stage == {}
    with Store(tmp_path / "flat.duckdb") as store:
        load_synth(store, data, label="flat")
        gaps = stage_gaps(store)
    named = sum(gaps.weak[r] == dealt[r] for r in gaps.reps)
    assert named / len(gaps.reps) <= 0.5, f"{named} of {len(gaps.reps)}"


def test_the_generator_moves_lost_deals_to_each_reps_weak_stage() -> None:
    """Lost deals' furthest stage per rep follows (1 - share) * base + share * [weak stage], within 4 standard
    errors; won deals and p_win do not depend on it."""
    data = generate(seed=9, n_opportunities=60_000, with_activities=False)
    off = generate(seed=9, n_opportunities=2_000, with_history=False, with_activities=False, weak_stage_share=0.0)
    on = generate(seed=9, n_opportunities=2_000, with_history=False, with_activities=False)
    np.testing.assert_array_equal(off.truth.p_win, on.truth.p_win)
    np.testing.assert_array_equal(off.opportunities["outcome"], on.opportunities["outcome"])
    truth = data.truth
    assert truth.weak_stage_share == 0.35 and list(truth.lost_at_stage) == list(OPEN_STAGES)
    h = data.stage_history[data.stage_history["stage"].isin(OPEN_STAGES)]
    furthest = h.assign(r=h["stage"].map(OPEN_STAGES.index)).groupby("id")["r"].max()
    o = data.opportunities.set_index("id").loc[furthest.index]
    lost = o["outcome"] == "lost"
    weak = o.loc[lost, "rep"].map(truth.rep_weak_stage).map(OPEN_STAGES.index)
    base = np.array(list(truth.lost_at_stage.values()))
    for w in range(4):
        at = furthest[lost][weak == w]
        want = (1 - truth.weak_stage_share) * base + truth.weak_stage_share * np.eye(4)[w]
        got = np.bincount(at, minlength=4) / len(at)
        assert np.all(np.abs(got - want) < 4 * np.sqrt(want * (1 - want) / len(at)) + 0.01), (w, got, want)


def test_the_log_odds_ratio_is_the_textbook_one(card) -> None:
    """L = log((a+.5)/(n-a+.5)) - log((A+.5)/(N-A+.5)) from the card's own counts; shrunk towards 0, same sign."""
    for r in card.stages:
        a, n, pa, pn = r["advanced"], r["reached"], r["peers"]["advanced"], r["peers"]["reached"]
        lor = np.log((a + 0.5) / (n - a + 0.5)) - np.log((pa + 0.5) / (pn - pa + 0.5))
        assert r["log_odds_ratio"] == pytest.approx(lor, rel=1e-12)
        assert abs(r["shrunk_log_odds_ratio"]) <= abs(lor) and r["shrunk_log_odds_ratio"] * lor >= 0
        assert r["log_odds_ratio_low"] < lor < r["log_odds_ratio_high"]


def test_hit_rate_peers_and_segments_match_pandas(demo, card) -> None:
    _, data = demo
    o = decided(data)
    mine = o[o["rep"] == card.rep]
    peers = o[(o["team"] == card.team) & (o["rep"] != card.rep)]
    assert sorted(peers["rep"].unique()) == card.peers
    h = card.hit_rate
    assert (h["attempts"], h["hits"]) == (len(mine), int((mine["outcome"] == "won").sum()))
    assert (h["peers"]["attempts"], h["peers"]["hits"]) == (len(peers), int((peers["outcome"] == "won").sum()))
    assert h["difference"] == pytest.approx(h["hit_rate"] - h["peers"]["hit_rate"])
    assert h["difference_low"] < h["difference"] < h["difference_high"]
    assert h["ci_low"] < h["hit_rate"] < h["ci_high"]
    assert h["quality_index"] is not None and h["quality_low"] < h["quality_index"] < h["quality_high"]
    for row in card.segments["lead_source"]:
        m = mine[mine["lead_source"] == row["lead_source"]]
        p = peers[peers["lead_source"] == row["lead_source"]]
        assert (row["attempts"], row["hits"]) == (len(m), int((m["outcome"] == "won").sum()))
        assert (row["peers"]["attempts"], row["peers"]["hits"]) == (len(p), int((p["outcome"] == "won").sum()))
    strongest, weakest = card.strongest["lead_source"], card.weakest["lead_source"]
    eligible = [r["difference"] for r in card.segments["lead_source"] if r["attempts"] >= 20]
    assert strongest["difference"] == max(eligible) and weakest["difference"] == min(eligible)


def test_activities_per_decided_opportunity_match_pandas(demo, card) -> None:
    _, data = demo
    o = decided(data)
    acts = data.activities.merge(o[["id", "rep"]], left_on="opportunity_id", right_on="id", suffixes=("_a", ""))
    groups = {"rep": [card.rep], "peers": card.peers, "best": card.best}
    assert set(card.best) <= set(card.peers) and len(card.best) == 2  # top quarter of 5 peers, rounded up
    for row in card.activities:
        for label, members in groups.items():
            n = int(o["rep"].isin(members).sum())
            k = int((acts["rep"].isin(members) & (acts["type"] == row["type"])).sum())
            got = row[label]
            assert (got["activities"], got["opportunities"]) == (k, n)
            assert got["per_opportunity"] == pytest.approx(k / n)
            assert got["low"] <= got["per_opportunity"] <= got["high"]


def test_stage_rows_match_the_history(demo, card) -> None:
    _, data = demo
    h = data.stage_history
    o = data.opportunities.set_index("id")
    rank = h[h["stage"].isin(OPEN_STAGES)].assign(r=lambda d: d["stage"].map(OPEN_STAGES.index))
    furthest = rank.groupby("id")["r"].max()
    mine = furthest[o.loc[furthest.index, "rep"] == card.rep]
    won = o.loc[mine.index, "outcome"] == "won"
    for j, row in enumerate(card.stages):
        assert row["reached"] == int((mine >= j).sum())
        moved = int(((mine >= j) & won).sum()) if j == len(OPEN_STAGES) - 1 else int((mine > j).sum())
        assert row["advanced"] == moved
    assert card.weak_stage is not None and card.weak_stage["stage"] == data.truth.rep_weak_stage[card.rep]


def test_unknown_rep_names_it_and_suggests_close_ones(demo) -> None:
    path, data = demo
    rep = data.reps["rep"].iloc[1]
    typo = rep[:-1] + ("x" if rep[-1] != "x" else "y")
    with Store(path) as store, pytest.raises(UnknownRepError, match=typo) as err:
        rep_card(store, typo)
    assert repr(rep) in str(err.value)
    result = CliRunner().invoke(app, ["coach", typo, "--db", str(path)], env=ENV)
    assert result.exit_code == 2
    assert typo in result.stderr and rep in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_peers_by_none_compares_with_every_other_rep(demo) -> None:
    path, data = demo
    rep = data.reps["rep"].iloc[0]
    with Store(path) as store, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        everyone = rep_card(store, rep, peers_by=None, segment_fields=[])
    assert everyone.team is None and len(everyone.peers) == len(data.reps) - 1
    assert everyone.segments == {} and str(everyone.statements[0]).startswith("Hit rate")


def test_peers_by_an_unknown_field_is_named(demo) -> None:
    path, data = demo
    result = CliRunner().invoke(app, ["coach", data.reps["rep"].iloc[0], "--peers-by", "teem", "--db", str(path)])
    assert result.exit_code == 2 and "teem" in result.stderr and "--peers-by" in result.stderr


# ---- the CLI, reproduction, HTML --------------------------------------------------------------------------------
def run(args: list[str], path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, [*args, "--format", "json", "--db", str(path)], env=ENV)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_cli_json_keys_and_table(demo, card) -> None:
    path, _ = demo
    out = run(["coach", card.rep], path)
    assert {
        "rep", "team", "peers", "hit_rate", "trend", "trend_change", "stages", "weak_stage", "activities", "best",
        "segments", "strongest", "weakest", "statements", "reproduce", "method", "warnings",
    } <= set(out)  # fmt: skip
    assert out["hit_rate"]["hits"] == card.hit_rate["hits"] and out["weak_stage"]["stage"] == card.weak_stage["stage"]
    table = CliRunner().invoke(app, ["coach", card.rep, "--db", str(path)], env=ENV)
    assert table.exit_code == 0, table.stderr
    assert f"Rep card: {card.rep}" in table.stdout and "◀ weak" in table.stdout and "Weak stage:" in table.stdout


def command(card: Any, key: str) -> list[str]:
    words = shlex.split(card.reproduce[key])
    assert words[0] == "hitrate"
    return words[1:]


def test_every_number_is_reproduced_by_rates_benchmark_and_funnel(demo, card) -> None:
    """The card's reproducing commands, run through the CLI, give the card's numbers exactly."""
    path, _ = demo
    h = card.hit_rate
    bench = {r["rep"]: r for r in run(command(card, "hit_rate"), path)["rows"]}[card.rep]
    for key in ("attempts", "hits", "hit_rate", "ci_low", "ci_high", "shrunk_rate", "quality_index", "quality_low"):
        assert bench[key] == h[key], key
    peers = run(command(card, "peers_rate"), path)["rows"][0]
    assert (peers["attempts"], peers["hits"], peers["hit_rate"]) == (
        h["peers"]["attempts"], h["peers"]["hits"], h["peers"]["hit_rate"]
    )  # fmt: skip
    assert run(command(card, "team_rate"), path)["rows"][0]["hit_rate"] == pytest.approx(h["team_rate"], abs=1e-15)
    trend = run(command(card, "trend"), path)["rows"]
    assert [(r["period"], r["attempts"], r["hits"]) for r in trend] == [
        (r["period"], r["attempts"], r["hits"]) for r in card.trend if r["attempts"]
    ]
    for key, pick in (("stages", lambda r: r), ("peers_stages", lambda r: r["peers"])):
        rows = run(command(card, key), path)["rows"]
        last = len(rows) - 1
        got = [(r["stage"], r["reached"], r["won"] if i == last else r["advanced"]) for i, r in enumerate(rows)]
        assert got == [(r["stage"], pick(r)["reached"], pick(r)["advanced"]) for r in card.stages], key
    for f in card.segments:
        mine = {r[f]: (r["attempts"], r["hits"]) for r in run(command(card, f), path)["rows"]}
        theirs = {r[f]: (r["attempts"], r["hits"]) for r in run(command(card, f"peers_{f}"), path)["rows"]}
        for row in card.segments[f]:
            assert mine.get(row[f], (0, 0)) == (row["attempts"], row["hits"])
            assert theirs.get(row[f], (0, 0)) == (row["peers"]["attempts"], row["peers"]["hits"])


def test_html_export_is_written_offline_with_the_rep(demo, card, tmp_path: Path) -> None:
    path, _ = demo
    for lang, word in (("en", "Weak stage"), ("da", "Svag fase")):
        out = tmp_path / f"card-{lang}.html"
        result = CliRunner().invoke(
            app, ["coach", card.rep, "--html", str(out), "--lang", lang, "--db", str(path)], env=ENV
        )
        assert result.exit_code == 0, result.stderr
        text = out.read_text(encoding="utf-8")
        assert card.rep in text and word in text and "Plotly" in text
        assert '<script src="http' not in text and "<link" not in text


# ---- the web page -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Any:
    require_module("fastapi")
    from tests.web_helpers import build_web_store

    return build_web_store(tmp_path_factory.mktemp("coachweb") / "web.duckdb")


def page_client(web: Any, user: str) -> Any:
    import re

    from fastapi.testclient import TestClient

    from hitrate.web import create_app
    from tests.web_helpers import PASSWORD

    c = TestClient(create_app(web.path, secret="t"), raise_server_exceptions=False)
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
    r = c.post("/login", data={"username": user, "password": PASSWORD, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    return c


def test_web_rep_sees_their_own_card_and_no_other_names(web) -> None:
    c = page_client(web, "rita")
    page = c.get("/rep")
    assert page.status_code == 200
    assert 'id="coach"' in page.text and 'id="stages"' in page.text and "Weak stage" in page.text
    assert web.rep in page.text
    assert not any(name in page.text for name in set(web.team_of) - {web.rep})
    da = c.get("/rep?lang=da").text
    assert "Svag fase" in da and "Konvertering til næste fase" in da


def test_web_manager_sees_their_team_only(web) -> None:
    from tests.web_helpers import MANAGED, OTHER_TEAM

    c = page_client(web, "mo")
    mine = sorted(web.reps_in(MANAGED))[1]
    page = c.get(f"/coach/{mine}")
    assert page.status_code == 200 and f"Rep card: {mine}" in page.text and 'id="activities"' in page.text
    assert not any(name in page.text for name in web.reps_in(OTHER_TEAM))
    other = sorted(web.reps_in(OTHER_TEAM))[0]
    assert c.get("/rep", params={"rep": other}).status_code == 403
    assert c.get(f"/coach/{other}").status_code == 403


def test_api_card_is_scoped(web) -> None:
    from fastapi.testclient import TestClient

    from hitrate.web import create_app
    from tests.web_helpers import MANAGED, OTHER_TEAM

    c = TestClient(create_app(web.path, secret="t"), raise_server_exceptions=False)

    def get(role: str, rep: str) -> Any:
        return c.get(f"/api/coach/{rep}", headers={"Authorization": f"Bearer {web.tokens[role]}"})

    own = get("rep", web.rep)
    assert own.status_code == 200, own.text
    body = own.json()
    assert body["rep"] == web.rep and body["peers"] == [] and body["reproduce"] == {} and body["n_peers"] >= 1
    assert not any(name in own.text for name in set(web.team_of) - {web.rep})
    other = sorted(web.reps_in(MANAGED) - {web.rep})[0]
    assert get("rep", other).status_code == 403
    assert get("manager", other).json()["peers"]
    assert get("manager", sorted(web.reps_in(OTHER_TEAM))[0]).status_code == 403
    unknown = get("admin", web.rep + "x")
    assert unknown.status_code == 400 and web.rep in unknown.json()["detail"]


def test_a_store_without_history_or_activities_gives_a_card_without_them(tmp_path: Path) -> None:
    data = generate(seed=5, n_opportunities=1_500, with_history=False, with_activities=False)
    rep = data.reps["rep"].iloc[2]
    with Store(tmp_path / "bare.duckdb") as store:
        load_synth(store, data, label="bare")
        with pytest.warns(UserWarning) as caught:
            card = rep_card(store, rep)
    assert card.stages == [] and card.weak_stage is None and card.activities == []
    said = " ".join(str(w.message) for w in caught)
    assert "stage history" in said and "activities" in said
    assert str(card.statements[0]).startswith("Hit rate") and not any("Weak stage" in s for s in card.statements)


def test_any_ibis_backend_gives_the_same_card(demo, card) -> None:
    """The card through a plain Ibis DuckDB connection (the path PostgreSQL and Spark take) equals the store's."""
    import ibis

    path, _ = demo
    con = ibis.duckdb.connect(str(path), read_only=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            other = rep_card(con, card.rep).to_dict()
    finally:
        con.disconnect()
    assert other == card.to_dict()


# ---- the result face -----------------------------------------------------------------------------------------------
def test_the_card_and_the_stage_gaps_show_the_result_face(demo, card) -> None:
    from tests.improve_faces import check_face

    path, _ = demo
    check_face(card)
    with Store(path) as store:
        check_face(stage_gaps(store))
    assert card.to_dict()["statements"] == [str(s) for s in card.statements]
    da = card.summary("da")
    assert da.startswith(f"Sælgerkort: {card.rep}") and "Hitrate " in da and "mod kolleger" in da
    assert set(card.to_frame()["part"]) >= {"hit_rate", "stage"}


def test_the_card_is_worded_from_its_data_in_both_languages(card) -> None:
    """The web renders the card from its JSON: the same sentences as the card's own messages."""
    from hitrate.improve.coach import statements

    data = card.to_dict()
    assert statements(data, "en") == data["statements"] == statements(card, "en")
    assert statements(data, "da") == statements(card, "da")
    assert statements(data, "da")[0].startswith("Hitrate ") and " point (" in statements(data, "da")[0]


def test_segment_words_follow_the_sign_of_the_difference(card):
    """A "strongest" value still below the peers is said as the closest to them, a "weakest" one still above
    them as the smallest lead: never "Strongest ... -17.7 points"."""
    import copy

    from hitrate.improve.coach._words import card_statements

    data = card.to_dict()
    field = next(f for f in data["strongest"] if data["strongest"][f] is not None)

    def said(strongest: float, weakest: float) -> list[str]:
        c = copy.deepcopy(data)
        for word, d in (("strongest", strongest), ("weakest", weakest)):
            c[word][field].update(difference=d, difference_low=d - 0.1, difference_high=d + 0.1)
        return [
            m.render("en")
            for m in card_statements(c)
            if m.key.split(".")[-1] in WORDS and m.params.get("field") == field
        ]

    WORDS = {"strongest", "weakest", "closest", "smallest_lead"}
    below = said(-0.177, -0.3)
    assert below[0].startswith(f"Below peers in every {field}; closest in") and "-17.7" in below[0]
    assert below[1].startswith(f"Weakest {field}") and not any(t.startswith("Strongest") for t in below)
    above = said(0.3, 0.05)
    assert above[0].startswith(f"Strongest {field}")
    assert above[1].startswith(f"Above peers in every {field}; the smallest lead in")
