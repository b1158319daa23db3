"""What a higher hit rate is worth: +X points of hit rate in won deals and revenue.

Per group (or overall), over the decided deals of the period (closed basis: won + lost) and the deals still
open:

* ``extra_wins`` = decided deals × X / 100: the deals the same volume would have won at X points more;
* ``extra_revenue`` = extra_wins × the mean amount of won deals, with an interval from the mean's
  t-interval (the won amounts' standard deviation over √n): what those deals are worth if they are like the
  deals won today;
* ``pipeline_extra_wins`` and ``pipeline_extra_revenue``: the same for the open deals, when they close.

The assumption, stated in every output: the extra wins come from deals like those already won (same size).
If a higher hit rate comes from winning smaller deals, the revenue is less. Counting runs in the engine (one
grouped query: counts, sums and sums of squares); the arithmetic on the small table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hitrate.analysis._common import DefinitionsArg, resolve_definitions
from hitrate.analysis._words import Number
from hitrate.analysis.results import RecordsResult
from hitrate.errors import UnknownFieldError, UserInputError
from hitrate.i18n import DEFAULT_LANG, Message, Param

if TYPE_CHECKING:
    import plotly.graph_objects as go

ASSUMPTION = Message("worth.assumption")


@dataclass
class WorthResult(RecordsResult):
    """One row per group (one in all without ``by``); see the module docstring.

    ``to_dict()``: ``points``, ``by``, ``assumption`` and ``warnings`` (English), ``rows``.
    """

    dict_keys = ("points", "by", "assumption", "warnings", "rows")

    points: float
    by: str | None
    rows: list[dict[str, Any]]
    warnings: list[Message | str] = field(default_factory=list)

    @property
    def assumption(self) -> Message:
        """What every number rests on: the extra wins are like the deals won today."""
        return ASSUMPTION

    def title(self) -> Message:
        """``+5 points of hit rate``."""
        return Message("worth.title", points=Number(self.points, "g"))

    def headline(self) -> Message:
        """The extra wins and revenue over all groups, and what the open pipeline adds."""
        total = {k: sum(r[k] or 0.0 for r in self.rows) for k in ("extra_wins", "pipeline_extra_wins")}
        priced = [r["extra_revenue"] for r in self.rows if r["extra_revenue"] is not None]
        return Message(
            "worth.headline",
            wins=total["extra_wins"],
            revenue=sum(priced) if priced else None,
            pipeline=total["pipeline_extra_wins"],
        )

    def notes(self) -> list[Message | str]:
        """The assumption every number rests on, then the warnings."""
        return [Message("worth.assumption_note", assumption=ASSUMPTION), *self.warnings]

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """The extra revenue per group with its interval (bars), on this volume."""
        from hitrate.analysis._figures import worth_figure

        return worth_figure(self, lang)


def worth(
    source: Any,
    *,
    points: float,
    by: str | None = None,
    definitions: DefinitionsArg = None,
    confidence: float = 0.95,
) -> WorthResult:
    """+``points`` percentage points of hit rate in wins and revenue; see the module docstring.

    The keyword arguments are the command line's options (``definitions`` may be a file's path). Raises
    :class:`~hitrate.errors.UserInputError` unless ``0 < points < 100`` and
    :class:`~hitrate.errors.UnknownFieldError` for a ``by`` the data does not have.
    """
    from scipy.stats import t as student_t

    from hitrate.engine.counting import fetch
    from hitrate.engine.expressions import classified, fields_available
    from hitrate.engine.query import Query

    if not 0 < points < 100:
        raise UserInputError("worth.points_range", param=Param("points"), points=Number(points, "g"))
    if by and by not in fields_available(source):
        raise UnknownFieldError(by, fields_available(source), Param("by"))
    defs = resolve_definitions(source, definitions, None)
    t = classified(source, defs, Query(), {"amount"} | ({by} if by else set()))
    decided = t._won | t._lost
    won_amount = t._won & t.amount.notnull()
    amount = t.amount.cast("float64")
    metrics = {
        "decided": t.count(where=decided),
        "won": t.count(where=t._won),
        "won_priced": t.count(where=won_amount),
        "won_sum": amount.sum(where=won_amount),
        "won_sumsq": (amount * amount).sum(where=won_amount),
        "open": t.count(where=~decided),
    }
    groups = [by] if by else []
    expr = t.group_by(groups).aggregate(**metrics).order_by(groups) if groups else t.aggregate(**metrics)
    c = fetch(source, expr)
    x = points / 100
    rows: list[dict[str, Any]] = []
    for i in range(len(c["decided"])):
        n_dec, n_won, m = int(c["decided"][i]), int(c["won"][i]), int(c["won_priced"][i])
        s = float(c["won_sum"][i]) if c["won_sum"][i] is not None and not _nan(c["won_sum"][i]) else 0.0
        ss = float(c["won_sumsq"][i]) if c["won_sumsq"][i] is not None and not _nan(c["won_sumsq"][i]) else 0.0
        mean = s / m if m else None
        low: float | None = None
        high: float | None = None
        if m >= 2 and mean is not None:
            var = max((ss - m * mean * mean) / (m - 1), 0.0)
            half = float(student_t.ppf(0.5 + confidence / 2, m - 1)) * math.sqrt(var / m)
            low, high = mean - half, mean + half
        extra = n_dec * x
        pipe = int(c["open"][i]) * x
        row: dict[str, Any] = {g: c[g][i] for g in groups}
        row.update(
            decided=n_dec,
            won=n_won,
            hit_rate=n_won / n_dec if n_dec else None,
            new_hit_rate=min(n_won / n_dec + x, 1.0) if n_dec else None,
            mean_won_amount=mean,
            mean_low=low,
            mean_high=high,
            extra_wins=extra,
            extra_revenue=None if mean is None else extra * mean,
            extra_revenue_low=None if low is None else extra * low,
            extra_revenue_high=None if high is None else extra * high,
            open=int(c["open"][i]),
            pipeline_extra_wins=pipe,
            pipeline_extra_revenue=None if mean is None else pipe * mean,
        )
        rows.append(row)
    warnings: list[Message | str] = []
    if any(r["mean_won_amount"] is None for r in rows):
        warnings.append(Message("worth.unpriced"))
    return WorthResult(points, by, rows, warnings)


def _nan(value: Any) -> bool:
    return isinstance(value, float) and np.isnan(value)
