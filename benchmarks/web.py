"""Load benchmark: N concurrent dashboard users against ``hitrate serve`` over a 1M-opportunity store.

Run from the repository root::

    .venv/bin/python benchmarks/web.py --users 50 --seconds 60            # BENCHMARKS.md
    .venv/bin/python benchmarks/web.py --n 20000 --users 10 --seconds 10  # smoke run

The store is the one ``benchmarks/rates.py`` builds (``benchmarks/data/rates-seed7-nN.duckdb``), copied to
``benchmarks/data/web-nN.duckdb`` so the accounts added here never touch it. Users: a fifth admins, two fifths
managers (one team each, in turn), two fifths reps (one rep each). ``hitrate serve`` runs in a subprocess; each
simulated user (asyncio + httpx, one connection each) calls one dashboard endpoint every ``--interval`` seconds,
in turn: rates by team per month, benchmark by rep, rates by rep, leads, definitions.

Two phases: a warm-up in which every user makes one round of calls (cold: each distinct query and scope is
computed once, then kept in the server's cache per data version), then the measured run. Both are reported:
p50/p95/max latency and errors. Results go to ``benchmarks/data/results-web.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ENDPOINTS = [
    "/api/rates?by=team&period=month",
    "/api/benchmark?by=rep",
    "/api/rates?by=rep",
    "/api/leads",
    "/api/definitions",
]


def prepare_store(n: int, seed: int) -> Path:
    """A copy of the benchmark store with the current layout (the server upgrades it on start)."""
    from benchmarks.rates import ensure_store

    source = ensure_store(n, seed)
    path = DATA / f"web-n{n}.duckdb"
    if not path.exists():
        shutil.copy(source, path)
    return path


def add_accounts(path: Path, users: int) -> list[tuple[str, str]]:
    """``users`` accounts (role, token): admins, managers of one team each, reps; tokens made afresh."""
    from hitrate.store.embedded import Store
    from hitrate.store.users import add_user, new_token

    out = []
    with Store(path) as store:
        store.raw.execute("DELETE FROM api_tokens")
        reps = store.fetch("SELECT rep, team FROM reps ORDER BY rep")
        teams = sorted({t for _, t in reps})
        for i in range(users):
            kind = ("admin", "manager", "manager", "rep", "rep")[i % 5]
            name = f"load{i}"
            if kind == "admin":
                add_user(store, name, "admin")
            elif kind == "manager":
                add_user(store, name, "manager", teams=[teams[i % len(teams)]])
            else:
                add_user(store, name, "rep", rep=reps[i % len(reps)][0])
            out.append((kind, new_token(store, name)))
    return out


async def user_loop(
    base: str, token: str, offset: int, until: float, interval: float, rounds: int | None, log: list[Any]
) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        await asyncio.sleep(interval * (offset % 50) / 50)  # users start spread over one interval
        i = offset
        done = 0
        while time.monotonic() < until and (rounds is None or done < rounds):
            url = ENDPOINTS[i % len(ENDPOINTS)]
            started = time.monotonic()
            try:
                r = await client.get(url)
                ok = r.status_code == 200
                status = r.status_code
            except Exception as exc:  # a timeout or refused connection is an error, recorded
                ok, status = False, type(exc).__name__
            elapsed = time.monotonic() - started
            log.append((url, elapsed, ok, status))
            i += 1
            done += 1
            if rounds is None:
                await asyncio.sleep(max(0.0, interval - elapsed))


async def drive(base: str, tokens: list[tuple[str, str]], seconds: float, interval: float, rounds: int | None):
    log: list[Any] = []
    until = time.monotonic() + seconds
    await asyncio.gather(*(user_loop(base, tok, i, until, interval, rounds, log) for i, (_, tok) in enumerate(tokens)))
    return log


def summary(log: list[Any]) -> dict[str, Any]:
    times = sorted(t for _, t, _, _ in log)
    if not times:
        return {"requests": 0}
    q = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else [times[0]] * 99
    errors = [(u, s) for u, _, ok, s in log if not ok]
    return {
        "requests": len(times),
        "p50_ms": round(q[49] * 1000, 1),
        "p95_ms": round(q[94] * 1000, 1),
        "max_ms": round(times[-1] * 1000, 1),
        "errors": len(errors),
        "error_examples": errors[:5],
    }


def serve(path: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HITRATE_SECRET": "bench"}
    cmd = [sys.executable, "-m", "hitrate.cli", "serve", "--db", str(path), "--port", str(port)]
    return subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)


def wait_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(base + "/login", timeout=2)
            return
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("hitrate serve did not start; see benchmarks/data/web-server.log") from None
            time.sleep(0.3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="opportunities in the store")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the measured run")
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between one user's calls")
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args()

    from tests.web_helpers import free_port

    DATA.mkdir(parents=True, exist_ok=True)
    path = prepare_store(args.n, args.seed)
    tokens = add_accounts(path, args.users)
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(path, port, DATA / "web-server.log")
    try:
        wait_up(base, proc)
        t0 = time.monotonic()
        cold = asyncio.run(drive(base, tokens, 600, args.interval, len(ENDPOINTS)))
        warm_s = time.monotonic() - t0
        warm = asyncio.run(drive(base, tokens, args.seconds, args.interval, None))
    finally:
        proc.terminate()
        proc.wait(30)
    result = {
        "n": args.n,
        "users": args.users,
        "interval_s": args.interval,
        "seconds": args.seconds,
        "load_1min": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "warm_up": {**summary(cold), "wall_s": round(warm_s, 1)},
        "measured": summary(warm),
        "per_endpoint_p95_ms": {url: summary([e for e in warm if e[0] == url]).get("p95_ms") for url in ENDPOINTS},
    }
    out = DATA / "results-web.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
