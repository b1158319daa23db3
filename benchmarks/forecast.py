"""Time of `hitrate.forecast` (and of its backtest) on a synthetic store of N opportunities.

The store is generated once (`generate(n_opportunities=N, with_history=False, with_activities=False)`, 2022-2024)
and kept in `--out`; then the forecast to the end of the quarter (by month, all deals; then by team) and a
12-month backtest are timed, median of `--repeat` warm runs after a warm-up. Counting runs in the engine (three
grouped queries for any number of as-of dates), statistics on tables by group and deal age.

    PYTHONPATH=. python benchmarks/forecast.py --n 1000000          # a few minutes to build, then seconds
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

from hitrate.improve.backtest import forecast_backtest
from hitrate.improve.forecast import forecast
from hitrate.store.embedded import Store
from hitrate.synth.demo import load_synth
from hitrate.synth.generator import generate


def timed(call, repeat: int) -> float:
    call()
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/hitrate-bench"))
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"forecast-{args.n}.duckdb"
    if not path.exists():
        began = time.perf_counter()
        data = generate(seed=1, n_opportunities=args.n, start="2022-01-01", end="2024-12-31", with_history=False,
                        with_activities=False)  # fmt: skip
        with Store(path) as store:
            load_synth(store, data, label=f"bench:{args.n}")
        print(f"built {path} in {time.perf_counter() - began:.1f} s")
    with Store(path, read_only=True) as store:
        t_all = timed(lambda: forecast(store, as_of="2024-10-01", horizon="quarter"), args.repeat)
        t_team = timed(lambda: forecast(store, as_of="2024-10-01", horizon="quarter", by="team"), args.repeat)
        t_rep = timed(lambda: forecast(store, as_of="2024-10-01", horizon="quarter", by="rep"), args.repeat)
        t_back = timed(lambda: forecast_backtest(store, date_from="2023-10-01", date_to="2024-09-01"), 1)
    print(f"N={args.n:,}: forecast {t_all:.2f} s, --by team {t_team:.2f} s, --by rep {t_rep:.2f} s, "
          f"12-month backtest {t_back:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
