"""The data a report section is made of: :class:`RateTable`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..results import RATE_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

#: Columns every section frame must have, besides its label column(s): a rates result's columns.
METRIC_COLUMNS: tuple[str, ...] = RATE_COLUMNS
KINDS: tuple[str, ...] = ("bars", "trend")


@dataclass
class RateTable:
    """One section of a report: a titled table of hit rates, drawn as a chart and a table.

    ``frame`` has one or more label columns (``team``, ``rep``, ``period``...) followed
    by the metric columns ``attempts`` (int), ``hits`` (int), ``hit_rate``, ``ci_low``,
    ``ci_high`` (proportions in 0..1, the interval a 95% Wilson interval),
    ``amount_won`` and ``value_hit_rate`` (may be NaN). ``label`` names the column that
    labels the rows in the chart; every non-metric column is shown in the table.

    ``kind`` is ``"bars"`` (a horizontal dot-and-whisker chart sorted by rate, with a
    vertical line at ``overall_rate`` if given) or ``"trend"`` (a line over the period
    labels, in the frame's order, with a shaded 95% band and markers sized by attempts).
    ``note`` is a plain-words explanation printed under the chart.

    Raises ``ValueError`` if ``kind`` is unknown or ``frame`` lacks ``label`` or a
    metric column.
    """

    title: str
    frame: pd.DataFrame
    label: str
    kind: str = "bars"
    overall_rate: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"RateTable {self.title!r}: kind must be one of {KINDS}, not {self.kind!r}")
        columns = [str(c) for c in self.frame.columns]
        if self.label not in columns:
            raise ValueError(
                f"RateTable {self.title!r}: label column {self.label!r} is not in the frame "
                f"(columns: {', '.join(columns)})"
            )
        if self.label in METRIC_COLUMNS:
            raise ValueError(f"RateTable {self.title!r}: label column {self.label!r} is a metric column")
        missing = [c for c in METRIC_COLUMNS if c not in columns]
        if missing:
            raise ValueError(f"RateTable {self.title!r}: frame lacks column(s): {', '.join(missing)}")

    @property
    def label_columns(self) -> list[str]:
        """The frame's non-metric columns, in frame order (the chart's ``label`` among them)."""
        return [str(c) for c in self.frame.columns if str(c) not in METRIC_COLUMNS]


@dataclass(frozen=True)
class Row:
    """One row of a section, read out of its frame: raw numbers plus their printed forms."""

    labels: tuple[str, ...]  # one text per label column, in frame order
    name: str  # what the chart calls this row
    attempts: int
    hits: int
    rate: float  # NaN when there are no attempts
    ci_low: float
    ci_high: float
    value_rate: float  # NaN when not available
    amount_won: float
    rate_text: str
    interval_text: str
    value_rate_text: str
    amount_text: str
    attempts_text: str
    hits_text: str

    @property
    def charted(self) -> bool:
        """Whether the row has a rate and interval to draw."""
        return self.attempts > 0 and all(x == x for x in (self.rate, self.ci_low, self.ci_high))
