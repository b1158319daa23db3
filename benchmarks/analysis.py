"""Benchmark: ``benchmark`` and ``trend`` against ``rates`` on the same data (library calls, in-process).

Run from the repository root (reuses the stores that ``benchmarks/rates.py`` builds under benchmarks/data/)::

    .venv/bin/python benchmarks/analysis.py --n 10000000          # BENCHMARKS.md
    .venv/bin/python benchmarks/analysis.py --n 200000 --repeat 3  # quick

Everything in ``benchmark`` and ``trend`` runs on the engine's aggregated counts, so each should cost
about one ``rates`` query: this measures the ratio, warm, median of ``--repeat`` runs after a warm-up,
the calls taken in turns so that drift hits all alike. Target: each within 1.3x of ``rates``.
Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.rates import ensure_store, machine  # noqa: E402

TARGET = 1.3


def timed(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    for fn in fns.values():
        fn()  # warm-up
    runs: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            runs[name].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in runs.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, action="append", help="opportunities (repeatable); default 10,000,000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    from hitrate.analysis.benchmark import benchmark
    from hitrate.analysis.rates import rates
    from hitrate.analysis.trend import trend
    from hitrate.store.embedded import Store

    results = []
    for n in args.n or [10_000_000]:
        path = ensure_store(n, args.seed)
        store = Store(path)
        fns = {
            "rates --by rep": lambda s=store: rates(s, by=["rep"]),
            "benchmark --by rep": lambda s=store: benchmark(s, by="rep"),
            "benchmark --by rep --adjust lead_source": lambda s=store: benchmark(s, by="rep", adjust=["lead_source"]),
            "rates --period month": lambda s=store: rates(s, period="month"),
            "trend --period month": lambda s=store: trend(s, period="month"),
        }
        t = timed(fns, args.repeat)
        store.close()
        row = {
            "n": n,
            **t,
            "benchmark/rates": t["benchmark --by rep"] / t["rates --by rep"],
            "benchmark+adjust/rates": t["benchmark --by rep --adjust lead_source"] / t["rates --by rep"],
            "trend/rates": t["trend --period month"] / t["rates --period month"],
        }
        results.append(row)
        print(f"N = {n:,}")
        for name, secs in t.items():
            print(f"  {name:42s} {secs:8.3f} s")
        for name in ("benchmark/rates", "benchmark+adjust/rates", "trend/rates"):
            ok = "ok" if row[name] <= TARGET else "MISS"
            print(f"  {name:42s} {row[name]:8.2f}x  {ok} (target <= {TARGET})")
    out = ROOT / "benchmarks" / "data" / "results-analysis.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), "results": results}, indent=2, default=str))
    print(f"results written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
