"""Two groups or two periods compared: the difference in hit rate with a Newcombe interval and a p-value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hitrate.analysis._common import DefinitionsArg, resolve_definitions
from hitrate.analysis._words import Number
from hitrate.analysis.results import clean
from hitrate.engine.counting import count
from hitrate.engine.query import Query, as_where, period_label
from hitrate.errors import UserInputError
from hitrate.i18n import DEFAULT_LANG, Joined, Message, Param
from hitrate.report.result import Result
from hitrate.spec.model import Definitions

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from hitrate.i18n import Phrase
    from hitrate.report.workbook import DataTable

SHOWN_LABELS = 12  # labels an error names, of those found


@dataclass(frozen=True)
class ComparisonResult(Result):
    """Rate A minus rate B, with attempts and hits of each, a Newcombe interval and a two-sided p-value.

    ``label`` names what was compared: the field (``team``) or the periods (``quarters``).
    """

    label: str
    a: str
    b: str
    difference: Any  # hitrate.stats.compare.Difference
    definitions: Definitions
    #: rate B / rate A − 1 with its interval (score interval of the ratio), or Nones when rate A is 0.
    relative: tuple[float | None, float | None, float | None] = (None, None, None)

    def to_dict(self) -> dict[str, Any]:
        """``definitions``, ``compared``, ``a`` and ``b`` (label, attempts, hits, hit rate), ``difference`` (A − B)
        with ``ci_low``/``ci_high``, ``change`` (B − A, the same in the other direction) with
        ``change_ci_low``/``change_ci_high``, ``relative_lift`` (rate B / rate A − 1) with
        ``relative_ci_low``/``relative_ci_high``, ``p_value`` and ``method``, JSON-ready."""
        d = self.difference
        lift, lift_low, lift_high = self.relative
        return {
            "definitions": {"hash": self.definitions.hash, "basis": self.definitions.basis},
            "compared": self.label,
            "a": {"label": self.a, "attempts": d.attempts_a, "hits": d.hits_a, "hit_rate": clean(d.rate_a)},
            "b": {"label": self.b, "attempts": d.attempts_b, "hits": d.hits_b, "hit_rate": clean(d.rate_b)},
            "difference": clean(d.difference),
            "ci_low": clean(d.low),
            "ci_high": clean(d.high),
            "change": clean(-d.difference),
            "change_ci_low": clean(-d.high),
            "change_ci_high": clean(-d.low),
            "relative_lift": clean(lift),
            "relative_ci_low": clean(lift_low),
            "relative_ci_high": clean(lift_high),
            "p_value": clean(d.p_value),
            "method": clean(d.method),
        }

    def to_frame(self) -> pd.DataFrame:
        """The comparison as a one-row DataFrame."""
        import pandas as pd

        flat = self.to_dict()
        return pd.DataFrame(
            [
                {
                    "a": self.a,
                    "b": self.b,
                    "attempts_a": flat["a"]["attempts"],
                    "hits_a": flat["a"]["hits"],
                    "attempts_b": flat["b"]["attempts"],
                    "hits_b": flat["b"]["hits"],
                    "difference": flat["difference"],
                    "ci_low": flat["ci_low"],
                    "ci_high": flat["ci_high"],
                    "p_value": flat["p_value"],
                }
            ]
        )

    @property
    def method(self) -> Phrase:
        """How the interval and the p-value were found (Newcombe's interval; Pearson's or Fisher's test)."""
        method: Phrase = self.difference.method
        return method

    def tables(self) -> list[DataTable]:
        """One row: each side's label, attempts, hits and hit rate, the difference A − B and the change B − A with
        their intervals, the relative lift with its interval and the p-value (the keys of ``to_dict()``)."""
        from hitrate.report.workbook import DataTable

        d = self.to_dict()
        row = {"compared": d["compared"]}
        for side in ("a", "b"):
            row.update(
                {side: d[side]["label"], **{f"{k}_{side}": d[side][k] for k in ("attempts", "hits", "hit_rate")}}
            )
        row.update({k: v for k, v in d.items() if not isinstance(v, dict) and k not in ("compared", "method")})
        percent = {
            c for c in row if c not in ("compared", "a", "b", "p_value") and not c.startswith(("attempts", "hits_"))
        }
        counts = frozenset({"attempts_a", "hits_a", "attempts_b", "hits_b"})
        return [DataTable("comparison", tuple(row), [row], frozenset(percent), counts=counts)]

    def title(self) -> Message:
        """``Team North against Team South``."""
        return Message("compare.title", a=self.a, b=self.b)

    def headline(self) -> Message:
        """In words and units, from A to B: ``Dec is 1.1 points higher than Nov: 4.7% → 5.8% (...), +23% relative
        (...); p = 0.02``, then the difference A − B with its interval as the method states it."""
        d = self.difference
        change = -d.difference
        direction = "higher" if change > 0 else "lower" if change < 0 else "same"
        lift, lift_low, lift_high = self.relative
        relative = (
            Message("compare.relative", lift=Number(lift, "+.0%"), low=Number(lift_low, "+.0%"), high=_upper(lift_high))
            if lift is not None
            else Message("compare.no_relative", a=self.a)
        )
        return Message(
            f"compare.summary_{direction}",
            points=Number(abs(change) * 100, ".1f"),
            change_low=Number(-d.high * 100, "+.1f"),
            change_high=Number(-d.low * 100, "+.1f"),
            relative=relative,
            a=self.a,
            hits_a=d.hits_a,
            attempts_a=d.attempts_a,
            rate_a=Number(d.rate_a, ".1%"),
            b=self.b,
            hits_b=d.hits_b,
            attempts_b=d.attempts_b,
            rate_b=Number(d.rate_b, ".1%"),
            difference=Number(d.difference, "+.1%"),
            low=Number(d.low, "+.1%"),
            high=Number(d.high, "+.1%"),
            p=Number(d.p_value, ".3g"),
        )

    def summary(self, lang: str = DEFAULT_LANG) -> str:
        """The comparison in plain words (what ``hitrate compare`` prints)."""
        return self.headline().render(lang)

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """The two hit rates as dots with their 95% Wilson intervals, the difference in the title."""
        from hitrate.analysis._figures import two_rates

        return two_rates(self, lang)


def compare(
    source: Any,
    a: str,
    b: str,
    *,
    by: str | None = None,
    period: str | None = None,
    basis: str | None = None,
    where: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    definitions: DefinitionsArg = None,
    confidence: float = 0.95,
) -> ComparisonResult:
    """Compare two values of ``by`` (e.g. two reps) or two period labels (``period``, e.g. ``2017-Q1`` and
    ``2017-Q2``): difference of hit rates with the Newcombe hybrid score interval and a two-sided p-value
    (see :func:`hitrate.stats.compare.compare_proportions`).

    The keyword arguments are the command line's options (``where`` as a mapping or ``FIELD=VALUE`` items,
    ``definitions`` or a file's path). Raises :class:`~hitrate.errors.UserInputError` unless exactly one of
    ``by`` and ``period`` is given, or when ``a`` or ``b`` has no attempts.
    """
    from hitrate.stats.compare import compare_proportions

    if (by is None) == (period is None):
        raise UserInputError("compare.by_or_period", by=Param("by"), period=Param("period"))
    defs = resolve_definitions(source, definitions, basis)
    if by is not None:
        query = Query.build(by=[by], date_from=date_from, date_to=date_to, where={**as_where(where), by: [a, b]})
        c = count(source, defs, query).columns
        labels = [str(v) for v in c[by].tolist()]
        label = by
    else:
        query = Query.build(period=period, date_from=date_from, date_to=date_to, where=where)
        c = count(source, defs, query).columns
        labels = [period_label(s, str(period)) for s in c["period_start"].astype("datetime64[us]").tolist()]
        label = f"{period}s"
    among = label if by is not None else Message(f"compare.periods_{period}")
    found = {lab: (int(n), int(k)) for lab, n, k in zip(labels, c["attempts"], c["hits"], strict=True)}
    for value in (a, b):
        if value not in found:
            raise UserInputError("compare.no_attempts", value=value, among=among, found=_shown(labels))
    (na, ka), (nb, kb) = found[a], found[b]
    difference = compare_proportions(ka, na, kb, nb, confidence=confidence)
    return ComparisonResult(label, a, b, difference, defs, relative_lift(ka, na, kb, nb, confidence))


def _upper(value: float | None) -> Any:
    """The upper bound of a relative lift: a number, or ``no upper bound`` (rate A of 0 in the interval)."""
    if value is None or value == float("inf"):
        return Message("compare.unbounded")
    return Number(value, "+.0%")


def relative_lift(
    hits_a: int, attempts_a: int, hits_b: int, attempts_b: int, confidence: float = 0.95
) -> tuple[float | None, float | None, float | None]:
    """Rate B / rate A − 1 with the score interval of the ratio of two independent proportions (Miettinen &
    Nurminen 1985; ``statsmodels.stats.proportion.confint_proportions_2indep(compare="ratio", method="score")``),
    minus 1. (None, None, None) when rate A is 0."""
    import warnings

    from statsmodels.stats.proportion import confint_proportions_2indep

    if hits_a == 0 or attempts_a == 0 or attempts_b == 0:
        return None, None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = confint_proportions_2indep(
            hits_b, attempts_b, hits_a, attempts_a, compare="ratio", method="score", alpha=1 - confidence
        )
    return (hits_b / attempts_b) / (hits_a / attempts_a) - 1, float(low) - 1, float(high) - 1


def _shown(labels: list[str]) -> Message:
    """The first labels found, for a message (``nothing`` when none)."""
    if not labels:
        return Message("compare.nothing")
    more = [Message("compare.more")] if len(labels) > SHOWN_LABELS else []
    return Joined([Joined(labels[:SHOWN_LABELS]), *more], " ")
