"""The outreach funnel: lead linking on a hand-made file, engine counts held to pandas, p-values to scipy,
and the sequence ranking and personalisation lift table against the generator's truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.errors import UnknownFieldError, UserInputError
from hitrate.improve.experiments import experiment
from hitrate.improve.outreach import FUNNEL_STEPS, funnel, personalisation_lift, rank_sequences
from hitrate.ingest import import_files
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo

runner = CliRunner()
ENV = {"COLUMNS": "200"}

OPPS = """id,stage,created_at
O1,Closed Won,2024-01-01
O2,Closed Lost,2024-01-02
O3,Closed Won,2024-01-03
"""
# L1: a reply (variant A), then a booked meeting (B); the meeting activity links L1 to O1 (won).
# L2: no reply. O2 (no lead id): a booked meeting, lost. L3: booked a meeting; an e-mail carrying both ids
# links L3 to O3 (won), and a call logged on O3 alone belongs to L3 through that link.
# a8: neither id: a lead of its own that replied.
ACTS = """id,lead_id,opportunity_id,type,at,campaign,variant,outcome,segment,personalised
a1,L1,,email,2024-01-01,C1,A,Replied,SMB,yes
a2,L1,,call,2024-01-02,C1,B,meeting_booked,SMB,no
m1,L1,O1,meeting,2024-01-03,C1,B,held,SMB,
a3,L2,,email,2024-01-01,C1,A,no_reply,SMB,yes
a4,,O2,Call,2024-01-01,C2,B,Meeting Booked,Enterprise,No
a5,L3,,email,2024-01-01,C2,A,meeting_booked,Enterprise,YES
a6,L3,O3,email,2024-01-02,C2,A,no_reply,Enterprise,no
a7,,O3,call,2024-01-03,C2,B,replied,Enterprise,maybe
a8,,,email,2024-01-04,C1,A,replied,SMB,yes
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    (tmp_path / "o.csv").write_text(OPPS)
    (tmp_path / "a.csv").write_text(ACTS)
    path = tmp_path / "small.duckdb"
    with Store(path) as store:
        import_files(store, [tmp_path / "o.csv"])
        import_files(store, [tmp_path / "a.csv"], table="activities")
    return path


def _steps(result: Any, **group: str) -> list[int]:
    rows = [r for r in result.rows if all(r[k] == v for k, v in group.items())]
    assert [r["step"] for r in rows] == list(FUNNEL_STEPS)
    return [r["leads"] for r in rows]


def test_leads_are_linked_to_opportunities_as_documented(small: Path) -> None:
    with Store(small) as store:
        overall = funnel(store)
        assert _steps(overall) == [5, 4, 3, 3, 2]  # L1 L2 O2 L3 a8 / -L2 / -a8 / all have one / O2 lost
        assert overall.rows[0]["touches"] == 8  # the meeting activity is not a touch
        by_variant = funnel(store, by=["variant"])
        assert _steps(by_variant, variant="A") == [4, 3, 1, 1, 1]  # L1 L2 L3 a8; L1 L3 a8; L3 (a5)
        assert _steps(by_variant, variant="B") == [3, 3, 2, 2, 1]  # L1 O2 L3 (a7 via the link); a2, a4
        second = by_variant.rows[2]
        assert second["from_previous"] == pytest.approx(1 / 3) and second["from_first"] == pytest.approx(1 / 4)
        assert second["previous_low"] < 1 / 3 < second["previous_high"]
        assert _steps(funnel(store, by=["campaign"], campaign="C2"), campaign="C2") == [2, 2, 2, 2, 1]
        # touch level: a touch reaches `opportunity` when its lead has one (a3 and a8 do not)
        opp = experiment(store, step="opportunity")
        assert [(r["variant"], r["attempts"], r["hits"]) for r in opp.rows] == [("A", 5, 3), ("B", 3, 3)]
        won = experiment(store, step="won")
        assert [(r["variant"], r["hits"]) for r in won.rows] == [("A", 3), ("B", 2)]  # a1 a5 a6 / a2 a7
        lift = personalisation_lift(store)
        assert [(r["segment"], r["attempts_yes"], r["attempts_no"]) for r in lift.rows] == [
            ("Enterprise", 1, 2),
            ("SMB", 3, 1),
        ]
        assert any("1 touches without a yes/no value of personalised" in w for w in lift.warnings)


def test_small_counts_use_fishers_exact_test(small: Path) -> None:
    """Reference: scipy.stats.fisher_exact([[3, 0], [3, 2]]) for B (3 of 3) against A (3 of 5) at `opportunity`."""
    from scipy.stats import fisher_exact

    with Store(small) as store:
        result = experiment(store, step="opportunity")
    b = result.rows[1]
    assert b["p_value"] == pytest.approx(fisher_exact([[3, 0], [3, 2]])[1], rel=1e-12)


def test_errors_name_what_is_wrong(small: Path, tmp_path: Path) -> None:
    with Store(small) as store:
        with pytest.raises(UnknownFieldError, match="nope"):
            funnel(store, by=["nope"])
        # The library names its parameters; the command line writes them as flags (--campaign).
        with pytest.raises(UserInputError, match="^campaign Nope: no activities of that campaign; campaigns: C1, C2"):
            funnel(store, campaign="Nope")
        with pytest.raises(UserInputError, match="campaign Nope") as err:
            experiment(store, campaign="Nope")
        assert "--campaign Nope" in err.value.render("en", lambda p: f"--{p}")
        with pytest.raises(UserInputError, match="^step bought"):
            rank_sequences(store, by="variant", step="bought")
        with pytest.raises(UnknownFieldError, match="sequence"):
            rank_sequences(store)
    empty = tmp_path / "empty.duckdb"
    (tmp_path / "o.csv").write_text(OPPS)
    with Store(empty) as store:
        import_files(store, [tmp_path / "o.csv"])
        with pytest.raises(UserInputError, match="no activities"):
            funnel(store)
    for args in (
        ["outreach", "--by", "nope"],
        ["outreach", "--campaign", "Nope"],
        ["outreach", "--view", "sequences", "--by", "variant", "--by", "campaign"],
    ):
        result = runner.invoke(app, [*args, "--db", str(small)], env=ENV)
        assert result.exit_code == 2 and "error:" in result.stderr and "Traceback" not in result.stderr, args
    result = runner.invoke(app, ["outreach", "--db", str(empty)], env=ENV)
    assert result.exit_code == 2 and "no activities" in result.stderr


# ---- the generator's data ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    path = tmp_path_factory.mktemp("outreach") / "demo.duckdb"
    with Store(path) as store:
        data = build_demo(store, seed=17, n_opportunities=4_000)
    return path, data


def _pandas_funnel(acts: pd.DataFrame, opps: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The documented funnel with pandas (the generator's touches all carry an opportunity id, no lead id)."""
    won = set(opps["id"][opps["outcome"] == "won"])
    t = acts[acts["type"].isin(["email", "call"])].assign(
        lead=lambda a: a["opportunity_id"],
        r=lambda a: a["outcome"].isin(["replied", "meeting_booked"]),
        m=lambda a: a["outcome"] == "meeting_booked",
        w=lambda a: a["opportunity_id"].isin(won),
    )
    per = t.groupby(["lead", *by]).agg(r=("r", "any"), m=("m", "any"), w=("w", "any")).reset_index()
    per["o"] = True  # every generated lead is an opportunity
    steps = {
        "touched": per["r"] | True,
        "replied": per["r"],
        "meeting": per["r"] & per["m"],
        "opportunity": per["r"] & per["m"] & per["o"],
        "won": per["r"] & per["m"] & per["o"] & per["w"],
    }
    return per.assign(**steps).groupby(by)[list(FUNNEL_STEPS)].sum()


@pytest.mark.parametrize("by", [["variant"], ["campaign", "segment"]])
def test_funnel_counts_match_pandas(demo: tuple[Path, Any], by: list[str]) -> None:
    path, data = demo
    with Store(path) as store:
        result = funnel(store, by=by)
    expected = _pandas_funnel(data.activities, data.opportunities, by)
    got = pd.DataFrame(result.rows).pivot_table(index=by, columns="step", values="leads")[list(FUNNEL_STEPS)]
    pd.testing.assert_frame_equal(got.astype(int), expected.astype(int), check_names=False, check_index_type=False)
    r = result.rows[4]  # won, from meeting and from touched, with Wilson intervals
    assert r["previous_low"] <= r["from_previous"] <= r["previous_high"]
    assert r["first_low"] <= r["from_first"] <= r["first_high"]


def test_experiment_on_every_step_agrees_with_scipy(demo: tuple[Path, Any]) -> None:
    """Reference: scipy.stats.chi2_contingency([[kB, nB - kB], [kA, nA - kA]], correction=False)[1]; on the
    generator's data `opportunity` is every touch (each touch is logged on its deal), the other steps vary."""
    from scipy.stats import chi2_contingency

    path, data = demo
    with Store(path) as store:
        for step in ("response", "meeting", "won"):
            a, b = experiment(store, step=step).rows
            table = [[b["hits"], b["attempts"] - b["hits"]], [a["hits"], a["attempts"] - a["hits"]]]
            assert b["p_value"] == pytest.approx(chi2_contingency(table, correction=False)[1], rel=1e-9), step
        opp = experiment(store, step="opportunity")
    assert all(r["hits"] == r["attempts"] for r in opp.rows)
    assert data.truth.variant_lift == pytest.approx(0.05)


def test_lift_table_counts_and_p_values(demo: tuple[Path, Any]) -> None:
    """Reference: pandas counts per segment and personalised; scipy.stats.chi2_contingency(correction=False) per
    segment; statsmodels.stats.multitest.multipletests(p, method="fdr_bh") for q."""
    from scipy.stats import chi2_contingency
    from statsmodels.stats.multitest import multipletests

    path, data = demo
    with Store(path) as store:
        result = personalisation_lift(store)
    acts = data.activities
    t = acts[acts["type"].isin(["email", "call"])]
    hit = t["outcome"].isin(["replied", "meeting_booked"])
    counts = hit.groupby([t["segment"], t["personalised"]]).agg(["sum", "size"])
    p = []
    for r in result.rows:
        yes, no = counts.loc[(r["segment"], "yes")], counts.loc[(r["segment"], "no")]
        assert (r["hits_yes"], r["attempts_yes"], r["hits_no"], r["attempts_no"]) == (
            yes["sum"],
            yes["size"],
            no["sum"],
            no["size"],
        )
        table = [[yes["sum"], yes["size"] - yes["sum"]], [no["sum"], no["size"] - no["sum"]]]
        assert r["p_value"] == pytest.approx(chi2_contingency(table, correction=False)[1], rel=1e-9)
        p.append(r["p_value"])
    np.testing.assert_allclose([r["q_value"] for r in result.rows], multipletests(p, method="fdr_bh")[1], rtol=1e-12)


def test_sequence_counts_and_shrinkage(demo: tuple[Path, Any]) -> None:
    path, data = demo
    with Store(path) as store:
        result = rank_sequences(store)
    acts = data.activities
    t = acts[acts["type"].isin(["email", "call"])]
    hit = t["outcome"].isin(["replied", "meeting_booked"])
    counts = hit.groupby(t["sequence"]).agg(["sum", "size"])
    prior_mean = result.prior["mean"]
    for r in result.rows:
        assert (r["hits"], r["attempts"]) == tuple(counts.loc[r["sequence"]])
        # the shrunk rate lies between the raw rate and the prior mean
        assert min(r["rate"], prior_mean) - 1e-12 <= r["shrunk"] <= max(r["rate"], prior_mean) + 1e-12
    assert [r["rank"] for r in result.rows] == list(range(1, len(result.rows) + 1))
    shrunk = [r["shrunk"] for r in result.rows]
    assert shrunk == sorted(shrunk, reverse=True)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    path = tmp_path_factory.mktemp("outreach_big") / "big.duckdb"
    with Store(path) as store:
        data = build_demo(store, seed=1, n_opportunities=12_000)
    return path, data


def test_ranking_and_lift_table_recover_the_truth(big: tuple[Path, Any]) -> None:
    """12,000 generated deals (about 42,000 touches; seed 1). Truth: sequence response rates from 13% to 28%,
    personalisation lifts SMB 0, Mid-market +4 points, Enterprise +10 points."""
    from scipy.stats import spearmanr

    path, data = big
    truth = data.truth
    with Store(path) as store:
        ranking = rank_sequences(store)
        lift = personalisation_lift(store)
    names = [r["sequence"] for r in ranking.rows]
    true_rates = [truth.sequence_response_rates[n] for n in names]
    assert names[0] == max(truth.sequence_response_rates, key=truth.sequence_response_rates.__getitem__)
    assert spearmanr([r["shrunk"] for r in ranking.rows], true_rates)[0] >= 0.9
    covered = sum(
        r["shrunk_low"] <= truth.sequence_response_rates[r["sequence"]] <= r["shrunk_high"] for r in ranking.rows
    )
    assert covered >= len(names) - 1
    rows = {r["segment"]: r for r in lift.rows}
    for segment, true_lift in truth.personalisation_lift.items():
        assert rows[segment]["lift_low"] <= true_lift <= rows[segment]["lift_high"], segment
        assert rows[segment]["significant"] == (true_lift > 0), segment


def test_cli_outreach_views(demo: tuple[Path, Any]) -> None:
    path, _ = demo
    out = runner.invoke(app, ["outreach", "--by", "variant", "--format", "json", "--db", str(path)], env=ENV)
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["by"] == ["variant"] and data["steps"] == list(FUNNEL_STEPS)
    assert {"variant", "step", "leads", "touches", "from_previous", "from_first", "first_low"} <= set(data["rows"][1])
    table = runner.invoke(app, ["outreach", "--by", "segment", "--db", str(path)], env=ENV)
    assert table.exit_code == 0 and "Enterprise" in table.stdout and "opportunity" in table.stdout
    seq = runner.invoke(app, ["outreach", "--view", "sequences", "--db", str(path)], env=ENV)
    assert seq.exit_code == 0 and "shrunk rate (95%)" in seq.stdout and "Exec letter" in seq.stdout
    lift = runner.invoke(
        app, ["outreach", "--view", "personalisation", "--campaign", "Product Launch", "--db", str(path)], env=ENV
    )
    assert lift.exit_code == 0 and "lift (95%)" in lift.stdout and "Mid-market" in lift.stdout
    exp = runner.invoke(app, ["experiment", "compare", "--step", "opportunity", "--db", str(path)], env=ENV)
    assert exp.exit_code == 0, exp.stderr


def test_generator_truth_is_consistent() -> None:
    """The sequence effects average 0 over the mix and personalisation is a fair coin, so the variants'
    rates are the expected rates; on a large sample the touches show it."""
    from hitrate.synth.generator import generate

    data = generate(seed=4, n_opportunities=30_000, with_history=False)
    truth = data.truth
    base = np.mean(list(truth.variant_response_rates.values()))
    mixed = sum(truth.sequence_mix[s] * r for s, r in truth.sequence_response_rates.items())
    assert mixed == pytest.approx(base, abs=1e-12) and truth.variant_lift == pytest.approx(0.05)
    t = data.activities[data.activities["type"] != "meeting"]
    hit = t["outcome"].isin(["replied", "meeting_booked"])
    assert t["personalised"].eq("yes").mean() == pytest.approx(0.5, abs=0.01)
    for v, rate in truth.variant_response_rates.items():
        assert hit[t["variant"] == v].mean() == pytest.approx(rate, abs=0.006)
    assert (t["segment"].to_numpy() == data.opportunities.set_index("id").loc[t["opportunity_id"], "segment"]).all()


def test_any_ibis_backend_gives_the_same_tables(demo: tuple[Path, Any]) -> None:
    """The generic path (a plain Ibis backend: built-in definitions, results through Arrow) agrees with the
    store's compiled-SQL path."""
    import ibis

    path, _ = demo
    con = ibis.duckdb.connect(str(path), read_only=True)
    try:
        plain = (
            funnel(con, by=["variant", "segment"]).rows,
            rank_sequences(con).rows,
            personalisation_lift(con).rows,
            experiment(con, step="won").rows,
        )
    finally:
        con.disconnect()
    with Store(path) as store:
        stored = (
            funnel(store, by=["variant", "segment"]).rows,
            rank_sequences(store).rows,
            personalisation_lift(store).rows,
            experiment(store, step="won").rows,
        )
    assert plain == stored


def test_shrinkage_keeps_a_small_lucky_sequence_off_the_top(tmp_path: Path) -> None:
    """Five sequences with 400 touches each (15% to 25% replies) and one with 4 replies in 6 touches: raw, the
    small one ranks first; shrunk towards the fitted prior, it falls behind the well-measured best."""
    from hitrate.synth.demo import load_frame

    rows = []
    for s, hits in zip(["S1", "S2", "S3", "S4", "S5"], [60, 70, 80, 90, 100], strict=True):
        rows += [(s, "replied" if i < hits else "no_reply") for i in range(400)]
    rows += [("Tiny", "replied" if i < 4 else "no_reply") for i in range(6)]
    frame = pd.DataFrame(
        {
            "id": [f"a{i}" for i in range(len(rows))],
            "opportunity_id": [f"o{i}" for i in range(len(rows))],
            "type": "email",
            "sequence": [s for s, _ in rows],
            "outcome": [o for _, o in rows],
        }
    )
    with Store(tmp_path / "s.duckdb") as store:
        load_frame(store, "activities", frame, 1)
        result = rank_sequences(store)
    tiny = next(r for r in result.rows if r["sequence"] == "Tiny")
    assert tiny["raw_rank"] == 1 and tiny["rank"] > 1 and result.rows[0]["sequence"] == "S5"
    assert result.prior["mean"] < tiny["shrunk"] < tiny["rate"]
    assert any("fewer than 100 touches for Tiny" in w for w in result.warnings)


def test_outreach_results_show_the_result_face(demo: tuple[Path, Any]) -> None:
    from hitrate.improve.outreach import outreach
    from tests.improve_faces import check_face

    path, _ = demo
    with Store(path) as store:
        for view in ("funnel", "sequences", "personalisation"):
            check_face(outreach(store, view=view))
        assert outreach(store, by="campaign").to_dict() == funnel(store, by=["campaign"]).to_dict()
        with pytest.raises(UserInputError, match="^by: the sequences view takes one field"):
            outreach(store, view="sequences", by=["campaign", "variant"])
