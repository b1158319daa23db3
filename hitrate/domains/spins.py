"""Spin logs: observed hit frequency, return to player and volatility, aggregated in the engine.

One row per spin: ``win`` (credits paid) and ``wager`` (credits staked; no such column means 1 credit per
spin). Every cell is read as text and checked in DuckDB (through Ibis) before anything is counted: a win or
wager that is not a number, or is below zero, refuses the file naming the first such line and how many there
are. Identical rows are distinct spins (a spin log has no ids).

- hit frequency = spins with win > 0 / spins, with a Wilson score interval; free spins (wager 0) are spins.
- payback = Σ win / Σ wager: free spins' wins count in the pays (they are part of what the machine returns)
  and add nothing to the wagers.
- payback interval: the ratio estimator's normal (delta-method) interval,
  R ± z·√(Σ(winᵢ − R·wagerᵢ)² / (n(n − 1))) / mean(wager), which with a constant wager is
  payback ± z·sd(win/wager)/√n. Withheld, with the reason, below :data:`MIN_SPINS_FOR_PAYBACK` spins: pays
  are so skewed that the normal approximation means nothing on a handful of spins.
- volatility = the standard deviation of win/wager over the paid spins.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hitrate.domains.slot_stats import SlotStats, existing, no_such_column, z_value
from hitrate.errors import InputFileError
from hitrate.i18n import Phrase

#: Fewer spins than this get no payback interval (the reason is in ``extra["payback_ci_withheld"]``).
MIN_SPINS_FOR_PAYBACK = 100


def _numbers(t: Any, column: str | None) -> tuple[Any, Any]:
    """(a text column as float64, its problem ``not_a_number``/``negative``/NULL) (Ibis); None = 1 per spin."""
    import ibis

    if column is None:
        return ibis.literal(1.0), ibis.null("string")
    text = t[column].cast("string").strip()
    value = text.try_cast("float64")
    problem = ibis.cases((value.isnull(), "not_a_number"), (value < 0, "negative"), else_=ibis.null("string"))
    return value, problem


def _check(where: str, t: Any, columns: dict[str, tuple[Any, Any]]) -> None:
    """Refuse the file at the first line whose win or wager is not a number, or is negative."""
    for name, (_, problem) in columns.items():
        bad = t.filter(problem.notnull())
        found = bad.aggregate(n=bad.count(), line=bad._line.min()).to_pyarrow().to_pylist()[0]
        if found["n"]:
            line = int(found["line"])
            row = t.filter(t._line == line).select(v=t[name].cast("string"), p=problem).to_pyarrow().to_pylist()[0]
            key = "slots.spin_not_a_number" if row["p"] == "not_a_number" else "slots.negative"
            raise InputFileError(where, key, row=line, column=name, value=row["v"], count=int(found["n"]))


def slots_spins(
    file: str | Path,
    *,
    win: str = "win",
    wager: str | None = "wager",
    by: list[str] | None = None,
    confidence: float = 0.95,
) -> SlotStats:
    """Observed hit frequency, return to player and volatility of a spin log (CSV or Parquet), overall and
    ``by`` columns (``extra["groups"]``, one row per group): ``hitrate slots spins``. Methods: this module's
    docstring."""
    import ibis

    where = existing(file)
    con = ibis.duckdb.connect()
    try:
        parquet = where.lower().endswith(".parquet")
        t = con.read_parquet(where) if parquet else con.read_csv(where, all_varchar=True)
    except Exception as exc:  # noqa: BLE001 - DuckDB's reader errors have no common base
        raise InputFileError(where, "slots.unreadable_csv", error=str(exc).splitlines()[0]) from None
    cols = {c.lower(): c for c in t.columns}
    if win.lower() not in cols:
        raise no_such_column(where, "win", win, list(t.columns))
    if wager is not None and wager.lower() not in cols and wager != "wager":
        raise no_such_column(where, "wager", wager, list(t.columns))
    groups = [cols.get(g.lower()) or _missing(where, g, list(t.columns)) for g in by or []]
    t = t.mutate(_line=ibis.row_number() + 2)
    wager_col = cols.get(wager.lower()) if wager is not None else None
    numbers = {cols[win.lower()]: _numbers(t, cols[win.lower()])}
    if wager_col is not None:
        numbers[wager_col] = _numbers(t, wager_col)
    _check(where, t, numbers)
    w = numbers[cols[win.lower()]][0]
    s = numbers[wager_col][0] if wager_col is not None else ibis.literal(1.0)
    t = t.mutate(_w=w, _s=s)
    paid = t._s > 0
    ratio = ibis.ifelse(paid, t._w / t._s, None)
    metrics = {
        "spins": t.count(),
        "free_spins": t.count(where=t._s == 0),
        "hits": t.count(where=t._w > 0),
        "won": t._w.sum(),
        "staked": t._s.sum(),
        "w2": (t._w * t._w).sum(),
        "s2": (t._s * t._s).sum(),
        "ws": (t._w * t._s).sum(),
        "sd_ratio": ratio.std(how="pop"),
    }
    total = t.aggregate(**metrics).to_pyarrow().to_pylist()[0]
    rows = t.group_by(groups).aggregate(**metrics).order_by(groups).to_pyarrow().to_pylist() if groups else []
    con.disconnect()
    if not total["spins"]:
        raise InputFileError(where, "slots.no_spins")
    if not total["staked"]:
        raise InputFileError(where, "slots.no_wagers")
    overall = _measures(total, confidence)
    stats = SlotStats(
        where,
        Phrase("slots.method_spin_log"),
        float(total["staked"]) / int(total["spins"]),
        int(total["spins"]),
        int(total["hits"]),
        overall["hit_frequency"],
        overall["payback"],
        overall["volatility"],
    )
    stats.extra = {k: overall[k] for k in ("free_spins", "hit_frequency_ci", "payback_ci")}
    stats.extra["interval_methods"] = Phrase("slots.interval_methods")
    if overall["payback_ci"] is None:
        reason = Phrase("slots.payback_ci_withheld", spins=int(total["spins"]), minimum=MIN_SPINS_FOR_PAYBACK)
        stats.extra["payback_ci_withheld"] = reason
        stats.warnings.append(reason)
    if groups:
        stats.extra["groups"] = [{g: r[g] for g in groups} | _measures(r, confidence) for r in rows]
    return stats


def _missing(where: str, given: str, columns: list[str]) -> str:
    raise no_such_column(where, "by", given, columns)


def _measures(r: dict[str, Any], confidence: float) -> dict[str, Any]:
    """Spins, hits, hit frequency (Wilson), payback (ratio estimator, delta-method interval) and volatility of
    one aggregated row (:func:`slots_spins`)."""
    from hitrate.stats.intervals import wilson_interval

    n, hits, won, staked = int(r["spins"]), int(r["hits"]), float(r["won"]), float(r["staked"] or 0.0)
    low, high = wilson_interval(hits, n, confidence)
    payback = won / staked if staked else None
    interval = None
    if payback is not None and n >= MIN_SPINS_FOR_PAYBACK:
        residual = max(float(r["w2"]) - 2 * payback * float(r["ws"]) + payback**2 * float(r["s2"]), 0.0)
        half = z_value(confidence) * math.sqrt(residual / (n * (n - 1))) / (staked / n)
        interval = [payback - half, payback + half]
    return {
        "spins": n,
        "free_spins": int(r["free_spins"]),
        "hits": hits,
        "hit_frequency": hits / n,
        "hit_frequency_ci": [float(low), float(high)],
        "payback": payback,
        "payback_ci": interval,
        "volatility": float(r["sd_ratio"] or 0.0),
    }


#: The name :func:`slots_spins` had first.
spin_log_stats = slots_spins
