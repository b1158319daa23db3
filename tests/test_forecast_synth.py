"""The forecast held to the synthetic generator's truth: on 24 monthly as-of dates and three seeds, hitrate's
forecast of the month's wins beats the stage-weighted and run-rate baselines, and its 80% intervals hold the
actual wins in 70-90% of the points.

The stores (generated once for the module, bounded: 12,000 deals over 2020-2024, no stage history or
activities, so the stage-weighted baseline is the open deals times the historical win rate)::

    generate(seed=s, n_opportunities=12_000, start="2020-01-01", end="2024-12-31", with_history=False,
             with_activities=False)

The truth: :meth:`SynthTruth.expected_wins` (the sum of ``p_win`` over the deals decided in a month)."""

from __future__ import annotations

import numpy as np
import pytest

from hitrate.improve.backtest import forecast_backtest
from hitrate.store.embedded import Store
from hitrate.synth.demo import load_synth
from hitrate.synth.generator import generate

SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = []
    for seed in SEEDS:
        data = generate(
            seed=seed, n_opportunities=12_000, start="2020-01-01", end="2024-12-31", with_history=False,
            with_activities=False,
        )  # fmt: skip
        with Store(tmp_path_factory.mktemp(f"synth{seed}") / "s.duckdb") as store:
            load_synth(store, data, label=f"synth:{seed}")
            result = forecast_backtest(store, date_from="2022-07-01", date_to="2024-06-01", horizon="month")
        out.append((data, result))
    return out


def test_24_monthly_points_per_seed_with_the_truth_recorded(runs):
    for data, result in runs:
        assert len(result.rows) == 24
        truth = data.truth.expected_wins("month")
        months = [r["period"] for r in result.rows]
        assert months[0] == "2022-07" and months[-1] == "2024-06"
        # the truth is the model's expectation: the actual wins scatter around it like a sum of Bernoullis
        z = [(r["actual"] - truth[r["period"]]) / np.sqrt(truth[r["period"]]) for r in result.rows]
        assert abs(float(np.mean(z))) < 0.6


def test_hitrate_beats_both_baselines_on_every_seed(runs):
    for _, result in runs:
        s = result.accuracy
        assert s["hitrate"]["mae"] < s["run_rate"]["mae"]
        assert s["hitrate"]["mae"] < s["stage_weighted"]["mae"]


def test_forecast_is_closer_to_the_truth_than_to_the_noise(runs):
    """The forecast's error against the truth (the expected wins) is smaller than against the actual count."""
    for data, result in runs:
        truth = data.truth.expected_wins("month")
        to_truth = np.mean([abs(r["forecast"] - truth[r["period"]]) for r in result.rows])
        assert to_truth < result.accuracy["hitrate"]["mae"]


def test_80_percent_intervals_cover_70_to_90_percent_of_the_points(runs):
    inside = [r["low"] <= r["actual"] <= r["high"] for _, result in runs for r in result.rows]
    assert 0.70 <= np.mean(inside) <= 0.90
