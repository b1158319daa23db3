"""Benchmark at scale: ``rates --by rep --period month`` and ``benchmark --by rep`` on 1M, 10M and 100M rows.

Run from the repository root::

    .venv/bin/python benchmarks/scale.py --quick                                     # smoke run, 100k, < 1 min
    .venv/bin/python benchmarks/scale.py --n 1000000 --n 10000000 --n 100000000 \\
        --wait-quiet 300 --update-doc                                                # `make bench`

For every N it

1. writes N synthetic opportunities to Parquet (``benchmarks/data/opps-nN/part-*.parquet``, cached): the
   generator (:func:`hitrate.synth.generate`) runs in chunks of at most 10M rows, chunk ``i`` with seed
   ``seed + i``; ids are renumbered ``OPP000000001``... across chunks so they stay unique, and every chunk's
   reps are renamed, position by position in the reps table (same team, same region), to those of chunk 0,
   so there is one sales organisation (``_reps.parquet``). For N <= 10M the data are those of
   ``benchmarks/rates.py``'s stores;
2. builds (once, then reuses) a hitrate store from the Parquet with DuckDB SQL
   (``benchmarks/data/scale-nN.duckdb``): the schema comes from :class:`hitrate.store.Store`, the rows are
   inserted with ``INSERT ... SELECT ... FROM read_parquet(...)`` cast to the canonical types, plus the reps
   lookup table and the ``import_batches`` record;
3. for each analysis measures, each variant in a process of its own:

   * **hitrate**: the library call in-process (``rates(store, by=["rep"], period="month")`` /
     ``benchmark(store, by="rep")``), warm: one warm-up call, then the median of ``--repeat`` calls;
   * **SQL**: the same aggregation hand-written in DuckDB SQL with a numpy Wilson interval
     (``benchmarks/rates.py``'s ``SQL_PROGRAM`` for rates), in-process on its own connection, timed the same way;
   * **pandas** (N <= 10M): ``pd.read_parquet`` of the needed columns once (timed apart), then the groupby
     (``benchmarks/rates.py``'s ``pandas_rates``; for benchmark: per-rep counts and Wilson), timed the same way;
   * **whole processes**: ``hitrate rates|benchmark ... --format json --db FILE``, a ``python -c`` process that
     runs the SQL above and prints the rows as JSON, and (N <= 10M) one that reads the Parquet with pandas, runs
     the groupby and prints JSON: median of ``--repeat`` runs after a warm-up run.

   The peak memory of every variant is its process's peak resident set (``ru_maxrss`` from ``wait4``), imports
   and data included. Before anything is timed, each variant's first output is checked against the SQL's:
   same groups, same attempts and hits (rates: amounts and intervals to 1e-9; benchmark: intervals to 1e-9).

Results go to ``benchmarks/data/results-scale.json`` and a markdown table is printed (and written to
``benchmarks/data/results-scale.md``; ``--update-doc`` also puts it into BENCHMARKS.md between the
``scale-table`` markers). The 1-minute load average is recorded before and after each N and analysis.
Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import inspect
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.rates import (  # noqa: E402
    DATA,
    SQL_PROGRAM,
    check_same,
    fmt_s,
    hitrate_cli,
    last_json,
    library_breakdown,
    library_rates,
    machine,
    median_time,
    pandas_rates,
    source_state,
    wait_quiet,
    with_lock_retry,
)

CHUNK = 10_000_000  # rows generated at a time
#: The shapes of sales organisation the data can have (``--layout``): the generator's default (30 reps over 36
#: months, about 1,000 rep-months) and ``many`` (200 reps over 60 months, about 12,000 rep-months), where the
#: cost per group (building and serialising the result) shows next to the cost per row.
LAYOUTS: dict[str, dict[str, Any]] = {
    "standard": {},
    "many": {"n_teams": 40, "reps_per_team": 5, "start": "2020-01-01", "end": "2024-12-31"},
}
LAYOUT = ["standard"]
PANDAS_MAX_N = 10_000_000  # pandas is not run above this (the frame alone would take several GB)
TARGET_SQL = 1.3  # at 10M: hitrate rates within 1.3x of the hand-written SQL
TARGET_PANDAS = 3.0  # at 10M: hitrate rates at least 3x faster than pandas
TARGET_PEAK_MB = 2048  # at 100M: peak memory under 2 GB
DOC = ROOT / "BENCHMARKS.md"
MARK_START, MARK_END = (
    "<!-- scale-table:start (written by benchmarks/scale.py --update-doc) -->",
    "<!-- scale-table:end -->",
)

ANALYSES = {
    "rates": {
        "title": "rates --by rep --period month",
        "cli": ["rates", "--by", "rep", "--period", "month"],
        "library": 'rates(store, by=["rep"], period="month")',
        "columns": ["rep", "closed_at", "outcome", "amount"],
    },
    "benchmark": {
        "title": "benchmark --by rep",
        "cli": ["benchmark", "--by", "rep"],
        "library": 'benchmark(store, by="rep")',
        "columns": ["rep", "outcome"],
    },
}


# --------------------------------------------------------------------------------------------------
# The programs the measured processes run. The hand-written SQL and pandas code of benchmarks/rates.py
# is taken from there (its SQL_PROGRAM text, pandas_rates' source) so both benchmarks measure the same code.
# --------------------------------------------------------------------------------------------------
def _definitions(program: str, *names: str) -> str:
    """The source of the named top-level definitions (functions, assignments) of a program text, in order."""
    tree = ast.parse(program)
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            name = node.name
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
        else:
            continue
        if name in names:
            found[name] = ast.get_source_segment(program, node) or ""
    missing = set(names) - set(found)
    if missing:
        raise SystemExit(f"benchmarks/rates.py's SQL_PROGRAM no longer defines {sorted(missing)}")
    return "\n\n\n".join(found[name] for name in names) + "\n\n\n"


# benchmark --by rep, by hand; Wilson as in the rates baseline; the harness the in-process variants run in.
EXTRA = r'''
BENCHMARK_SQL = """
SELECT rep,
       count(*)                                                  AS attempts,
       sum(CASE WHEN outcome = 'won' THEN 1 ELSE 0 END)::BIGINT  AS hits
FROM opportunities
WHERE outcome IN ('won', 'lost')
GROUP BY rep
ORDER BY rep NULLS LAST
"""
BENCHMARK_KEYS = ("rep", "attempts", "hits", "hit_rate", "ci_low", "ci_high")


def with_wilson(cols):
    n = cols["attempts"].astype(float)
    k = cols["hits"].astype(float)
    cols["ci_low"], cols["ci_high"] = wilson(k, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["hit_rate"] = k / n
    return cols


def sql_benchmark(con):
    return with_wilson(con.execute(BENCHMARK_SQL).fetchnumpy())


def pandas_benchmark(df):
    d = df[df["outcome"].isin(("won", "lost"))]
    g = d.assign(won=d["outcome"] == "won").groupby("rep", sort=True)["won"].agg(["size", "sum"])
    return with_wilson({"rep": g.index.to_numpy(), "attempts": g["size"].to_numpy(), "hits": g["sum"].to_numpy()})


def as_records(cols, keys):
    lists = [cols[key].tolist() for key in keys]
    return [{key: (None if v != v else v) for key, v in zip(keys, row)} for row in zip(*lists)]


def serve(setup, call, keys):
    """Set up and call once (the warm-up: its output goes to the parent, which checks it); then one timed
    call per "call" line on stdin, until "end": then this process's peak memory."""
    t0 = time.perf_counter()
    state = setup()
    t1 = time.perf_counter()
    out = call(state)
    t2 = time.perf_counter()
    print(json.dumps({"rows": as_records(out, keys), "setup_s": t1 - t0, "first_s": t2 - t1}), flush=True)
    del out
    for line in sys.stdin:
        if line.strip() != "call":
            break
        t = time.perf_counter()
        call(state)
        print(json.dumps({"seconds": time.perf_counter() - t}), flush=True)
    print(json.dumps({"peak_mb": peak_mb()}), flush=True)


def peak_mb():
    """This process's peak resident set (VmHWM), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None
'''
_SQL_PART = _definitions(SQL_PROGRAM, "RATES_SQL", "KEYS", "wilson", "sql_rates")
_WILSON = _definitions(SQL_PROGRAM, "KEYS", "wilson")
_HEAD = (
    "from __future__ import annotations\n\nimport json\nimport sys\nimport time\n"
    "from statistics import NormalDist\n\nimport numpy as np\n"
)
_CONNECT = "con = duckdb.connect(sys.argv[1])\ncon.execute('SET enable_progress_bar = false')\n"
_MAIN = '\nif __name__ == "__main__":\n'

# whole processes: python -c PROGRAM FILE|FOLDER rates|benchmark; print {"rows": [...]}
SQL_PROCESS = (
    _HEAD
    + "import duckdb\n\n"
    + _SQL_PART
    + EXTRA
    + _MAIN
    + "    "
    + _CONNECT.replace("\n", "\n    ")
    + "rows = as_records(sql_rates(con), KEYS) if sys.argv[2] == 'rates' else "
    + "as_records(sql_benchmark(con), BENCHMARK_KEYS)\n"
    + "    print(json.dumps({'rows': rows}))\n"
    + "    con.close()\n"
)
PANDAS_PROCESS = (
    _HEAD
    + "import pandas as pd\n\n"
    + _WILSON
    + inspect.getsource(pandas_rates)
    + EXTRA
    + _MAIN
    + "    cols = {'rates': ['rep', 'closed_at', 'outcome', 'amount'], 'benchmark': ['rep', 'outcome']}[sys.argv[2]]\n"
    + "    df = pd.read_parquet(sys.argv[1], columns=cols)\n"
    + "    rows = as_records(pandas_rates(df), KEYS) if sys.argv[2] == 'rates' else "
    + "as_records(pandas_benchmark(df), BENCHMARK_KEYS)\n"
    + "    print(json.dumps({'rows': rows}))\n"
)
# in-process variants: python -c PROGRAM FILE|FOLDER rates|benchmark, talking to serve() above
_ARGS = "path, analysis = sys.argv[1], sys.argv[2]\n"
SQL_INPROC = (
    _HEAD
    + "import duckdb\n\n"
    + _SQL_PART
    + EXTRA
    + _ARGS
    + "def connect():\n    "
    + _CONNECT.replace("sys.argv[1]", "path").replace("\n", "\n    ")
    + "return con\n\n\n"
    + "if analysis == 'rates':\n    serve(connect, sql_rates, KEYS)\n"
    + "else:\n    serve(connect, sql_benchmark, BENCHMARK_KEYS)\n"
)
PANDAS_INPROC = (
    _HEAD
    + "import pandas as pd\n\n"
    + _WILSON
    + inspect.getsource(pandas_rates)
    + EXTRA
    + _ARGS
    + "cols = {'rates': ['rep', 'closed_at', 'outcome', 'amount'], 'benchmark': ['rep', 'outcome']}[analysis]\n"
    + "setup = lambda: pd.read_parquet(path, columns=cols)\n"
    + "if analysis == 'rates':\n    serve(setup, pandas_rates, KEYS)\n"
    + "else:\n    serve(setup, pandas_benchmark, BENCHMARK_KEYS)\n"
)
LIBRARY_INPROC = (
    _HEAD
    + "import warnings\n\n"
    + _definitions(SQL_PROGRAM, "KEYS")
    + EXTRA
    + _ARGS
    + "warnings.simplefilter('ignore')\n"
    + "from hitrate.store import Store\n"
    + "if analysis == 'rates':\n"
    + "    from hitrate.analysis.rates import rates\n"
    + "    serve(lambda: Store(path), lambda s: rates(s, by=['rep'], period='month').columns, KEYS)\n"
    + "else:\n"
    + "    from hitrate.analysis.benchmark import benchmark\n"
    + "    serve(lambda: Store(path), lambda s: benchmark(s, by='rep').columns, BENCHMARK_KEYS)\n"
)


# --------------------------------------------------------------------------------------------------
# data: Parquet parts, then the store, both cached
# --------------------------------------------------------------------------------------------------
def _suffix() -> str:
    return "" if LAYOUT[0] == "standard" else f"-{LAYOUT[0]}"


def parquet_dir(n: int) -> Path:
    return DATA / f"opps-n{n}{_suffix()}"


def store_path(n: int) -> Path:
    return DATA / f"scale-n{n}{_suffix()}.duckdb"


def ensure_parquet(n: int, seed: int, rebuild: bool = False) -> tuple[Path, dict[str, Any]]:
    """Parquet parts of N opportunities (and ``_reps.parquet``), generated in chunks of CHUNK rows."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    folder = parquet_dir(n)
    manifest = folder / "_manifest.json"
    want = {"n": n, "seed": seed, "chunk": CHUNK, **({"layout": LAYOUT[0]} if LAYOUT[0] != "standard" else {})}
    if manifest.exists() and not rebuild:
        have = json.loads(manifest.read_text())
        if {k: have.get(k) for k in want} == want:
            print(f"parquet: reusing {folder.relative_to(ROOT)} ({n:,} opportunities)", flush=True)
            return folder, have
    from hitrate.synth.generator import generate

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    width = max(7, len(str(n)))  # as the generator pads its ids
    base_reps: Any = None
    chunks = range(0, n, CHUNK) if n else range(1)
    for i, start in enumerate(chunks):
        size = min(CHUNK, n - start)
        data = generate(
            seed=seed + i, n_opportunities=size, with_history=False, with_activities=False, **LAYOUTS[LAYOUT[0]]
        )
        table = pa.Table.from_pandas(data.opportunities, preserve_index=False)
        if base_reps is None:
            base_reps = data.reps
            pq.write_table(pa.Table.from_pandas(base_reps, preserve_index=False), folder / "_reps.parquet")
        else:  # rename this chunk's reps to chunk 0's at the same place in the reps table (same team)
            position = pc.index_in(table["rep"], value_set=pa.array(data.reps["rep"].tolist()))
            renamed = pa.array(base_reps["rep"].tolist()).take(position)
            table = table.set_column(table.schema.get_field_index("rep"), "rep", renamed)
        if len(chunks) > 1:  # unique ids across chunks
            number = pc.cast(pa.array(np.arange(start + 1, start + size + 1)), pa.string())
            ids = pc.binary_join_element_wise("OPP", pc.utf8_lpad(number, width=width, padding="0"), "")
            table = table.set_column(table.schema.get_field_index("id"), "id", ids)
        pq.write_table(table, folder / f"part-{i:05d}.parquet")
        del data, table
        print(f"parquet: chunk {i + 1}/{len(chunks)} written ({time.perf_counter() - t0:.0f} s)", flush=True)
    info = want | {
        "seconds": round(time.perf_counter() - t0, 1),
        "mib": round(sum(f.stat().st_size for f in folder.glob("part-*.parquet")) / 1024**2, 1),
        "written": dt.datetime.now().isoformat(timespec="seconds"),
    }
    manifest.write_text(json.dumps(info, indent=2))
    print(f"parquet: wrote {folder.relative_to(ROOT)} in {info['seconds']} s, {info['mib']} MiB", flush=True)
    return folder, info


def store_layout() -> str:
    """A hash of the canonical data tables as the library's Store creates them (keys, types): a store built
    with another layout is built again. (Bookkeeping tables the Store adds itself when it opens a file.)"""
    import hashlib

    from hitrate.store.embedded import Store
    from hitrate.store.schema import TABLES

    store = Store(":memory:")
    try:
        rows = store.raw.execute("SELECT table_name, sql FROM duckdb_tables() ORDER BY table_name").fetchall()
    finally:
        store.close()
    ddl = [sql for name, sql in rows if name in TABLES]
    return hashlib.sha256(";".join(ddl).encode()).hexdigest()[:12]


def _holds(path: Path, n: int, label: str) -> bool:
    """Whether the file is a store of N opportunities made by ensure_store with this label."""
    import duckdb

    if not path.exists():
        return False
    sql = (
        "SELECT (SELECT count(*) FROM opportunities), "
        "(SELECT sources FROM import_batches ORDER BY batch_id DESC LIMIT 1)"
    )
    try:
        con = with_lock_retry(lambda: duckdb.connect(str(path), read_only=True), path.name)
        with con:
            count, sources = con.execute(sql).fetchone()
    except duckdb.Error as exc:
        print(f"store: {path.name} unusable ({exc})", flush=True)
        return False
    return bool(count == n and sources and json.loads(sources) == [label])


def copy_of(path: Path, n: int, seed: int) -> Path:
    """A copy of the store for the in-process SQL baseline (see bench_one), made again when out of date."""
    copy = path.with_name(path.stem + ".sql-copy.duckdb")
    label = f"bench-scale:{parquet_dir(n).name},seed={seed},layout={store_layout()}"
    if not _holds(copy, n, label):
        t0 = time.perf_counter()
        for p in (copy, Path(f"{copy}.wal")):
            p.unlink(missing_ok=True)
        shutil.copyfile(path, copy)
        print(f"store: copied to {copy.name} for the SQL baseline ({time.perf_counter() - t0:.0f} s)", flush=True)
    return copy


def ensure_store(n: int, seed: int, folder: Path, rebuild: bool = False) -> tuple[Path, dict[str, Any]]:
    """A hitrate store holding the Parquet's opportunities and reps, built with DuckDB SQL."""
    import pandas as pd

    path = store_path(n)
    label = f"bench-scale:{folder.name},seed={seed},layout={store_layout()}"
    if not rebuild and _holds(path, n, label):
        print(f"store: reusing {path.relative_to(ROOT)}", flush=True)
        return path, {"mib": round(path.stat().st_size / 1024**2, 1)}
    from hitrate.store.embedded import Store
    from hitrate.store.schema import OPPORTUNITIES, SQL_TYPES, quote
    from hitrate.synth.demo import DATA_TABLES, load_frame

    tmp = path.with_name(path.name + ".building")
    for p in (tmp, Path(f"{tmp}.wal")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    started = dt.datetime.now()
    source = "read_parquet('{}')".format(str(folder / "part-*.parquet").replace("'", "''"))
    store = Store(tmp)
    try:
        con = store.raw
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        schema = OPPORTUNITIES
        store.add_text_columns("opportunities", [c for c in names if c not in schema.fields and c != "outcome"])
        cols = ", ".join(quote(c) for c in names)
        exprs = ", ".join(f"CAST({quote(c)} AS {SQL_TYPES[schema.fields.get(c, 'text')]})" for c in names)
        batch = store.next_batch_id()
        with store.transaction():
            con.execute(f"INSERT INTO opportunities ({cols}, _batch) SELECT {exprs}, {batch} FROM {source}")
            reps = pd.read_parquet(folder / "_reps.parquet")
            load_frame(store, "reps", reps, batch)
            total = n + len(reps)
            con.execute(
                "INSERT INTO import_batches VALUES (?, 'synth', ?, ?, ?, ?, ?, ?, 0, 0, 0)",
                [batch, ",".join(DATA_TABLES), json.dumps([label]), started, dt.datetime.now(), total, total],
            )
        con.execute("CHECKPOINT")
    finally:
        store.close()
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)
    tmp.replace(path)
    info = {"seconds": round(time.perf_counter() - t0, 1), "mib": round(path.stat().st_size / 1024**2, 1)}
    print(f"store: built {path.relative_to(ROOT)} in {info['seconds']} s, {info['mib']} MiB", flush=True)
    return path, info


# --------------------------------------------------------------------------------------------------
# measuring one variant: time and peak resident set of its own process
# --------------------------------------------------------------------------------------------------
# A whole process is started by this small launcher, which times it and reads its peak resident set from
# wait4(). Not directly from here: Linux counts in a child's ru_maxrss the resident set of the parent it
# was forked (vforked) from, so a child of this script (pandas, duckdb... imported: ~170 MB) could never
# report less than that. The launcher holds ~10 MB. argv: RESULT_FILE COMMAND...
LAUNCHER = """
import json, os, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(p.pid, 0)
seconds = time.perf_counter() - t0
with open(sys.argv[1], "w") as f:
    json.dump({"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "rc": os.waitstatus_to_exitcode(status)}, f)
"""


def _fail(name: str, p: subprocess.Popen[Any], err: IO[bytes]) -> SystemExit:
    err.seek(0)
    return SystemExit(f"{name} failed ({p.returncode}): {err.read().decode(errors='replace').strip()[-2000:]}")


class Worker:
    """An in-process variant in a process of its own (see ``serve``): set up, warm-up call (checked), then
    timed calls on request, so that the variants can take turns; finally its peak memory."""

    def __init__(self, name: str, program: str, target: Path, analysis: str) -> None:
        self.name = name
        self.err = tempfile.TemporaryFile()  # noqa: SIM115 (closed by finish / kill)
        cmd = [sys.executable, "-c", program, str(target), analysis]
        self.p = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, cwd=ROOT, text=True
        )
        self.first = self._read()
        self.times: list[float] = []

    def _read(self) -> dict[str, Any]:
        assert self.p.stdout is not None
        line = self.p.stdout.readline()
        if not line:
            self.p.wait()
            raise _fail(self.name, self.p, self.err)
        out: dict[str, Any] = json.loads(line)
        return out

    def _send(self, text: str) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()

    def call(self) -> None:
        self._send("call")
        self.times.append(self._read()["seconds"])

    def finish(self) -> dict[str, Any]:
        self._send("end")
        peak = self._read()["peak_mb"]
        self.p.wait()
        self.err.close()
        return {
            "median_s": statistics.median(self.times),
            "runs": self.times,
            "setup_s": self.first["setup_s"],
            "first_call_s": self.first["first_s"],
            "peak_mb": round(peak, 1),
        }

    def kill(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.err.close()


def run_once(name: str, cmd: list[str]) -> tuple[dict[str, Any], str]:
    """One run of a whole process through LAUNCHER: its wall time and peak memory, and its stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as res:
        p = subprocess.Popen([sys.executable, "-c", LAUNCHER, res.name, *cmd], stdout=out, stderr=err, cwd=ROOT)
        p.wait()
        run = json.loads(Path(res.name).read_text() or "{}")
        if p.returncode != 0 or run.get("rc") != 0:
            raise _fail(name, p, err)
        out.seek(0)
        return {"seconds": run["seconds"], "peak_mb": round(run["peak_mb"], 1)}, out.read().decode()


def in_turns(
    workers: dict[str, tuple[str, Path]],
    processes: dict[str, list[str]],
    analysis: str,
    repeat: int,
    check: Callable[[str, Any], None],
) -> dict[str, dict[str, Any]]:
    """Every variant's first output is checked (``check``; the first variant's is the reference); then
    ``repeat`` rounds, each timing every in-process variant once, in turns, and then ``repeat`` rounds of the
    whole processes, in turns, so that whatever else the machine does hits all alike."""
    started: dict[str, Worker] = {}
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, (program, target) in workers.items():
            started[name] = Worker(name, program, target, analysis)
            check(name, started[name].first["rows"])
        for _ in range(repeat):
            for w in started.values():
                w.call()
        results.update({name: w.finish() for name, w in started.items()})
    finally:
        for w in started.values():
            w.kill()
    for name, cmd in processes.items():  # warm-up runs, checked
        check(name, last_json(run_once(name, cmd)[1], name)["rows"])
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in processes}
    for _ in range(repeat):
        for name, cmd in processes.items():
            runs[name].append(run_once(name, cmd)[0])
    for name, rs in runs.items():
        times = [r["seconds"] for r in rs]
        peaks = [r["peak_mb"] for r in rs]
        results[name] = {"median_s": statistics.median(times), "runs": times, "peak_mb": max(peaks), "peaks_mb": peaks}
    return results


class Agreement:
    """Checks outputs against the first one it is given (the SQL's): same groups, same attempts and hits;
    rates: amounts and intervals to 1e-9 (``benchmarks/rates.py``'s check); benchmark: intervals to 1e-9."""

    def __init__(self, analysis: str) -> None:
        self.analysis = analysis
        self.reference: list[dict[str, Any]] | None = None

    def __call__(self, name: str, rows: Any) -> None:
        if self.reference is None:
            self.reference = list(rows)
        elif self.analysis == "rates":
            check_same(f"{name} vs SQL", self.reference, rows)
        else:
            self._benchmark(name, rows)

    def _benchmark(self, name: str, rows: Any) -> None:
        import numpy as np
        import pandas as pd

        a, b = pd.DataFrame(self.reference), pd.DataFrame(rows)
        if len(a) != len(b) or list(a["rep"]) != list(b["rep"]):
            raise SystemExit(f"MISMATCH {name} vs SQL: groups differ ({len(a)} vs {len(b)} rows)")
        for col in ("attempts", "hits"):
            if not np.array_equal(a[col].to_numpy("int64"), b[col].to_numpy("int64")):
                raise SystemExit(f"MISMATCH {name} vs SQL: {col} differ")
        for col in ("ci_low", "ci_high"):
            if not np.allclose(a[col].to_numpy(float), b[col].to_numpy(float), rtol=1e-9, atol=1e-12):
                raise SystemExit(f"MISMATCH {name} vs SQL: {col} differ")


# --------------------------------------------------------------------------------------------------
# where a rates call / command spends its time
# --------------------------------------------------------------------------------------------------
CHANGES = "  in rates.finish: rates._changes, period-over-period change tests (timed in 5 other calls)"


def rates_breakdown(path: Path, repeat: int) -> dict[str, Any]:
    """benchmarks/rates.py's breakdown of a warm ``rates()`` call (the library's functions timed while it
    runs) plus the time in ``hitrate.rates._changes``."""
    import hitrate.analysis.rates as hr
    from hitrate.store.embedded import Store

    store = with_lock_retry(lambda: Store(path), path.name)
    try:
        out: dict[str, Any] = {"call": library_breakdown(store, repeat)}
        original = getattr(hr, "_changes", None)
        if original is not None:
            spent: list[float] = []

            def timed(*a: Any, **k: Any) -> Any:
                t = time.perf_counter()
                try:
                    return original(*a, **k)
                finally:
                    spent.append(time.perf_counter() - t)

            hr._changes = timed  # type: ignore[attr-defined]
            try:
                median_time(lambda: library_rates(store), repeat)
            finally:
                hr._changes = original  # type: ignore[attr-defined]
            call = out["call"]
            at = next((i + 1 for i, k in enumerate(call) if k.startswith("rates.finish")), len(call))
            items = list(call.items())
            out["call"] = dict([*items[:at], (CHANGES, statistics.median(spent[1:])), *items[at:]])
    finally:
        store.close()
    return out


def command_anatomy(path: Path, repeat: int, analysis: str) -> dict[str, Any]:
    """benchmarks/rates.py's anatomy of one command process (start-up, imports, work), for either command."""
    import benchmarks.rates as rb

    original = rb.CLI_ANATOMY
    argv = '"rates", "--by", "rep", "--period", "month"'
    if argv not in original:
        raise SystemExit("benchmarks/rates.py's CLI_ANATOMY changed; update command_anatomy")
    rb.CLI_ANATOMY = original.replace(argv, ", ".join(f'"{a}"' for a in ANALYSES[analysis]["cli"]))
    try:
        return rb.cli_anatomy(path, repeat)
    finally:
        rb.CLI_ANATOMY = original


def print_breakdown(n: int, b: dict[str, Any]) -> None:
    if "call" in b:
        print(f"\nwhere a warm rates() call spends its time at N={n:,} (median):")
        for name, v in b["call"].items():
            print(f"  {fmt_s(v):>10}  {name}")
    for analysis, a in b.get("process", {}).items():
        print(f"anatomy of one `hitrate {ANALYSES[analysis]['title']}` process at N={n:,} (median; -X importtime):")
        for name, v in a.items():
            if isinstance(v, float):
                print(f"  {fmt_s(v):>10}  {name}")
        print("  biggest imports: " + ", ".join(f"{k} {fmt_s(v)}" for k, v in a["biggest imports"].items()))


# --------------------------------------------------------------------------------------------------
# one N
# --------------------------------------------------------------------------------------------------
def quiet(max_wait: float) -> float:
    """wait_quiet, counting the time spent waiting in WAITED; the load average at the end."""
    t0 = time.perf_counter()
    load = wait_quiet(max_wait)
    WAITED[0] += time.perf_counter() - t0
    return round(load, 2)


WAITED = [0.0]


def bench_one(
    n: int, seed: int, repeat: int, analyses: list[str], rebuild: bool, quiet_wait: float, breakdown: bool
) -> dict[str, Any]:
    t0, waited0 = time.perf_counter(), WAITED[0]
    folder, parquet = ensure_parquet(n, seed, rebuild)
    path, store = ensure_store(n, seed, folder, rebuild)
    res: dict[str, Any] = {
        "n": n,
        "seed": seed,
        "parquet": str(folder.relative_to(ROOT)),
        "parquet_mib": parquet.get("mib"),
        "store": str(path.relative_to(ROOT)),
        "store_mib": store["mib"],
        "build": {"parquet_s": parquet.get("seconds"), "store_s": store.get("seconds")},
        "load_before": quiet(quiet_wait),
        "analyses": {},
    }
    cli = hitrate_cli()
    with_pandas = n <= PANDAS_MAX_N
    sql_copy = copy_of(path, n, seed)
    for analysis in analyses:
        spec = ANALYSES[analysis]
        out: dict[str, Any] = {"load_before": quiet(quiet_wait)}
        print(f"  {spec['title']} (load {out['load_before']:.2f})", flush=True)
        # One untimed run of the command first: a store's first query of a kind is compiled with Ibis
        # (importing it: ~0.5 s, ~100 MB) and kept in the store; every later run, in any process, reuses it.
        cmd = [cli, *spec["cli"], "--format", "json", "--db", str(path)]
        out["priming_run"] = run_once(f"hitrate {analysis} (priming)", cmd)[0]
        # The SQL's output is the reference every other variant is checked against. The in-process SQL
        # runs on a copy of the store: DuckDB lets one process at a time open a file for writing, and the
        # library (Store) opens it so, while the variants take turns.
        workers = {"sql": (SQL_INPROC, sql_copy), "hitrate": (LIBRARY_INPROC, path)}
        processes = {
            "sql_process": [sys.executable, "-c", SQL_PROCESS, str(path), analysis],
            "hitrate_command": cmd,
        }
        if with_pandas:
            workers["pandas"] = (PANDAS_INPROC, folder)
            processes["pandas_process"] = [sys.executable, "-c", PANDAS_PROCESS, str(folder), analysis]
        check = Agreement(analysis)
        out.update(in_turns(workers, processes, analysis, repeat, check))
        reference = check.reference or []
        out["groups"] = len(reference)
        out["attempts"] = int(sum(r["attempts"] for r in reference))
        out["load_after"] = round(os.getloadavg()[0], 2)
        for key in ("hitrate", "sql", "pandas", "hitrate_command", "sql_process", "pandas_process"):
            if key in out:
                print(
                    f"    {key:16s} {fmt_s(out[key]['median_s']):>10}  peak {out[key]['peak_mb']:7.0f} MB", flush=True
                )
        res["analyses"][analysis] = out
    if breakdown:
        res["breakdown"] = rates_breakdown(path, repeat) if "rates" in analyses else {}
        res["breakdown"]["process"] = {a: command_anatomy(path, repeat, a) for a in analyses}
        print_breakdown(n, res["breakdown"])
    res["load_after"] = round(os.getloadavg()[0], 2)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    res["waited_s"] = round(WAITED[0] - waited0, 1)
    return res


# --------------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------------
def _s(v: dict[str, Any] | None) -> str:
    return "–" if v is None else f"{v['median_s']:.3f}" if v["median_s"] >= 0.1 else f"{v['median_s']:.4f}"


def _ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> float | None:
    return None if a is None or b is None else a["median_s"] / b["median_s"]


def _x(v: float | None, mark: str = "") -> str:
    return "–" if v is None else f"{v:.2f}{mark}"


def markdown(meta: dict[str, Any], results: list[dict[str, Any]]) -> str:
    m = meta
    lines = [
        f"Run of {m['date']}: `{' '.join(['benchmarks/scale.py', *m['argv']])}`, median of {m['repeat']} warm runs "
        "after a warm-up.",
        f"Machine: {m['nproc']} cores, {m['mem_gib']} GiB RAM, {m['cpu']}; `{m['platform']}`; Python {m['python']}, "
        f"DuckDB {m['duckdb']}, Ibis {m['ibis']}, pandas {m['pandas']}, numpy {m['numpy']}, pyarrow {m['pyarrow']}.",
        f"Library: commit `{m['commit']}`"
        + (" + uncommitted changes in `hitrate/`" if m["hitrate_uncommitted_changes"] else "")
        + f" (sources sha256 `{m['hitrate_sources_sha256']}`).",
        "Load average (1 min) before/after each N: "
        + ", ".join(f"{r['n']:,}: {r['load_before']:.2f}/{r['load_after']:.2f}" for r in results)
        + (
            f". The run took {m['seconds'] / 60:.0f} min, {m['waited_s'] / 60:.0f} of them waiting for the load to "
            "drop (`--wait-quiet`)."
            if "seconds" in m
            else "."
        ),
        "",
        "Wall time, seconds (in-process: the call alone, warm; process: the whole command, start to exit):",
        "",
        "| N | analysis | hitrate | SQL | **hitrate/SQL** | pandas | **pandas/hitrate** | hitrate command | "
        "SQL process | command/SQL process | pandas process | pandas process/command |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for name, a in r["analyses"].items():
            lib_sql = _ratio(a["hitrate"], a["sql"])
            pd_lib = _ratio(a.get("pandas"), a["hitrate"])
            at_10m = r["n"] == 10_000_000 and name == "rates"
            lines.append(
                f"| {r['n']:,} | `{ANALYSES[name]['title']}` | {_s(a['hitrate'])} | {_s(a['sql'])} | "
                f"**{_x(lib_sql, (' ✓' if lib_sql <= TARGET_SQL else ' ✗') if at_10m and lib_sql else '')}** | "
                f"{_s(a.get('pandas'))} | "
                f"**{_x(pd_lib, (' ✓' if pd_lib >= TARGET_PANDAS else ' ✗') if at_10m and pd_lib else '')}** | "
                f"{_s(a['hitrate_command'])} | {_s(a['sql_process'])} | "
                f"{_x(_ratio(a['hitrate_command'], a['sql_process']))} | {_s(a.get('pandas_process'))} | "
                f"{_x(_ratio(a.get('pandas_process'), a['hitrate_command']))} |"
            )
    lines += [
        "",
        "Peak memory, MB (peak resident set of the variant's process: interpreter, imports and data):",
        "",
        "| N | analysis | hitrate | SQL | pandas | hitrate command | SQL process | pandas process | "
        "pandas: read Parquet, s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def mb(v: dict[str, Any] | None, judge: bool) -> str:
        if v is None:
            return "–"
        text = f"{v['peak_mb']:,.0f}"
        return f"**{text}** {'✓' if v['peak_mb'] < TARGET_PEAK_MB else '✗'}" if judge else text

    for r in results:
        big = r["n"] >= 100_000_000
        for name, a in r["analyses"].items():
            read = a.get("pandas", {}).get("setup_s")
            lines.append(
                f"| {r['n']:,} | `{ANALYSES[name]['title']}` | {mb(a['hitrate'], big)} | {mb(a['sql'], False)} | "
                f"{mb(a.get('pandas'), False)} | {mb(a['hitrate_command'], big)} | {mb(a['sql_process'], False)} | "
                f"{mb(a.get('pandas_process'), False)} | {'–' if read is None else f'{read:.2f}'} |"
            )
    sizes = ", ".join(
        f"{r['n']:,}: Parquet {r['parquet_mib']:,.0f} MiB, store {r['store_mib']:,.0f} MiB" for r in results
    )
    groups = ", ".join(
        f"{r['n']:,}: " + " / ".join(f"{a['groups']:,}" for a in r["analyses"].values()) for r in results
    )
    lines += [
        "",
        f"Data: {sizes}. Groups ({' / '.join(results[0]['analyses']) if results else ''}): {groups}. "
        f"pandas is not run above {PANDAS_MAX_N:,} rows. Targets: at 10M, hitrate rates ≤ {TARGET_SQL}× the SQL and "
        f"≥ {TARGET_PANDAS:g}× faster than pandas; at 100M, peak memory < {TARGET_PEAK_MB:,} MB.",
    ]
    return "\n".join(lines) + "\n"


def update_doc(table: str, layout: str = "standard") -> bool:
    """Put ``table`` into BENCHMARKS.md between the layout's markers (``scale-table``, ``scale-table-many``)."""
    start, end = MARK_START, MARK_END
    if layout != "standard":
        start, end = (m.replace("scale-table", f"scale-table-{layout}") for m in (MARK_START, MARK_END))
    text = DOC.read_text()
    if start not in text or end not in text:
        print(f"note: {DOC.name} has no {start} markers; not updated", flush=True)
        return False
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    DOC.write_text(f"{head}{start}\n{table}{end}{tail}")
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, action="append", help="opportunities (repeatable); default 1,000,000")
    ap.add_argument("--analysis", choices=list(ANALYSES), action="append", help="default: both")
    ap.add_argument("--repeat", type=int, default=None, help="timed runs per measurement (default 5; 2 with --quick)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="smoke run: N=100,000, 2 repeats, own results file")
    ap.add_argument("--rebuild", action="store_true", help="generate the Parquet and build the stores again")
    ap.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each N and analysis, wait up to this long for the 1-minute load average to drop below 1",
    )
    ap.add_argument(
        "--breakdown",
        action="store_true",
        help="also time the steps of a warm rates() call and of one `hitrate rates` process (rates.py's breakdown)",
    )
    ap.add_argument(
        "--layout",
        choices=list(LAYOUTS),
        default="standard",
        help="standard: 30 reps over 36 months (~1,000 groups); many: 200 reps over 60 months (~12,000 groups)",
    )
    ap.add_argument("--prepare-only", action="store_true", help="only generate the Parquet and build the stores")
    ap.add_argument("--update-doc", action="store_true", help="put the table into BENCHMARKS.md (between markers)")
    ap.add_argument("--out", type=Path, default=None, help="results JSON (default benchmarks/data/results-scale.json)")
    args = ap.parse_args(argv)
    LAYOUT[0] = args.layout
    many = "" if args.layout == "standard" else f"-{args.layout}"

    ns = args.n or ([100_000] if args.quick else [1_000_000])
    repeat = args.repeat or (2 if args.quick else 5)
    out = args.out or DATA / ("results-scale-quick.json" if args.quick else f"results-scale{many}.json")
    meta = machine() | source_state() | {"repeat": repeat, "argv": sys.argv[1:] if argv is None else argv}
    meta["load_start"] = round(os.getloadavg()[0], 2)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results = []
    if args.prepare_only:
        for n in ns:
            ensure_store(n, args.seed, ensure_parquet(n, args.seed, args.rebuild)[0], args.rebuild)
        return 0
    for n in ns:
        print(f"N = {n:,}", flush=True)
        results.append(
            bench_one(
                n, args.seed, repeat, args.analysis or list(ANALYSES), args.rebuild, args.wait_quiet, args.breakdown
            )
        )
        out.write_text(json.dumps({"meta": meta, "results": results}, indent=2))  # keep what is done so far
    meta["seconds"] = round(time.perf_counter() - t0, 1)
    meta["waited_s"] = round(WAITED[0], 1)
    table = markdown(meta, results)
    out.write_text(json.dumps({"meta": meta, "results": results, "markdown": table}, indent=2))
    out.with_suffix(".md").write_text(table)
    print()
    print(table)
    print(
        f"results written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} "
        f"({meta['seconds']:.0f} s, of which {meta['waited_s']:.0f} s waiting for the machine to go quiet)"
    )
    if args.update_doc and update_doc(table, args.layout):
        print(f"table written into {DOC.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
