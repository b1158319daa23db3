"""The data a report section is made of.

* :class:`RateTable`: hit rates by group as dots with whiskers (``kind="bars"``) or over
  periods (``kind="trend"``).
* :class:`FunnelPlot` (``kind="funnel"``): hit rate against attempts with funnel-shaped
  control limits around the overall rate.
* :class:`CaterpillarPlot` (``kind="caterpillar"``): shrunk hit rates with their intervals,
  next to the raw rates they were shrunk from.
* :class:`SeasonalPlot` (``kind="seasonal"``): a monthly series with its trend and its
  seasonally adjusted rate, plus the seasonal odds factors by month.
* :class:`CohortCurves` (``kind="cohorts"``): the cumulative share of each cohort's deals won
  by deal age.

Every section is drawn as a chart and followed by a table of the same numbers. The classes
only check their input; reading it happens when the report is rendered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from hitrate.i18n import Joined
from hitrate.report._errors import SectionError
from hitrate.report.result import RATE_COLUMNS

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
    ``note`` is a plain-words explanation printed under the chart. ``currency`` (``DKK``) is what the amounts are
    counted in, when known: the table shows them as money.

    Raises ``SectionError`` (a ``ValueError``) if ``kind`` is unknown or ``frame`` lacks ``label`` or a
    metric column.
    """

    title: str
    frame: pd.DataFrame
    label: str
    kind: str = "bars"
    overall_rate: float | None = None
    note: str = ""
    lead: str = ""
    method: str = ""
    currency: str | None = None

    def __post_init__(self) -> None:
        if self.kind in SECTION_CLASSES:
            raise SectionError(
                "report.errors.kind_is_a_section", title=self.title, kind=self.kind, section=SECTION_CLASSES[self.kind]
            )
        if self.kind not in KINDS:
            raise SectionError("report.errors.unknown_kind", title=self.title, kind=self.kind, kinds=Joined(KINDS))
        _check_frame("RateTable", self.title, self.frame, [self.label], METRIC_COLUMNS)

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


# --- the "honest benchmarking" sections ------------------------------------------------------

#: The section kind each of the classes below draws, and the class to use for it.
SECTION_CLASSES: dict[str, str] = {
    "funnel": "FunnelPlot",
    "caterpillar": "CaterpillarPlot",
    "seasonal": "SeasonalPlot",
    "cohorts": "CohortCurves",
}

#: Columns a :class:`FunnelPlot` frame must have besides its label column(s).
FUNNEL_COLUMNS: tuple[str, ...] = (
    "attempts",
    "hits",
    "hit_rate",
    "ci_low",
    "ci_high",
    "flag",
    "funnel95_low",
    "funnel95_high",
    "funnel998_low",
    "funnel998_high",
)
#: Columns a :class:`CaterpillarPlot` frame must have besides its label column(s).
CATERPILLAR_COLUMNS: tuple[str, ...] = ("attempts", "hits", "hit_rate", "shrunk_rate", "shrunk_low", "shrunk_high")
#: Columns a :class:`SeasonalPlot` frame must have besides its period column.
SEASONAL_COLUMNS: tuple[str, ...] = (
    "attempts",
    "hits",
    "hit_rate",
    "ci_low",
    "ci_high",
    "trend",
    "adjusted_rate",
    "unusual",
)
#: Columns a :class:`CohortCurves` frame must have besides its cohort column.
COHORT_COLUMNS: tuple[str, ...] = ("age", "cumulative_win_rate", "n")
#: Deal ages (days) at which :class:`CohortCurves` tabulates the share won, by default.
MILESTONES: tuple[int, ...] = (30, 60, 90, 180)


def _check_frame(cls: str, title: str, frame: pd.DataFrame, labels: Sequence[str], required: Sequence[str]) -> None:
    """Raise :class:`SectionError` unless ``frame`` has every label column and every required column."""
    columns = [str(c) for c in frame.columns]
    for label in labels:
        if label not in columns:
            raise SectionError(
                "report.errors.label_not_in_frame", section=cls, title=title, label=label, columns=Joined(columns)
            )
        if label in required:
            raise SectionError("report.errors.label_is_a_number", section=cls, title=title, label=label)
    missing = [c for c in required if c not in columns]
    if missing:
        raise SectionError("report.errors.missing_columns", section=cls, title=title, columns=Joined(missing))


def _check_rate(cls: str, title: str, name: str, value: float | None, required: bool) -> None:
    if value is None:
        if required:
            raise SectionError("report.errors.required", section=cls, title=title, name=name)
        return
    if not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= 1):
        raise SectionError("report.errors.not_a_proportion", section=cls, title=title, name=name, value=value)


class _Groups:
    """What the sections of groups (funnel, caterpillar) share: label columns ``extra_labels`` then ``label``,
    and the checks of their frame and overall rate."""

    columns: ClassVar[tuple[str, ...]]
    overall_required: ClassVar[bool]
    title: str
    frame: pd.DataFrame
    label: str
    overall_rate: float | None
    extra_labels: Sequence[str]

    def __post_init__(self) -> None:
        self.extra_labels = tuple(self.extra_labels)
        name = type(self).__name__
        _check_frame(name, self.title, self.frame, self.label_columns, self.columns)
        _check_rate(name, self.title, "overall_rate", self.overall_rate, self.overall_required)

    @property
    def label_columns(self) -> list[str]:
        """The table's label columns: ``extra_labels`` then ``label``."""
        return [*self.extra_labels, self.label]


@dataclass
class FunnelPlot(_Groups):
    """A funnel plot (``kind="funnel"``): is any group's hit rate further from the overall rate than chance?

    How to read it: each dot is a group, placed by its number of attempts (across) and its
    hit rate (up). The lines around the overall hit rate form a funnel: they show how far a
    group's rate can land from the overall rate by chance alone, given its attempts. The
    funnel is wide on the left, where a few deals swing the rate a lot, and narrows to the
    right. A dot inside the inner (95 %) lines is what chance gives; a dot outside the outer
    (99.8 %) lines is very unlikely to be luck. Dots are coloured, and shaped, by ``flag``.

    ``frame`` has the label column ``label`` (plus any ``extra_labels``, e.g. the team of
    each rep, shown in the table before it) and the columns ``attempts``, ``hits``,
    ``hit_rate``, ``ci_low``, ``ci_high`` (the rate's 95 % interval), ``flag`` (``"above"``,
    ``"below"`` or ``"within"``: the verdict of a test against the overall rate) and
    ``funnel95_low``, ``funnel95_high``, ``funnel998_low``, ``funnel998_high`` (each group's
    control limits at its own attempts, shown in the table) -- the columns of
    :func:`hitrate.analysis.benchmark.benchmark`. Other columns are ignored. ``overall_rate`` (0..1)
    is the centre of the funnel; the chart draws the limits as smooth curves from it over
    the whole range of attempts (exact binomial quantiles, interpolated). ``note`` is
    printed under the chart.

    Raises ``SectionError`` (a ``ValueError``) if a column is missing or ``overall_rate`` is not a
    proportion.
    """

    kind: ClassVar[str] = "funnel"
    columns: ClassVar[tuple[str, ...]] = FUNNEL_COLUMNS
    overall_required: ClassVar[bool] = True

    title: str
    frame: pd.DataFrame
    label: str
    overall_rate: float
    note: str = ""
    extra_labels: Sequence[str] = ()
    lead: str = ""
    method: str = ""


@dataclass
class CaterpillarPlot(_Groups):
    """Shrunk hit rates, sorted (``kind="caterpillar"``): a fairer ranking of groups of unequal size.

    How to read it: each solid dot is a group's *shrunk* hit rate and its whisker the 95 %
    interval for it; groups run from the highest shrunk rate at the top to the lowest. The
    faint ring on the same row is the group's raw hit rate (hits / attempts), joined to the
    dot by a thin line: the gap is the shrinkage. A small group is pulled a long way towards
    the overall rate, because a few lucky or unlucky deals say little about it; a big group
    hardly moves. Overlapping whiskers mean the ranking between those groups may be chance.

    ``frame`` has the label column ``label`` (plus any ``extra_labels``, shown in the table
    before it) and ``attempts``, ``hits``, ``hit_rate`` (raw), ``shrunk_rate``,
    ``shrunk_low`` and ``shrunk_high`` (as from :func:`hitrate.analysis.benchmark.benchmark`);
    other columns are ignored. ``overall_rate``, if given, is drawn as a dashed vertical line.

    Raises ``SectionError`` (a ``ValueError``) if a column is missing or ``overall_rate`` is not a
    proportion.
    """

    kind: ClassVar[str] = "caterpillar"
    columns: ClassVar[tuple[str, ...]] = CATERPILLAR_COLUMNS
    overall_required: ClassVar[bool] = False

    title: str
    frame: pd.DataFrame
    label: str
    overall_rate: float | None = None
    note: str = ""
    extra_labels: Sequence[str] = ()
    lead: str = ""
    method: str = ""


@dataclass
class SeasonalPlot:
    """A seasonal decomposition of a monthly hit rate (``kind="seasonal"``): trend, season, surprises.

    How to read it: the top chart has the hit rate of each period as dots, with its 95 %
    interval as a shaded band; the solid line is the trend (the slow movement); the dashed
    line is the seasonally adjusted rate (each period with the usual effect of its time of
    year taken out), so a dip that happens every December no longer looks like a problem.
    Triangles mark periods that were unusually high or low for their trend and season.
    The bottom chart shows each month's seasonal factor: how much that time of year lifts
    (above 1) or lowers (below 1) the odds of a hit compared with a typical month, with a
    95 % interval. A factor whose interval crosses 1 may be no effect at all.

    ``frame`` has one row per period in time order: the period column ``label`` (default
    ``"period"``) and ``attempts``, ``hits``, ``hit_rate``, ``ci_low``, ``ci_high``, ``trend``,
    ``adjusted_rate`` and ``unusual`` (``"high"``, ``"low"`` or empty) -- the series of
    :func:`hitrate.stats.seasonal.decompose` (whose ``rate`` is ``hit_rate`` here).
    ``seasonal_factors``, ``seasonal_factor_low`` and ``seasonal_factor_high`` map the
    month of the year (1..12; ISO weeks 1..52 work too) to the odds factor and its interval
    ends; all three are ``None`` when no factors were estimated, and then ``note`` (e.g.
    "fewer than two full cycles") is shown where the factor chart would be. Otherwise
    ``note`` is printed under the charts.

    Raises ``SectionError`` (a ``ValueError``) if a column is missing, or if the factors and their interval
    ends are not given together with the same keys.
    """

    kind: ClassVar[str] = "seasonal"
    columns: ClassVar[tuple[str, ...]] = SEASONAL_COLUMNS

    title: str
    frame: pd.DataFrame
    label: str = "period"
    seasonal_factors: Mapping[int, float] | None = None
    seasonal_factor_low: Mapping[int, float] | None = None
    seasonal_factor_high: Mapping[int, float] | None = None
    note: str = ""
    lead: str = ""
    method: str = ""

    def __post_init__(self) -> None:
        _check_frame("SeasonalPlot", self.title, self.frame, [self.label], self.columns)
        given = [d is not None for d in (self.seasonal_factors, self.seasonal_factor_low, self.seasonal_factor_high)]
        if any(given) and not all(given):
            raise SectionError("report.errors.factors_together", section="SeasonalPlot", title=self.title)
        if self.seasonal_factors is not None:
            keys = set(self.seasonal_factors)
            for name, ends in (("low", self.seasonal_factor_low), ("high", self.seasonal_factor_high)):
                if ends is None or set(ends) != keys:
                    raise SectionError(
                        "report.errors.factor_keys",
                        section="SeasonalPlot",
                        title=self.title,
                        name=f"seasonal_factor_{name}",
                    )

    @property
    def label_columns(self) -> list[str]:
        """The table's label column: the period."""
        return [self.label]


@dataclass
class CohortCurves:
    """Cumulative win curves of cohorts by deal age (``kind="cohorts"``): young cohorts are just younger.

    How to read it: each line is a cohort (say the deals created in 2024-Q3). It climbs as
    the cohort's deals are won: the height at 90 days is the share of the cohort's deals won
    within 90 days of being created. Young cohorts have short lines because their deals have
    not had time to close yet, so their share won *so far* is low. Compare cohorts at the
    same age, not at the ends of their lines: if a young cohort's line runs with the older
    ones, it is not doing worse, only younger.

    ``frame`` has one row per cohort and deal age: the cohort column ``label`` (default
    ``"cohort"``), ``age`` (whole days since creation), ``cumulative_win_rate`` (the share of
    the cohort won by that age, 0..1) and ``n`` (the cohort's number of deals). Rows are the
    points where a curve is known; between them a curve keeps its last value (a step), it is
    0 before its first row, and it ends at its last row (the oldest age the cohort has
    reached). Cohorts keep their frame order. The table gives, per cohort, ``n``, the age
    reached and the share won within each of ``milestones`` days, blank where the cohort is
    not that old yet.

    Raises ``SectionError`` (a ``ValueError``) if a column is missing or a milestone is not a positive
    whole number.
    """

    kind: ClassVar[str] = "cohorts"
    columns: ClassVar[tuple[str, ...]] = COHORT_COLUMNS

    title: str
    frame: pd.DataFrame
    label: str = "cohort"
    note: str = ""
    milestones: Sequence[int] = field(default=MILESTONES)
    lead: str = ""
    method: str = ""

    def __post_init__(self) -> None:
        self.milestones = tuple(self.milestones)
        _check_frame("CohortCurves", self.title, self.frame, [self.label], self.columns)
        if any(isinstance(m, bool) or not isinstance(m, int) or m <= 0 for m in self.milestones):
            raise SectionError("report.errors.milestones", section="CohortCurves", title=self.title)

    @property
    def label_columns(self) -> list[str]:
        """The table's label column: the cohort."""
        return [self.label]


@dataclass
class FindingsTable:
    """A section of findings (``hitrate doctor``): a titled table of text already in the report's language.

    ``headers`` are the column headings; each row of ``rows`` has one text per heading, the first being the
    row's header; ``numeric`` names the columns printed right-aligned. ``note`` is printed under the table;
    ``empty`` instead of the table when there are no rows. ``figure`` (a Plotly figure, optional) is drawn above
    the table with ``caption`` (how to read it) under it: the forecast's band chart, the backtest's lines.
    """

    title: str
    headers: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()
    note: str = ""
    empty: str = ""
    kind: str = "findings"
    figure: Any = None
    caption: str = ""
    lead: str = ""
    method: str = ""


#: Every section also takes ``lead``, the plain sentence it opens with (what a sales leader reads first: a
#: result's ``headline()``), and ``method``, how its numbers are worked out, named (Wilson, beta-binomial
#: empirical Bayes, ...): the page keeps it in a ``<details class="method">`` block at the section's end, so the
#: section's own words stay plain.

#: Anything :func:`hitrate.report.render_report` accepts as a section.
FrameSection: TypeAlias = RateTable | FunnelPlot | CaterpillarPlot | SeasonalPlot | CohortCurves
Section: TypeAlias = FrameSection | FindingsTable
SECTION_TYPES: tuple[type, ...] = (RateTable, FunnelPlot, CaterpillarPlot, SeasonalPlot, CohortCurves, FindingsTable)


# --- rows read out of the new sections' frames (see hitrate.report._render) -------------------


@dataclass(frozen=True)
class FunnelRow:
    """One group of a funnel plot."""

    labels: tuple[str, ...]
    name: str
    attempts: int
    hits: int
    rate: float  # NaN when there are no attempts
    ci_low: float
    ci_high: float
    flag: str  # "above", "below", "within", another text, or "" when missing
    limit95: tuple[float, float]
    limit998: tuple[float, float]

    @property
    def charted(self) -> bool:
        """Whether the group has attempts and a rate to draw."""
        return self.attempts > 0 and self.rate == self.rate


@dataclass(frozen=True)
class CaterpillarRow:
    """One group of a caterpillar plot."""

    labels: tuple[str, ...]
    name: str
    attempts: int
    hits: int
    rate: float  # raw, NaN when there are no attempts
    shrunk: float
    shrunk_low: float
    shrunk_high: float

    @property
    def charted(self) -> bool:
        """Whether the group has a shrunk rate and interval to draw."""
        return all(x == x for x in (self.shrunk, self.shrunk_low, self.shrunk_high))


@dataclass(frozen=True)
class SeasonRow:
    """One period of a seasonal decomposition."""

    name: str
    attempts: int
    hits: int
    rate: float
    ci_low: float
    ci_high: float
    trend: float
    adjusted: float
    unusual: str  # "high", "low", another text, or ""

    @property
    def charted(self) -> bool:
        """Whether the period has attempts and a rate to draw."""
        return self.attempts > 0 and self.rate == self.rate


@dataclass(frozen=True)
class FactorRow:
    """One month (or week) of the year and its seasonal odds factor."""

    key: int
    name: str
    factor: float
    low: float
    high: float  # may be inf: an unbounded interval


@dataclass(frozen=True)
class CohortCurve:
    """One cohort's cumulative win curve: ``shares[i]`` of its ``n`` deals won by ``ages[i]`` days."""

    name: str
    n: int
    ages: tuple[int, ...]  # increasing
    shares: tuple[float, ...]

    @property
    def reached(self) -> int | None:
        """The oldest deal age the cohort has reached, ``None`` for an empty curve."""
        return self.ages[-1] if self.ages else None

    def share_by(self, days: int) -> float | None:
        """Share won within ``days``, ``None`` if the cohort is not that old yet (0 before the first point)."""
        if not self.ages or self.ages[-1] < days:
            return None
        share = 0.0
        for age, value in zip(self.ages, self.shares, strict=True):
            if age > days:
                break
            share = value
        return share
