"""Lead scoring from the store: lead fields, rep/account/product attributes and activity counts as features."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hitrate.analysis.rates import rates
from hitrate.cli import app
from hitrate.scoring.io import read_metadata
from hitrate.scoring.store_leads import read_store_leads
from hitrate.spec.model import default_definitions
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    path = tmp_path_factory.mktemp("store") / "demo.duckdb"
    with Store(path) as store:
        data = build_demo(store, seed=5, n_opportunities=3_000)
    return path, data


def test_outcomes_follow_the_definitions_like_rates(demo) -> None:
    path, _ = demo
    with Store(path) as store:
        leads = read_store_leads(store, default_definitions())
        total = rates(store, basis="closed").records()[0]
    assert len(leads.ids) == 3_000 and leads.ids.is_unique
    assert int((leads.y == 1).sum()) == total["hits"]
    assert int(leads.y.notna().sum()) == total["attempts"]


def test_activity_counts_match_a_direct_pandas_count(demo) -> None:
    """Reference: the synthetic activities counted per deal and type with pandas, keeping those strictly
    before the deal's close date (the export date for open deals), and days from the last one to that end."""
    path, data = demo
    with Store(path) as store:
        leads = read_store_leads(store, default_definitions())
    opps = data.opportunities.set_index("id")
    as_of = max(opps["created_at"].max(), opps["closed_at"].max())
    decided = opps["stage"].isin(["Won", "Lost"]) if "Won" in set(opps["stage"]) else opps["closed_at"].notna()
    end = opps["closed_at"].where(decided & opps["closed_at"].notna(), as_of)
    acts = data.activities.assign(end=lambda a: end.reindex(a["opportunity_id"]).to_numpy())
    acts = acts[acts["at"] < acts["end"]]
    counts = acts.pivot_table(index="opportunity_id", columns="type", values="id", aggfunc="count", fill_value=0)
    got = leads.features.set_index(leads.ids)
    for kind, column in (("call", "activity_calls"), ("email", "activity_emails"), ("meeting", "activity_meetings")):
        expected = counts[kind].reindex(got.index, fill_value=0)
        assert (got[column].to_numpy() == expected.to_numpy()).all(), column
    last = acts.groupby("opportunity_id")["at"].max()
    days = (end.reindex(last.index).dt.normalize() - last.dt.normalize()).dt.days
    np.testing.assert_array_equal(got.loc[days.index, "days_since_activity"].to_numpy(), days.to_numpy())
    assert {"team", "manager", "rep_tenure_days", "segment", "lead_source"} <= set(got.columns)
    assert leads.sources["activity_calls"] == "activities" and leads.sources["team"] == "reps"


def test_activities_on_or_after_the_close_never_count(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        build_demo(store, seed=3, n_opportunities=500)
        before = read_store_leads(store, default_definitions())
        won = before.ids[(before.y == 1).to_numpy()].iloc[0]
        for key, offset in (("LATE", "INTERVAL 1 DAY"), ("ON", "INTERVAL 0 DAY"), ("EARLY", "- INTERVAL 1 HOUR")):
            sign = "" if offset.startswith("-") else "+"
            store.raw.execute(
                f'INSERT INTO activities (id, opportunity_id, type, "at") '
                f"SELECT ?, id, 'Phone call', closed_at {sign} {offset} FROM opportunities WHERE id = ?",
                [key, won],
            )
        after = read_store_leads(store, default_definitions())
    i = int(np.flatnonzero(before.ids.to_numpy() == won)[0])
    # Only the call an hour before the close counts; the one at the close and the one after do not.
    assert after.features["activity_calls"].iloc[i] == before.features["activity_calls"].iloc[i] + 1
    assert after.features["days_since_activity"].iloc[i] in (0, 1)  # same or previous calendar day


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_train_predict_and_benchmark_from_the_store(demo, tmp_path: Path) -> None:
    path, _ = demo
    db = ["--db", str(path)]
    model = tmp_path / "m.skops"
    code, out, err = run("score", "train", "--model", str(model), "--format", "json", *db)
    assert code == 0, err
    result = json.loads(out)
    assert {"excluded", "metrics", "baselines"} <= set(result)
    assert result["split"]["method"] == "time"
    assert 0.55 < result["metrics"]["auc"] < 1
    meta = read_metadata(model)
    assert meta["feature_sources"]["rep_tenure_days"] == "reps"
    assert meta["feature_sources"]["activity_meetings"] == "activities"

    code, out, err = run("score", "predict", "--model", str(model), "--out", str(tmp_path / "s.csv"), *db)
    assert code == 0, err
    scores = pd.read_csv(tmp_path / "s.csv")
    assert len(scores) == 3_000 and scores["probability"].between(0, 1).all()

    code, out, err = run("benchmark", "--by", "team", "--adjust", "model", "--format", "json", *db)
    assert code == 0, err
    assert any("rep attributes" in w for w in json.loads(out)["warnings"])

    code, out, err = run("score", "evaluate", "--model", str(model), "--format", "json", *db)
    assert code == 0, err
    assert [r["share"] for r in json.loads(out)["top"]] == [10, 20, 30, 50]


def test_cli_lead_mix_only_model_gives_no_rep_warning(demo, tmp_path: Path) -> None:
    path, _ = demo
    db = ["--db", str(path)]
    model = tmp_path / "lead-only.skops"
    rep_fields = ["team", "manager", "region", "rep_tenure_days"]
    code, _, err = run("score", "train", "--model", str(model), *[a for f in rep_fields for a in ("--exclude", f)], *db)
    assert code == 0, err
    assert not set(read_metadata(model)["feature_sources"]) & set(rep_fields)
    code, _, err = run("score", "predict", "--model", str(model), "--out", str(tmp_path / "s.parquet"), *db)
    assert code == 0, err
    code, out, err = run("benchmark", "--by", "team", "--adjust", "model", "--format", "json", *db)
    assert code == 0, err
    assert not any("rep attributes" in w for w in json.loads(out)["warnings"])


def test_cli_file_options_without_files_are_refused(demo, tmp_path: Path) -> None:
    path, _ = demo
    code, _, err = run("score", "train", "--model", str(tmp_path / "m"), "--preset", "maven", "--db", str(path))
    assert code == 2 and "--preset" in err and "FILES" in err


def test_empty_store_is_refused_clearly(tmp_path: Path) -> None:
    Store(tmp_path / "e.duckdb").close()
    code, _, err = run("score", "train", "--model", str(tmp_path / "m"), "--db", str(tmp_path / "e.duckdb"))
    assert code == 2 and "no opportunities" in err
    code, _, err = run("benchmark", "--by", "rep", "--db", str(tmp_path / "e.duckdb"))
    assert code == 2 and "no attempts" in err
