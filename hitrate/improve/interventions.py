"""Did it work? Interventions (coaching, training) and their effect on hit rate, by difference in differences.

An intervention is kept in the store's ``interventions`` table: the group it was for (``field = value``, a rep
or a team), what it was, the start date and who recorded it. :func:`effect` compares the group's closed-basis
hit rate in a window before and after the start with the same change among its peers (every other value of
the field, optionally narrowed with ``where``), counting decided deals by their close date in the engine (one
grouped query: group × window). On the four counts:

* **log-odds scale** (the headline): a binomial GLM (statsmodels, logit link) with terms for the group, the
  period (after) and their interaction; the interaction coefficient is the difference in differences of the
  log-odds, with its Wald interval, and ``exp`` of it the ratio of odds ratios;
* **probability scale**: (after − before) of the group minus (after − before) of the peers, with a Wald
  interval from the delta method (the four rates are independent binomials);
* **placebo**: the same log-odds DiD between the two windows *before* the start (it should be near 0 when the
  parallel-trends assumption holds);
* **against a longer baseline**: the log-odds DiD of the window after the start against the year before the
  "before" window (:data:`HISTORY_DAYS`, at least one window), for group and peers alike. When the group was in
  a bad spell just before the start (its "before" rate clearly below its own year before), the headline DiD
  counts the rebound as an effect; this one does not, and a caveat says so.

Caveats, stated in every output: the estimate is causal only if the group would have moved like its peers
without the intervention (parallel trends); coaching started after a bad spell is followed by a rebound even
when it does nothing (regression to the mean); small windows give wide intervals.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hitrate.errors import InvalidParameterError, InvalidValueError, NotFoundError, UserInputError
from hitrate.i18n import DEFAULT_LANG, Joined, Message, Param
from hitrate.improve._base import DataResult, RecordList, interval_figure, rate_table
from hitrate.improve.goals import _date, check_subject, subject

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from hitrate.report import RateTable
    from hitrate.store.embedded import Store

#: The caveats stated with every estimate.
CAVEATS = [
    Message("interventions.caveat_parallel_trends"),
    Message("interventions.caveat_regression"),
    Message("interventions.caveat_small_samples"),
]
SMALL_CELL = 30
HISTORY_DAYS = 365  # the group's own history before the "before" window: the baseline against a bad spell


@dataclass(frozen=True)
class Intervention:
    """Something done for ``field = value`` from ``started`` on (coaching, training)."""

    intervention_id: int
    field: str
    value: str
    kind: str
    started: dt.date
    note: str
    added_by: str

    def to_dict(self) -> dict[str, Any]:
        """The intervention as JSON-ready data (the start as ISO text)."""
        from hitrate.report.result import json_ready

        out: dict[str, Any] = json_ready(self)
        return out


class InterventionList(RecordList[Intervention]):
    """The recorded interventions (``hitrate intervention list``): a list that is also a result."""

    KEY = "interventions"
    TITLE = "interventions.list_title"
    HEADLINE = "interventions.list_headline"

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """When each intervention started, by who it was for."""
        import plotly.graph_objects as go

        fig = go.Figure(
            go.Scatter(
                x=[i.started.isoformat() for i in self],
                y=[f"{i.field} {i.value}" for i in self],
                text=[f"{i.intervention_id}: {i.kind}" for i in self],
                mode="markers+text",
                textposition="top center",
                marker={"size": 12},
            )
        )
        fig.update_layout(title=self.title().render(lang), showlegend=False)
        return fig


def add_intervention(
    store: Store,
    who: str | None = None,
    *,
    kind: str,
    start: dt.date | str | None = None,
    note: str = "",
    added_by: str = "",
    field: str | None = None,
    value: str | None = None,
    started: dt.date | str | None = None,
) -> Intervention:
    """``hitrate intervention add WHO``: record an intervention (the field and value must exist in the data).

    The group is ``who`` (``"team=North"``) or ``field`` and ``value``; the day it started is ``start`` (or
    ``started``), a date or ``YYYY-MM-DD``.
    """
    field, value = subject(who, field, value)
    kind = kind.strip()
    if not kind or len(kind) > 80:
        raise InvalidValueError("interventions.bad_kind", parameter="kind", got=kind)
    if len(note) > 500:
        raise InvalidValueError("interventions.long_note", parameter="note", got=len(note))
    day = start if start is not None else started
    if day is None:
        raise InvalidParameterError("start", Message("interventions.a_date"), None, caller="add_intervention")
    start = _date(day, "start")
    check_subject(store, field, value)
    row = store.fetch("SELECT coalesce(max(intervention_id), 0) + 1 FROM interventions")
    item = Intervention(int(row[0][0]), field, value, kind, start, note, added_by)
    store.raw.execute(
        "INSERT INTO interventions VALUES (?, ?, ?, ?, ?, ?, ?, current_timestamp)",
        [item.intervention_id, field, value, kind, start, note, added_by],
    )
    return item


def list_interventions(store: Store) -> InterventionList:
    """``hitrate intervention list``: every recorded intervention, oldest first."""
    rows = store.fetch(
        "SELECT intervention_id, field, value, kind, started, note, added_by FROM interventions "
        "ORDER BY intervention_id"
    )
    return InterventionList(Intervention(int(r[0]), r[1], r[2], r[3], r[4], r[5] or "", r[6] or "") for r in rows)


def get_intervention(store: Store, intervention_id: int) -> Intervention:
    """The intervention with this id (:class:`~hitrate.errors.NotFoundError` when there is none)."""
    for item in list_interventions(store):
        if item.intervention_id == intervention_id:
            return item
    raise NotFoundError("interventions.no_such", intervention=intervention_id)


@dataclass
class EffectResult(DataResult):
    """Difference in differences of one intervention; see the module docstring."""

    intervention: Intervention
    window_days: int
    cells: list[dict[str, Any]]
    did_logodds: float | None
    did_logodds_low: float | None
    did_logodds_high: float | None
    p_value: float | None
    did_probability: float
    did_probability_low: float
    did_probability_high: float
    placebo_logodds: float | None
    placebo_low: float | None
    placebo_high: float | None
    baseline_logodds: float | None
    baseline_low: float | None
    baseline_high: float | None
    history: list[dict[str, Any]]
    method: Message | str
    caveats: list[Message | str] = field(default_factory=list)
    warnings: list[Message | str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Every field (the intervention last), and ``odds_ratio`` = exp(the log-odds DiD), JSON-ready."""
        out = super().to_dict()
        out["intervention"] = out.pop("intervention")
        out["odds_ratio"] = None if self.did_logodds is None else math.exp(self.did_logodds)
        return out

    def to_frame(self) -> pd.DataFrame:
        """The four cells: group (or peers) × window (before, after), decided deals, won and hit rate."""
        from hitrate.improve._base import rows_frame

        return rows_frame(self.cells, ("group", "window", "attempts", "hits", "hit_rate"))

    def title(self) -> Message:
        i = self.intervention
        return Message(
            "interventions.title", kind=i.kind, field=i.field, value=i.value, started=i.started, days=self.window_days
        )

    def headline(self) -> Message:
        return Message(
            "interventions.headline",
            d=self.did_probability,
            low=self.did_probability_low,
            high=self.did_probability_high,
        )

    def notes(self) -> list[Message | str]:
        return [*self.warnings, *self.caveats]

    def sections(self, lang: str = DEFAULT_LANG) -> list[RateTable]:
        """The four cells' hit rates with their Wilson intervals."""
        from hitrate.stats.intervals import wilson_interval

        label = Message("interventions.cell").render(lang)
        rows = []
        for c in self.cells:
            low, high = wilson_interval(c["hits"], c["attempts"])
            group = Message("interventions.peers") if c["group"] == "peers" else c["group"]
            name = Message("interventions.cell_name", group=group, window=Message(f"interventions.{c['window']}"))
            rows.append((name.render(lang), c["attempts"], c["hits"], c["hit_rate"], float(low), float(high)))
        table = rate_table(self.title().render(lang), rows, label)
        return [] if table is None else [table]

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """The difference in differences with its interval: on the probability scale, and on the log-odds scale
        against the window before, the year before and the placebo."""
        estimates = [
            ("probability", self.did_probability, self.did_probability_low, self.did_probability_high),
            ("logodds", self.did_logodds, self.did_logodds_low, self.did_logodds_high),
            ("baseline", self.baseline_logodds, self.baseline_low, self.baseline_high),
            ("placebo", self.placebo_logodds, self.placebo_low, self.placebo_high),
        ]
        shown = [e for e in estimates if e[1] is not None]
        return interval_figure(
            [Message(f"interventions.estimate_{e[0]}").render(lang) for e in shown],
            [e[1] for e in shown],
            [e[2] for e in shown],
            [e[3] for e in shown],
            title=self.title().render(lang),
            axis=Message("interventions.estimate_axis").render(lang),
        )


def did_counts(
    hits: Sequence[int] | np.ndarray, attempts: Sequence[int] | np.ndarray, confidence: float = 0.95
) -> dict[str, float | None]:
    """DiD on the four cells ``[peers before, peers after, group before, group after]``.

    Log-odds: binomial GLM (statsmodels) ``logit p = b0 + b1·group + b2·after + b3·group·after`` on the counts;
    ``b3`` with its Wald interval and p-value (None when a cell has no hits or no misses: the log-odds are then
    infinite). Probability: ``(p3 − p2) − (p1 − p0)`` with the delta-method (Wald) interval
    ``± z·√Σ p(1−p)/n``.
    """
    from scipy.stats import norm

    k = np.asarray(hits, dtype=float)
    n = np.asarray(attempts, dtype=float)
    if k.shape != (4,) or n.shape != (4,) or np.any(n <= 0):
        raise InvalidParameterError("attempts", Message("interventions.four_cells"), n.tolist(), caller="did_counts")
    z = float(norm.ppf(0.5 + confidence / 2))
    p = k / n
    d_prob = float((p[3] - p[2]) - (p[1] - p[0]))
    se_prob = float(np.sqrt(np.sum(p * (1 - p) / n)))
    out: dict[str, float | None] = {
        "did_probability": d_prob,
        "did_probability_low": d_prob - z * se_prob,
        "did_probability_high": d_prob + z * se_prob,
        "did_logodds": None,
        "did_logodds_low": None,
        "did_logodds_high": None,
        "p_value": None,
    }
    if np.any(k == 0) or np.any(k == n):
        return out
    import warnings

    import statsmodels.api as sm

    group = np.array([0.0, 0.0, 1.0, 1.0])
    after = np.array([0.0, 1.0, 0.0, 1.0])
    exog = np.column_stack([np.ones(4), group, after, group * after])
    with warnings.catch_warnings():  # a saturated model: statsmodels warns about the zero residual df
        warnings.simplefilter("ignore")
        fit = sm.GLM(np.column_stack([k, n - k]), exog, family=sm.families.Binomial()).fit()
    b, se = float(fit.params[3]), float(fit.bse[3])
    out.update(did_logodds=b, did_logodds_low=b - z * se, did_logodds_high=b + z * se, p_value=float(fit.pvalues[3]))
    return out


def effect(
    store: Store,
    intervention_id: int,
    *,
    window: int = 90,
    where: Mapping[str, Sequence[str]] | None = None,
    confidence: float = 0.95,
) -> EffectResult:
    """The intervention's effect on hit rate: difference in differences against peers (module docstring).

    ``window`` days before and after the start; ``where`` narrows the rows (group and peers alike), e.g.
    ``{"segment": ["SMB"]}`` or, for a rep, ``{"team": ["North"]}`` to compare with their own team.
    """
    import ibis

    from hitrate.analysis.rates import resolve_definitions
    from hitrate.engine.counting import fetch
    from hitrate.engine.expressions import classified, coerce_value
    from hitrate.engine.query import Query
    from hitrate.stats.compare import compare_proportions

    if not 7 <= window <= 3660:
        raise InvalidValueError("interventions.bad_window", parameter="window", got=window)
    item = get_intervention(store, intervention_id)
    defs = resolve_definitions(store, None, "closed")
    date_field = defs.effective_period_date
    t = classified(store, defs, Query.build(where=where), {item.field, date_field})
    col = t[item.field]
    t = t.filter((t._won | t._lost) & col.notnull() & t[date_field].notnull())
    start = dt.datetime.combine(item.started, dt.time())
    w = dt.timedelta(days=window)
    d = t[date_field]
    # Bins: 2 after, 1 before, 0 the window before that (placebo), 3 older, up to a year before the "before" window
    # (bins 0 and 3 together are the group's own history, the baseline for regression to the mean).
    oldest = min(start - 2 * w, start - w - dt.timedelta(days=HISTORY_DAYS))
    t = t.filter((d >= ibis.timestamp(oldest)) & (d < ibis.timestamp(start + w)))
    bin_ = (d >= ibis.timestamp(start)).ifelse(
        2, (d >= ibis.timestamp(start - w)).ifelse(1, (d >= ibis.timestamp(start - 2 * w)).ifelse(0, 3))
    )
    t = t.mutate(_group=(col == coerce_value(col, item.value, item.field)).cast("int8"), _bin=bin_.cast("int8"))
    c = fetch(store, t.group_by(["_group", "_bin"]).aggregate(attempts=t.count(), hits=t.count(where=t._won)))
    table = np.zeros((2, 4, 2))  # group, bin, (attempts, hits)
    for g, b, n, k in zip(c["_group"], c["_bin"], c["attempts"], c["hits"], strict=True):
        table[int(g), int(b)] = (n, k)
    cells: list[dict[str, Any]] = []
    for g, b in ((0, 1), (0, 2), (1, 1), (1, 2)):
        n, k = table[g, b]
        cells.append(
            {
                "group": item.value if g else "peers",
                "window": "after" if b == 2 else "before",
                "attempts": int(n),
                "hits": int(k),
                "hit_rate": float(k / n) if n else None,
            }
        )
    attempts = [int(c["attempts"]) for c in cells]
    if not table[0, :, 0].sum():
        key = "interventions.no_peers_where" if where else "interventions.no_peers"
        raise UserInputError(key, intervention=intervention_id, field=item.field, where=Param("where"))
    if min(attempts) == 0:
        empty = [f"{c['group']} {c['window']}" for c in cells if c["attempts"] == 0]
        raise UserInputError(
            "interventions.empty_cells",
            intervention=intervention_id,
            cells=Joined(empty),
            days=window,
            started=item.started,
            window=Param("window"),
        )
    main = did_counts([c["hits"] for c in cells], attempts, confidence)
    placebo_n = [table[0, 0, 0], table[0, 1, 0], table[1, 0, 0], table[1, 1, 0]]
    placebo: dict[str, float | None] = {"did_logodds": None, "did_logodds_low": None, "did_logodds_high": None}
    if min(placebo_n) > 0:
        placebo = did_counts([table[0, 0, 1], table[0, 1, 1], table[1, 0, 1], table[1, 1, 1]], placebo_n, confidence)
    notes: list[Message | str] = []
    if min(attempts) < SMALL_CELL:
        notes.append(Message("interventions.small_cell", minimum=SMALL_CELL, n=min(attempts)))
    if main["did_logodds"] is None:
        notes.append(Message("interventions.infinite_logodds"))
    caveats: list[Message | str] = list(CAVEATS)
    below = compare_proportions(cells[2]["hits"], cells[2]["attempts"], cells[0]["hits"], cells[0]["attempts"])
    if below.high < 0:  # the group was clearly below its peers just before the start
        caveats.append(_caveat("interventions.caveat_below_peers", item.value, below))
    history = table[:, 0] + table[:, 3]  # per group: the year (at least one window) before the "before" window
    baseline: dict[str, float | None] = {"did_logodds": None, "did_logodds_low": None, "did_logodds_high": None}
    if history[1, 0] > 0 and history[0, 0] > 0:
        spell = compare_proportions(cells[2]["hits"], cells[2]["attempts"], int(history[1, 1]), int(history[1, 0]))
        if spell.high < 0:
            caveats.append(_caveat("interventions.caveat_bad_spell", item.value, spell))
        baseline = did_counts(
            [int(history[0, 1]), cells[1]["hits"], int(history[1, 1]), cells[3]["hits"]],
            [int(history[0, 0]), cells[1]["attempts"], int(history[1, 0]), cells[3]["attempts"]],
            confidence,
        )
    if placebo["did_logodds_low"] is not None and not (
        placebo["did_logodds_low"] <= 0 <= (placebo["did_logodds_high"] or 0)
    ):
        caveats.append(Message("interventions.caveat_placebo"))
    method = Message(
        "interventions.method_where" if where else "interventions.method",
        date_field=date_field,
        days=window,
        confidence=confidence,
        field=item.field,
    )
    return EffectResult(
        intervention=item,
        window_days=window,
        cells=cells,
        did_logodds=main["did_logodds"],
        did_logodds_low=main["did_logodds_low"],
        did_logodds_high=main["did_logodds_high"],
        p_value=main["p_value"],
        did_probability=float(main["did_probability"] or 0.0),
        did_probability_low=float(main["did_probability_low"] or 0.0),
        did_probability_high=float(main["did_probability_high"] or 0.0),
        baseline_logodds=baseline["did_logodds"],
        baseline_low=baseline["did_logodds_low"],
        baseline_high=baseline["did_logodds_high"],
        history=[
            {"group": "peers", "attempts": int(history[0, 0]), "hits": int(history[0, 1])},
            {"group": item.value, "attempts": int(history[1, 0]), "hits": int(history[1, 1])},
        ],
        placebo_logodds=placebo["did_logodds"],
        placebo_low=placebo["did_logodds_low"],
        placebo_high=placebo["did_logodds_high"],
        method=method,
        caveats=caveats,
        warnings=notes,
    )


def _caveat(key: str, value: str, c: Any) -> Message:
    """A caveat on the group's rate against another (its peers, its own year before), with the difference."""
    low, high = _signed_pct(c.low), _signed_pct(c.high)
    return Message(key, value=value, rate=c.rate_a, other=c.rate_b, low=low, high=high)


def _signed_pct(value: float) -> Message:
    """A difference of proportions as a signed percentage, ``+3.2%`` / ``-1.5%``."""
    return Message("interventions.signed_pct", sign="-" if value < 0 else "+", value=abs(value))


#: ``hitrate intervention effect ID``: did it work? (:func:`effect`, by the command's name).
intervention_effect = effect
