"""Benchmark: lead scoring at scale — one training fit and scoring of N synthetic leads.

Run from the repository root::

    .venv/bin/python benchmarks/scoring.py --n 1000000     # BENCHMARKS.md
    .venv/bin/python benchmarks/scoring.py --n 100000      # quick

Leads come from the synthetic generator (``hitrate.synth.generate``; decided deals are the training rows,
with lead source, segment, product, region, rep, team and amount as features). Timed separately, once each
(these are long single operations, not micro-benchmarks): the training fit of :class:`LeadScorer` (with its
calibration choice and permutation importance, without baselines), scoring all N leads (probabilities and
A-D bands), and the per-lead reasons (occlusion explanations) for all N leads. Targets: fit under 2
minutes, scoring under 10 s. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-reasons", action="store_true", help="skip timing the per-lead reasons")
    args = parser.parse_args(argv)
    import numpy as np

    from benchmarks.rates import machine
    from hitrate.scoring import LeadScorer
    from hitrate.scoring.training import band
    from hitrate.synth.generator import generate

    t0 = time.perf_counter()
    data = generate(seed=args.seed, n_opportunities=args.n, with_history=False, with_activities=False)
    opps = data.opportunities.merge(data.reps[["rep", "team"]], on="rep", how="left")
    features = opps[["lead_source", "segment", "product", "region", "rep", "team", "amount"]].astype(
        {c: "object" for c in ("lead_source", "segment", "product", "region", "rep", "team")}
    )
    decided = (opps["outcome"] != "open").to_numpy()
    y = (opps["outcome"] == "won").to_numpy().astype(int)
    print(f"generated {args.n:,} leads ({decided.sum():,} decided) in {time.perf_counter() - t0:.1f} s", flush=True)

    t = time.perf_counter()
    model = LeadScorer(random_state=0).fit(features[decided], y[decided])
    fit_s = time.perf_counter() - t
    print(f"fit on {decided.sum():,} decided leads: {fit_s:.1f} s (target < 120 s)", flush=True)

    t = time.perf_counter()
    p = model.predict_proba(features)[:, 1]
    bands = band(p)
    score_s = time.perf_counter() - t
    print(f"scoring {len(p):,} leads (probability + band): {score_s:.2f} s (target < 10 s)", flush=True)

    reasons_s = None
    if not args.no_reasons:
        t = time.perf_counter()
        model.explain(features, top=3)
        reasons_s = time.perf_counter() - t
        print(f"reasons (top 3 up/down, occlusion) for {len(p):,} leads: {reasons_s:.1f} s", flush=True)
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y[decided], p[decided]))
    print(f"(in-sample AUC {auc:.3f}; bands {dict(zip(*np.unique(bands, return_counts=True), strict=True))})")
    out = ROOT / "benchmarks" / "data" / "results-scoring.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "n": args.n,
                "decided": int(decided.sum()),
                "fit_s": fit_s,
                "score_s": score_s,
                "reasons_s": reasons_s,
            },
            indent=2,
            default=str,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
