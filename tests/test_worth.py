"""What +X points of hit rate are worth, held to a direct pandas computation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scipy import stats
from typer.testing import CliRunner

from hitrate.analysis.worth import worth
from hitrate.cli import app
from hitrate.errors import UserInputError
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    path = tmp_path_factory.mktemp("worth") / "demo.duckdb"
    with Store(path) as store:
        data = build_demo(store, seed=29, n_opportunities=3_000)
    return path, data


def test_matches_pandas(demo) -> None:
    """Reference per segment: decided deals × 0.05 extra wins, valued at the mean won amount; its interval
    from ``scipy.stats.t.interval(0.95, n - 1, mean, sem)`` of the won amounts."""
    path, data = demo
    with Store(path) as store:
        result = worth(store, points=5, by="segment")
    opps = data.opportunities  # type: ignore[attr-defined]
    for row in result.rows:
        part = opps[opps["segment"] == row["segment"]]
        decided = part[part["outcome"].isin(["won", "lost"])]
        amounts = part.loc[part["outcome"] == "won", "amount"]
        low, high = stats.t.interval(0.95, len(amounts) - 1, amounts.mean(), stats.sem(amounts))
        assert row["decided"] == len(decided) and row["open"] == int((part["outcome"] == "open").sum())
        assert row["extra_wins"] == pytest.approx(len(decided) * 0.05)
        assert row["extra_revenue"] == pytest.approx(len(decided) * 0.05 * amounts.mean(), rel=1e-9)
        assert row["extra_revenue_low"] == pytest.approx(len(decided) * 0.05 * low, rel=1e-9)
        assert row["extra_revenue_high"] == pytest.approx(len(decided) * 0.05 * high, rel=1e-9)
        assert row["pipeline_extra_revenue"] == pytest.approx(row["open"] * 0.05 * amounts.mean(), rel=1e-9)


def test_points_out_of_range_and_cli(demo) -> None:
    path, _ = demo
    with Store(path) as store, pytest.raises(UserInputError, match="points: expected percentage points") as info:
        worth(store, points=0)
    assert info.value.render("en", lambda p: f"--{p}").startswith("--points: expected percentage points")
    result = CliRunner().invoke(app, ["worth", "--points", "3", "--format", "json", "--db", str(path)])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["points"] == 3 and "assumption" in out and len(out["rows"]) == 1
