"""The rep card: where one rep stands against their peers, and where their deals are lost.

:func:`rep_card` puts together, for one rep and their *peers* (the other reps of the rep's team, or every other
rep when there is no ``team`` field):

* **hit rate** against the peers and the team: the rep's row of ``benchmark --by rep --where team=T`` (Wilson
  interval, shrunk rate, funnel flag, and with ``adjust`` the quality index by indirect standardisation), the
  peers' pooled rate and the difference with a Newcombe interval;
* **trend**: the rep's and the peers' rate per period (``rates --period``), and the last four periods against
  the four before;
* **stages**: conversion from each open stage to the next (to won, from the last open stage) for the rep and
  the peers, from :func:`hitrate.stage_funnel.stage_funnel`, and the **weak stage** (see :func:`stage_gaps`);
* **activity mix**: calls, e-mails and meetings per decided opportunity, for the rep, the peers and the team's
  best (the top quarter of the peers by shrunk hit rate, at least one rep), with exact Poisson intervals;
* **segments and lead sources**: the rep's rate and the peers' in each value, the difference with a Newcombe
  interval, and the strongest and weakest value (largest and smallest difference among values where the rep
  has at least 20 attempts).

Counting runs in the engine (the same queries as ``rates``, ``benchmark`` and ``funnel``, and one grouped query
over the activities); the statistics run on the small aggregated tables. Every number is reproducible with a
command; :attr:`RepCard.reproduce` lists them and ``docs/commands/coach.md`` explains the mapping.
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hitrate.errors import HitrateWarning, SmallSampleWarning, UserInputError
from hitrate.spec.model import Definitions

__all__ = ["STAGE_METHOD", "RepCard", "StageGaps", "rep_card", "stage_gaps"]

SMALL = 20  # attempts below which a segment supports no statement on its own
MIN_REACHED = 10  # deals a rep must have reached a stage with for it to be named the weak stage
BEST_SHARE = 0.25  # the team's best: this top share of the peers by shrunk hit rate (at least one rep)
TREND_WINDOW = 4  # periods pooled for "recent" and for "before"

STAGE_METHOD = (
    "Per rep and open stage, the log odds ratio of the rep's conversion to the next stage (to won, from the last "
    "open stage) against the peers' pooled conversion (0.5 added to each cell), with its Wald standard error; "
    "shrunk towards 0 by normal-normal empirical Bayes, the between-rep variance of each stage estimated by the "
    "method of moments over all reps; the weak stage is the stage with the lowest shrunk log odds ratio among "
    "stages the rep reached with at least 10 deals"
)


class UnknownRepError(UserInputError):
    """A rep name that is not in the data; the message suggests close matches."""

    def __init__(self, rep: str, known: Sequence[str]) -> None:
        self.rep = rep
        close = difflib.get_close_matches(rep, list(known), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        super().__init__(f"unknown rep '{rep}': no decided deals under that name ({len(known)} reps in the data){hint}")


@dataclass
class StageGaps:
    """Per rep and stage: the rep's and the peers' conversion counts, the log odds ratio and the weak stage."""

    stages: list[str]
    reps: list[str]
    reached: np.ndarray  # [rep, stage]
    advanced: np.ndarray
    peer_reached: np.ndarray
    peer_advanced: np.ndarray
    lost_here: np.ndarray
    peer_lost_here: np.ndarray
    log_odds_ratio: np.ndarray
    se: np.ndarray
    shrunk: np.ndarray
    weak: dict[str, str | None]
    method: str = STAGE_METHOD


@dataclass
class RepCard:
    """One rep's card; ``to_dict()`` gives the JSON of ``hitrate coach REP --format json``."""

    rep: str
    team: str | None
    peers_by: str | None
    peers: list[str]
    definitions: Definitions
    hit_rate: dict[str, Any]
    trend: list[dict[str, Any]]
    trend_change: dict[str, Any] | None
    stages: list[dict[str, Any]]
    weak_stage: dict[str, Any] | None
    activities: list[dict[str, Any]]
    best: list[str]
    segments: dict[str, list[dict[str, Any]]]
    strongest: dict[str, dict[str, Any] | None]
    weakest: dict[str, dict[str, Any] | None]
    statements: list[str]
    reproduce: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    method: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready data."""
        out: dict[str, Any] = _clean(
            {
                "rep": self.rep,
                "team": self.team,
                "peers_by": self.peers_by,
                "peers": self.peers,
                "n_peers": len(self.peers),
                "definitions": {"hash": self.definitions.hash, "basis": self.definitions.basis},
                "hit_rate": self.hit_rate,
                "trend": self.trend,
                "trend_change": self.trend_change,
                "stages": self.stages,
                "weak_stage": self.weak_stage,
                "activities": self.activities,
                "best": self.best,
                "n_best": len(self.best),
                "segments": self.segments,
                "strongest": self.strongest,
                "weakest": self.weakest,
                "statements": self.statements,
                "reproduce": self.reproduce,
                "warnings": self.warnings,
                "method": self.method,
            }
        )
        return out


def _clean(value: Any) -> Any:
    from hitrate.analysis.results import clean

    if isinstance(value, np.ndarray):
        return [_clean(v) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return clean(value)


# ---- the card -------------------------------------------------------------------------------------------------
def rep_card(
    source: Any,
    rep: str,
    *,
    peers_by: str | None = "team",
    adjust: Sequence[str] | None = None,
    period: str = "quarter",
    segment_fields: Sequence[str] | None = None,
    definitions: Definitions | None = None,
    confidence: float = 0.95,
) -> RepCard:
    """Build the rep card of ``rep`` (see the module docstring for what it holds and how it is computed).

    Parameters
    ----------
    source:
        The store or any Ibis backend with the canonical tables.
    rep:
        The rep's name as in the data; an unknown name raises :class:`UnknownRepError` with close matches.
    peers_by:
        The field whose value the rep shares with their peers (default ``team``); ``None``, or ``team`` when the
        data has no team, makes every other rep a peer. Any other field the data lacks is an
        :class:`~hitrate.errors.UnknownFieldError`.
    adjust:
        Fields for the quality index (indirect standardisation); default those of ``lead_source`` and
        ``segment`` the data has.
    period:
        ``week``, ``month``, ``quarter`` or ``year`` for the trend.
    segment_fields:
        Fields for strongest and weakest values; default those of ``segment`` and ``lead_source`` it has.
    """
    from hitrate.analysis.rates import resolve_definitions
    from hitrate.engine.expressions import fields_available

    defs = resolve_definitions(source, definitions, None)
    available = set(fields_available(source))
    if "rep" not in available:
        raise UserInputError("the data has no 'rep' field: a rep card needs opportunities with a rep")
    if peers_by is not None and peers_by != "team" and peers_by not in available:
        from hitrate.errors import UnknownFieldError

        raise UnknownFieldError(peers_by, sorted(available), "--peers-by")
    notes: list[str] = []
    team_of = _teams(source, defs, peers_by if peers_by in available else None)
    if rep not in team_of:
        raise UnknownRepError(rep, sorted(team_of))
    use_team = peers_by is not None and peers_by in available and team_of[rep] is not None
    if peers_by is not None and not use_team:
        notes.append(f"no '{peers_by}' for {rep}: every other rep is a peer")
    team = team_of[rep] if use_team else None
    peers = sorted(r for r, t in team_of.items() if r != rep and (not use_team or t == team))
    if not peers:
        raise UserInputError(f"rep '{rep}' has no peers to compare with (no other rep with decided deals)")
    team_where = {str(peers_by): [str(team)]} if use_team else {}
    adjust = [f for f in ("lead_source", "segment") if f in available] if adjust is None else list(adjust)
    segment_fields = (
        [f for f in ("segment", "lead_source") if f in available] if segment_fields is None else list(segment_fields)
    )

    hit, shrunk_of = _hit_rate(source, defs, rep, peers, team_where, adjust, confidence)
    trend_rows, change = _trend(source, defs, rep, peers, period, confidence)
    tables = set(source.list_tables())
    stages: list[dict[str, Any]] = []
    weak: dict[str, Any] | None = None
    try:
        gaps = stage_gaps(source, peers_by=peers_by, definitions=defs, team_of=team_of if use_team else None)
    except UserInputError as exc:  # no stage history table, or an empty one
        notes.append(f"no stage-by-stage comparison: {exc}")
    else:
        stages, weak = _stage_rows(gaps, rep, confidence)
        if not stages:
            notes.append(f"no stage history for {rep}: no stage-by-stage comparison")
    ranked = sorted(peers, key=lambda r: -shrunk_of.get(r, -1.0))
    best = ranked[: max(1, math.ceil(BEST_SHARE * len(peers)))]
    activities = _activities(source, defs, rep, peers, best, confidence) if "activities" in tables else []
    if not activities:
        notes.append("no activities in the store for these reps: no activity mix")
    segments, strongest, weakest = {}, {}, {}
    for f in segment_fields:
        segments[f], strongest[f], weakest[f] = _segments(source, defs, rep, peers, f, confidence)
    for note in notes:
        warnings.warn(note, HitrateWarning, stacklevel=2)
    if hit["attempts"] < SMALL:
        notes.append(f"{rep} has {hit['attempts']} decided deals: too few to support claims on their own")
        warnings.warn(notes[-1], SmallSampleWarning, stacklevel=2)
    card = RepCard(
        rep=rep,
        team=team,
        peers_by=peers_by if use_team else None,
        peers=peers,
        definitions=defs,
        hit_rate=hit,
        trend=trend_rows,
        trend_change=change,
        stages=stages,
        weak_stage=weak,
        activities=activities,
        best=best,
        segments=segments,
        strongest=strongest,
        weakest=weakest,
        statements=[],
        reproduce=_reproduce(rep, peers, team_where, adjust, period, segment_fields),
        warnings=notes,
        method={
            "hit_rate": "Wilson score interval; Newcombe hybrid score interval for differences; shrunk rate and "
            "quality index as in benchmark",
            "stages": STAGE_METHOD,
            "activities": "activities per decided opportunity with an exact Poisson (Garwood) interval",
            "segments": "Newcombe interval for the rep's rate minus the peers'; strongest/weakest among values "
            f"with at least {SMALL} of the rep's attempts",
        },
    )
    card.statements = statements(card)
    return card


def _teams(source: Any, defs: Definitions, peers_by: str | None) -> dict[str, str | None]:
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


def _rate(k: float, n: float, confidence: float) -> dict[str, Any]:
    from hitrate.stats.intervals import wilson_interval

    low, high = wilson_interval(k, n, confidence)
    return {
        "attempts": int(n),
        "hits": int(k),
        "hit_rate": k / n if n else None,
        "ci_low": float(low) if n else None,
        "ci_high": float(high) if n else None,
    }


def _difference(k1: float, n1: float, k2: float, n2: float, confidence: float) -> dict[str, Any]:
    from hitrate.stats.compare import _newcombe

    if not n1 or not n2:
        return {"difference": None, "difference_low": None, "difference_high": None}
    low, high = _newcombe(np.array([k1]), np.array([n1]), np.array([k2]), np.array([n2]), confidence)
    return {"difference": k1 / n1 - k2 / n2, "difference_low": float(low[0]), "difference_high": float(high[0])}


def _hit_rate(
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
    out: dict[str, Any] = _rate(own["hits"], own["attempts"], confidence)
    for key in ("shrunk_rate", "shrunk_low", "shrunk_high", "flag", "quality_index", "quality_low", "quality_high"):
        out[key] = own.get(key)
    out["expected_hits"] = own.get("expected_hits")
    out["adjusted_rate"] = own.get("adjusted_rate")
    out["adjust"] = adjust
    out["team_rate"] = bench.query["overall_rate"]
    out["peers"] = _rate(k_p, n_p, confidence)
    out.update(_difference(own["hits"], own["attempts"], k_p, n_p, confidence))
    out["rank"] = 1 + sum(1 for r in rows.values() if (r["shrunk_rate"] or 0) > (own["shrunk_rate"] or 0))
    out["of"] = len(rows)
    shrunk = {name: float(r["shrunk_rate"]) for name, r in rows.items() if r["shrunk_rate"] is not None}
    return out, shrunk


def _trend(
    source: Any, defs: Definitions, rep: str, peers: list[str], period: str, confidence: float
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Per period: the rep's and the peers' rate (one ``rates --by rep --period`` query)."""
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
        row: dict[str, Any] = {"period": label, **_rate(k_r[i], n_r[i], confidence)}
        row["peers"] = _rate(k_p[i], n_p[i], confidence)
        rows.append(row)
    change = None
    if size >= 2 * TREND_WINDOW:
        recent, before = slice(size - TREND_WINDOW, size), slice(size - 2 * TREND_WINDOW, size - TREND_WINDOW)
        kr, nr, kb, nb = k_r[recent].sum(), n_r[recent].sum(), k_r[before].sum(), n_r[before].sum()
        change = {
            "recent": [order[size - TREND_WINDOW], order[-1]],
            "before": [order[size - 2 * TREND_WINDOW], order[size - TREND_WINDOW - 1]],
            "recent_rate": _rate(kr, nr, confidence),
            "before_rate": _rate(kb, nb, confidence),
            **_difference(kr, nr, kb, nb, confidence),
        }
    return rows, change


# ---- stages ---------------------------------------------------------------------------------------------------
def stage_gaps(
    source: Any,
    *,
    peers_by: str | None = "team",
    definitions: Definitions | None = None,
    team_of: Mapping[str, str | None] | None = None,
) -> StageGaps:
    """Every rep's stage-by-stage conversion against their peers, and each rep's weak stage.

    Method (:data:`STAGE_METHOD`): from ``funnel --by rep`` (one pass of :func:`hitrate.stage_funnel.stage_funnel`),
    for rep ``r`` and open stage ``s``: ``a`` = deals that moved on from ``s`` (for the last open stage: deals
    won), ``n`` = deals that reached ``s``; the peers' ``A``, ``N`` are the sums over the other reps of ``r``'s
    ``peers_by`` group (all other reps without it). The log odds ratio
    ``L = log((a+½)/(n−a+½)) − log((A+½)/(N−A+½))`` has the Wald variance ``v = Σ 1/(cell+½)``. Per stage, the
    between-rep variance is estimated by the method of moments, ``τ² = max(var(L) − mean(v), 0.01²)``, and ``L`` is
    shrunk to ``L · τ²/(τ² + v)`` (normal-normal empirical Bayes): a gap seen on few deals counts for less. The
    weak stage is the stage with the lowest shrunk ``L`` among stages the rep reached with at least
    ``MIN_REACHED`` deals (None if that lowest value is not below 0).
    """
    from hitrate.analysis.funnel import stage_funnel
    from hitrate.analysis.rates import resolve_definitions

    defs = resolve_definitions(source, definitions, None)
    if team_of is None:
        from hitrate.engine.expressions import fields_available

        field_ok = peers_by is not None and peers_by in fields_available(source)
        team_of = _teams(source, defs, peers_by if field_ok else None)
    funnel = stage_funnel(source, by="rep", definitions=defs)
    stages = funnel.stages
    reps = sorted({str(r["rep"]) for r in funnel.rows if r["rep"] is not None})
    r_index = {name: i for i, name in enumerate(reps)}
    s_index = {name: j for j, name in enumerate(stages)}
    shape = (len(reps), len(stages))
    reached, advanced, lost = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    last = len(stages) - 1
    for row in funnel.rows:
        if row["rep"] is None:
            continue
        i, j = r_index[str(row["rep"])], s_index[row["stage"]]
        reached[i, j] = row["reached"]
        advanced[i, j] = row["won"] if j == last else row["advanced"]
        lost[i, j] = row["lost_here"]
    groups = np.array([str(team_of.get(r)) for r in reps], dtype=object)
    codes = np.unique(groups, return_inverse=True)[1]
    totals = [np.zeros((codes.max() + 1 if len(codes) else 0, len(stages))) for _ in range(3)]
    for total, values in zip(totals, (reached, advanced, lost), strict=True):
        np.add.at(total, codes, values)
    peer_reached, peer_advanced, peer_lost = (
        t[codes] - v for t, v in zip(totals, (reached, advanced, lost), strict=True)
    )
    a, b = advanced + 0.5, reached - advanced + 0.5
    pa, pb = peer_advanced + 0.5, peer_reached - peer_advanced + 0.5
    lor = np.log(a / b) - np.log(pa / pb)
    v = 1 / a + 1 / b + 1 / pa + 1 / pb
    ok = (reached > 0) & (peer_reached > 0)
    tau2 = np.full(len(stages), 0.01**2)
    for j in range(len(stages)):
        m = ok[:, j]
        if m.sum() >= 3:
            tau2[j] = max(float(np.var(lor[m, j], ddof=1) - np.mean(v[m, j])), 0.01**2)
    shrunk = np.where(ok, lor * tau2 / (tau2 + v), np.nan)
    eligible = np.where(ok & (reached >= MIN_REACHED), shrunk, np.inf)
    weak: dict[str, str | None] = {}
    for i, name in enumerate(reps):
        j = int(np.argmin(eligible[i])) if len(stages) else 0
        weak[name] = stages[j] if len(stages) and eligible[i, j] < 0 else None
    return StageGaps(
        stages, reps, reached, advanced, peer_reached, peer_advanced, lost, peer_lost, lor, np.sqrt(v), shrunk, weak
    )


def _stage_rows(gaps: StageGaps, rep: str, confidence: float) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    if rep not in gaps.reps:
        return [], None
    i = gaps.reps.index(rep)
    z = _z(confidence)
    rows = []
    for j, stage in enumerate(gaps.stages):
        n, k, pn, pk = gaps.reached[i, j], gaps.advanced[i, j], gaps.peer_reached[i, j], gaps.peer_advanced[i, j]
        row: dict[str, Any] = {
            "stage": stage,
            "to": "won" if j == len(gaps.stages) - 1 else gaps.stages[j + 1],
            **_conversion(k, n, confidence),
            "lost_here": int(gaps.lost_here[i, j]),
            "peers": {**_conversion(pk, pn, confidence), "lost_here": int(gaps.peer_lost_here[i, j])},
            **_difference(k, n, pk, pn, confidence),
            "log_odds_ratio": float(gaps.log_odds_ratio[i, j]),
            "log_odds_ratio_low": float(gaps.log_odds_ratio[i, j] - z * gaps.se[i, j]),
            "log_odds_ratio_high": float(gaps.log_odds_ratio[i, j] + z * gaps.se[i, j]),
            "shrunk_log_odds_ratio": float(gaps.shrunk[i, j]),
        }
        rows.append(row)
    name = gaps.weak.get(rep)
    weak = next((r for r in rows if r["stage"] == name), None)
    return rows, weak


def _conversion(k: float, n: float, confidence: float) -> dict[str, Any]:
    r = _rate(k, n, confidence)
    return {
        "reached": r["attempts"],
        "advanced": r["hits"],
        "conversion": r["hit_rate"],
        "conversion_low": r["ci_low"],
        "conversion_high": r["ci_high"],
    }


def _z(confidence: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)


# ---- activities -----------------------------------------------------------------------------------------------
def _activities(
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


# ---- segments -------------------------------------------------------------------------------------------------
def _segments(
    source: Any, defs: Definitions, rep: str, peers: list[str], by: str, confidence: float
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, Any] | None]:
    """The rep's and the peers' rate per value of ``by`` (one ``rates --by rep,FIELD`` query)."""
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
        row = {by: value, **_rate(k, n, confidence), "peers": _rate(pk, pn, confidence)}
        row.update(_difference(k, n, pk, pn, confidence))
        rows.append(row)
    ranked = [r for r in rows if r["attempts"] >= SMALL and r["difference"] is not None]
    ranked.sort(key=lambda r: float(r["difference"]))
    weakest = ranked[0] if ranked else None
    strongest = ranked[-1] if len(ranked) >= 2 else None
    return rows, strongest, weakest if len(ranked) >= 2 else None


# ---- words and commands ---------------------------------------------------------------------------------------
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "hit": "Hit rate {rate} against peers ({n} other reps of {group}) {peers}: {gap}; shrunk {shrunk}, "
        "rank {rank} of {of}.",
        "all_reps": "all reps",
        "quality": "Quality index {q} ({low}–{high}) over {fields}: {hits} hits where the team's rates per stratum "
        "give {expected}.",
        "trend": "Trend: {r0}–{r1} {recent} against {b0}–{b1} {before}: {gap}.",
        "weak": "Weak stage: {stage} → {to} {rate} against peers {peers}: {gap}; {lost} deals lost there",
        "unclear": " (the interval includes no difference: a lead, not a finding).",
        "no_weak": "No weak stage: no stage converts below the peers after shrinkage.",
        "activity": "{kind} per opportunity: {v} ({low}–{high}, {k} on {n}) against the team's best {b} "
        "({blow}–{bhigh}, {nb} reps).",
        "strongest": "Strongest {field} against peers: {value} {rate} against {peers}: {gap}.",
        "weakest": "Weakest {field} against peers: {value} {rate} against {peers}: {gap}.",
        "points": "{d} points ({low} to {high})",
        "won": "won",
        "call": "Calls",
        "email": "E-mails",
        "meeting": "Meetings",
    },
    "da": {
        "hit": "Hitrate {rate} mod kolleger ({n} andre sælgere i {group}) {peers}: {gap}; krympet {shrunk}, "
        "nr. {rank} af {of}.",
        "all_reps": "alle sælgere",
        "quality": "Kvalitetsindeks {q} ({low}–{high}) over {fields}: {hits} vundne, hvor teamets rater pr. stratum "
        "giver {expected}.",
        "trend": "Udvikling: {r0}–{r1} {recent} mod {b0}–{b1} {before}: {gap}.",
        "weak": "Svag fase: {stage} → {to} {rate} mod kolleger {peers}: {gap}; {lost} handler tabt der",
        "unclear": " (intervallet omfatter ingen forskel: et spor, ikke et fund).",
        "no_weak": "Ingen svag fase: ingen fase konverterer under kollegerne efter krympning.",
        "activity": "{kind} pr. handel: {v} ({low}–{high}, {k} på {n}) mod teamets bedste {b} "
        "({blow}–{bhigh}, {nb} sælgere).",
        "strongest": "Stærkeste {field} mod kolleger: {value} {rate} mod {peers}: {gap}.",
        "weakest": "Svageste {field} mod kolleger: {value} {rate} mod {peers}: {gap}.",
        "points": "{d} point ({low} til {high})",
        "won": "vundet",
        "call": "Opkald",
        "email": "E-mails",
        "meeting": "Møder",
    },
}


def _loc(text: str, lang: str) -> str:
    from hitrate.report._i18n import _localise

    return _localise(text, lang)


def _pct(value: float | None, lang: str = "en") -> str:
    return "–" if value is None else _loc(f"{value:.1%}", lang)


def _points(value: float | None, lang: str = "en") -> str:
    return "–" if value is None else _loc(f"{100 * value:+.1f}", lang)


def _num(value: float | None, fmt: str, lang: str) -> str:
    return "–" if value is None else _loc(format(value, fmt), lang)


def _ratio(r: Mapping[str, Any], lang: str = "en", k: str = "hits", n: str = "attempts", rate: str = "hit_rate") -> str:
    low, high = ("ci_low", "ci_high") if rate == "hit_rate" else (f"{rate}_low", f"{rate}_high")
    return (
        f"{_num(r[k], ',', lang)}/{_num(r[n], ',', lang)} = {_pct(r[rate], lang)} "
        f"({_pct(r[low], lang)}–{_pct(r[high], lang)})"
    )


def _gap(r: Mapping[str, Any], lang: str = "en") -> str:
    return WORDS[lang]["points"].format(
        d=_points(r["difference"], lang),
        low=_points(r["difference_low"], lang),
        high=_points(r["difference_high"], lang),
    )


def statements(card: RepCard | Mapping[str, Any], lang: str = "en") -> list[str]:
    """The card (a :class:`RepCard` or its ``to_dict()``) in sentences, each with the numbers behind it, in
    English (``en``) or Danish (``da``)."""
    c = card.to_dict() if isinstance(card, RepCard) else card
    w = WORDS[lang]
    h = c["hit_rate"]
    group = w["all_reps"] if not c["team"] else c["team"] if c["peers_by"] == "team" else f"{c['peers_by']} {c['team']}"
    out = [
        w["hit"].format(
            rate=_ratio(h, lang),
            n=c["n_peers"],
            group=group,
            peers=_ratio(h["peers"], lang),
            gap=_gap(h, lang),
            shrunk=_pct(h["shrunk_rate"], lang),
            rank=h["rank"],
            of=h["of"],
        )
    ]
    if h.get("quality_index") is not None:
        out.append(
            w["quality"].format(
                q=_num(h["quality_index"], ".2f", lang),
                low=_num(h["quality_low"], ".2f", lang),
                high=_num(h["quality_high"], ".2f", lang),
                fields=", ".join(h["adjust"]),
                hits=_num(h["hits"], ",", lang),
                expected=_num(h["expected_hits"], ",.1f", lang),
            )
        )
    ch = c["trend_change"]
    if ch is not None:
        out.append(
            w["trend"].format(
                r0=ch["recent"][0],
                r1=ch["recent"][1],
                recent=_ratio(ch["recent_rate"], lang),
                b0=ch["before"][0],
                b1=ch["before"][1],
                before=_ratio(ch["before_rate"], lang),
                gap=_gap(ch, lang),
            )
        )
    weak = c["weak_stage"]
    conv = {"k": "advanced", "n": "reached", "rate": "conversion"}
    if weak is not None:
        text = w["weak"].format(
            stage=weak["stage"],
            to=w["won"] if weak["to"] == "won" else weak["to"],
            rate=_ratio(weak, lang, **conv),
            peers=_ratio(weak["peers"], lang, **conv),
            gap=_gap(weak, lang),
            lost=_num(weak["lost_here"], ",", lang),
        )
        out.append(text + ("." if (weak["difference_high"] or 0) < 0 else w["unclear"]))
    elif c["stages"]:
        out.append(w["no_weak"])
    for row in c["activities"]:
        r, b = row["rep"], row["best"]
        if r["per_opportunity"] is None or b["per_opportunity"] is None:
            continue
        out.append(
            w["activity"].format(
                kind=w.get(row["type"], str(row["type"]).capitalize()),
                v=_num(r["per_opportunity"], ".2f", lang),
                low=_num(r["low"], ".2f", lang),
                high=_num(r["high"], ".2f", lang),
                k=_num(r["activities"], ",", lang),
                n=_num(r["opportunities"], ",", lang),
                b=_num(b["per_opportunity"], ".2f", lang),
                blow=_num(b["low"], ".2f", lang),
                bhigh=_num(b["high"], ".2f", lang),
                nb=c["n_best"],
            )
        )
    for f in c["segments"]:
        for word in ("strongest", "weakest"):
            seg = c[word].get(f)
            if seg is not None:
                out.append(
                    w[word].format(
                        field=f,
                        value=seg[f],
                        rate=_ratio(seg, lang),
                        peers=_ratio(seg["peers"], lang),
                        gap=_gap(seg, lang),
                    )
                )
    return out


def _reproduce(
    rep: str,
    peers: list[str],
    team_where: dict[str, list[str]],
    adjust: list[str],
    period: str,
    segment_fields: list[str],
) -> dict[str, str]:
    """The commands that give the card's numbers (peers = the sum of the peers' rows, or one command with every
    peer as a ``--where rep=`` alternative)."""

    def q(text: str) -> str:
        return f"'{text}'" if any(ch in text for ch in " '\"&;|$") else text

    def where(field_: str, values: Sequence[str]) -> str:
        return " ".join(f"--where {q(f'{field_}={v}')}" for v in values)

    me, them = where("rep", [rep]), where("rep", peers)
    team = " ".join(where(k, v) for k, v in team_where.items()) or where("rep", [rep, *peers])
    adj = f" --adjust {','.join(adjust)}" if adjust else ""
    out = {
        "hit_rate": f"hitrate benchmark --by rep {team}{adj}",
        "peers_rate": f"hitrate rates {them}",
        "team_rate": f"hitrate rates {team}",
        "trend": f"hitrate rates --period {period} {me}",
        "peers_trend": f"hitrate rates --period {period} {them}",
        "stages": f"hitrate funnel {me}",
        "peers_stages": f"hitrate funnel {them}",
    }
    for f in segment_fields:
        out[f] = f"hitrate rates --by {f} {me}"
        out[f"peers_{f}"] = f"hitrate rates --by {f} {them}"
    return out
