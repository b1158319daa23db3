"""benchmark, trend and compare through the library, on the synthetic pipeline's known truth and on Maven."""

from __future__ import annotations

import numpy as np
import pytest

from hitrate.analysis.benchmark import benchmark
from hitrate.analysis.compare import compare
from hitrate.analysis.trend import trend
from hitrate.errors import UserInputError
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo

BENCH_KEYS = {
    "attempts",
    "hits",
    "hit_rate",
    "ci_low",
    "ci_high",
    "shrunk_rate",
    "shrunk_low",
    "shrunk_high",
    "flag",
    "expected_hits",
    "quality_index",
    "adjusted_rate",
}


@pytest.fixture(scope="module")
def demo():
    with Store(":memory:") as store:
        data = build_demo(store, seed=13, n_opportunities=40_000)
        yield store, data


def test_benchmark_rows_carry_every_key_and_hold_their_invariants(demo):
    store, _ = demo
    result = benchmark(store, by="rep", adjust=["lead_source"])
    rows = result.to_dict()["rows"]
    assert set(rows[0]) >= BENCH_KEYS
    for r in rows:
        assert r["shrunk_low"] <= r["shrunk_rate"] <= r["shrunk_high"]
        assert r["flag"] in {"above", "below", "within"}
        assert r["quality_low"] <= r["quality_index"] <= r["quality_high"]
    overall = result.query["overall_rate"]
    raw = np.array([r["hit_rate"] for r in rows])
    shrunk = np.array([r["shrunk_rate"] for r in rows])
    assert np.all(np.abs(shrunk - overall) <= np.abs(raw - overall) + 1e-12)  # pulled towards the centre
    assert sum(r["expected_hits"] for r in rows) == pytest.approx(sum(r["hits"] for r in rows))
    assert result.priors["all"]["alpha"] > 0


def test_shrunk_rates_beat_raw_rates_against_true_skill():
    """Over several seeds (small samples: 4,000 deals over 30 reps), the shrunk rate of each rep is closer (mean
    squared error) to the rep's true rate (mean true p_win of its decided deals) than the raw rate."""
    wins = 0
    for seed in range(6):
        with Store(":memory:") as store:
            data = build_demo(store, seed=seed, n_opportunities=4_000)
            result = benchmark(store, by="rep")
        opps = data.opportunities
        decided = (opps["outcome"] != "open").to_numpy()
        rows = result.records()
        truth = np.array([data.truth.true_rate(decided & (opps["rep"] == r["rep"]).to_numpy()) for r in rows])
        raw = np.array([r["hit_rate"] for r in rows])
        shrunk = np.array([r["shrunk_rate"] for r in rows])
        wins += np.mean((shrunk - truth) ** 2) < np.mean((raw - truth) ** 2)
    assert wins >= 5


def test_within_fits_a_prior_per_parent(demo):
    store, _ = demo
    result = benchmark(store, by="rep", within="team")
    assert set(result.priors) == {"Team Central", "Team East", "Team North", "Team South", "Team West"}
    assert result.by == ("team", "rep")
    with pytest.raises(UserInputError, match="within must name a field other than by") as info:
        benchmark(store, by="rep", within="rep")
    assert info.value.render("en", lambda p: f"--{p}") == "--within must name a field other than --by"


def test_trend_recovers_the_true_seasonal_factors(demo):
    store, data = demo
    result = trend(store)
    got = result.seasonal_factors
    assert got is not None and set(got) == set(range(1, 13))
    truth = data.truth.seasonal_factors
    r = np.corrcoef([np.log(got[m]) for m in range(1, 13)], [np.log(truth[m]) for m in range(1, 13)])[0, 1]
    assert r > 0.8
    assert np.exp(np.mean(np.log(list(got.values())))) == pytest.approx(1.0, abs=1e-9)
    d = result.to_dict()
    assert set(d["seasonal_factors"]) == {str(m) for m in range(1, 13)}
    assert isinstance(d["rows"][0]["attempts"], int)


def test_trend_with_too_little_data_says_so(demo):
    store, _ = demo
    result = trend(store, date_from="2024-01-01", date_to="2024-12-31")
    assert result.seasonal_factors is None
    assert "two full" in result.series[0]["note"]


def test_compare_two_reps_and_two_periods(demo, maven_store):
    store, _ = demo
    reps = [r["rep"] for r in benchmark(store, by="rep").records()][:2]
    res = compare(store, reps[0], reps[1], by="rep").to_dict()
    assert res["a"]["label"] == reps[0] and res["ci_low"] <= res["difference"] <= res["ci_high"]
    q = compare(maven_store, "2017-Q2", "2017-Q3", period="quarter").to_dict()
    assert q["a"]["attempts"] > 0 and 0 <= q["p_value"] <= 1
    with pytest.raises(UserInputError, match="'Nobody' has no attempts"):
        compare(store, reps[0], "Nobody", by="rep")
    with pytest.raises(UserInputError, match="exactly one of"):
        compare(store, "a", "b")


def test_equal_skill_reps_with_different_lead_mixes_get_agreeing_quality_indexes():
    """On the generator's data: pairs of veteran reps in different teams (so different lead-source and
    segment mixes) whose true skills differ by less than 0.1 on the logit scale. Their raw rates may differ
    through the mix; their quality indexes (adjusted for lead_source and segment) agree within their
    intervals for nearly every such pair."""
    pairs = overlapping = 0
    for seed in range(3):
        with Store(":memory:") as store:
            data = build_demo(store, seed=seed, n_opportunities=40_000)
            rows = {r["rep"]: r for r in benchmark(store, by="rep", adjust=["lead_source", "segment"]).records()}
        start = data.opportunities["created_at"].min()
        reps = data.reps[data.reps["hired_at"] < start - np.timedelta64(365, "D")]
        team = dict(zip(reps["rep"], reps["team"], strict=True))
        skill = data.truth.rep_skill
        names = sorted(team)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                if team[a] != team[b] and abs(skill[a] - skill[b]) < 0.1 and a in rows and b in rows:
                    pairs += 1
                    ra, rb = rows[a], rows[b]
                    overlapping += ra["quality_low"] <= rb["quality_high"] and rb["quality_low"] <= ra["quality_high"]
    assert pairs >= 10
    assert overlapping / pairs >= 0.9


def test_adjust_model_uses_lead_scores_as_expected_hits():
    """With each deal scored by its true win probability (a model that knows everything), every rep wins
    about what the model expects: quality indexes near 1, intervals covering 1 for nearly all reps."""
    import pandas as pd

    with Store(":memory:") as store:
        data = build_demo(store, seed=21, n_opportunities=30_000)
        with pytest.raises(UserInputError, match="score predict first"):
            benchmark(store, by="rep", adjust=["model"])
        scores = pd.DataFrame({"id": data.opportunities["id"].astype(str), "probability": data.truth.p_win})
        store.raw.register("_s", scores)
        store.raw.execute("INSERT INTO lead_scores (id, probability) SELECT id, probability FROM _s")
        rows = benchmark(store, by="rep", adjust=["model"]).records()
    covered = sum(r["quality_low"] <= 1 <= r["quality_high"] for r in rows)
    assert covered >= 0.9 * len(rows)
    assert abs(sum(r["expected_hits"] for r in rows) / sum(r["hits"] for r in rows) - 1) < 0.03


def test_the_trend_table_says_each_series_note_once(tmp_path):
    """The terminal table shows each group's note under its factors; stderr does not say it a second time."""
    from typer.testing import CliRunner

    from hitrate.cli import app

    path = tmp_path / "t.duckdb"
    with Store(path) as store:
        build_demo(store, seed=13, n_opportunities=6000)
        notes = [f"{s['team']}: {s['note']}" for s in trend(store, by="team").series if s["note"]]
    shown = CliRunner().invoke(app, ["trend", "--by", "team", "--db", str(path)])
    assert shown.exit_code == 0, shown.output
    assert len(notes) == 5
    for note in notes:
        assert shown.stdout.count(note) == 1, note
    assert shown.stderr == ""  # no "warning:" line repeating them
