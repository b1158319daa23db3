"""Stage by stage: every rep's conversion against their peers, and each rep's weak stage (:func:`stage_gaps`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hitrate.i18n import DEFAULT_LANG, Message
from hitrate.improve._base import rows_frame
from hitrate.improve.coach._collect import conversion, difference, teams
from hitrate.report.result import Result
from hitrate.spec.model import Definitions

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

MIN_REACHED = 10  # deals a rep must have reached a stage with for it to be named the weak stage


def stage_method() -> Message:
    """The stage comparison's method, in words (:data:`STAGE_METHOD` is its English)."""
    return Message("coach.method_stages", minimum=MIN_REACHED)


STAGE_METHOD = str(stage_method())


@dataclass
class StageGaps(Result):
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
    method: Message | str = field(default_factory=stage_method)

    def to_frame(self) -> pd.DataFrame:
        """One row per rep and stage: reached, advanced, the peers' counts, the (shrunk) log odds ratio, and
        whether it is the rep's weak stage."""
        rows = [
            {
                "rep": rep,
                "stage": stage,
                "reached": int(self.reached[i, j]),
                "advanced": int(self.advanced[i, j]),
                "lost_here": int(self.lost_here[i, j]),
                "peer_reached": int(self.peer_reached[i, j]),
                "peer_advanced": int(self.peer_advanced[i, j]),
                "log_odds_ratio": float(self.log_odds_ratio[i, j]),
                "se": float(self.se[i, j]),
                "shrunk_log_odds_ratio": float(self.shrunk[i, j]),
                "weak": self.weak.get(rep) == stage,
            }
            for i, rep in enumerate(self.reps)
            for j, stage in enumerate(self.stages)
        ]
        return rows_frame(rows, ("rep", "stage", "reached", "advanced"))

    def title(self) -> Message:
        return Message("coach.gaps_title")

    def headline(self) -> Message:
        named = sum(1 for w in self.weak.values() if w is not None)
        return Message("coach.gaps_headline", named=named, reps=len(self.reps), stages=len(self.stages))

    def notes(self) -> list[Message | str]:
        return [self.method]

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """A heat map of the shrunk log odds ratio, rep by stage (red: below the peers)."""
        import plotly.graph_objects as go

        fig = go.Figure(
            go.Heatmap(
                z=self.shrunk,
                x=self.stages,
                y=self.reps,
                colorscale="RdBu",
                zmid=0,
                colorbar={"title": Message("coach.gaps_axis").render(lang)},
            )
        )
        fig.update_layout(title=self.title().render(lang), margin={"l": 10, "r": 10, "t": 50, "b": 40})
        return fig

    def to_dict(self) -> dict[str, Any]:
        """The table as records, the weak stage per rep and the method."""
        from hitrate.report.result import json_ready

        return {
            "stages": self.stages,
            "reps": self.reps,
            "weak": self.weak,
            "method": str(self.method),
            "rows": json_ready(self.to_frame().to_dict("records")),
        }


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
        team_of = teams(source, defs, peers_by if field_ok else None)
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


def stage_rows(gaps: StageGaps, rep: str, confidence: float) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The rep's row per stage (the card's ``stages``) and the weak stage's row."""
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
            **conversion(k, n, confidence),
            "lost_here": int(gaps.lost_here[i, j]),
            "peers": {**conversion(pk, pn, confidence), "lost_here": int(gaps.peer_lost_here[i, j])},
            **difference(k, n, pk, pn, confidence),
            "log_odds_ratio": float(gaps.log_odds_ratio[i, j]),
            "log_odds_ratio_low": float(gaps.log_odds_ratio[i, j] - z * gaps.se[i, j]),
            "log_odds_ratio_high": float(gaps.log_odds_ratio[i, j] + z * gaps.se[i, j]),
            "shrunk_log_odds_ratio": float(gaps.shrunk[i, j]),
        }
        rows.append(row)
    name = gaps.weak.get(rep)
    weak = next((r for r in rows if r["stage"] == name), None)
    return rows, weak


def _z(confidence: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)
