"""Benchmark: ``hitrate.rates`` against the same aggregation hand-written in DuckDB SQL (and in pandas).

Run from the repository root::

    .venv/bin/python benchmarks/rates.py --n 1000000 --n 10000000 --wait-quiet 300   # BENCHMARKS.md
    .venv/bin/python benchmarks/rates.py --quick                                      # smoke run, ~15 s

For every N it builds (once, then reuses) a DuckDB store of N synthetic opportunities under
``benchmarks/data/`` (git-ignored) and measures on that same file:

1. in-process, warm: ``hitrate.rates.rates(store, by=["rep"], period="month")``;
2. in-process, warm, same connection: hand-written DuckDB SQL (closed basis, grouped by rep and
   ``date_trunc('month', closed_at)``) fetched with ``fetchnumpy`` plus a numpy Wilson interval;
3. in-process, warm: the same aggregation in pandas on a DataFrame read once (outside the timing);
4. whole process: ``hitrate rates --by rep --period month --format json --db FILE`` against a
   ``python -c`` process that imports duckdb + numpy, opens the file, runs the SQL of (2) and prints JSON.

Every timing is the median of ``--repeat`` runs after one warm-up run; the library and the SQL
baseline (and the two processes) are run alternately so that drift hits both alike. Before timing,
the outputs are checked to agree (same groups, same attempts and hits; amounts and intervals to 1e-9).

Unless ``--no-breakdown``, the table is followed by: where a warm ``rates()`` call spends its time
(the library's and Ibis's functions timed while it runs, see PROBES), the first call on a freshly
opened store, DuckDB alone on the SQL the library generates, the anatomy of one ``hitrate rates``
process (interpreter start/exit, imports, work; under ``-X importtime``) and bare import times.
``--profile`` adds a cProfile of one call. The 1-minute load average is recorded before and after
each N, and the library's commit and a hash of its sources, since both change what is measured.
Results go to ``benchmarks/data/results-rates.json``. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_INPROC = 1.3  # library / SQL, in-process
TARGET_PROCESS = 1.5  # CLI process / SQL process

# --------------------------------------------------------------------------------------------------
# The hand-written baseline. One piece of code, used in-process (exec'd below) and as the
# `python -c` program of the whole-process comparison, so both measure exactly the same thing.
# --------------------------------------------------------------------------------------------------
SQL_PROGRAM = r'''
import json
import sys
from statistics import NormalDist

import duckdb
import numpy as np

RATES_SQL = """
SELECT rep,
       strftime(date_trunc('month', closed_at), '%Y-%m')                 AS period,
       count(*)                                                          AS attempts,
       sum(CASE WHEN outcome = 'won' THEN 1 ELSE 0 END)::BIGINT          AS hits,
       coalesce(sum(CASE WHEN outcome = 'won' THEN amount END), 0.0)     AS amount_won,
       coalesce(sum(amount), 0.0)                                        AS amount_known
FROM opportunities
WHERE outcome IN ('won', 'lost') AND closed_at IS NOT NULL
GROUP BY rep, date_trunc('month', closed_at)
ORDER BY rep NULLS LAST, period
"""
KEYS = ("rep", "period", "attempts", "hits", "hit_rate", "ci_low", "ci_high", "amount_won", "value_hit_rate")


def wilson(k, n, confidence=0.95):
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (k + z2 / 2) / (n + z2)
        half = z * np.sqrt(k * (n - k) / n + z2 / 4) / (n + z2)
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def sql_rates(con):
    cols = con.execute(RATES_SQL).fetchnumpy()
    n = cols["attempts"].astype(float)
    k = cols["hits"].astype(float)
    known = cols["amount_known"]
    cols["ci_low"], cols["ci_high"] = wilson(k, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["hit_rate"] = k / n
        cols["value_hit_rate"] = np.where(known > 0, cols["amount_won"] / known, np.nan)
    return cols


def records(cols):
    lists = [cols[key].tolist() for key in KEYS]
    return [{key: (None if v != v else v) for key, v in zip(KEYS, row)} for row in zip(*lists)]


if __name__ == "__main__":
    con = duckdb.connect(sys.argv[1])
    con.execute("SET enable_progress_bar = false")  # DuckDB draws it on stdout, which is for the JSON
    print(json.dumps({"rows": records(sql_rates(con))}))
    con.close()
'''

_sql: dict[str, Any] = {"__name__": "hitrate_bench_sql"}
exec(compile(SQL_PROGRAM, "<sql baseline>", "exec"), _sql)
sql_rates: Callable[[Any], dict[str, Any]] = _sql["sql_rates"]
wilson: Callable[..., tuple[Any, Any]] = _sql["wilson"]


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------
def median_time(fn: Callable[[], Any], repeat: int, warmup: int = 1) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def alternate(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, list[float]]:
    """One warm-up of each, then ``repeat`` rounds running each once, in turn."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def last_json(stdout: str, who: str = "process") -> Any:
    """The JSON document a process printed: its last non-empty line (anything before it, such as a DuckDB
    progress bar, is reported and skipped)."""
    lines = [ln for ln in stdout.splitlines() if ln.strip()]
    if len(lines) > 1:
        print(
            f"  note: {who} printed {len(lines) - 1} extra line(s) on stdout before its JSON: {lines[0][:60]!r}",
            flush=True,
        )
    return json.loads(lines[-1])


def wait_quiet(max_wait: float, threshold: float = 1.0) -> float:
    """Wait (up to ``max_wait`` seconds) for the 1-minute load average to fall below ``threshold``:
    other work on the machine (test suites...) skews every timing. Returns the load average at the end."""
    deadline = time.monotonic() + max_wait
    load = os.getloadavg()[0]
    if load >= threshold and max_wait > 0:
        print(f"  waiting up to {max_wait:.0f} s for the machine to go quiet (load {load:.2f})", flush=True)
    while load >= threshold and time.monotonic() < deadline:
        time.sleep(5)
        load = os.getloadavg()[0]
    return load


def fmt_s(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" if v >= 0.1 else f"{v * 1000:.1f} ms"


def machine() -> dict[str, Any]:
    import duckdb
    import ibis
    import numpy
    import pandas
    import pyarrow
    import sqlglot

    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "ibis": ibis.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
        "sqlglot": sqlglot.__version__,
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "nproc": os.cpu_count(),
        "mem_gib": mem,
    }


def source_state() -> dict[str, Any]:
    """Which library code was measured: the commit, whether hitrate/ had uncommitted changes, and a hash of
    its sources (other people may be changing it while the benchmark runs)."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted((ROOT / "hitrate").rglob("*.py")):
        h.update(f.relative_to(ROOT).as_posix().encode())
        h.update(f.read_bytes())

    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", *a], capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return ""

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "hitrate_uncommitted_changes": bool(git("status", "--porcelain", "--", "hitrate")),
        "hitrate_sources_sha256": h.hexdigest()[:16],
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


# --------------------------------------------------------------------------------------------------
# the store, cached per (seed, N)
# --------------------------------------------------------------------------------------------------
def store_path(n: int, seed: int) -> Path:
    return DATA / f"rates-seed{seed}-n{n}.duckdb"


def _label(n: int, seed: int) -> str:
    return f"bench:seed={seed},n={n}"


def _locked(exc: BaseException) -> bool:
    return "lock" in str(exc).lower()


def with_lock_retry(open_fn: Callable[[], Any], what: str, wait: float = 300.0) -> Any:
    """Open a DuckDB file, waiting while another process holds its lock (DuckDB allows one writer process)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return open_fn()
        except Exception as exc:
            if not _locked(exc) or time.monotonic() > deadline:
                raise
            print(f"  {what} is locked by another process; waiting", flush=True)
            time.sleep(10)


def ensure_store(n: int, seed: int, rebuild: bool = False) -> Path:
    """The store file for N opportunities; built with the synth generator and load_synth when missing."""
    import duckdb

    path = store_path(n, seed)
    if path.exists() and not rebuild:
        try:
            con = with_lock_retry(lambda: duckdb.connect(str(path), read_only=True), path.name)
            try:
                count = con.execute("SELECT count(*) FROM opportunities").fetchone()[0]
                label = con.execute("SELECT sources FROM import_batches ORDER BY batch_id DESC LIMIT 1").fetchone()
            finally:
                con.close()
            if count == n and label and json.loads(label[0]) == [_label(n, seed)]:
                print(f"store: reusing {path.relative_to(ROOT)} ({n:,} opportunities)", flush=True)
                return path
        except Exception as exc:  # a broken or foreign file: build it again
            if _locked(exc):
                raise
            print(f"store: {path.name} unusable ({exc}); rebuilding", flush=True)
    from hitrate.store.embedded import Store
    from hitrate.synth.demo import load_synth
    from hitrate.synth.generator import generate

    DATA.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".building")
    for p in (tmp, Path(str(tmp) + ".wal")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    data = generate(seed=seed, n_opportunities=n, with_history=False, with_activities=False)
    t1 = time.perf_counter()
    store = Store(tmp)
    try:
        load_synth(store, data, label=_label(n, seed))
        del data
        store.raw.execute("CHECKPOINT")
    finally:
        store.close()
    t2 = time.perf_counter()
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)
    tmp.replace(path)
    print(
        f"store: built {path.relative_to(ROOT)} ({n:,} opportunities; generate {t1 - t0:.1f} s, "
        f"load {t2 - t1:.1f} s, {path.stat().st_size / 1024**2:.0f} MiB)",
        flush=True,
    )
    return path


# --------------------------------------------------------------------------------------------------
# the three in-process implementations
# --------------------------------------------------------------------------------------------------
def library_rates(store: Any) -> Any:
    from hitrate.analysis.rates import rates

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rates(store, by=["rep"], period="month")


def pandas_rates(df: Any) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    d = df[df["outcome"].isin(("won", "lost")) & df["closed_at"].notna()]
    won = d["outcome"].to_numpy() == "won"
    amount = d["amount"].to_numpy()
    work = pd.DataFrame(
        {
            "rep": d["rep"].to_numpy(),
            "period_start": d["closed_at"].to_numpy().astype("datetime64[M]"),
            "won": won.astype("int64"),
            "amount_won": np.where(won, amount, np.nan),
            "amount": amount,
        }
    )
    g = (
        work.groupby(["rep", "period_start"], sort=True, dropna=False)
        .agg(
            attempts=("won", "size"),
            hits=("won", "sum"),
            amount_won=("amount_won", "sum"),
            amount_known=("amount", "sum"),
        )
        .reset_index()
    )
    cols = {c: g[c].to_numpy() for c in ("rep", "attempts", "hits", "amount_won", "amount_known")}
    cols["period"] = pd.DatetimeIndex(g["period_start"]).strftime("%Y-%m").to_numpy()
    n = cols["attempts"].astype(float)
    k = cols["hits"].astype(float)
    cols["ci_low"], cols["ci_high"] = wilson(k, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["hit_rate"] = k / n
        cols["value_hit_rate"] = np.where(cols["amount_known"] > 0, cols["amount_won"] / cols["amount_known"], np.nan)
    return cols


def _frame(rows: Any) -> Any:
    import pandas as pd

    cols = ["rep", "period", "attempts", "hits", "ci_low", "ci_high", "amount_won", "value_hit_rate"]
    f = pd.DataFrame({c: list(rows[c]) for c in cols}) if isinstance(rows, dict) else pd.DataFrame(rows)[cols]
    f["rep"] = f["rep"].astype(object)
    f["period"] = f["period"].astype(object)
    return f.sort_values(["rep", "period"], kind="stable").reset_index(drop=True)


def check_same(name: str, reference: Any, other: Any) -> int:
    """Same (rep, period) groups with identical attempts and hits; amounts and intervals to 1e-9."""
    import numpy as np

    a, b = _frame(reference), _frame(other)
    if len(a) != len(b) or not (a[["rep", "period"]].equals(b[["rep", "period"]])):
        raise SystemExit(f"MISMATCH {name}: groups differ ({len(a)} vs {len(b)} rows)")
    for col in ("attempts", "hits"):
        if not np.array_equal(a[col].to_numpy(dtype="int64"), b[col].to_numpy(dtype="int64")):
            raise SystemExit(f"MISMATCH {name}: {col} differ")
    for col in ("ci_low", "ci_high", "amount_won", "value_hit_rate"):
        if not np.allclose(
            a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float), rtol=1e-9, atol=1e-12, equal_nan=True
        ):
            raise SystemExit(f"MISMATCH {name}: {col} differ")
    return len(a)


# --------------------------------------------------------------------------------------------------
# breakdown of the library call
# --------------------------------------------------------------------------------------------------
# Functions timed during rates() calls (inclusive times; indented ones run inside the one above). They
# are patched where the caller looks them up, by name, so the breakdown keeps working while the library
# changes: a name that does not exist (any more) is skipped. A step not listed shows up in "the rest".
PROBES: list[tuple[str, str, str]] = [
    (
        "hitrate.engine.definitions",
        "definitions_in_force",
        "definitions_in_force (meta lookup + YAML/pydantic parse)",
    ),
    ("hitrate.analysis.rates", "count", "counting.count (compiled-SQL lookup or build+compile, execute, fetch, tidy)"),
    ("hitrate.analysis.rates", "engine", "engine.count (build, compile, execute, fetch, tidy)"),  # older layout
    ("hitrate.store.embedded", "Store.compiled", "  Store.compiled: look up the kept compiled SQL"),
    ("hitrate.engine.expressions", "count_expr", "  engine.count_expr: build the Ibis expression"),
    ("ibis.backends.sql.compilers.duckdb", "DuckDBCompiler.to_sqlglot", "  Ibis compiler: expression -> sqlglot AST"),
    ("sqlglot.expressions", "Expression.sql", "  sqlglot: AST -> SQL text"),
    ("ibis.backends.duckdb", "Backend.to_pyarrow", "  Ibis to_pyarrow (compile + execute + fetch)"),
    ("hitrate.engine.counting", "_column", "  fetched rows -> numpy columns"),
    ("hitrate.engine.counting", "_tidy", "  counting._tidy (fill, cast)"),
    ("hitrate.analysis.rates", "finish", "rates.finish (Wilson, period labels, warnings, RatesResult)"),
]


class _Probes:
    """Wrap the PROBES functions with timers for the duration of a ``with`` block."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._undo: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> _Probes:
        import importlib

        for module, attr, label in PROBES:
            try:
                owner: Any = importlib.import_module(module)
                *path, name = attr.split(".")
                for part in path:
                    owner = getattr(owner, part)
                original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
            except (ImportError, AttributeError, KeyError):
                continue
            if not callable(original) or isinstance(original, type) or type(original).__name__ == "module":
                continue
            self.totals[label] = 0.0
            self.calls[label] = 0
            setattr(owner, name, self._wrap(original, label))
            self._undo.append((owner, name, original))
        return self

    def _wrap(self, fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        import functools

        depth = [0]

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth[0] += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:  # recursive calls count once
                    self.totals[label] += time.perf_counter() - t0
                    self.calls[label] += 1

        return timed

    def reset(self) -> None:
        for k in self.totals:
            self.totals[k], self.calls[k] = 0.0, 0

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)


def library_breakdown(store: Any, repeat: int) -> dict[str, float]:
    """Where one warm ``rates()`` call spends its time (median over ``repeat`` calls), by timing the
    library's and Ibis's own functions while it runs; plus the first call after opening the store
    (nothing cached yet) and, for scale, DuckDB alone on the SQL the library generates."""
    out: dict[str, float] = {}
    samples: dict[str, list[float]] = {}
    with _Probes() as probes:
        library_rates(store)  # warm-up
        for _ in range(repeat):
            probes.reset()
            t0 = time.perf_counter()
            library_rates(store)
            total = time.perf_counter() - t0
            samples.setdefault("rates() total, timed with the probes on", []).append(total)
            for label, v in probes.totals.items():
                if probes.calls[label]:
                    samples.setdefault(f"{label}", []).append(v)
            top = sum(v for label, v in probes.totals.items() if not label.startswith(" "))
            samples.setdefault("rates() outside the probes above (Query.build, glue)", []).append(total - top)
            inner = [
                label
                for label in probes.totals
                if label.startswith(" ")
                and probes.calls[label]
                and not label.startswith("  sqlglot")
                and not label.startswith("  Ibis compiler")
            ]
            counting = [label for label in probes.totals if label.startswith("counting.count")]
            if counting and probes.calls[counting[0]]:
                rest = probes.totals[counting[0]] - sum(probes.totals[label] for label in inner)
                samples.setdefault("  the rest of counting.count: DuckDB execute + fetchall (not probed)", []).append(
                    rest
                )
    order = ["rates() total, timed with the probes on"] + [label for *_, label in PROBES]
    rest = "  the rest of counting.count: DuckDB execute + fetchall (not probed)"
    order.insert(order.index("rates.finish (Wilson, period labels, warnings, RatesResult)"), rest)
    out.update({k: statistics.median(samples[k]) for k in order if k in samples})
    out.update({k: statistics.median(v) for k, v in samples.items() if k not in out})
    try:  # DuckDB alone on the library's SQL
        import ibis

        from hitrate.engine import expressions as engine
        from hitrate.engine.definitions import definitions_in_force
        from hitrate.engine.query import Query

        defs = definitions_in_force(store)
        query = Query.build(by=["rep"], period="month")

        def build_and_compile() -> str:
            try:
                expr, _ = engine.count_expr(store, defs, query)
            except (TypeError, AttributeError):  # older engines take the Ibis backend
                expr, _ = engine.count_expr(store.con, defs, query)
            return str(ibis.to_sql(expr, dialect="duckdb"))

        sql = build_and_compile()
        out["for scale: DuckDB alone on the library's SQL (execute + fetch Arrow)"] = median_time(
            lambda: store.raw.execute(sql).to_arrow_table(), repeat
        )[0]
        out["cost of a compiled-SQL cache miss: count_expr + ibis.to_sql (not in a warm call)"] = median_time(
            build_and_compile, repeat
        )[0]
    except Exception as exc:  # the breakdown must not stop the benchmark
        print(f"  note: could not time the library's SQL alone ({exc})", flush=True)
    return out


def first_call(path: Path, repeat: int) -> dict[str, float]:
    """The first ``rates()`` call on a freshly opened store (what one CLI run pays, imports and interpreter
    start aside), with the same probes: median over ``repeat`` fresh stores."""
    from hitrate.store.embedded import Store

    samples: dict[str, list[float]] = {}
    with _Probes() as probes:
        for _ in range(repeat):
            store = with_lock_retry(lambda: Store(path), path.name)
            try:
                probes.reset()
                t0 = time.perf_counter()
                library_rates(store)
                total = time.perf_counter() - t0
            finally:
                store.close()
            samples.setdefault("rates() total", []).append(total)
            for label, v in probes.totals.items():
                if probes.calls[label]:
                    samples.setdefault(label, []).append(v)
    return {k: statistics.median(v) for k, v in samples.items()}


def sql_breakdown(store: Any, repeat: int) -> dict[str, float]:
    import numpy as np

    steps: dict[str, list[float]] = {"execute + fetchnumpy": [], "Wilson + rates (numpy)": []}
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        cols = store.raw.execute(_sql["RATES_SQL"]).fetchnumpy()
        t1 = time.perf_counter()
        n = cols["attempts"].astype(float)
        k = cols["hits"].astype(float)
        wilson(k, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            np.where(cols["amount_known"] > 0, cols["amount_won"] / cols["amount_known"], np.nan)
        t2 = time.perf_counter()
        steps["execute + fetchnumpy"].append(t1 - t0)
        steps["Wilson + rates (numpy)"].append(t2 - t1)
    return {k: statistics.median(v[1:]) for k, v in steps.items()}


def library_profile(store: Any, path: Path, top: int = 30) -> None:
    library_rates(store)
    prof = cProfile.Profile()
    prof.enable()
    library_rates(store)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    path.write_text(out.getvalue())


def import_times(repeat: int) -> dict[str, float]:
    """Median wall time of a bare process doing only these imports."""
    programs = {
        "python -c pass": "pass",
        "import duckdb, numpy (what the SQL process imports)": "import duckdb, numpy",
        "import pandas": "import pandas",
        "import pyarrow": "import pyarrow",
        "import ibis + ibis.backends.duckdb (all SQL compilers, sqlglot)": "import ibis, ibis.backends.duckdb",
        "import hitrate.cli": "import hitrate.cli",
    }
    out = {}
    for name, code in programs.items():
        cmd = [sys.executable, "-c", code]
        subprocess.run(cmd, check=True, cwd=ROOT)
        ts = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, cwd=ROOT)
            ts.append(time.perf_counter() - t0)
        out[name] = statistics.median(ts)
    return out


CLI_ANATOMY = r"""
import sys, time
print("--- program start ---", file=sys.stderr, flush=True)
t0 = time.perf_counter()
import json
from hitrate.cli import main
t1 = time.perf_counter()
out, sys.stdout = sys.stdout, open("/dev/null", "w")
sys.argv = ["hitrate", "rates", "--by", "rep", "--period", "month", "--format", "json", "--db", sys.argv[1]]
try:
    main()
except SystemExit:
    pass
t2 = time.perf_counter()
heavy = ["ibis", "sqlglot", "pandas", "pyarrow", "scipy", "pydantic", "yaml", "rich", "typer", "duckdb", "numpy"]
sys.stdout = out
print(json.dumps({"import_cli": t1 - t0, "run": t2 - t1, "loaded": [m for m in heavy if m in sys.modules]}))
"""


def cli_anatomy(path: Path, repeat: int) -> dict[str, Any]:
    """Where a whole ``hitrate rates`` process spends its time: interpreter start and exit, imports, work.

    Runs the CLI's ``main()`` inside ``python -X importtime`` (which adds a little overhead of its own), so
    the import time is the sum over the top-level imports, wherever they happen."""
    runs = []
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        p = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", CLI_ANATOMY, str(path)], capture_output=True, text=True, cwd=ROOT
        )
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise SystemExit(f"CLI anatomy run failed: {p.stderr.strip()[-2000:]}")
        inner = last_json(p.stdout, "CLI anatomy")
        imports: dict[str, float] = {}
        stderr = p.stderr.split("--- program start ---", 1)[-1]  # imports before it belong to start-up
        for line in stderr.splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            _, cumulative, name = line.split("|", 2)
            if cumulative.strip().isdigit() and not name.startswith("  "):  # top-level imports only
                imports[name.strip()] = imports.get(name.strip(), 0.0) + int(cumulative) / 1e6
        if i:  # the first run warms the OS file cache
            runs.append({"wall": wall, **inner, "imports": imports})
    total_imports = [sum(r["imports"].values()) for r in runs]
    top: dict[str, list[float]] = {}
    for r in runs:
        for name, v in r["imports"].items():
            top.setdefault(name, []).append(v)
    biggest = sorted(((statistics.median(v), k) for k, v in top.items()), reverse=True)[:8]
    return {
        "wall (under -X importtime)": statistics.median(r["wall"] for r in runs),
        "interpreter start + exit (wall minus the program)": statistics.median(
            r["wall"] - r["import_cli"] - r["run"] for r in runs
        ),
        "all imports (sum of top-level import times)": statistics.median(total_imports),
        "work: main() minus the imports inside it": statistics.median(
            r["import_cli"] + r["run"] - t for r, t in zip(runs, total_imports, strict=True)
        ),
        "biggest imports": {k: v for v, k in biggest},
        "heavy modules loaded": runs[-1]["loaded"],
    }


# --------------------------------------------------------------------------------------------------
# one N
# --------------------------------------------------------------------------------------------------
def hitrate_cli() -> str:
    local = Path(sys.executable).parent / "hitrate"
    if local.exists():
        return str(local)
    found = shutil.which("hitrate")
    if not found:
        raise SystemExit("the `hitrate` command is not installed in this environment")
    return found


def bench_one(
    n: int, seed: int, repeat: int, rebuild: bool, breakdown: bool, profile: bool, quiet_wait: float = 0.0
) -> dict[str, Any]:
    import duckdb  # noqa: F401

    from hitrate.store.embedded import Store

    path = ensure_store(n, seed, rebuild)
    res: dict[str, Any] = {
        "n": n,
        "seed": seed,
        "store": str(path.relative_to(ROOT)),
        "store_mib": round(path.stat().st_size / 1024**2, 1),
    }
    res["load_before"] = round(wait_quiet(quiet_wait), 2)
    if res["load_before"] >= 1.0:
        print(
            f"  note: load average {res['load_before']:.2f} on {os.cpu_count()} cores: other work is running "
            "and will skew the timings",
            flush=True,
        )

    # ---- in-process: library vs SQL (same connection), then pandas ----------------------------------
    store = with_lock_retry(lambda: Store(path), path.name)
    try:
        lib = library_rates(store)
        ref = sql_rates(store.raw)
        groups = check_same("library vs SQL", ref, lib.rows)
        res["groups"] = groups
        res["closed"] = int(sum(ref["attempts"]))
        print(f"  check: library == SQL on {groups:,} (rep, month) groups, {res['closed']:,} closed rows", flush=True)

        times = alternate({"library": lambda: library_rates(store), "sql": lambda: sql_rates(store.raw)}, repeat)
        res["library_s"], res["sql_s"] = statistics.median(times["library"]), statistics.median(times["sql"])
        res["library_runs"], res["sql_runs"] = times["library"], times["sql"]
        print(f"  in-process: library {fmt_s(res['library_s'])}, SQL {fmt_s(res['sql_s'])}", flush=True)

        if breakdown:
            res["library_breakdown"] = library_breakdown(store, repeat)
            res["sql_breakdown"] = sql_breakdown(store, repeat)
        if profile:
            prof_path = DATA / f"profile-rates-n{n}.txt"
            library_profile(store, prof_path)
            res["profile"] = str(prof_path.relative_to(ROOT))

        t0 = time.perf_counter()
        df = store.raw.execute("SELECT rep, closed_at, outcome, amount FROM opportunities").df()
        res["pandas_read_s"] = time.perf_counter() - t0
        check_same("pandas vs SQL", ref, pandas_rates(df))
        res["pandas_s"], res["pandas_runs"] = median_time(lambda: pandas_rates(df), repeat)  # noqa: B023
        df = None  # free the frame before the process runs
        print(f"  in-process: pandas {fmt_s(res['pandas_s'])} (read once: {fmt_s(res['pandas_read_s'])})", flush=True)
    finally:
        store.close()  # the subprocesses below open the file themselves (DuckDB locks it per process)
    if breakdown:
        res["library_first_call"] = first_call(path, repeat)
        res["library_first_call_s"] = res["library_first_call"]["rates() total"]
        print(
            f"  in-process: library, first call on a freshly opened store {fmt_s(res['library_first_call_s'])}",
            flush=True,
        )

    # ---- whole process -------------------------------------------------------------------------------
    cli = [hitrate_cli(), "rates", "--by", "rep", "--period", "month", "--format", "json", "--db", str(path)]
    sqlp = [sys.executable, "-c", SQL_PROGRAM, str(path)]
    outputs: dict[str, str] = {}
    noisy: dict[str, int] = {"cli": 0, "sqlp": 0}  # runs whose stdout held more than the JSON line

    def run(name: str, cmd: list[str]) -> Callable[[], None]:
        def go() -> None:
            p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            if p.returncode != 0:
                raise SystemExit(f"{name} failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
            outputs[name] = p.stdout
            noisy[name] += sum(1 for ln in p.stdout.splitlines() if ln.strip()) > 1

        return go

    ptimes = alternate({"cli": run("cli", cli), "sqlp": run("sqlp", sqlp)}, repeat)
    check_same(
        "CLI process vs SQL process",
        last_json(outputs["sqlp"], "SQL process")["rows"],
        last_json(outputs["cli"], "CLI")["rows"],
    )
    res["cli_process_s"], res["sql_process_s"] = statistics.median(ptimes["cli"]), statistics.median(ptimes["sqlp"])
    res["cli_process_runs"], res["sql_process_runs"] = ptimes["cli"], ptimes["sqlp"]
    res["runs_with_extra_stdout"] = {"cli": noisy["cli"], "sql_process": noisy["sqlp"]}
    if breakdown:
        res["cli_anatomy"] = cli_anatomy(path, repeat)
    if noisy["cli"]:
        print(
            f"  note: {noisy['cli']} of {repeat + 1} CLI runs printed more than the JSON on stdout "
            "(DuckDB's progress bar: stdout was not valid JSON)",
            flush=True,
        )
    print(f"  process: CLI {fmt_s(res['cli_process_s'])}, SQL {fmt_s(res['sql_process_s'])}", flush=True)

    res["load_after"] = round(os.getloadavg()[0], 2)
    res["ratio_library_sql"] = res["library_s"] / res["sql_s"]
    res["ratio_pandas_sql"] = res["pandas_s"] / res["sql_s"]
    res["ratio_process"] = res["cli_process_s"] / res["sql_process_s"]
    return res


# --------------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------------
def print_table(meta: dict[str, Any], results: list[dict[str, Any]]) -> None:
    print()
    print(
        f"hitrate rates benchmark, {meta['date']}: python {meta['python']}, duckdb {meta['duckdb']}, "
        f"ibis {meta['ibis']} (sqlglot {meta['sqlglot']}), pandas {meta['pandas']}, numpy {meta['numpy']}"
    )
    print(
        f"machine: {meta['nproc']} cores (nproc), {meta['mem_gib']} GiB, {meta['cpu']}; "
        f"median of {meta['repeat']} warm runs"
    )
    print(
        f"library: commit {meta['commit']}"
        + (" + uncommitted changes in hitrate/" if meta["hitrate_uncommitted_changes"] else "")
        + f", sources sha256 {meta['hitrate_sources_sha256']}"
    )
    print(
        "load average (1 min) before/after each N: "
        + ", ".join(f"{r['n']:,}: {r['load_before']:.2f}/{r['load_after']:.2f}" for r in results)
    )
    head = [
        "N",
        "groups",
        "library s",
        "SQL s",
        "lib/SQL",
        "pandas s",
        "pandas/SQL",
        "CLI proc s",
        "SQL proc s",
        "CLI/SQL",
    ]
    rows = []
    for r in results:
        rows.append(
            [
                f"{r['n']:,}",
                f"{r['groups']:,}",
                fmt_s(r["library_s"]),
                fmt_s(r["sql_s"]),
                f"{r['ratio_library_sql']:.2f}" + (" ok" if r["ratio_library_sql"] <= TARGET_INPROC else " MISS"),
                fmt_s(r["pandas_s"]),
                f"{r['ratio_pandas_sql']:.2f}",
                fmt_s(r["cli_process_s"]),
                fmt_s(r["sql_process_s"]),
                f"{r['ratio_process']:.2f}" + (" ok" if r["ratio_process"] <= TARGET_PROCESS else " MISS"),
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    print("  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    print(f"targets: library/SQL <= {TARGET_INPROC}, CLI process/SQL process <= {TARGET_PROCESS}")
    for r in results:
        if "library_breakdown" in r:
            print(
                f"\nbreakdown of rates() at N={r['n']:,} (median of {meta['repeat']}; library total "
                f"{fmt_s(r['library_s'])}, SQL total {fmt_s(r['sql_s'])}):"
            )
            for name, v in r["library_breakdown"].items():
                print(f"  {fmt_s(v):>10}  {name}")
            for name, v in r["sql_breakdown"].items():
                print(f"  {fmt_s(v):>10}  SQL baseline: {name}")
            if "library_first_call" in r:
                print("  first rates() call after Store(path) (a fresh Store object, as in one CLI run):")
                for name, v in r["library_first_call"].items():
                    print(f"  {fmt_s(v):>10}  {name}")
    for r in results:
        if "cli_anatomy" in r:
            a = r["cli_anatomy"]
            print(f"\nanatomy of one `hitrate rates` process at N={r['n']:,} (median of {meta['repeat']}):")
            for name, v in a.items():
                if isinstance(v, float):
                    print(f"  {fmt_s(v):>10}  {name}")
            print("  biggest imports: " + ", ".join(f"{k} {fmt_s(v)}" for k, v in a["biggest imports"].items()))
            print("  heavy modules loaded: " + ", ".join(a["heavy modules loaded"]))
    if meta.get("import_times"):
        print("\nprocess start-up (median wall time of a process doing only these imports):")
        for name, v in meta["import_times"].items():
            print(f"  {fmt_s(v):>10}  {name}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, action="append", help="opportunities (repeatable); default 1,000,000")
    ap.add_argument("--repeat", type=int, default=None, help="timed runs per measurement (default 5; 2 with --quick)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="smoke run: N=20,000, 2 repeats, own results file")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached store files")
    ap.add_argument("--no-breakdown", action="store_true", help="skip the step-by-step breakdown and import times")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="also write a cProfile of one library call per N to benchmarks/data/profile-rates-N.txt",
    )
    ap.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each N, wait up to this long for the 1-minute load average to drop below 1",
    )
    ap.add_argument("--out", type=Path, default=None, help="results JSON (default benchmarks/data/results-rates.json)")
    args = ap.parse_args(argv)

    ns = args.n or ([20_000] if args.quick else [1_000_000])
    repeat = args.repeat or (2 if args.quick else 5)
    out = args.out or DATA / ("results-rates-quick.json" if args.quick else "results-rates.json")
    meta = machine() | source_state() | {"repeat": repeat, "argv": sys.argv[1:]}
    results = []
    out.parent.mkdir(parents=True, exist_ok=True)
    for n in ns:
        print(f"N = {n:,}", flush=True)
        results.append(
            bench_one(n, args.seed, repeat, args.rebuild, not args.no_breakdown, args.profile, args.wait_quiet)
        )
        out.write_text(json.dumps({"meta": meta, "results": results}, indent=2))  # keep what is done so far
    if not args.no_breakdown:
        wait_quiet(args.wait_quiet)
        meta["import_times"] = import_times(repeat)
        meta["load_after_imports"] = round(os.getloadavg()[0], 2)
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print_table(meta, results)
    print(f"\nresults written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
