"""The forecast's arithmetic: from the aggregated tables (:mod:`hitrate.improve._forecast_data`) to expected
wins and amounts per group and period, with intervals. Statistics only on arrays by group and age or day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from hitrate.improve._forecast_data import Tables, periods_between
from hitrate.stats.forecast import (
    AgeCurves,
    Arrivals,
    age_curves,
    amount_interval,
    arrival_model,
    count_interval,
    strata_curves,
)


@dataclass(frozen=True)
class Segment:
    """A stretch of days in one calendar month and one period: offsets from the as-of date, inclusive."""

    first: int
    last: int
    month: int
    period: int


def segments(as_of: dt.date, until: dt.date, period: str) -> tuple[list[tuple[dt.date, dt.date]], list[Segment]]:
    """The periods up to ``until`` and their future days split by calendar month."""
    periods = periods_between(as_of, until, period)
    out = []
    for k, (first, last) in enumerate(periods):
        day = max(first, as_of)
        while day <= last:
            nxt = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
            end = min(last, nxt - dt.timedelta(days=1))
            out.append(Segment((day - as_of).days, (end - as_of).days, day.month, k))
            day = end + dt.timedelta(days=1)
    return periods, out


@dataclass(frozen=True)
class Season:
    """Month-of-year odds factors of winning, the standard error of each one's logarithm, and the
    quasi-binomial dispersion of the monthly hit rates around trend and season."""

    factor: dict[int, float]
    log_se: dict[int, float]
    dispersion: float


def _adjusted(pw: np.ndarray, pl: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """The win part of the closing probability ``pw + pl`` with the win odds multiplied by ``factor``, and its
    derivative with respect to the factor's logarithm."""
    close = pw + pl
    with np.errstate(invalid="ignore", divide="ignore"):
        odds = np.where(pl > 0, pw / pl * factor, np.inf)
        share = np.where(np.isinf(odds), 1.0, odds / (1 + odds))
    won: np.ndarray = pw if factor == 1.0 else np.where(close > 0, close * share, 0.0)
    slope: np.ndarray = np.where(close > 0, close * share * (1 - share), 0.0)
    return won, slope


def open_probabilities(
    curves: AgeCurves, group: np.ndarray, age: np.ndarray, segs: list[Segment], n_periods: int,
    season: Season | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """P(won within each period | still open at its age on the as-of date), and P(decided within it), each of
    shape ``(cells, periods)``; and the derivative of the first by the log season factor, ``(cells, segments)``."""
    out = np.zeros((2, age.size, n_periods))
    slopes = np.zeros((age.size, len(segs)))
    alive = curves.still_open(group, age)
    ok = alive > 1e-12
    for j, s in enumerate(segs):
        hi, lo = age + s.last, age + s.first - 1
        pw = curves.at(curves.win, group, hi) - curves.at(curves.win, group, lo)
        pl = curves.at(curves.loss, group, hi) - curves.at(curves.loss, group, lo)
        won, slope = _adjusted(pw, pl, season.factor.get(s.month, 1.0) if season else 1.0)
        scale = np.where(ok, alive, 1.0)
        out[0, :, s.period] += np.where(ok, won / scale, 0.0)
        out[1, :, s.period] += np.where(ok, (pw + pl) / scale, 0.0)
        slopes[:, j] = np.where(ok, slope / scale, 0.0)
    clipped: np.ndarray = np.clip(out, 0.0, 1.0)
    return clipped[0], clipped[1], slopes


def new_probabilities(
    curves: AgeCurves, n_groups: int, days: int, segs: list[Segment], n_periods: int, season: Season | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(won within each period | created on day ``u`` after the as-of date), and P(decided within it), each of
    shape ``(groups, days, periods)``; the derivative of the first by the log season factor, by segment."""
    out = np.zeros((2, n_groups, days, n_periods))
    slopes = np.zeros((n_groups, days, len(segs)))
    g = np.repeat(np.arange(n_groups), days)
    u = np.tile(np.arange(days), n_groups)
    for j, s in enumerate(segs):
        hi, lo = s.last - u, s.first - u - 1
        pw = curves.at(curves.win, g, hi) - curves.at(curves.win, g, lo)
        pl = curves.at(curves.loss, g, hi) - curves.at(curves.loss, g, lo)
        won, slope = _adjusted(pw, pl, season.factor.get(s.month, 1.0) if season else 1.0)
        out[0, :, :, s.period] += np.where(hi >= 0, won, 0.0).reshape(n_groups, days)
        out[1, :, :, s.period] += np.where(hi >= 0, pw + pl, 0.0).reshape(n_groups, days)
        slopes[:, :, j] = np.where(hi >= 0, slope, 0.0).reshape(n_groups, days)
    return out[0], out[1], slopes


def arrivals_by_group(
    tables: Tables, n_groups: int, as_of: dt.date, until: dt.date
) -> tuple[np.ndarray, list[Arrivals]]:
    """Deals expected to be created on each day from ``as_of`` to ``until``, per group, and each group's model."""
    a = tables.arrivals
    days = (until - as_of).days + 1
    last = np.datetime64(as_of.replace(day=1), "M") - 1  # the last complete month
    month = np.asarray(a["month"], dtype="datetime64[M]") if len(a["n"]) else np.zeros(0, dtype="datetime64[M]")
    first = month.min() if month.size else last
    n_months = max(int((last - first).astype(int)) + 1, 0)
    counts = np.zeros((n_groups, n_months))
    inside = (month >= first) & (month <= last)
    np.add.at(counts, (a["group"][inside], (month[inside] - first).astype(int)), a["n"][inside])
    starts = first + np.arange(n_months)
    lengths = ((starts + 1).astype("datetime64[D]") - starts.astype("datetime64[D]")).astype(float)
    day_months = (np.datetime64(as_of) + np.arange(days)).astype("datetime64[M]")
    ahead_m = np.unique(day_months)
    ahead = [dt.date.fromisoformat(str(m) + "-01") for m in ahead_m]
    rate = np.zeros((n_groups, days))
    models = []
    pos = np.searchsorted(ahead_m, day_months)
    for g in range(n_groups):  # one small model per group (a few dozen monthly counts each)
        model = arrival_model(counts[g], lengths, starts, ahead)
        rate[g] = model.per_day[pos]
        models.append(model)
    return rate, models


@dataclass
class Amounts:
    """Per group: mean and variance of a won deal's amount (for deals whose amount is not known)."""

    mean: np.ndarray
    var: np.ndarray


def won_amounts(tables: Tables, n_groups: int) -> Amounts:
    """The mean and variance of won amounts before the as-of date per group, a group with fewer than 10 won
    deals taking the pooled ones."""
    w = tables.events
    n = np.zeros(n_groups)
    s = np.zeros(n_groups)
    sq = np.zeros(n_groups)
    np.add.at(n, w["group"], np.asarray(w["won_known"], dtype=float))
    np.add.at(s, w["group"], np.nan_to_num(np.asarray(w["won_amount"], dtype=float)))
    np.add.at(sq, w["group"], np.nan_to_num(np.asarray(w["won_amount_sq"], dtype=float)))
    total = max(n.sum(), 1.0)
    pooled_mean = s.sum() / total
    pooled_var = max(sq.sum() / total - pooled_mean**2, 0.0)
    small = n < 10
    mean = np.where(small, pooled_mean, s / np.maximum(n, 1))
    var = np.where(small, pooled_var, np.maximum(sq / np.maximum(n, 1) - mean**2, 0.0))
    return Amounts(mean, var)


def deal_curves(tables: Tables, n_groups: int) -> tuple[AgeCurves, AgeCurves, np.ndarray]:
    """The groups' curves (for new deals), the curves of the open deals (a group's strata, each shrunk towards
    the group's curve, when the tables have strata; else the groups' own) and each event row's row in them."""
    e = tables.events
    group = np.asarray(e["group"], dtype=np.int64)
    counts = (e["age"], e["won"], e["lost"], e["censored"])
    if not tables.strata:
        curves = age_curves(group, *counts, n_groups)
        return curves, curves, group
    pair = group * len(tables.strata_keys) + np.asarray(e["stratum"], dtype=np.int64)
    codes, cell = np.unique(pair, return_inverse=True)
    groups, cells = strata_curves(group, cell, *counts, n_groups, codes.size)
    return groups, cells, cell.astype(np.int64)


def compute(
    tables: Tables, as_of: dt.date, until: dt.date, period: str, level: float, season: Season | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows (one per group and period) and facts about the fit (curves' prior strengths, the strata, arrival
    models). Open deals take their stratum's curve, new deals their group's; a row sums over the group's
    strata, its interval the Poisson-binomial of all the group's open deals together."""
    from hitrate.engine.query import period_label

    n_groups = max(len(tables.keys), 1)
    e = tables.events
    curves, open_curves, row_curve = deal_curves(tables, n_groups)
    periods, segs = segments(as_of, until, period)
    is_open = np.asarray(e["censored"]) > 0
    o = {k: np.asarray(v)[is_open] for k, v in e.items()}
    cell_group, cell_age = np.asarray(o["group"], dtype=np.int64), np.asarray(o["age"], dtype=np.int64)
    cell_n = np.asarray(o["censored"], dtype=np.int64)
    p_open, c_open, s_open = open_probabilities(open_curves, row_curve[is_open], cell_age, segs, len(periods), season)
    days = (until - as_of).days + 1
    rate, models = arrivals_by_group(tables, n_groups, as_of, until)
    p_new, c_new, s_new = new_probabilities(curves, n_groups, days, segs, len(periods), season)
    # the season factors' estimation error: one factor per calendar month, shared by every deal closing in it
    se = np.array([season.log_se.get(s.month, 0.0) if season else 0.0 for s in segs])
    slope = np.zeros((n_groups, len(segs)))
    np.add.at(slope, cell_group, cell_n[:, None] * s_open)
    slope += np.einsum("gu,gus->gs", rate, s_new)
    seg_period = np.array([s.period for s in segs], dtype=np.int64)
    season_var = np.zeros((n_groups, len(periods)))
    for j in range(len(segs)):  # a handful of month segments
        season_var[:, seg_period[j]] += (slope[:, j] * se[j]) ** 2
    dispersion = season.dispersion if season else 1.0
    new_mean = np.einsum("gu,gup->gp", rate, p_new)
    new_closing = np.einsum("gu,gup->gp", rate, c_new)
    amounts = won_amounts(tables, n_groups)
    known = np.asarray(o["known"], dtype=float)
    amount_sum = np.nan_to_num(np.asarray(o["amount"], dtype=float))
    amount_sq = np.nan_to_num(np.asarray(o["amount_sq"], dtype=float))
    unknown = cell_n - known
    booked = np.zeros(n_groups)
    booked_amount = np.zeros(n_groups)
    np.add.at(booked, tables.booked["group"], np.asarray(tables.booked["n"], dtype=float))
    np.add.at(booked_amount, tables.booked["group"], np.nan_to_num(np.asarray(tables.booked["amount"], dtype=float)))
    rows = []
    present = set(e["group"].tolist()) | set(tables.arrivals["group"].tolist()) | set(tables.booked["group"].tolist())
    order = sorted(present, key=lambda code: [(v is None, str(v)) for v in tables.keys[code]] if tables.keys else [])
    for g in order:  # one row per group (in the order of their values) and period: aggregated
        mine = cell_group == g
        m, v = float(amounts.mean[g]), float(amounts.var[g])
        for k, (first, _last) in enumerate(periods):
            p = p_open[mine, k]
            so_far = float(booked[g]) if first < as_of else 0.0
            so_far_amount = float(booked_amount[g]) if first < as_of else 0.0
            from_open = float((cell_n[mine] * p).sum())
            from_new = float(new_mean[g, k])
            extra = float(season_var[g, k]) + (dispersion - 1) * float((cell_n[mine] * p * (1 - p)).sum() + from_new)
            low, high, _ = count_interval(cell_n[mine], p, from_new, models[g].alpha, level, extra)
            a_mean = float((p * (amount_sum[mine] + unknown[mine] * m)).sum()) + from_new * m
            a_var = float((p * (1 - p) * amount_sq[mine]).sum())
            a_var += float((unknown[mine] * (p * v + p * (1 - p) * m * m)).sum())
            a_var += from_new * v + m * m * (from_new + models[g].alpha * from_new**2)
            a_low, a_high = amount_interval(a_mean, a_var, level)
            rows.append(
                {
                    "group": g,
                    "period": period_label(first, period),
                    "start": first,
                    "end": _last,
                    "won_so_far": so_far,
                    "open_deals": int(cell_n[mine].sum()),
                    "expected_closing": float((cell_n[mine] * c_open[mine, k]).sum() + new_closing[g, k]),
                    "from_open": from_open,
                    "from_new": from_new,
                    "expected_wins": so_far + from_open + from_new,
                    "wins_low": so_far + low,
                    "wins_high": so_far + high,
                    "expected_amount": so_far_amount + a_mean,
                    "amount_low": so_far_amount + a_low,
                    "amount_high": so_far_amount + a_high,
                    "_open": (cell_n[mine], p, np.clip(c_open[mine, k] - p, 0.0, 1.0)),
                }
            )
    facts = {
        "prior_strength": curves.strength,
        "strata": list(tables.strata),
        "strata_prior_strength": open_curves.strength if tables.strata else None,
        "strata_values": len(tables.strata_keys) if tables.strata else 0,
        "seasonal_arrivals": any(mo.seasonal for mo in models),
        "arrival_trend": any(mo.trend for mo in models),
        "overdispersion": float(np.mean([mo.alpha for mo in models])) if models else 0.0,
        "decided": float(np.sum(e["won"]) + np.sum(e["lost"])),
        "decided_won": float(np.sum(e["won"])),
    }
    return rows, facts
