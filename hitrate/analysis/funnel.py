"""The stage funnel from stage history: where deals move on, where they are lost, how long they sit.

For each open stage, in pipeline order (``stages=``, else the order in which deals enter the stages:
a stage's median position in its deals' histories), over the opportunities that count under the
definitions and have a stage history:

* ``reached``: deals that entered this stage or a later one (CRMs let deals skip stages);
* ``advanced``: of those, deals that reached a later stage; ``conversion`` = advanced / reached, with a
  Wilson interval;
* ``won``: of those that reached the stage, deals won; ``win_rate`` = won / reached, with a Wilson
  interval (the hit rate *from* this stage);
* ``lost_here``: deals lost whose furthest stage was this one (where the pipeline leaks);
* ``median_days``: median days from entering the stage to entering the next stage recorded for the deal
  (deals that moved on).

Stages that end a deal (those where decided deals' histories end, e.g. ``Won``, ``Lost``) are not open
stages and are left out of the rows. Counting runs in the engine (two grouped queries); the cumulative sums
and intervals on the small per-stage tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hitrate.analysis._common import DefinitionsArg, comma_list, resolve_definitions
from hitrate.analysis.results import RecordsResult
from hitrate.errors import UnknownFieldError, UserInputError
from hitrate.i18n import DEFAULT_LANG, Joined, Message, Param

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from hitrate.report.workbook import DataTable

#: The columns of a funnel row after its group, in order; those holding proportions and counts.
ROW_COLUMNS = ("stage", "reached", "advanced", "conversion", "conversion_low", "conversion_high", "won", "win_rate",
               "win_rate_low", "win_rate_high", "lost_here", "median_days")  # fmt: skip
PROPORTIONS = frozenset(
    {"conversion", "conversion_low", "conversion_high", "win_rate", "win_rate_low", "win_rate_high"}
)
COUNTS = frozenset({"reached", "advanced", "won", "lost_here"})


@dataclass
class StageFunnel(RecordsResult):
    """Rows per group and open stage (``to_frame()``); see the module docstring for the columns.

    ``to_dict()``: ``stages``, ``by``, ``warnings`` (English) and ``rows``.
    """

    dict_keys = ("stages", "by", "warnings", "rows")

    stages: list[str]
    by: str | None
    rows: list[dict[str, Any]]
    warnings: list[Message | str] = field(default_factory=list)
    #: The level of the Wilson intervals.
    confidence: float = 0.95

    @property
    def method(self) -> Message:
        """How the conversions, win rates and their intervals were found."""
        return Message("funnel.method", level=self.confidence)

    def tables(self) -> list[DataTable]:
        """One table: a row per group and open stage (the columns of the module docstring)."""
        from hitrate.report.workbook import DataTable

        columns = (*([self.by] if self.by else []), *ROW_COLUMNS)
        return [DataTable("funnel", columns, self.rows, PROPORTIONS, counts=COUNTS)]

    def title(self) -> Message:
        """``Stage funnel`` (``by segment``)."""
        return Message("funnel.title_by", by=self.by) if self.by else Message("funnel.title")

    def headline(self) -> Message | None:
        """Over all groups: the win rate from the first stage, and the stage where most deals are lost."""
        if not self.rows or not self.stages:
            return None
        first = [r for r in self.rows if r["stage"] == self.stages[0]]
        reached, won = sum(r["reached"] for r in first), sum(r["won"] for r in first)
        lost = {s: sum(r["lost_here"] for r in self.rows if r["stage"] == s) for s in self.stages}
        return Message(
            "funnel.headline",
            stage=self.stages[0],
            won=won,
            reached=reached,
            rate=won / reached if reached else None,
            leak=max(self.stages, key=lambda s: lost[s]),
        )

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """The deals that reached each stage, as a funnel (one per group)."""
        from hitrate.analysis._figures import stage_funnel_figure

        return stage_funnel_figure(self, lang)


def stage_funnel(
    source: Any,
    *,
    by: str | None = None,
    stages: str | Sequence[str] | None = None,
    definitions: DefinitionsArg = None,
    confidence: float = 0.95,
    where: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
) -> StageFunnel:
    """Compute the stage funnel (see the module docstring); ``where`` keeps only the opportunities whose
    fields have one of the given values (as ``rates --where``). The pipeline order is inferred from the whole
    history either way.

    The keyword arguments are the command line's options (``hitrate funnel``): ``stages`` may be given as
    there, ``"Prospecting,Qualified,Proposal"``; ``where`` as ``FIELD=VALUE`` items; ``definitions`` as a
    file's path.
    """
    from hitrate.engine.expressions import classified, fields_available
    from hitrate.engine.query import Query

    h = _history(source)
    defs = resolve_definitions(source, definitions, None)
    if by and by not in fields_available(source):
        raise UnknownFieldError(by, fields_available(source), Param("by"))
    opps = classified(source, defs, Query.build(where=where), {"id"} | ({by} if by else set()))
    pos = _positions(h)
    open_stages, closing = _open_stages(source, pos, opps, stages)
    groups = [by] if by else []
    per, days = _stage_counts(source, h, opps.select("id", "_won", "_lost", *groups), open_stages, groups)
    keys = sorted({tuple(per[g][i] for g in groups) for i in range(len(per["n"]))}, key=lambda k: tuple(map(str, k)))
    rows = [
        row
        for key in keys
        for row in _group_rows(dict(zip(groups, key, strict=True)), per, days, open_stages, confidence)
    ]
    warnings: list[Message | str] = []
    if closing:
        warnings.append(Message("funnel.closing_stages", stages=Joined(sorted(closing))))
    return StageFunnel(open_stages, by, rows, warnings, confidence)


def _history(source: Any) -> Any:
    """The stage history entries that have a date; refuses a store without any."""
    if "stage_history" not in set(source.list_tables()):
        raise UserInputError("funnel.no_history", table=Param("table"))
    history = source.table("stage_history")
    h = history.filter(history.entered_at.notnull())
    if int(h.count().execute()) == 0:
        raise UserInputError("funnel.empty_history", table=Param("table"))
    return h


def _positions(h: Any) -> Any:
    """Each history entry's place in its deal's history (``_pos``, from 1) and the length of that history
    (``_n``)."""
    import ibis

    pos = h.mutate(_pos=ibis.row_number().over(group_by=h.id, order_by=[h.entered_at, h.stage]))
    last = pos.group_by(pos.id).aggregate(_n=pos.count())
    return pos.inner_join(last, pos.id == last.id).select(pos.id, pos.stage, pos._pos, last._n)


def _open_stages(source: Any, pos: Any, opps: Any, stages: str | Sequence[str] | None) -> tuple[list[str], set[str]]:
    """The open stages in pipeline order (those given, else by their median position in their deals'
    histories, closing stages left out), and the closing stages."""
    from hitrate.engine.counting import fetch

    order = fetch(
        source,
        pos.group_by("stage").aggregate(position=pos._pos.median(), n=pos.count()).order_by("stage"),
    )
    names = [str(s) for s in order["stage"]]
    closing = _closing_stages(source, pos, opps.filter(opps._won | opps._lost).select("id"))
    if stages:
        open_stages = comma_list(stages)
        unknown = [s for s in open_stages if s not in names]
        if unknown:
            found = {"unknown": Joined(unknown), "names": Joined(names)}
            raise UserInputError("funnel.unknown_stages", param=Param("stages"), **found)
    else:
        ranked = sorted(zip(order["position"].tolist(), names, strict=True))
        open_stages = [s for _, s in ranked if s not in closing]
    if not open_stages:
        raise UserInputError("funnel.no_open_stages")
    return open_stages, closing


def _stage_counts(
    source: Any, h: Any, o: Any, open_stages: list[str], groups: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Two grouped queries: per group and furthest open stage reached, the deals, won and lost (``per``); per
    group and open stage, the median days to the deal's next history entry (``days``)."""
    from hitrate.engine.counting import fetch

    def ranked_stage(t: Any) -> Any:  # the stage's position in the pipeline; NULL for closing stages
        return t.stage.cases(*[(name, i) for i, name in enumerate(open_stages)], else_=None)

    hr = h.mutate(_rank=ranked_stage(h))
    hr = hr.filter(hr._rank.notnull())
    furthest = hr.group_by(_hid=hr.id).aggregate(_max=hr._rank.max())
    deals = o.inner_join(furthest, o.id == furthest._hid)
    lost_only = deals._lost & ~deals._won
    per = fetch(
        source,
        deals.group_by([*groups, "_max"]).aggregate(
            n=deals.count(), won=deals.count(where=deals._won), lost=deals.count(where=lost_only)
        ),
    )
    # Days in stage: to the next history entry of the same deal.
    nxt = h.mutate(_next=h.entered_at.lead().over(group_by=h.id, order_by=[h.entered_at, h.stage]))
    nxt = nxt.filter(nxt._next.notnull()).mutate(
        _days=(nxt._next.epoch_seconds() - nxt.entered_at.epoch_seconds()) / 86400
    )
    nxt = nxt.mutate(_rank=ranked_stage(nxt))
    nxt = nxt.filter(nxt._rank.notnull())
    n2 = o.inner_join(nxt, o.id == nxt.id)
    days = fetch(source, n2.group_by([*groups, "_rank"]).aggregate(median_days=n2._days.median()))
    return per, days


def _of_group(columns: dict[str, np.ndarray], group: dict[str, Any], size: int) -> np.ndarray:
    """Which entries of fetched ``columns`` (``size`` long) belong to ``group``."""
    mask = np.ones(size, dtype=bool)
    for g, v in group.items():
        mask &= np.asarray([x == v for x in columns[g]])
    return mask


def _group_rows(
    group: dict[str, Any],
    per: dict[str, np.ndarray],
    days: dict[str, np.ndarray],
    open_stages: list[str],
    confidence: float,
) -> list[dict[str, Any]]:
    """One group's row per open stage: cumulative sums of the furthest stages reached, and their intervals."""
    from hitrate.stats.intervals import wilson_interval

    s = len(open_stages)
    mask = _of_group(per, group, len(per["n"]))
    at, won, lost = np.zeros(s), np.zeros(s), np.zeros(s)
    for m, n, w, lo in zip(per["_max"][mask], per["n"][mask], per["won"][mask], per["lost"][mask], strict=True):
        at[int(m)] += n
        won[int(m)] += w
        lost[int(m)] += lo
    reached = np.cumsum(at[::-1])[::-1]
    won_from = np.cumsum(won[::-1])[::-1]
    advanced = np.append(reached[1:], 0.0)
    c_low, c_high = wilson_interval(advanced, reached, confidence)
    w_low, w_high = wilson_interval(won_from, reached, confidence)
    dmask = _of_group(days, group, len(days["_rank"]))
    median = {int(r): float(d) for r, d in zip(days["_rank"][dmask], days["median_days"][dmask], strict=True)}
    rows: list[dict[str, Any]] = []
    for i, stage in enumerate(open_stages):
        moves_on = i < s - 1 and bool(reached[i])  # the last open stage has no next one to convert to
        rows.append(
            {
                **group,
                "stage": stage,
                "reached": int(reached[i]),
                "advanced": int(advanced[i]) if i < s - 1 else None,
                "conversion": float(advanced[i] / reached[i]) if moves_on else None,
                "conversion_low": float(c_low[i]) if moves_on else None,
                "conversion_high": float(c_high[i]) if moves_on else None,
                "won": int(won_from[i]),
                "win_rate": float(won_from[i] / reached[i]) if reached[i] else None,
                "win_rate_low": float(w_low[i]) if reached[i] else None,
                "win_rate_high": float(w_high[i]) if reached[i] else None,
                "lost_here": int(lost[i]),
                "median_days": median.get(i),
            }
        )
    return rows


def _closing_stages(source: Any, pos: Any, decided_ids: Any) -> set[str]:
    """Stages where decided deals' histories end in at least 90% of the stage's entries."""
    from hitrate.engine.counting import fetch

    d = pos.inner_join(decided_ids, pos.id == decided_ids.id)
    ends = fetch(
        source, d.group_by("stage").aggregate(ends=d.count(where=d._pos == d._n - 1), n=d.count()).order_by("stage")
    )
    return {str(s) for s, e, n in zip(ends["stage"], ends["ends"], ends["n"], strict=True) if n and e / n >= 0.9}


#: The stage funnel under the command's name (``hitrate funnel``).
funnel = stage_funnel
