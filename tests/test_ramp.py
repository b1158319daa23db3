"""Onboarding ramp: curves held to pandas, the fitted ramp held to the generator's truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hitrate.analysis.ramp import MONTH_DAYS, ramp
from hitrate.cli import app
from hitrate.errors import UserInputError
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    path = tmp_path_factory.mktemp("ramp") / "demo.duckdb"
    with Store(path) as store:
        data = build_demo(store, seed=1, n_opportunities=60_000)
    return path, data


def test_fitted_ramp_covers_the_truth(demo) -> None:
    """The generator: logit p = ... + skill[rep] - 1.2 * exp(-tenure_days / 75) (seed 1, 60,000 deals)."""
    path, data = demo
    with Store(path) as store:
        fit = ramp(store).fit
    assert fit is not None
    truth = data.truth  # type: ignore[attr-defined]
    assert fit["depth_low"] <= truth.ramp_depth <= fit["depth_high"]
    assert fit["tau_low"] <= truth.ramp_days <= fit["tau_high"]
    assert fit["days_to_90_low"] <= truth.ramp_days * np.log(10) <= fit["days_to_90_high"]


def test_curves_match_pandas(demo) -> None:
    """Reference: decided deals of reps in their first 365 days, by hire quarter and whole 30-day months
    of tenure (calendar days from hire to creation)."""
    path, data = demo
    with Store(path) as store:
        result = ramp(store)
    opps = data.opportunities  # type: ignore[attr-defined]
    reps = data.reps.set_index("rep")  # type: ignore[attr-defined]
    d = opps[opps["outcome"].isin(["won", "lost"])].copy()
    hired = pd.to_datetime(reps.loc[d["rep"], "hired_at"].to_numpy())
    tenure = (d["created_at"].dt.normalize().to_numpy() - hired.normalize()).days
    d = d.assign(tenure=tenure, cohort=hired.to_period("Q").astype(str).str.replace("Q", "-Q", regex=False))
    new = d[(d["tenure"] >= 0) & (d["tenure"] <= 365)].assign(month=lambda x: x["tenure"] // MONTH_DAYS)
    ref = new.groupby(["cohort", "month"]).agg(n=("id", "size"), k=("outcome", lambda s: int((s == "won").sum())))
    got = pd.DataFrame(result.curves).set_index(["cohort", "month"])
    assert len(got) == len(ref)
    assert got["attempts"].tolist() == ref.loc[got.index, "n"].tolist()
    assert got["hits"].tolist() == ref.loc[got.index, "k"].tolist()
    old = d[d["tenure"] > 365]
    assert result.tenured["attempts"] == len(old) and result.tenured["hits"] == int((old["outcome"] == "won").sum())


def test_no_hire_dates_is_refused(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        store.raw.execute("INSERT INTO opportunities (id, stage, outcome) VALUES ('a', 'Won', 'won')")
        with pytest.raises(UserInputError, match="hired_at"):
            ramp(store)


def test_cli_json(demo) -> None:
    path, _ = demo
    result = CliRunner().invoke(app, ["ramp", "--format", "json", "--db", str(path)])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert {"curves", "tenured", "fit"} <= set(out) and out["fit"]["reps"] == 30
