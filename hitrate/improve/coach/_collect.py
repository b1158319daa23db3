"""The rep card's numbers: the rep's and the peers' hit rate, trend, activity mix and segments, counted in the
engine (the same queries as ``rates`` and ``benchmark``, and one grouped query over the activities); the
statistics run on the small aggregated tables."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from hitrate.spec.model import Definitions

SMALL = 20  # attempts below which a segment supports no statement on its own
BEST_SHARE = 0.25  # the team's best: this top share of the peers by shrunk hit rate (at least one rep)
TREND_WINDOW = 4  # periods pooled for "recent" and for "before"


def teams(source: Any, defs: Definitions, peers_by: str | None) -> dict[str, str | None]:
    """Rep -> the value of ``peers_by`` under which they have most decided deals (None without the field)."""
    from hitrate.engine.counting import count
    from hitrate.engine.query import Query

    by = ["rep", peers_by] if peers_by else ["rep"]
    c = count(source, defs, Query.build(by=by)).columns
    out: dict[str, str | None] = {}
    most: dict[str, int] = {}
    for i, name in enumerate(c["rep"].tolist()):
        if name is None:
            continue
        n = int(c["attempts"][i])
        if n > most.get(str(name), -1):
            most[str(name)] = n
            value = c[peers_by][i] if peers_by else None
            out[str(name)] = None if value is None else str(value)
    return out


def rate(k: float, n: float, confidence: float) -> dict[str, Any]:
    """``attempts``, ``hits``, ``hit_rate`` and its Wilson interval (None without attempts)."""
    from hitrate.stats.intervals import wilson_interval

    low, high = wilson_interval(k, n, confidence)
    return {
        "attempts": int(n),
        "hits": int(k),
        "hit_rate": k / n if n else None,
        "ci_low": float(low) if n else None,
        "ci_high": float(high) if n else None,
    }


def difference(k1: float, n1: float, k2: float, n2: float, confidence: float) -> dict[str, Any]:
    """The first rate minus the second with the Newcombe hybrid score interval (None without attempts)."""
    from hitrate.stats.compare import _newcombe

    if not n1 or not n2:
        return {"difference": None, "difference_low": None, "difference_high": None}
    low, high = _newcombe(np.array([k1]), np.array([n1]), np.array([k2]), np.array([n2]), confidence)
    return {"difference": k1 / n1 - k2 / n2, "difference_low": float(low[0]), "difference_high": float(high[0])}


def conversion(k: float, n: float, confidence: float) -> dict[str, Any]:
    """A stage's ``reached``, ``advanced``, ``conversion`` and its Wilson interval."""
    r = rate(k, n, confidence)
    return {
        "reached": r["attempts"],
        "advanced": r["hits"],
        "conversion": r["hit_rate"],
        "conversion_low": r["ci_low"],
        "conversion_high": r["ci_high"],
    }


def hit_rate(
    source: Any,
    defs: Definitions,
    rep: str,
    peers: list[str],
    team_where: dict[str, list[str]],
    adjust: list[str],
    confidence: float,
) -> tuple[dict[str, Any], dict[str, float]]:
    """The rep's benchmark row among their team, the peers' pooled rate and the difference."""
    from hitrate.analysis.benchmark import benchmark

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        where = team_where or {"rep": [rep, *peers]}
        bench = benchmark(source, by="rep", adjust=adjust, where=where, definitions=defs, confidence=confidence)
    rows = {str(r["rep"]): r for r in bench.records()}
    own = rows[rep]
    k_p = sum(rows[p]["hits"] for p in peers if p in rows)
    n_p = sum(rows[p]["attempts"] for p in peers if p in rows)
    out: dict[str, Any] = rate(own["hits"], own["attempts"], confidence)
    for key in ("shrunk_rate", "shrunk_low", "shrunk_high", "flag", "quality_index", "quality_low", "quality_high"):
        out[key] = own.get(key)
    out["expected_hits"] = own.get("expected_hits")
    out["adjusted_rate"] = own.get("adjusted_rate")
    out["adjust"] = adjust
    out["team_rate"] = bench.query["overall_rate"]
    out["peers"] = rate(k_p, n_p, confidence)
    out.update(difference(own["hits"], own["attempts"], k_p, n_p, confidence))
    out["rank"] = 1 + sum(1 for r in rows.values() if (r["shrunk_rate"] or 0) > (own["shrunk_rate"] or 0))
    out["of"] = len(rows)
    shrunk = {name: float(r["shrunk_rate"]) for name, r in rows.items() if r["shrunk_rate"] is not None}
    return out, shrunk


def trend(
    source: Any, defs: Definitions, rep: str, peers: list[str], period: str, confidence: float
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Per period: the rep's and the peers' rate (one ``rates --by rep --period`` query), and the last
    :data:`TREND_WINDOW` periods against the ones before."""
    from hitrate.analysis.rates import rates

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = rates(source, by=["rep"], period=period, where={"rep": [rep, *peers]}, definitions=defs)
    c = result.columns
    labels = [str(x) for x in c["period"].tolist()]
    is_rep = np.array([r == rep for r in c["rep"].tolist()])
    order = sorted(set(labels))
    index = np.array([order.index(x) for x in labels], dtype=np.int64)
    size = len(order)
    k_r = np.bincount(index[is_rep], weights=c["hits"][is_rep], minlength=size)
    n_r = np.bincount(index[is_rep], weights=c["attempts"][is_rep], minlength=size)
    k_p = np.bincount(index[~is_rep], weights=c["hits"][~is_rep], minlength=size)
    n_p = np.bincount(index[~is_rep], weights=c["attempts"][~is_rep], minlength=size)
    rows = []
    for i, label in enumerate(order):
        row: dict[str, Any] = {"period": label, **rate(k_r[i], n_r[i], confidence)}
        row["peers"] = rate(k_p[i], n_p[i], confidence)
        rows.append(row)
    change = None
    if size >= 2 * TREND_WINDOW:
        recent, before = slice(size - TREND_WINDOW, size), slice(size - 2 * TREND_WINDOW, size - TREND_WINDOW)
        kr, nr, kb, nb = k_r[recent].sum(), n_r[recent].sum(), k_r[before].sum(), n_r[before].sum()
        change = {
            "recent": [order[size - TREND_WINDOW], order[-1]],
            "before": [order[size - 2 * TREND_WINDOW], order[size - TREND_WINDOW - 1]],
            "recent_rate": rate(kr, nr, confidence),
            "before_rate": rate(kb, nb, confidence),
            **difference(kr, nr, kb, nb, confidence),
        }
    return rows, change


def activities(
    source: Any, defs: Definitions, rep: str, peers: list[str], best: list[str], confidence: float
) -> list[dict[str, Any]]:
    """Activities per decided opportunity by type: the rep, the peers and the team's best (one grouped query)."""
    from hitrate.engine.counting import fetch
    from hitrate.engine.expressions import classified
    from hitrate.engine.query import Query
    from hitrate.stats.adjust import garwood_interval

    act = source.table("activities")
    if not {"opportunity_id", "type"} <= set(act.columns):
        return []
    opps = classified(source, defs, Query.build(where={"rep": [rep, *peers]}), {"id", "rep"})
    if defs.basis == "closed":
        opps = opps.filter(opps._won | opps._lost)
    o = opps.select("id", "rep")
    n_opps = fetch(source, o.group_by("rep").aggregate(n=o.count()))
    per = act.group_by(_oid=act.opportunity_id, _type=act.type).aggregate(_n=act.count())
    j = o.inner_join(per, o.id == per._oid)
    counts = fetch(source, j.group_by(["rep", "_type"]).aggregate(n=j._n.sum()))
    opps_of = {str(r): int(n) for r, n in zip(n_opps["rep"].tolist(), n_opps["n"].tolist(), strict=True)}
    types = sorted({str(t) for t in counts["_type"].tolist() if t is not None})
    groups = {"rep": [rep], "peers": peers, "best": best}
    rows = []
    for kind in types:
        row: dict[str, Any] = {"type": kind}
        for label, members in groups.items():
            pairs = zip(counts["rep"].tolist(), counts["_type"].tolist(), strict=True)
            mask = np.array([str(r) in members and t == kind for r, t in pairs], dtype=bool)
            total = float(np.asarray(counts["n"], dtype=float)[mask].sum()) if len(mask) else 0.0
            n = sum(opps_of.get(m, 0) for m in members)
            low, high = garwood_interval(total, confidence)
            row[label] = {
                "activities": int(total),
                "opportunities": n,
                "per_opportunity": total / n if n else None,
                "low": float(low) / n if n else None,
                "high": float(high) / n if n else None,
            }
        rows.append(row)
    return rows


def segments(
    source: Any, defs: Definitions, rep: str, peers: list[str], by: str, confidence: float
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, Any] | None]:
    """The rep's and the peers' rate per value of ``by`` (one ``rates --by rep,FIELD`` query), and the strongest
    and weakest value (largest and smallest difference among values with at least :data:`SMALL` attempts)."""
    from hitrate.analysis.rates import rates

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = rates(source, by=["rep", by], where={"rep": [rep, *peers]}, definitions=defs)
    c = result.columns
    values = sorted({v for v in c[by].tolist() if v is not None}, key=str)
    rows = []
    for value in values:
        at = np.array([v == value for v in c[by].tolist()])
        own = at & np.array([r == rep for r in c["rep"].tolist()])
        k, n = float(c["hits"][own].sum()), float(c["attempts"][own].sum())
        pk, pn = float(c["hits"][at & ~own].sum()), float(c["attempts"][at & ~own].sum())
        row = {by: value, **rate(k, n, confidence), "peers": rate(pk, pn, confidence)}
        row.update(difference(k, n, pk, pn, confidence))
        rows.append(row)
    ranked = [r for r in rows if r["attempts"] >= SMALL and r["difference"] is not None]
    ranked.sort(key=lambda r: float(r["difference"]))
    weakest = ranked[0] if ranked else None
    strongest = ranked[-1] if len(ranked) >= 2 else None
    return rows, strongest, weakest if len(ranked) >= 2 else None
