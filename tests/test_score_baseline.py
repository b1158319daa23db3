"""``score train`` says when the model does not beat the better baseline on held-out leads, and what it found;
``--strict`` refuses such a model and writes no file (issue 15, deliverable 9: a model with AUC 0.499 was
written without a word)."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

import hitrate
from hitrate.cli import app
from hitrate.scoring.verdict import baseline_verdict


def noise_leads(path: Path, seed: int = 0, n: int = 120) -> None:
    """Outcomes drawn at random (40% won), independent of every column; ``source`` is one value throughout."""
    rnd = random.Random(seed)
    lines = ["id,created_at,stage,region,source,size"]
    for i in range(n):
        stage = "Won" if rnd.random() < 0.4 else "Lost"
        region = rnd.choice(["UK", "DE", "FR"])
        lines.append(f"L{i},2024-{1 + i % 12:02d}-{1 + i % 27:02d},{stage},{region},Web,{rnd.randint(1, 100)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_verdict_compares_with_the_better_baseline():
    train = pd.DataFrame({"a": [1, 2, 3, 4], "b": ["x", "x", "x", "x"]})
    y = pd.Series([1, 0, 1, 0])
    base = {"nb": {"auc": 0.61}, "lr": {"auc": 0.70}}
    beats, found = baseline_verdict({"auc": 0.71}, base, train, y)
    assert beats is True and [m.key for m in found] == ["scoring_check.constant"]
    beats, found = baseline_verdict({"auc": 0.70}, base, train, y)  # a tie does not beat
    assert beats is False
    assert [m.key for m in found] == ["scoring_check.not_better", "scoring_check.too_few", "scoring_check.constant"]
    assert "AUC 0.7 against 0.7 for lr" in str(found[0]) and "4 in training (2 won, 2 lost)" in str(found[1])
    beats, found = baseline_verdict({"auc": 0.499}, base, train, y)
    assert "scoring_check.no_signal" in [m.key for m in found]
    assert baseline_verdict({"auc": 0.9}, {}, train, y)[0] is None


def test_a_model_on_noise_is_reported_and_strict_refuses_it(tmp_path):
    noise_leads(tmp_path / "leads.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = hitrate.score_train(tmp_path / "leads.csv", model=tmp_path / "m.skops", won=["Won"], lost=["Lost"])
    best = max(b["auc"] for b in result.baselines.values())
    assert result.beats_baseline is (result.metrics["auc"] > best) and result.beats_baseline is False
    keys = [m.key for m in result.checks]
    assert keys[0] == "scoring_check.not_better" and "scoring_check.too_few" in keys
    assert "scoring_check.constant" in keys and "source" in str(result.checks[-1])
    assert any("does not beat" in str(n) for n in result.notes())
    assert "does not beat" in " ".join(result.to_dict()["checks"])

    runner = CliRunner()
    args = ["score", "train", str(tmp_path / "leads.csv"), "--won", "Won", "--lost", "Lost"]
    out = runner.invoke(app, [*args, "--model", str(tmp_path / "w.skops")])
    assert out.exit_code == 0 and "does not beat the better baseline" in out.stderr
    assert (tmp_path / "w.skops").exists()
    out = runner.invoke(app, [*args, "--model", str(tmp_path / "s.skops"), "--strict"])
    assert out.exit_code == 2 and "the model was not saved" in out.stderr and "--strict" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "s.skops").exists()
