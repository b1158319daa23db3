"""Calibration of `hitrate goals progress` on the synthetic pipeline, against the generator's truth.

Six synthetic pipelines (seeds 100-105, 20,000 opportunities, exported 2024-11-15, mid-quarter). Every rep gets
a Q4 2024 goal equal to their all-time hit rate (rounded to a point), so the probabilities spread over 0-1.
The truth knows when each open deal will close and whether it will be won, so each goal's realised Q4 rate is
known. Prints the totals (expected against true final hits and decided deals), the Brier score beside two
naive forecasts, and the calibration by probability band.

    PYTHONPATH=. python benchmarks/goals_calibration.py     # about 45 s on two cores
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from hitrate.analysis.rates import rates
from hitrate.improve.goals import parse_period, progress, set_goal
from hitrate.store.embedded import Store
from hitrate.synth.demo import load_synth
from hitrate.synth.generator import generate


def main(seeds: range = range(100, 106)) -> None:
    warnings.simplefilter("ignore")
    predicted, reached = [], []
    exp_hits = true_hits = exp_decided = true_decided = 0.0
    start, end = parse_period("2024-Q4")
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            data = generate(seed=seed, n_opportunities=20_000, end="2024-11-15", with_activities=False,
                            with_history=False)  # fmt: skip
            decided = data.truth.decided_at
            in_q4 = (decided >= np.datetime64("2024-10-01")) & (decided < np.datetime64("2025-01-01"))
            with Store(Path(tmp) / f"s{seed}.duckdb") as store:
                load_synth(store, data, label="calibration")
                overall = {r["rep"]: r["hit_rate"] for r in rates(store, by=["rep"]).records()}
                for rep, rate in overall.items():
                    set_goal(store, field="rep", value=rep, target=round(rate, 2), start=start, end=end, set_by="b")
                for row in progress(store).rows:
                    mine = in_q4 & (data.opportunities.rep == row["value"]).to_numpy()
                    n, k = int(mine.sum()), int((mine & data.truth.would_win).sum())
                    if n == 0 or row["probability"] is None:
                        continue
                    exp_hits += row["expected_final_hits"]
                    true_hits += k
                    exp_decided += row["attempts"] + row["expected_closing"]
                    true_decided += n
                    predicted.append(row["probability"])
                    reached.append(k / n >= row["target"] - 1e-12)
    p, y = np.array(predicted), np.array(reached, dtype=float)
    print(f"{len(p)} goals in {time.monotonic() - began:.0f} s")
    print(f"final hits: expected {exp_hits:,.0f}, true {true_hits:,.0f}; decided: expected {exp_decided:,.0f}, "
          f"true {true_decided:,.0f}")  # fmt: skip
    brier = np.mean((p - y) ** 2)
    print(
        f"Brier {brier:.3f} (0.5 for all: {np.mean((0.5 - y) ** 2):.3f}; base rate: {np.mean((y.mean() - y) ** 2):.3f})"
    )
    for low, high in ((0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.01)):
        band = (p >= low) & (p < high)
        if band.any():
            print(f"P in [{low:.1f}, {min(high, 1):.1f}): {band.sum():3d} goals, mean P {p[band].mean():.3f}, "
                  f"reached {y[band].mean():.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
