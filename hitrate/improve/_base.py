"""What the improve layer's modules share: a bad-value error, English text that keeps its message, and the
result base for tables of rows.

* :class:`InvalidValueError`: a parameter value the function cannot use, with a sentence of the area's own
  (``--target 1.3: a hit-rate goal must be between 0 and 1``); it names the parameter as a
  :class:`~hitrate.i18n.Param`, so each face writes it its way, and it is a ``ValueError`` like
  :class:`~hitrate.errors.InvalidParameterError`.
* :class:`Worded`: a :class:`~hitrate.i18n.Message` rendered in English that is also a ``str``. The command line
  puts a few of the results' texts straight into a table (a caption, a cell), where only a ``str`` prints as
  before; :meth:`Worded.render` gives any other language.
* :class:`RowsResult`: a result whose main table is a list of row dicts (``rows``): ``to_frame`` flattens them
  (a nested ``{"peers": {"rate": ...}}`` becomes ``peers_rate``), ``notes`` are its ``warnings``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from hitrate.i18n import Message, Phrase
from hitrate.report.result import Result, json_ready

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from hitrate.report import RateTable


class _Record(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


T = TypeVar("T", bound=_Record)


def as_message(value: Message | str) -> Message | str:
    """The message behind ``value`` (a :class:`~hitrate.i18n.Phrase` gives its message back)."""
    return value.message if isinstance(value, Phrase) else value


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A row with nested dicts spread into ``outer_inner`` columns; lists become text."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}_"))
        elif isinstance(value, list | tuple):
            out[name] = ", ".join(str(v) for v in value)
        else:
            out[name] = value
    return out


def rows_frame(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] = ()) -> pd.DataFrame:
    """Row dicts as a DataFrame (nested dicts flattened), with ``columns`` even when there are no rows."""
    import pandas as pd

    frame = pd.DataFrame([flatten(r) for r in rows])
    if not len(frame) and columns:
        return pd.DataFrame(columns=list(columns))
    return frame


def rate_table(
    title: str,
    rows: Iterable[tuple[str, float, float, float | None, float | None, float | None]],
    label: str,
    *,
    overall: float | None = None,
    note: str = "",
) -> RateTable | None:
    """A report :class:`~hitrate.report.RateTable` (dots with whiskers) from ``(label, attempts, hits, rate,
    low, high)`` tuples; None when no row has attempts."""
    import pandas as pd

    from hitrate.report import RateTable

    nan = float("nan")
    frame = pd.DataFrame(
        [
            {
                label: name,
                "attempts": int(n),
                "hits": int(k),
                "hit_rate": nan if rate is None else float(rate),
                "ci_low": nan if low is None else float(low),
                "ci_high": nan if high is None else float(high),
                "amount_won": nan,
                "value_hit_rate": nan,
            }
            for name, n, k, rate, low, high in rows
        ]
    )
    if not len(frame) or not (frame["attempts"] > 0).any():
        return None
    return RateTable(title, frame, label, "bars", overall, note)


class DataResult(Result):
    """A dataclass result whose ``to_dict()`` is its fields, JSON-ready, messages in English."""

    def to_dict(self) -> dict[str, Any]:
        """The fields, in order, as JSON-ready data."""
        return {f.name: json_ready(getattr(self, f.name)) for f in dataclasses.fields(self) if f.repr}  # type: ignore[arg-type]


class RowsResult(DataResult):
    """A result whose table is ``self.rows`` (a list of dicts) and whose notes are ``self.warnings``."""

    rows: list[dict[str, Any]]
    #: The columns of an empty frame.
    COLUMNS: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (nested values spread into ``outer_inner`` columns)."""
        return rows_frame(self.rows, self.COLUMNS)


class RecordList(list[T], Result):
    """A list of records (goals, interventions) that is also a result: ``to_dict()`` is ``{KEY: [...]}``, the
    frame one row per record; a subclass gives ``KEY``, ``TITLE`` and ``HEADLINE`` (message ids, the headline
    with the count ``n``) and ``plot``."""

    KEY: ClassVar[str] = "items"
    TITLE: ClassVar[str] = ""
    HEADLINE: ClassVar[str] = ""

    def to_frame(self) -> pd.DataFrame:
        """One row per record."""
        return rows_frame(r.to_dict() for r in self)

    def to_dict(self) -> dict[str, Any]:
        """``{KEY: [record, ...]}``, JSON-ready."""
        return {self.KEY: [r.to_dict() for r in self]}

    def title(self) -> Message:
        return Message(self.TITLE)

    def headline(self) -> Message:
        return Message(self.HEADLINE, n=len(self))


def interval_figure(
    labels: Sequence[str],
    values: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    *,
    title: str,
    axis: str,
    zero: float | None = 0.0,
    percent: bool = False,
) -> go.Figure:
    """Dots with whiskers, one row per label (top to bottom in the given order), with a line at ``zero``."""
    import plotly.graph_objects as go

    nan = float("nan")
    x = [nan if v is None else float(v) for v in values]
    plus = [nan if (h is None or v != v) else float(h) - v for h, v in zip(highs, x, strict=True)]
    minus = [nan if (lo is None or v != v) else v - float(lo) for lo, v in zip(lows, x, strict=True)]
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=list(labels),
            mode="markers",
            marker={"size": 10},
            error_x={"type": "data", "array": plus, "arrayminus": minus, "symmetric": False},
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    if zero is not None:
        fig.add_vline(x=zero, line_dash="dot", line_color="grey")
    fig.update_layout(title=title, xaxis_title=axis, showlegend=False, margin={"l": 10, "r": 10, "t": 50, "b": 40})
    fig.update_yaxes(autorange="reversed")
    if percent:
        fig.update_xaxes(tickformat=".0%")
    return fig
