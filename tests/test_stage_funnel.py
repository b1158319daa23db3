"""The stage funnel from stage history, held to a direct pandas computation on the synthetic pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hitrate.analysis.funnel import stage_funnel
from hitrate.cli import app
from hitrate.errors import UnknownFieldError, UserInputError
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo

OPEN = ["Prospecting", "Qualified", "Proposal", "Negotiation"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    path = tmp_path_factory.mktemp("funnel") / "demo.duckdb"
    with Store(path) as store:
        data = build_demo(store, seed=23, n_opportunities=4_000)
    return path, data


def reference(data: object, by: str | None = None) -> pd.DataFrame:
    """Per deal: its furthest open stage in the history; per stage: reached = deals whose furthest stage is
    this one or later, won among them, lost deals whose furthest stage it is; median days from entering
    a stage to the deal's next history entry."""
    hist = data.stage_history.copy()  # type: ignore[attr-defined]
    opps = data.opportunities.set_index("id")  # type: ignore[attr-defined]
    hist["rank"] = hist["stage"].map({s: i for i, s in enumerate(OPEN)})
    furthest = hist.dropna(subset=["rank"]).groupby("id")["rank"].max().astype(int)
    deals = opps.loc[furthest.index].assign(furthest=furthest)
    hist = hist.sort_values(["id", "entered_at", "stage"])
    hist["next"] = hist.groupby("id")["entered_at"].shift(-1)
    hist["days"] = (hist["next"] - hist["entered_at"]).dt.total_seconds() / 86400
    if by is not None:
        hist[by] = opps.loc[hist["id"], by].to_numpy()
    rows = []
    for key, part in deals.groupby(by) if by else [(None, deals)]:
        h = hist[hist[by] == key] if by else hist
        for i, stage in enumerate(OPEN):
            reached = part[part["furthest"] >= i]
            rows.append(
                {
                    "key": key,
                    "stage": stage,
                    "reached": len(reached),
                    "won": int((reached["outcome"] == "won").sum()),
                    "lost_here": int(((part["furthest"] == i) & (part["outcome"] == "lost")).sum()),
                    "median_days": h.loc[(h["stage"] == stage) & h["days"].notna(), "days"].median(),
                }
            )
    return pd.DataFrame(rows)


def test_matches_pandas_and_infers_the_pipeline_order(demo) -> None:
    path, data = demo
    with Store(path) as store:
        result = stage_funnel(store)
    assert result.stages == OPEN
    assert any("Lost, Won" in w for w in result.warnings)
    ref = reference(data)
    got = pd.DataFrame(result.rows)
    assert got["stage"].tolist() == ref["stage"].tolist()
    for col in ("reached", "won", "lost_here"):
        assert got[col].tolist() == ref[col].tolist(), col
    np.testing.assert_allclose(got["median_days"].astype(float), ref["median_days"], rtol=1e-9)
    # conversion to the next stage = reached(next) / reached(this)
    r = got["reached"].to_numpy()
    np.testing.assert_allclose(got["conversion"].dropna(), r[1:] / r[:-1])
    assert got["win_rate"].is_monotonic_increasing  # deals further down the pipeline win more often


def test_by_a_field_and_given_stages(demo) -> None:
    path, data = demo
    with Store(path) as store:
        result = stage_funnel(store, by="segment", stages=OPEN[:3])
    ref = reference(data, by="segment")
    got = pd.DataFrame(result.rows)
    assert set(got["segment"]) == set(ref["key"])
    for segment, part in got.groupby("segment"):
        # with three open stages given, Negotiation counts as beyond the last: reached(Proposal) includes it
        want = ref[ref["key"] == segment].set_index("stage")
        assert part["reached"].tolist()[:2] == want.loc[OPEN[:2], "reached"].tolist()


def test_errors(demo, tmp_path: Path) -> None:
    path, _ = demo
    with Store(path) as store:
        with pytest.raises(UnknownFieldError):
            stage_funnel(store, by="nope")
        with pytest.raises(UserInputError, match="stages: Nope not in the stage history") as info:
            stage_funnel(store, stages=["Prospecting", "Nope"])
        assert info.value.render("en", lambda p: f"--{p}").startswith("--stages: Nope")
    with Store(tmp_path / "empty.duckdb") as empty, pytest.raises(UserInputError, match="stage history"):
        stage_funnel(empty)


def test_cli_json(demo) -> None:
    path, _ = demo
    result = CliRunner().invoke(app, ["funnel", "--by", "team", "--format", "json", "--db", str(path)])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["stages"] == OPEN and out["by"] == "team"
    assert {"team", "stage", "reached", "conversion", "win_rate", "lost_here", "median_days"} <= set(out["rows"][0])
