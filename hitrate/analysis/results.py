"""Result objects: every computation returns one, with ``summary()``, ``to_frame()`` and ``to_dict()``.

Results hold their columns as numpy arrays; the pandas DataFrame is built on first use, so a
command that only prints JSON never imports pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from hitrate.analysis._common import english_dict
from hitrate.i18n import DEFAULT_LANG, Joined, Message
from hitrate.report.result import RATE_COLUMNS, Result, clean, clean_column
from hitrate.spec.model import Definitions

if TYPE_CHECKING:
    import pandas as pd

    from hitrate.report._model import Section
    from hitrate.report.workbook import DataTable

__all__ = ["RATE_COLUMNS", "RatesResult", "RecordsResult", "clean"]


class RecordsResult(Result):
    """A result whose main table is a list of rows (dicts): the stage funnel, the ramp curves, worth.

    ``to_frame()`` is the rows named by :attr:`records` as a DataFrame; ``to_dict()`` the attributes named by
    :attr:`dict_keys`, in that order, with every message in them as its English sentence.
    """

    records: ClassVar[str] = "rows"
    dict_keys: ClassVar[tuple[str, ...]] = ()

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame, one column per key."""
        import pandas as pd

        return pd.DataFrame(getattr(self, self.records))

    def to_dict(self) -> dict[str, Any]:
        """The attributes of :attr:`dict_keys`, sentences in English."""
        return english_dict(**{name: getattr(self, name) for name in self.dict_keys})


@dataclass
class RatesResult(Result):
    """Hit rates per group, each with attempts, hits, a Wilson 95% interval and value hit rate.

    ``columns`` holds, per group, the ``by`` fields, ``period`` (when asked), ``attempts``, ``hits``,
    ``hit_rate``, ``ci_low``, ``ci_high``, ``amount_won`` and ``value_hit_rate``; :attr:`rows` is the same
    as a DataFrame.
    """

    columns: dict[str, np.ndarray]
    definitions: Definitions
    by: tuple[str, ...]
    period: str | None
    query: dict[str, Any]
    warnings: list[Message | str] = field(default_factory=list)
    method: Message | str = field(default_factory=lambda: Message("rates.method"))

    #: The key of the main table (its sheet is the catalogue's ``workbook.sheet_<key>``).
    TABLE: ClassVar[str] = "rates"
    #: Columns holding proportions (shown as percentages in a workbook).
    PROPORTIONS: ClassVar[frozenset[str]] = frozenset(
        {"hit_rate", "ci_low", "ci_high", "value_hit_rate", "change", "change_low", "change_high"}
        | {"eventual_rate", "eventual_low", "eventual_high"}
    )

    def add_method(self, part: Message) -> None:
        """Append a sentence to the method (a conversion note, the eventual-rate estimator)."""
        parts = self.method.params["items"] if isinstance(self.method, Joined) else [self.method]
        self.method = Joined([*parts, part], Message("rates.method_sep"))

    @cached_property
    def rows(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame (built on first use)."""
        import pandas as pd

        return pd.DataFrame({name: values for name, values in self.columns.items()})

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON-ready dicts (None for missing values)."""
        names = list(self.columns)
        if not names or "attempts" not in self.columns:
            return []
        cols = [clean_column(self.columns[name]) for name in names]  # a column at a time, not a call per cell
        return [dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True)]

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (a copy)."""
        return self.rows.copy()

    def tables(self) -> list[DataTable]:
        """One table: every column (what ``--format csv`` writes), the amount won as money."""
        return [self.main_table()]

    def main_table(self) -> DataTable:
        """The rows over every column, proportions, counts and the amount won marked."""
        from hitrate.report.workbook import DataTable

        names = tuple(self.columns)
        return DataTable(
            self.TABLE,
            names,
            self.records(),
            percent=self.PROPORTIONS.intersection(names),
            money=frozenset({"amount_won"}).intersection(names),
            counts=frozenset({"attempts", "hits"}),
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"definitions": {"hash", ...}, "query", "method", "warnings", "rows": [...]}``, JSON-ready."""
        return {
            "definitions": {
                "hash": self.definitions.hash,
                "name": self.definitions.name,
                "denominator": self.definitions.denominator,
                "basis": self.definitions.basis,
                "period_date": self.definitions.effective_period_date,
            },
            "query": self.query,
            "method": str(self.method),
            "warnings": [str(w) for w in self.warnings],
            "rows": self.records(),
        }

    def title(self) -> Message:
        """``Hit rate by rep, per month`` (the groups and the period asked)."""
        if self.by and self.period:
            return Message("rates.title_by_period", by=Joined(self.by), period=Message(f"rates.period_{self.period}"))
        if self.by:
            return Message("rates.title_by", by=Joined(self.by))
        if self.period:
            return Message("rates.title_period", period=Message(f"rates.period_{self.period}"))
        return Message("rates.title")

    def headline(self) -> Message | None:
        """The rates in one plain sentence (:func:`rates_headline`); None without rows."""
        return rates_headline(self.columns, self.by, self.period, self.definitions.denominator)

    def sections(self, lang: str = DEFAULT_LANG) -> Sequence[Section]:
        """One report section: dots with whiskers by group, or a line over the periods."""
        from hitrate.report._model import RateTable

        frame = self.to_frame()
        if not len(frame):
            return []
        if self.period:
            frame = frame.assign(period=[" · ".join(map(str, r)) for r in frame[[*self.by, "period"]].values])
            label, kind = "period", "trend"
        elif self.by:
            label, kind = self.by[0], "bars"
        else:
            frame = frame.assign(all=Message("rates.all").render(lang))
            label, kind = "all", "bars"
        labels = [label] + [c for c in (*self.by,) if c != label and not self.period]
        words = self.section_words(lang)
        table = frame[[*labels, *RATE_COLUMNS]]
        return [RateTable(self.title().render(lang), table, label, kind, lead=words["lead"], method=words["method"])]


def rates_headline(
    columns: dict[str, np.ndarray], by: Sequence[str], period: str | None, denominator: str
) -> Message | None:
    """What a rates table says, in one sentence a sales leader reads first.

    * Without groups or periods: the share won, with hits, attempts and the 95% interval.
    * By periods: the last period against the one before, *clearly* up or down when the 95% Newcombe interval
      of the difference (:func:`hitrate.stats.compare.compare_proportions`) leaves out 0, otherwise not clearly
      different (groups summed per period).
    * By groups: the overall rate (all groups' hits over their attempts) and how many groups are *clearly*
      above or below it, their 95% Wilson interval lying wholly on one side, naming the highest and the lowest.
    """
    from hitrate.stats.compare import compare_proportions

    attempts = np.asarray(columns.get("attempts", []), dtype=float)
    hits = np.asarray(columns.get("hits", []), dtype=float)
    if not len(attempts) or attempts.sum() <= 0:
        return None
    unit = Message(f"rates.denominator_{denominator}")
    if period:
        periods = np.asarray([str(p) for p in columns["period"]])
        order = sorted(set(periods.tolist()))
        counts = [(int(hits[periods == p].sum()), int(attempts[periods == p].sum())) for p in order]
        counts, order = [c for c in counts if c[1]], [p for p, c in zip(order, counts, strict=True) if c[1]]
        (k1, n1) = counts[-1]
        if len(counts) < 2:
            return Message("rates.plain_period", period=order[-1], rate=k1 / n1, hits=k1, attempts=n1, unit=unit)
        (k0, n0) = counts[-2]
        d = compare_proportions(k1, n1, k0, n0)
        how = "up" if d.low > 0 else "down" if d.high < 0 else "same"
        return Message(
            f"rates.plain_change_{how}",
            period=order[-1],
            rate=k1 / n1,
            hits=k1,
            attempts=n1,
            before=order[-2],
            before_rate=k0 / n0,
            unit=unit,
        )
    overall = float(hits.sum() / attempts.sum())
    if not by or len(attempts) == 1:
        one = len(attempts) == 1  # else no groups but several rows: no single interval to show
        return Message(
            "rates.plain_all", rate=overall, hits=int(hits.sum()), attempts=int(attempts.sum()), unit=unit,
            low=float(columns["ci_low"][0]) if one else None, high=float(columns["ci_high"][0]) if one else None,
        )  # fmt: skip
    names = [" · ".join(str(columns[f][i]) for f in by) for i in range(len(attempts))]
    rate = np.divide(hits, attempts, out=np.full_like(hits, np.nan), where=attempts > 0)
    lows, highs = np.asarray(columns["ci_low"], dtype=float), np.asarray(columns["ci_high"], dtype=float)
    above, below = np.flatnonzero(lows > overall), np.flatnonzero(highs < overall)
    top = max(above, key=lambda i: rate[i]) if len(above) else None
    bottom = min(below, key=lambda i: rate[i]) if len(below) else None
    if top is None and bottom is None:
        return Message("rates.plain_groups_even", overall=overall, unit=unit, groups=len(attempts))
    return Message(
        "rates.plain_groups",
        overall=overall,
        unit=unit,
        above=Message("rates.above_none")
        if top is None
        else Message("rates.above_some", n=len(above), groups=len(attempts), name=names[top], rate=rate[top]),
        below=Message("rates.below_none")
        if bottom is None
        else Message("rates.below_some", n=len(below), name=names[bottom], rate=rate[bottom]),
    )
