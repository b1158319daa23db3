"""Betting: hit rate of bets against the break-even hit rate their odds imply, yield and ROI.

Two kinds of input, both rows of the ``opportunities`` table:

- **matches with odds** (the ``football-data`` preset): a *strategy* picks one outcome per match
  (``favourite``: the outcome with the lowest home/draw/away odds; ``underdog``: the highest;
  ``home``/``draw``/``away``), staking one unit; the match's result (``stage``: ``H``/``D``/``A``) says
  whether the pick won. Matches with a missing odd, or a tie for the lowest (highest) odds, are skipped
  and counted as ``skipped``.
- **a bet log** (strategy ``log``, chosen by itself when the rows have an ``odds`` column and no
  home/draw/away odds): one row per bet already placed, with its ``odds`` in any format
  (:mod:`hitrate.domains.odds`: decimal, decimal comma, fractional, American), an optional ``stake`` (1 when
  absent) and its result: won/lost from the import's won/lost values, or void, half-win, half-lose or dead
  heat from the result text (:mod:`hitrate.domains.settlement`). A bet whose odds are no price (``0.9``,
  ``abc``) or whose stake is not positive is left out, counted in ``invalid`` and listed by reason.

The per-bet work (pick, hit, odds taken, season, odds band) is one Ibis expression grouped in the engine;
only the aggregated table reaches Python, where the statistics run:

- hit rate = hits / bets, with a Wilson score interval (a half result counts half a bet, see settlement);
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


#: Columns a bet log's date may be in when ``created_at`` is empty (``--by season``).
DATE_FIELDS = ("date", "bet_date", "placed_at", "placed", "match_date", "event_date")
#: Why a logged bet is left out (the ``problem`` of :func:`bet_table`), each a catalogue id ``betting.problem_*``.
PROBLEMS = ("missing", "unreadable", "not_above_one", "stake_unreadable", "stake_not_positive")


def resolve_strategy(con: Any, strategy: str | None, odds: str = "odds") -> str:
    """``strategy``, or for ``auto``/None what the store holds: matches with home/draw/away odds are read with
    ``favourite``, rows with an ``odds`` column as a bet log; neither is an error that says how to read it."""
    from hitrate.engine.expressions import fields_available

    if strategy not in (None, "auto"):
        if strategy not in STRATEGIES:
            expected = Message("betting.expected_strategy", options=Joined(STRATEGIES))
            raise InvalidParameterError("strategy", expected, strategy, caller="bets")
        return strategy
    fields = fields_available(con)
    if all(f in fields for f in ODDS_FIELDS):
        return "favourite"
    if odds in fields:
        return "log"
    raise UnknownFieldError(odds, fields, Phrase("betting.no_odds", param=Param("odds"), strategy=Param("strategy")))


def _number_or_problem(t: Any, name: str) -> tuple[Any, Any]:
    """(a stake column as float64, its problem: ``stake_unreadable``/``stake_not_positive`` or NULL) (Ibis)."""
    import ibis

    raw = t[name]
    value = raw if raw.type().is_numeric() else raw.cast("string").strip().replace(",", ".").try_cast("float64")
    given = raw.notnull() & (raw.cast("string").strip() != "")
    problem = ibis.cases(
        (given & value.isnull(), "stake_unreadable"), (given & (value <= 0), "stake_not_positive"), else_=None
    )
    return value.fill_null(1.0), problem


def _log_columns(t: Any, odds: str, stake: str, odds_format: str) -> dict[str, Any]:
    """The per-bet columns of a bet log (Ibis): settlement, odds, problem and the settled amounts."""
    import ibis

    from hitrate.domains.odds import decimal_odds_expr, odds_problem
    from hitrate.domains.settlement import result_expr, settle

    price = decimal_odds_expr(t[odds], odds_format)
    unit, stake_problem = _number_or_problem(t, stake) if stake in t.columns else (ibis.literal(1.0), None)
    result = result_expr(t)
    problem = odds_problem(t[odds], price)
    if stake_problem is not None:
        problem = problem.coalesce(stake_problem)
    problem = ibis.ifelse(result.notnull(), problem, ibis.null("string"))
    valid = result.notnull() & problem.isnull()
    settled = settle(t, result, price, unit)
    taken = valid & (result != "void")
    return {
        "_pick": ibis.ifelse(taken, "bet", ibis.null("string")),
        "_odds": ibis.ifelse(taken, price, None),
        "_weight": ibis.ifelse(taken, settled["weight"], 0.0),
        "_hit": ibis.ifelse(taken, settled["hit"], 0.0),
        "_stake": ibis.ifelse(taken, settled["staked"], 0.0),
        "_return": ibis.ifelse(taken, settled["returned"], 0.0),
        "_fair": ibis.null("float64"),
        "_over": ibis.null("float64"),
        "_void": valid & (result == "void"),
        "_open": result.isnull(),
        "_problem": problem,
    }


def _match_columns(t: Any, strategy: str) -> dict[str, Any]:
    """The per-match columns of a match strategy (Ibis): the pick, its odds and the settled amounts."""
    import ibis

    h, d, a = (_number(t, f) for f in ODDS_FIELDS)
    pick, price = _pick(strategy, h, d, a)
    result = t.stage.strip().upper() if "stage" in t.columns else ibis.null("string")
    hit = pick.notnull() & (result == pick)
    overround = 1 / h + 1 / d + 1 / a
    return {
        "_pick": pick,
        "_odds": price,
        "_weight": ibis.ifelse(pick.notnull(), 1.0, 0.0),
        "_hit": ibis.ifelse(hit, 1.0, 0.0),
        "_stake": ibis.ifelse(pick.notnull(), 1.0, 0.0),
        "_return": ibis.ifelse(hit, price, 0.0),
        "_fair": (1 / price) / overround,
        "_over": overround,
        "_void": ibis.literal(False),
        "_open": ibis.literal(False),
        "_problem": ibis.null("string"),
    }


def bet_table(
    con: Any,
    strategy: str,
    by: list[str],
    *,
    odds: str = "odds",
    stake: str = "stake",
    odds_format: str = "auto",
    date: str | None = None,
) -> Any:
    """One row per match or logged bet with the columns :func:`bets_expr` sums (Ibis): ``_pick`` (NULL where
    no bet was taken), ``_odds`` (decimal), ``_weight``/``_hit`` (what it counts as bets and hits, see
    :mod:`hitrate.domains.settlement`), ``_stake``, ``_return``, ``_void``, ``_open`` and ``_problem``."""
    import ibis

    from hitrate.domains.odds import FORMATS
    from hitrate.engine.expressions import analysis_table, fields_available

    if odds_format not in FORMATS:
        expected = Message("betting.expected_strategy", options=Joined(FORMATS))
        raise InvalidParameterError("odds_format", expected, odds_format, caller="bets")
    dates = [date] if date else list(DATE_FIELDS)
    wanted = {f for f in by if f not in DERIVED} | {"id", "stage", "outcome", "created_at", odds, stake, *ODDS_FIELDS}
    t = analysis_table(con, wanted | set(dates) | {"dead_heat"})
    for f in by:
        if f not in DERIVED and f not in t.columns:
            raise UnknownFieldError(f, [*fields_available(con), *DERIVED], Param("by"))
    if date and date not in t.columns:
        raise UnknownFieldError(date, fields_available(con), Param("date"))
    if strategy == "log":
        if odds not in t.columns:
            raise UnknownFieldError(odds, fields_available(con), Phrase("betting.odds_field", param=Param("odds")))
        if stake not in t.columns and stake != "stake":
            raise UnknownFieldError(stake, fields_available(con), Phrase("betting.stake_field", param=Param("stake")))
        columns = _log_columns(t, odds, stake, odds_format)
    else:
        columns = _match_columns(t, strategy)
    extra: dict[str, Any] = {}
    if "season" in by:
        found = [t[f].cast("string").try_cast("timestamp") for f in dates if f in t.columns]
        when = t.created_at if "created_at" in t.columns and not date else None
        when = ibis.coalesce(*([when] if when is not None else []), *found) if found else when
        if when is None:
            where = Phrase("betting.season_needs_date", param=Param("by"))
            raise UnknownFieldError("created_at", fields_available(con), where)
        extra["season"] = season_of(when)
    t = t.mutate(**columns)
    if "odds_band" in by:
        extra["odds_band"] = odds_band(t._odds)
    return t.mutate(**extra)


def bets_expr(
    con: Any,
    strategy: str,
    by: list[str],
    *,
    odds: str = "odds",
    stake: str = "stake",
    odds_format: str = "auto",
    date: str | None = None,
) -> tuple[Any, list[str]]:
    """The aggregation, per group: ``bets`` (Σ weight), ``settled`` (bets taken), ``skipped``, ``void``,
    ``open``, ``invalid``, ``hits`` (Σ hit), ``inv_odds`` (Σ weight/odds), ``fair`` (Σ fair break-even),
    ``overround`` (Σ overround), ``stakes`` and ``returns``. Groups may be any field or ``season`` (from
    ``created_at`` or a date column) or ``odds_band``."""
    import ibis

    t = bet_table(con, strategy, by, odds=odds, stake=stake, odds_format=odds_format, date=date)
    taken = t._pick.notnull()
    metrics = {
        "bets": t._weight.sum(where=taken),
        "settled": t.count(where=taken),
        "skipped": t.count(where=~taken),
        "void": t.count(where=t._void),
        "open": t.count(where=t._open),
        "invalid": t.count(where=t._problem.notnull()),
        "hits": t._hit.sum(where=taken),
        "inv_odds": (t._weight / t._odds).sum(where=taken),
        "fair": t._fair.sum(where=taken),
        "overround": t._over.sum(where=taken),
        "stakes": t._stake.sum(where=taken),
        "returns": t._return.sum(where=taken),
    }
    if by:
        agg = t.group_by(list(by)).aggregate(**metrics)
        return agg.order_by([ibis.asc(g, nulls_first=False) for g in by]), list(by)
    return t.aggregate(**metrics), []


def problems_expr(table: Any, odds: str, stake: str, examples: int = 5) -> Any:
    """Per problem (:data:`PROBLEMS`): how many bets it left out and up to ``examples`` of them (id, odds,
    stake), from :func:`bet_table`'s rows (Ibis)."""
    import ibis

    bad = table.filter(table._problem.notnull())
    shown = {
        "id": bad["id"].cast("string") if "id" in bad.columns else ibis.null("string"),
        "odds": bad[odds].cast("string") if odds in bad.columns else ibis.null("string"),
        "stake": bad[stake].cast("string") if stake in bad.columns else ibis.null("string"),
    }
    ranked = bad.mutate(**{f"_{k}": v for k, v in shown.items()}).mutate(
        _n=ibis.row_number().over(group_by="_problem", order_by="_id")
    )
    return (
        ranked.filter(ranked._n < examples)
        .select("_problem", "_id", "_odds", "_stake")
        .order_by(["_problem", "_id"])
        .join(bad.group_by("_problem").aggregate(_count=bad.count()), "_problem")
    )


#: The columns of a row after its group values.
ROW_COLUMNS = (
    "bets",
    "settled",
    "skipped",
    "void",
    "open",
    "invalid",
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
    problems: list[dict[str, Any]] = field(default_factory=list)

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
    strategy: str = "auto",
    by: list[str] | None = None,
    odds: str = "odds",
    stake: str = "stake",
    odds_format: str = "auto",
    date: str | None = None,
    alpha: float = 0.05,
) -> BetsResult:
    """Evaluate a betting strategy (or a bet log) per group; see the module docstring for the methods.

    Parameters
    ----------
    source:
        A :class:`hitrate.Store` or an Ibis backend with an ``opportunities`` table.
    strategy:
        ``favourite``, ``underdog``, ``home``, ``draw``, ``away`` (matches with ``home_odds``, ``draw_odds``,
        ``away_odds`` and the result in ``stage``), ``log`` (bets with ``odds``, ``stake`` and a result), or
        ``auto`` (default): ``favourite`` on matches, ``log`` where the rows have odds of their own.
    by:
        Fields to group by; ``season`` (seasons start on 1 August) and ``odds_band`` are derived.
    odds_format:
        How a bet log writes its odds: ``auto`` (detected per value and column), ``decimal``, ``fractional``
        or ``american`` (:mod:`hitrate.domains.odds`).
    date:
        The date column ``--by season`` reads; default ``created_at``, else ``date``, ``bet_date``, ...
    alpha:
        Significance level of ``beats_break_even``.
    """
    from hitrate.engine.counting import fetch

    groups = list(by or [])
    chosen = resolve_strategy(source, strategy, odds)
    options: dict[str, Any] = {"odds": odds, "stake": stake, "odds_format": odds_format, "date": date}
    expr, groups = bets_expr(source, chosen, groups, **options)
    rows, notes = _rows(fetch(source, expr), groups, alpha)
    problems: list[dict[str, Any]] = []
    if chosen == "log":
        problems = _problems(fetch(source, problems_expr(bet_table(source, chosen, [], **options), odds, stake)))
        notes = [*(_problem_note(p) for p in problems), *notes]
        if strategy in (None, "auto"):
            notes.insert(0, Phrase("betting.read_as_log", strategy=Param("strategy")))
    return BetsResult(chosen, groups, Phrase("betting.method"), notes, rows, problems)


def _problem_note(problem: dict[str, Any]) -> Phrase:
    """``3 bets left out: decimal odds must be above 1.0 (e.g. b7 (0.9), ...)``: ids with the value at fault."""
    value = "stake" if problem["problem"].startswith("stake") else "odds"
    examples = Joined([f"{e['id']} ({e[value]})" for e in problem["examples"]])
    return Phrase(f"betting.problem_{problem['problem']}", count=problem["count"], examples=examples)


def _problems(cols: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """The left-out bets by problem: ``{"problem", "count", "examples": [{"id", "odds", "stake"}]}``."""
    from hitrate.report.result import clean

    out: dict[str, dict[str, Any]] = {}
    for i, problem in enumerate(cols["_problem"]):
        entry = out.setdefault(str(problem), {"problem": str(problem), "count": int(cols["_count"][i]), "examples": []})
        entry["examples"].append({k: clean(cols[f"_{k}"][i]) for k in ("id", "odds", "stake")})
    return list(out.values())


def _tests(k: np.ndarray, n: np.ndarray, p: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, ...]:
    """One-sided exact binomial p-value P(X ≥ k), X ~ Binomial(n, p), and the exact (Clopper-Pearson)
    interval, in their beta-function forms, so that the half bets of Asian handicaps (k, n in halves) are
    covered by the same formulas: P(X ≥ k) = I_p(k, n − k + 1); low = B⁻¹(α/2; k, n − k + 1),
    high = B⁻¹(1 − α/2; k + 1, n − k). For whole k and n these are ``scipy.stats.binomtest``'s values."""
    from scipy.stats import beta

    with np.errstate(invalid="ignore", divide="ignore"):
        p_value = np.where(k > 0, beta.cdf(p, np.maximum(k, 1e-300), n - k + 1), 1.0)
        low = np.where(k > 0, beta.ppf(alpha / 2, np.maximum(k, 1e-300), n - k + 1), 0.0)
        high = np.where(k < n, beta.ppf(1 - alpha / 2, k + 1, np.maximum(n - k, 1e-300)), 1.0)
    return p_value, low, high


def _rows(cols: dict[str, np.ndarray], groups: list[str], alpha: float) -> tuple[list[dict[str, Any]], list[Phrase]]:
    from hitrate.report.result import clean
    from hitrate.stats.intervals import wilson_interval

    def num(name: str) -> np.ndarray:
        return np.array([0.0 if v is None or v != v else float(v) for v in cols[name]], dtype=float)

    n, k = num("bets"), num("hits")
    inv, fair, over, stakes, returns = (num(c) for c in ("inv_odds", "fair", "overround", "stakes", "returns"))
    counts = {c: num(c).astype(int) for c in ("settled", "skipped", "void", "open", "invalid")}
    low, high = wilson_interval(k, n)
    be = np.divide(inv, n, out=np.zeros_like(n), where=n > 0)
    p_value, exact_low, exact_high = _tests(k, n, np.clip(be, 0.0, 1.0))
    rows: list[dict[str, Any]] = []
    notes: list[Phrase] = []
    for i in range(len(n)):
        row: dict[str, Any] = {g: clean(cols[g][i]) for g in groups}
        row.update(bets=_whole(n[i]), **{c: int(v[i]) for c, v in counts.items()}, hits=_whole(k[i]))
        if n[i] == 0:
            rows.append(row)
            continue
        profit = returns[i] - stakes[i]
        has_fair = over[i] > 0  # the three outcomes' odds are known (match strategies)
        row.update(
            hit_rate=k[i] / n[i],
            ci_low=float(low[i]),
            ci_high=float(high[i]),
            exact_ci_low=float(exact_low[i]),
            exact_ci_high=float(exact_high[i]),
            break_even=be[i],
            break_even_fair=fair[i] / n[i] if has_fair else None,
            margin=over[i] / n[i] - 1 if has_fair else None,
            stakes=stakes[i],
            returns=returns[i],
            profit=profit,
            **{"yield": profit / stakes[i] if stakes[i] else None},
            roi=profit / stakes[i] if stakes[i] else None,
            p_value=float(p_value[i]),
            beats_break_even=bool(p_value[i] < alpha),
        )
        if n[i] < SMALL_SAMPLE:
            group = Joined([f"{g}={row[g]}" for g in groups]) if groups else Message("betting.all_lower")
            notes.append(Phrase("betting.small_sample", group=group, bets=row["bets"]))
        rows.append({key: clean(v) for key, v in row.items()})
    return rows, notes


def _whole(x: float) -> int | float:
    """A count as an int when whole (a half bet keeps its half)."""
    return int(x) if float(x).is_integer() else float(x)
