"""Betting: hit rate of bets against the break-even hit rate their odds imply, yield and ROI.

Two kinds of input, both rows of the ``opportunities`` table:

- **matches with odds** (the ``football-data`` preset): a *strategy* picks one outcome per match
  (``favourite``: the outcome with the lowest home/draw/away odds; ``underdog``: the highest;
  ``home``/``draw``/``away``), staking one unit; the match's result (``stage``: ``H``/``D``/``A``) says
  whether the pick won. Matches with a missing odd, or a tie for the lowest (highest) odds, are skipped
  and counted as ``skipped``.
- **a bet log** (strategy ``log``): one row per bet already placed, with its ``odds`` (decimal), an
  optional ``stake`` (1 when absent) and the outcome won/lost (from the import's won/lost values).

The per-bet work (pick, hit, odds taken, season, odds band) is one Ibis expression grouped in the engine;
only the aggregated table reaches Python, where the statistics run:

- hit rate = hits / bets, with a Wilson score interval;
- break-even hit rate = mean of 1/odds of the bets taken (the hit rate at which the bets pay back their
  stakes); *fair* break-even = mean of (1/odds)/(1/H + 1/D + 1/A), the same with the bookmaker's margin
  (overround) taken out; ``margin`` = mean overround − 1;
- yield = (returns − stakes) / stakes (profit per unit staked); ROI is the same ratio (profit over the
  money put at risk), reported as ``roi``;
- whether the hit rate beats break-even by more than luck: one-sided exact binomial test of hits out of
  bets against p = break-even (``scipy.stats.binomtest``; treats every bet as having the mean break-even
  probability), with the exact Clopper-Pearson interval of the hit rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hitrate.errors import InvalidParameterError, UnknownFieldError
from hitrate.i18n import DEFAULT_LANG, Joined, Message, Param, Phrase
from hitrate.report.result import Result, english_fields, json_ready

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

STRATEGIES = ("favourite", "underdog", "home", "draw", "away", "log")
ODDS_FIELDS = ("home_odds", "draw_odds", "away_odds")
DERIVED = ("season", "odds_band")
#: Odds bands (decimal odds, lower bound inclusive) for ``--by odds_band``.
ODDS_BANDS = ((1.0, "1.00-1.49"), (1.5, "1.50-1.99"), (2.0, "2.00-2.99"), (3.0, "3.00-4.99"), (5.0, "5.00+"))
SMALL_SAMPLE = 30


def season_label(start_year: Any) -> Any:
    """An Ibis string ``"2010/11"`` from a season's start year (an Ibis integer)."""
    nxt = ((start_year + 1) % 100).cast("string").lpad(2, "0")
    return start_year.cast("string") + "/" + nxt


def season_of(date: Any) -> Any:
    """The football season of a date (Ibis): seasons start on 1 August, so 26 July 2020 is in 2019/20."""
    import ibis

    start = ibis.ifelse(date.month() >= 8, date.year(), date.year() - 1)
    return season_label(start)


def odds_band(odds: Any) -> Any:
    """The odds band label of decimal odds (Ibis), see :data:`ODDS_BANDS`."""
    import ibis

    branches = [(odds >= low, label) for low, label in reversed(ODDS_BANDS)]
    return ibis.cases(*branches, else_=ibis.null("string"))


def _number(t: Any, name: str) -> Any:
    """A column as float64 (text that is not a number becomes NULL); a missing column is all NULL."""
    import ibis

    if name not in t.columns:
        return ibis.null("float64")
    col = t[name]
    return col if col.type().is_floating() else col.try_cast("float64")


def _pick(strategy: str, h: Any, d: Any, a: Any) -> tuple[Any, Any]:
    """(the picked outcome ``H``/``D``/``A`` or NULL, its odds) for a match strategy (Ibis)."""
    import ibis

    complete = h.notnull() & d.notnull() & a.notnull() & (h > 0) & (d > 0) & (a > 0)
    if strategy in ("favourite", "underdog"):
        best = ibis.least(h, d, a) if strategy == "favourite" else ibis.greatest(h, d, a)
        ties = (h == best).cast("int8") + (d == best).cast("int8") + (a == best).cast("int8")
        ok = complete & (ties == 1)
        pick = ibis.cases((ok & (h == best), "H"), (ok & (d == best), "D"), (ok & (a == best), "A"), else_=None)
    else:
        pick = ibis.ifelse(complete, {"home": "H", "draw": "D", "away": "A"}[strategy], ibis.null("string"))
    odds = ibis.cases((pick == "H", h), (pick == "D", d), (pick == "A", a), else_=ibis.null("float64"))
    return pick, odds


def bets_expr(
    con: Any, strategy: str, by: list[str], *, odds: str = "odds", stake: str = "stake"
) -> tuple[Any, list[str]]:
    """The aggregation, per group: ``bets``, ``skipped``, ``hits``, ``inv_odds`` (Σ 1/odds), ``fair`` (Σ fair
    break-even), ``overround`` (Σ overround), ``stakes`` and ``returns``. Groups may be any field or
    ``season`` (from ``created_at``) or ``odds_band``."""
    import ibis

    from hitrate.engine.expressions import analysis_table, fields_available

    if strategy not in STRATEGIES:
        expected = Message("betting.expected_strategy", options=Joined(STRATEGIES))
        raise InvalidParameterError("strategy", expected, strategy, caller="bets")
    wanted = {f for f in by if f not in DERIVED} | {"stage", "outcome", "created_at", odds, stake, *ODDS_FIELDS}
    t = analysis_table(con, wanted)
    for f in by:
        if f not in DERIVED and f not in t.columns:
            raise UnknownFieldError(f, [*fields_available(con), *DERIVED], Param("by"))
    if "season" in by and "created_at" not in t.columns:
        where = Phrase("betting.season_needs_date", param=Param("by"))
        raise UnknownFieldError("created_at", fields_available(con), where)
    if strategy == "log":
        if odds not in t.columns:
            raise UnknownFieldError(odds, fields_available(con), Phrase("betting.odds_field", param=Param("odds")))
        if stake not in t.columns and stake != "stake":
            raise UnknownFieldError(stake, fields_available(con), Phrase("betting.stake_field", param=Param("stake")))
        price = _number(t, odds)
        settled = t.outcome.isin(["won", "lost"]) & price.notnull() & (price > 0)
        pick, price = ibis.ifelse(settled, "bet", ibis.null("string")), ibis.ifelse(settled, price, None)
        hit = settled & (t.outcome == "won")
        fair = overround = ibis.null("float64")
        unit = _number(t, stake).fill_null(1.0) if stake in t.columns else ibis.literal(1.0)
    else:
        h, d, a = (_number(t, f) for f in ODDS_FIELDS)
        pick, price = _pick(strategy, h, d, a)
        result = t.stage.strip().upper() if "stage" in t.columns else ibis.null("string")
        hit = pick.notnull() & (result == pick)
        overround = 1 / h + 1 / d + 1 / a
        fair = (1 / price) / overround
        unit = ibis.literal(1.0)
    extra: dict[str, Any] = {}
    if "season" in by:
        extra["season"] = season_of(t.created_at)
    if "odds_band" in by:
        extra["odds_band"] = odds_band(price)
    t = t.mutate(_pick=pick, _odds=price, _hit=hit, _fair=fair, _over=overround, _stake=unit, **extra)
    taken = t._pick.notnull()
    metrics = {
        "bets": t.count(where=taken),
        "skipped": t.count(where=~taken),
        "hits": t.count(where=t._hit),
        "inv_odds": (1 / t._odds).sum(where=taken),
        "fair": t._fair.sum(where=taken),
        "overround": t._over.sum(where=taken),
        "stakes": t._stake.sum(where=taken),
        "returns": (t._stake * t._odds).sum(where=t._hit),
    }
    if by:
        agg = t.group_by(list(by)).aggregate(**metrics)
        return agg.order_by([ibis.asc(g, nulls_first=False) for g in by]), list(by)
    return t.aggregate(**metrics), []


#: The columns of a row after its group values.
ROW_COLUMNS = (
    "bets",
    "skipped",
    "hits",
    "hit_rate",
    "ci_low",
    "ci_high",
    "exact_ci_low",
    "exact_ci_high",
    "break_even",
    "break_even_fair",
    "margin",
    "stakes",
    "returns",
    "profit",
    "yield",
    "roi",
    "p_value",
    "beats_break_even",
)


@dataclass
class BetsResult(Result):
    """Per group: bets, skipped, hits, hit rate (Wilson and exact intervals), break-even (with and without
    the margin), margin, profit, yield, ROI and the one-sided exact binomial p-value against break-even.

    ``method`` and ``warnings`` are :class:`~hitrate.stats.phrase.Phrase` objects (English as ``str``, any
    language with ``render``); ``to_dict()`` is ``{"strategy", "by", "method", "warnings", "rows"}``.
    """

    strategy: str
    by: list[str]
    method: Phrase
    warnings: list[Phrase] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The fields, JSON-ready, sentences in English."""
        return {name: json_ready(value) for name, value in english_fields(self).items()}

    def labels(self, lang: str = DEFAULT_LANG) -> list[str]:
        """One label per row: its group values joined by `` · `` (``All`` without groups)."""
        if not self.by:
            return [Message("betting.all").render(lang) for _ in self.rows]
        return [" · ".join("–" if r[g] is None else str(r[g]) for g in self.by) for r in self.rows]

    def to_frame(self) -> pd.DataFrame:
        """One row per group: the group values, then the columns of :data:`ROW_COLUMNS`."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=[*self.by, *ROW_COLUMNS])

    def title(self) -> Message:
        """``Backing the favourite, by season``."""
        what = Message(f"betting.title_{self.strategy}")
        return Message("betting.title_by", title=what, by=Joined(self.by)) if self.by else what

    def headline(self) -> Message:
        """All groups together: hits of bets, hit rate against break-even, yield."""
        taken = [r for r in self.rows if r["bets"]]
        bets = sum(r["bets"] for r in taken)
        if not bets:
            return Message("betting.no_bets")
        stakes = sum(r["stakes"] for r in taken)
        return Message(
            "betting.headline",
            hits=sum(r["hits"] for r in taken),
            bets=bets,
            rate=sum(r["hits"] for r in taken) / bets,
            break_even=sum(r["break_even"] * r["bets"] for r in taken) / bets,
            returned=sum(r["profit"] for r in taken) / stakes if stakes else None,
        )

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """Hit rate per group with its 95% Wilson interval, against the break-even rate its odds imply."""
        from hitrate.domains._charts import rate_against_figure

        drawn = [(label, r) for label, r in zip(self.labels(lang), self.rows, strict=True) if r["bets"]]
        return rate_against_figure(
            [label for label, _ in drawn],
            [(r["hit_rate"], r["ci_low"], r["ci_high"]) for _, r in drawn],
            [r["break_even"] for _, r in drawn],
            title=self.title().render(lang),
            rate=Message("betting.hit_rate").render(lang),
            reference_name=Message("betting.break_even").render(lang),
            lang=lang,
        )


def bets(
    source: Any,
    *,
    strategy: str = "favourite",
    by: list[str] | None = None,
    odds: str = "odds",
    stake: str = "stake",
    alpha: float = 0.05,
) -> BetsResult:
    """Evaluate a betting strategy (or a bet log) per group; see the module docstring for the methods.

    Parameters
    ----------
    source:
        A :class:`hitrate.Store` or an Ibis backend with an ``opportunities`` table.
    strategy:
        ``favourite``, ``underdog``, ``home``, ``draw``, ``away`` (matches with ``home_odds``, ``draw_odds``,
        ``away_odds`` and the result in ``stage``), or ``log`` (bets with ``odds``, ``stake``, won/lost).
    by:
        Fields to group by; ``season`` (seasons start on 1 August) and ``odds_band`` are derived.
    alpha:
        Significance level of ``beats_break_even``.
    """
    from hitrate.engine.counting import fetch

    groups = list(by or [])
    expr, groups = bets_expr(source, strategy, groups, odds=odds, stake=stake)
    cols = fetch(source, expr)
    rows, notes = _rows(cols, groups, alpha)
    return BetsResult(strategy, groups, Phrase("betting.method"), notes, rows)


def _rows(cols: dict[str, np.ndarray], groups: list[str], alpha: float) -> tuple[list[dict[str, Any]], list[Phrase]]:
    from scipy.stats import binomtest

    from hitrate.report.result import clean
    from hitrate.stats.intervals import wilson_interval

    def num(name: str) -> np.ndarray:
        return np.array([0.0 if v is None or v != v else float(v) for v in cols[name]], dtype=float)

    n, k = num("bets").astype(int), num("hits").astype(int)
    inv, fair, over, stakes, returns = (num(c) for c in ("inv_odds", "fair", "overround", "stakes", "returns"))
    skipped = num("skipped").astype(int)
    low, high = wilson_interval(k, n)
    rows: list[dict[str, Any]] = []
    notes: list[Phrase] = []
    for i in range(len(n)):
        row: dict[str, Any] = {g: clean(cols[g][i]) for g in groups}
        row.update(bets=int(n[i]), skipped=int(skipped[i]), hits=int(k[i]))
        if n[i] == 0:
            rows.append(row)
            continue
        be = inv[i] / n[i]
        test = binomtest(int(k[i]), int(n[i]), p=min(max(be, 0.0), 1.0), alternative="greater")
        exact = binomtest(int(k[i]), int(n[i])).proportion_ci(confidence_level=0.95, method="exact")
        profit = returns[i] - stakes[i]
        has_fair = over[i] > 0  # the three outcomes' odds are known (match strategies)
        row.update(
            hit_rate=k[i] / n[i],
            ci_low=float(low[i]),
            ci_high=float(high[i]),
            exact_ci_low=float(exact.low),
            exact_ci_high=float(exact.high),
            break_even=be,
            break_even_fair=fair[i] / n[i] if has_fair else None,
            margin=over[i] / n[i] - 1 if has_fair else None,
            stakes=stakes[i],
            returns=returns[i],
            profit=profit,
            **{"yield": profit / stakes[i] if stakes[i] else None},
            roi=profit / stakes[i] if stakes[i] else None,
            p_value=float(test.pvalue),
            beats_break_even=bool(test.pvalue < alpha),
        )
        if n[i] < SMALL_SAMPLE:
            group = Joined([f"{g}={row[g]}" for g in groups]) if groups else Message("betting.all_lower")
            notes.append(Phrase("betting.small_sample", group=group, bets=int(n[i])))
        rows.append({key: clean(v) for key, v in row.items()})
    return rows, notes
