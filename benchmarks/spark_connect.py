"""``rates`` and ``benchmark`` through Spark Connect, next to the embedded DuckDB store, on the same rows.

Run from the repository root::

    .venv/bin/python benchmarks/spark_connect.py --n 1000000               # starts its own server
    .venv/bin/python benchmarks/spark_connect.py --n 1000000 --url sc://spark.internal:15002/data/crm

For N opportunities it uses ``benchmarks/scale.py``'s data (the Parquet parts and the DuckDB store built from
them, generated once and cached under ``benchmarks/data/``) and writes the store's canonical tables, in their
canonical types, as ``benchmarks/data/sc-nN/<table>.parquet`` (the layout ``--engine`` reads). Without
``--url`` it starts a Spark Connect server from the PySpark installation (``tests/spark_connect_server.py``:
``local[2]``, the machine's two cores, ``--driver-memory``) and points it at that folder. Then, in this process:

* **DuckDB**: ``rates(store, by=["rep"], period="month")`` and ``benchmark(store, by="rep")`` on the store,
  warm (one warm-up call), median of ``--repeat`` calls;
* **Spark Connect**: ``connect(url)`` (timed: a session on the server, the tables registered; then a second
  time on the warm server), then the
  same two calls on it, timed the same way (each call is a query the server plans and runs: it reads the
  Parquet, filters and aggregates; only the per-group counts come back);
* **whole process**: ``hitrate rates|benchmark ... --format json --engine sc://...`` (Python start, connect,
  query), median of ``--repeat`` runs.

Before timing, the groups, attempts and hits from Spark Connect are checked against DuckDB's. The Spark plan of
the ``rates`` query (``explain(mode="formatted")``) and the bytes of the result are saved with the figures in
``benchmarks/data/results-spark-connect-nN.json``. The 1-minute load average is recorded before and after: the
machine is shared, so read the figures with it. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.rates import DATA, fmt_s, machine, median_time  # noqa: E402
from benchmarks.scale import ensure_parquet, ensure_store  # noqa: E402

CALLS = {
    "rates": (["rates", "--by", "rep", "--period", "month"], lambda src: _rates(src)),
    "benchmark": (["benchmark", "--by", "rep"], lambda src: _benchmark(src)),
}


def _rates(source: Any) -> Any:
    from hitrate.analysis.rates import rates

    return rates(source, by=["rep"], period="month").rows


def _benchmark(source: Any) -> Any:
    from hitrate.analysis.benchmark import benchmark

    return benchmark(source, by="rep").columns


def export_tables(store_file: Path, n: int) -> Path:
    """The store's canonical tables (bookkeeping columns dropped) as ``sc-nN/<table>.parquet``, written once
    in batches (the store's own types: what ``--engine`` reads from any Parquet folder)."""
    import pyarrow.parquet as pq

    from hitrate.store.embedded import Store
    from hitrate.store.schema import TABLES

    folder = DATA / f"sc-n{n}"
    done = folder / "_done.json"
    if done.exists() and json.loads(done.read_text()).get("store_mtime") == store_file.stat().st_mtime:
        print(f"parquet: reusing {folder.relative_to(ROOT)}", flush=True)
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with Store(store_file) as store:
        for name in TABLES:
            table = store.con.table(name)
            keep = [c for c in table.columns if not c.startswith("_")]
            reader = table.select(*keep).to_pyarrow_batches(chunk_size=1_000_000)
            with pq.ParquetWriter(folder / f"{name}.parquet", reader.schema) as writer:
                for batch in reader:
                    writer.write_batch(batch)
    done.write_text(json.dumps({"store_mtime": store_file.stat().st_mtime}))
    print(f"parquet: wrote {folder.relative_to(ROOT)}", flush=True)
    return folder


def same_counts(a: Any, b: Any, key: str) -> None:
    """Same groups, attempts and hits (rows in any order)."""
    import pandas as pd

    x, y = pd.DataFrame(a), pd.DataFrame(b)
    keys = [c for c in ("rep", "period") if c in x.columns]
    x = x.sort_values(keys).reset_index(drop=True)[[*keys, "attempts", "hits"]]
    y = y.sort_values(keys).reset_index(drop=True)[[*keys, "attempts", "hits"]]
    pd.testing.assert_frame_equal(x, y, check_dtype=False, obj=key)


def spark_plan(con: Any) -> str:
    """The formatted physical plan of the rates query as the server planned it."""
    import ibis

    from hitrate.engine.counting import bind
    from hitrate.engine.expressions import bound_values, count_expr
    from hitrate.engine.query import Query
    from hitrate.spec.model import default_definitions

    with bound_values() as values:
        expr, _ = count_expr(con, default_definitions(), Query.build(by=["rep"], period="month"))
    frame = con._session.sql(bind(ibis.to_sql(expr, dialect="pyspark"), values, ":{}"), args=values)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        frame.explain(mode="formatted")
    return out.getvalue()


def cli_median(args: list[str], url: str, repeat: int) -> tuple[float, list[float]]:
    """Median wall time of ``hitrate ARGS --format json --engine URL`` processes (after one warm-up run)."""
    command = [str(ROOT / ".venv" / "bin" / "hitrate"), *args, "--format", "json", "--engine", url]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def once() -> None:
        subprocess.run(command, env=env, check=True, capture_output=True)

    return median_time(once, repeat)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="opportunities (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=7, help="as benchmarks/scale.py (default 7)")
    ap.add_argument("--repeat", type=int, default=3, help="timed calls per measurement (default 3)")
    ap.add_argument("--url", help="an sc:// URL of a server that sees the Parquet folder (default: start one here)")
    ap.add_argument("--driver-memory", default="2g", help="of the server started here (default 2g)")
    ap.add_argument("--out", type=Path, default=None, help="default benchmarks/data/results-spark-connect-nN.json")
    args = ap.parse_args(argv)
    args.out = args.out or DATA / f"results-spark-connect-n{args.n}.json"

    from hitrate.store.backends import close, connect
    from hitrate.store.embedded import Store

    meta = machine() | {"n": args.n, "repeat": args.repeat, "load_start": round(os.getloadavg()[0], 2)}
    store_file, _ = ensure_store(args.n, args.seed, ensure_parquet(args.n, args.seed)[0])
    folder = export_tables(store_file, args.n)
    results: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        url = args.url
        if url is None:
            from tests import spark_connect_server as scs

            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hitrate-sc-")))
            server = scs.start(work, conf={"spark.driver.memory": args.driver_memory})
            stack.callback(server.stop)
            url = server.url(folder)
            meta["server_start_s"] = round(server.start_seconds, 1)
            print(f"server: up on port {server.port} in {server.start_seconds:.1f} s", flush=True)
        t0 = time.perf_counter()
        con = connect(url)
        meta["connect_s"] = round(time.perf_counter() - t0, 3)
        stack.callback(close, con)
        t0 = time.perf_counter()  # a second connection: the server warm, as each hitrate process finds it
        close(connect(url))
        meta["connect_again_s"] = round(time.perf_counter() - t0, 3)
        store = stack.enter_context(Store(store_file))
        meta["plan_rates"] = spark_plan(con)
        for name, (cli, call) in CALLS.items():
            same_counts(call(store), call(con), name)  # checked before anything is timed (also a warm-up)
            duck, duck_all = median_time(lambda c=call: c(store), args.repeat)
            spark, spark_all = median_time(lambda c=call: c(con), args.repeat)
            whole, whole_all = cli_median(cli, url, args.repeat)
            results[name] = {
                "duckdb_s": duck,
                "spark_connect_s": spark,
                "cli_spark_connect_s": whole,
                "all": {"duckdb": duck_all, "spark_connect": spark_all, "cli_spark_connect": whole_all},
                "load": round(os.getloadavg()[0], 2),
            }
            print(
                f"{name}: DuckDB {fmt_s(duck)}, Spark Connect {fmt_s(spark)} in-process, "
                f"{fmt_s(whole)} as a hitrate process (load {results[name]['load']})",
                flush=True,
            )
    meta["load_end"] = round(os.getloadavg()[0], 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))
    print(
        f"connect: {meta['connect_s']:.2f} s, again {meta['connect_again_s']:.2f} s; "
        f"load {meta['load_start']} -> {meta['load_end']}; written {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
