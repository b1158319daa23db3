"""The opportunities: when they are created, who works them, what they are (source, segment, product,
amount), how long they take to decide, and the path each takes through the stages."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hitrate.synth._arrays import DAY, ids, pick, strings, timestamps
from hitrate.synth.model import (
    _AMOUNT_SIGMA,
    _DURATION_SIGMA,
    _GROWTH,
    _LOSS_REASON_BY_STAGE,
    _PRODUCT_AMOUNT,
    _PRODUCT_MIX,
    _SEGMENT_MEDIAN_AMOUNT,
    _SEGMENT_MEDIAN_DAYS,
    LEAD_SOURCES,
    LOSS_REASONS,
    OUTCOMES,
    PRODUCTS,
    SEGMENTS,
    STAGES,
)
from hitrate.synth.reps import Organisation


@dataclass
class Deals:
    """Per opportunity: creation and decision times (epoch seconds), the rep and team (indexes), lead
    source, segment and product (category codes), amount, and whether it is decided by the export date."""

    created_s: np.ndarray
    rep: np.ndarray
    team: np.ndarray
    source: np.ndarray
    segment: np.ndarray
    product: np.ndarray
    amount: np.ndarray
    duration_s: np.ndarray
    decided_s: np.ndarray
    closed: np.ndarray

    def __len__(self) -> int:
        return len(self.created_s)


@dataclass
class Path:
    """Per opportunity: the last open stage on its path (0..3), when it entered each open stage, which it
    reached by the export date, its stage and outcome codes there, and its loss reason code."""

    last: np.ndarray
    entered_s: np.ndarray
    reached: np.ndarray
    stage: np.ndarray
    outcome: np.ndarray
    reason: np.ndarray


def draw_deals(rng: np.random.Generator, org: Organisation, n: int, start_s: int, end_s: int) -> Deals:
    """Creation times (a linearly rising rate), reps hired by then, the teams' mixes, sizes and durations."""
    created_s = _creation_times(rng, n, start_s, end_s)
    rep = _assign_reps(rng, org.hired_s, created_s)
    team = org.team[rep]
    source = pick(rng.random(n, dtype=np.float32), org.source_mix, team)
    segment = pick(rng.random(n, dtype=np.float32), org.segment_mix, team)
    product = pick(rng.random(n, dtype=np.float32), _PRODUCT_MIX, segment)
    amount = _SEGMENT_MEDIAN_AMOUNT[segment] * _PRODUCT_AMOUNT[product]
    amount *= np.exp(rng.normal(0.0, _AMOUNT_SIGMA, size=n))
    amount = np.round(amount, 0)
    days = _SEGMENT_MEDIAN_DAYS[segment] * np.exp(rng.normal(0.0, _DURATION_SIGMA, size=n))
    duration_s = np.maximum((days * DAY).astype(np.int64), DAY)
    decided_s = created_s + duration_s
    return Deals(created_s, rep, team, source, segment, product, amount, duration_s, decided_s, decided_s <= end_s)


def _creation_times(rng: np.random.Generator, n: int, start_s: int, end_s: int) -> np.ndarray:
    """Creation times over ``[start, end)``: inverse CDF of a rate rising linearly to ``1 + _GROWTH`` times."""
    x = rng.random(n)
    x = (np.sqrt(1.0 + 2.0 * _GROWTH * (1.0 + _GROWTH / 2.0) * x) - 1.0) / _GROWTH
    created: np.ndarray = start_s + np.minimum((x * (end_s - start_s)).astype(np.int64), end_s - start_s - 1)
    return created


def _assign_reps(rng: np.random.Generator, hired_s: np.ndarray, created_s: np.ndarray) -> np.ndarray:
    """Each deal's rep, uniform among the reps hired by its creation time."""
    by_hire = np.argsort(hired_s, kind="stable")
    eligible = np.searchsorted(hired_s[by_hire], created_s, side="right")
    slot = (rng.random(len(created_s), dtype=np.float32) * eligible).astype(np.int64)
    rep: np.ndarray = by_hire[np.minimum(slot, eligible - 1)].astype(np.int16)
    return rep


def stage_path(rng: np.random.Generator, deals: Deals, would_win: np.ndarray, lost_mix: np.ndarray, end_s: int) -> Path:
    """The stages each deal passes: winners go through Negotiation, losers drop out at a stage drawn from
    their rep's ``lost_mix``; stage ``j`` is entered at ``created + duration * C[j-1] / C[last]`` (``C`` the
    cumulative sum of gamma draws). An open deal sits at the last stage it entered by ``end_s``."""
    n = len(deals)
    last = np.where(would_win, np.int8(3), pick(rng.random(n, dtype=np.float32), lost_mix, deals.rep))
    cum = np.cumsum(rng.standard_gamma(2.0, size=(n, 4), dtype=np.float32), axis=1)
    cum /= np.take_along_axis(cum, last[:, None].astype(np.int64), axis=1)
    entered_s = np.empty((n, 4), dtype=np.int64)
    entered_s[:, 0] = deals.created_s
    entered_s[:, 1:] = deals.created_s[:, None] + (cum[:, :3] * deals.duration_s[:, None]).astype(np.int64)
    reached = np.arange(4) <= last[:, None]  # stages on the path
    reached &= entered_s <= end_s  # ... and entered by the export date
    current = (reached.sum(axis=1) - 1).astype(np.int8)  # open deals sit at their last entered stage
    closed = deals.closed
    stage = np.where(closed, np.where(would_win, np.int8(4), np.int8(5)), current)
    outcome = np.where(closed, np.where(would_win, np.int8(0), np.int8(1)), np.int8(2))
    reason = pick(rng.random(n, dtype=np.float32), _LOSS_REASON_BY_STAGE, last)
    return Path(last, entered_s, reached, stage, outcome, reason)


def opportunities(rng: np.random.Generator, deals: Deals, path: Path, org: Organisation) -> pd.DataFrame:
    """The opportunities table, with an expected close date drawn around the true decision date."""
    n = len(deals)
    expected_s = deals.created_s + (deals.duration_s * np.exp(rng.normal(-0.15, 0.3, size=n))).astype(np.int64)
    expected_s -= expected_s % DAY  # a date
    return pd.DataFrame(
        {
            "id": ids("OPP", n, max(7, len(str(n)))),
            "rep": strings(org.rep_names, deals.rep),
            "created_at": timestamps(deals.created_s),
            "closed_at": timestamps(deals.decided_s, deals.closed),
            "expected_close": timestamps(expected_s),
            "stage": strings(STAGES, path.stage),
            "outcome": strings(OUTCOMES, path.outcome),
            "amount": deals.amount,
            "loss_reason": strings(LOSS_REASONS, path.reason, path.outcome == 1),
            "segment": strings(SEGMENTS, deals.segment),
            "lead_source": strings(LEAD_SOURCES, deals.source),
            "product": strings(PRODUCTS, deals.product),
            "region": strings(list(org.reps["region"]), deals.rep),
        }
    )
