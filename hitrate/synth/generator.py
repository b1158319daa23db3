"""A seeded synthetic B2B sales pipeline with its ground truth recorded.

:func:`generate` builds the canonical tables (opportunities, reps, stage history,
activities) of a made-up sales organisation, together with the exact model that
produced them (:class:`SynthTruth`), so analyses can be checked against the truth.

The model in plain words
------------------------
* Opportunities are created over ``[start, end)`` with a mild upward trend
  (the creation rate at the end is 1.5 times the rate at the start).
* Each opportunity goes to a rep chosen uniformly among the reps already hired
  on its creation date. A rep's team fixes the region and the mix of lead sources
  and segments (every team leans towards one source and one segment, so naive team
  comparisons are confounded by lead mix).
* Time to decision is lognormal (median 30 / 45 / 90 days for SMB / Mid-market /
  Enterprise). Decision date = creation date + time to decision. A deal whose
  decision date is after the export date ``as_of`` (= ``end``) is *open*.
* The chance of winning is a logistic model::

      logit(p_win) = base_logit
                     + rep_skill[rep]
                     - ramp_depth * exp(-tenure_days / ramp_days)
                     + source_effects[lead_source]
                     + segment_effects[segment]
                     + log(seasonal_factors[month of the decision date])

  where ``tenure_days`` is the rep's tenure on the creation date (new hires start
  with a large penalty that fades; veterans were hired at least a year before
  ``start`` so theirs is negligible, but it is in the formula all the same).
  A decided deal is won when a uniform draw falls below ``p_win``. Open deals get
  the same draw, recorded as :attr:`SynthTruth.would_win`: what they will do.
* Product, region, amount and expected close date have *no* effect on ``p_win``
  beyond the segment they go with.
* A won deal passes through Prospecting, Qualified, Proposal and Negotiation; a
  lost deal drops out after one of them (early drop-outs are the most common),
  with a loss reason that depends on where it dropped out. Every rep has a *weak stage*
  (:attr:`SynthTruth.rep_weak_stage`, the four stages dealt out evenly over the reps at
  random): a further ``weak_stage_share`` (default 0.35) of that rep's lost deals drop out
  there (their drop-out mix is ``(1 - share) * base + share * [weak stage]``). This moves
  *where* a rep's losses happen, not how many: ``p_win`` does not depend on it. Stage entry times split
  the deal's life at random proportions. An open deal sits in the stage it has
  reached on the export date, so late stages of open deals lean towards winners.
* Activities (calls, emails, meetings) are spread uniformly over the deal's life up
  to its close or the export date, 1 + Poisson(life_days / 20) per deal. Calls
  and e-mails get a positive response (``replied`` or ``meeting_booked``) with a
  probability that adds three independent terms::

      p_response = variant_response_rates[variant]
                   + sequence_effect[sequence]
                   + (personalised - 1/2) * personalisation_lift[segment]

  The ``sequence`` is drawn once per deal (some sequences are rare, so ranking them needs
  shrinkage), ``personalised`` (``yes``/``no``) per touch with probability exactly 1/2, and the
  ``segment`` is the deal's. The sequence effects average to 0 over the sequence mix and the
  personalisation term to 0 over the coin, so the variant alone still sets the expected rate of a
  variant (:attr:`SynthTruth.variant_response_rates`); :attr:`SynthTruth.sequence_response_rates`
  and :attr:`SynthTruth.personalisation_lift` hold the other two truths.

Everything is drawn from one ``numpy.random.default_rng(seed)``, fully vectorised, except the
reps' weak stages, which come from a stream of their own (``SeedSequence(seed, spawn_key=(8,))``)
so that every other draw is the same as before they were added.
The opportunities and reps do not depend on ``with_history`` / ``with_activities``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionArray

__all__ = [
    "ACTIVITY_TYPES",
    "LEAD_SOURCES",
    "LOSS_REASONS",
    "PRODUCTS",
    "SEGMENTS",
    "SEQUENCES",
    "STAGES",
    "SynthData",
    "SynthTruth",
    "generate",
]

STAGES: tuple[str, ...] = ("Prospecting", "Qualified", "Proposal", "Negotiation", "Won", "Lost")
OPEN_STAGES: tuple[str, ...] = STAGES[:4]
SEGMENTS: tuple[str, ...] = ("SMB", "Mid-market", "Enterprise")
LEAD_SOURCES: tuple[str, ...] = ("Inbound", "Referral", "Outbound", "Partner", "Event")
PRODUCTS: tuple[str, ...] = ("Core", "Analytics", "Integrations", "Enterprise Suite")
LOSS_REASONS: tuple[str, ...] = ("price", "competitor", "no decision", "timing")
OUTCOMES: tuple[str, ...] = ("won", "lost", "open")
ACTIVITY_TYPES: tuple[str, ...] = ("email", "call", "meeting")
ACTIVITY_OUTCOMES: tuple[str, ...] = ("replied", "no_reply", "meeting_booked", "held", "no_show")
CAMPAIGNS: tuple[str, ...] = ("Spring Outreach", "Webinar Follow-up", "Product Launch", "Year-End Push")
VARIANTS: tuple[str, ...] = ("A", "B")

# ---- the fixed part of the truth -------------------------------------------------------------
BASE_LOGIT = -0.75
RAMP_DEPTH = 1.2
RAMP_DAYS = 75.0
REP_SKILL_SD = 0.35
SOURCE_EFFECTS: dict[str, float] = {
    "Inbound": 0.35,
    "Referral": 0.85,
    "Outbound": -0.75,
    "Partner": 0.15,
    "Event": -0.25,
}
SEGMENT_EFFECTS: dict[str, float] = {"SMB": 0.2, "Mid-market": 0.0, "Enterprise": -0.4}
# Raw odds factors by decision month: quarter-end pushes, a summer dip and a Q4 budget flush.
_SEASON_RAW = np.array([0.80, 0.90, 1.15, 0.95, 1.00, 1.12, 0.78, 0.72, 1.08, 1.00, 1.15, 1.45])
VARIANT_RESPONSE_RATES: dict[str, float] = {"A": 0.18, "B": 0.23}
# Outreach sequences: share of deals enrolled, and effect on the response probability before centring.
SEQUENCES: tuple[str, ...] = (
    "Intro 3-step", "Case study", "Break-up", "Video intro",
    "Referral ask", "Webinar invite", "Exec letter", "Cold call",
)  # fmt: skip
_SEQUENCE_MIX = np.array([0.30, 0.22, 0.15, 0.11, 0.08, 0.06, 0.05, 0.03])
_SEQUENCE_RAW_EFFECTS = np.array([0.00, 0.03, -0.04, 0.06, 0.045, -0.02, 0.09, -0.06])
# Absolute lift of a personalised touch's response probability over an unpersonalised one, by segment.
PERSONALISATION_LIFT: dict[str, float] = {"SMB": 0.0, "Mid-market": 0.04, "Enterprise": 0.10}
_MEETING_BOOKED_SHARE = 0.35  # of the positive responses to a call / e-mail
_MEETING_HELD = 0.85
_PERSONALISED_SHARE = 0.5  # exactly 1/2, so personalisation averages out of the variant rates

_BASE_SOURCE_MIX = np.array([0.28, 0.10, 0.32, 0.14, 0.16])
_BASE_SEGMENT_MIX = np.array([0.50, 0.35, 0.15])
_TEAM_FAVOURED_SOURCE = (1, 2, 0, 3, 4)  # Team North leans Referral, Team South Outbound, ...
_TEAM_FAVOURED_SEGMENT = (2, 0, 1)
_PRODUCT_MIX = np.array(  # rows: segment, columns: PRODUCTS
    [[0.55, 0.25, 0.20, 0.00], [0.35, 0.30, 0.25, 0.10], [0.15, 0.20, 0.20, 0.45]]
)
_PRODUCT_AMOUNT = np.array([1.0, 0.8, 0.6, 1.8])
_SEGMENT_MEDIAN_AMOUNT = np.array([12_000.0, 45_000.0, 180_000.0])
_AMOUNT_SIGMA = 0.6
_SEGMENT_MEDIAN_DAYS = np.array([30.0, 45.0, 90.0])
_DURATION_SIGMA = 0.6
_GROWTH = 0.5  # creation rate rises linearly to (1 + _GROWTH) times its initial value
_LOST_AT_STAGE = np.array([0.35, 0.30, 0.22, 0.13])  # where lost deals drop out
WEAK_STAGE_SHARE = 0.35  # extra share of a rep's lost deals that drop out at the rep's weak stage
_LOSS_REASON_BY_STAGE = np.array(  # rows: stage dropped out of, columns: LOSS_REASONS
    [
        [0.10, 0.15, 0.45, 0.30],
        [0.20, 0.25, 0.30, 0.25],
        [0.35, 0.30, 0.20, 0.15],
        [0.40, 0.35, 0.15, 0.10],
    ]
)
_ACTIVITY_TYPE_MIX = np.array([0.50, 0.35, 0.15])
_ACTIVITIES_PER_DAY = 1 / 20
_NEW_HIRE_SHARE = 0.25

_TEAMS = ("North", "South", "East", "West", "Central")
_REGIONS = ("Nordics", "Southern Europe", "DACH", "UK & Ireland", "Benelux")
_FIRST_NAMES = (
    "Anna", "Lars", "Maria", "Jonas", "Sofie", "Mikkel", "Ida", "Henrik", "Emma", "Frederik",
    "Clara", "Mads", "Laura", "Oskar", "Julie", "Anders", "Sara", "Peter", "Nora", "Erik",
    "Eva", "Thomas", "Lina", "Martin", "Freja", "Rasmus", "Hanna", "Jens", "Maja", "Kasper",
    "Ingrid", "Magnus", "Astrid", "Nils", "Karin", "Johan", "Elin", "Simon", "Vera", "David",
)  # fmt: skip
_LAST_NAMES = (
    "Holm", "Berg", "Nielsen", "Larsen", "Lund", "Dahl", "Strand", "Eriksen", "Vik", "Hansen",
    "Moller", "Kjaer", "Sorensen", "Lindqvist", "Nyberg", "Bakke", "Winther", "Falk", "Krogh", "Jensen",
    "Petersen", "Sandberg", "Engel", "Brandt", "Ahlgren", "Lindgren", "Haugen", "Bjork", "Ek", "Norling",
    "Meyer", "Schmidt", "Vogel", "Keller", "Lambert", "Laurent", "Rossi", "Costa", "Murphy", "Walsh",
)  # fmt: skip

_DAY = 86_400  # seconds
_US = 1_000_000  # microseconds per second
_NAT = np.iinfo(np.int64).min
_STR_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default ``str`` dtype


@dataclass(frozen=True, eq=False)
class SynthTruth:
    """The exact model behind a :class:`SynthData` (see the module docstring).

    Attributes
    ----------
    base_logit:
        The intercept: log-odds of a win when every other term is 0.
    rep_skill:
        Rep name -> additive log-odds effect; drawn normal (sd 0.35) and centred to mean 0.
    ramp_depth:
        Log-odds penalty of a rep with zero tenure; it decays as ``exp(-tenure_days / ramp_days)``.
    ramp_days:
        E-folding time of the ramp, in days.
    source_effects:
        Lead source -> additive log-odds effect.
    segment_effects:
        Segment -> additive log-odds effect.
    seasonal_factors:
        Month of the decision date (1..12) -> multiplicative factor on the odds of a win;
        their geometric mean is 1.
    p_win:
        True win probability of every opportunity, aligned with the opportunities rows
        (open deals included: the probability they will win with).
    decided_at:
        Decision date of every opportunity (``datetime64[us]``); after ``as_of`` for open deals.
    would_win:
        The outcome draw of every opportunity; for open deals, what they will do once decided.
    variant_response_rates:
        Variant -> probability that a call or e-mail gets ``replied`` or ``meeting_booked``
        (averaged over sequences and personalisation).
    team_source_mix, team_segment_mix:
        Team -> category -> probability of a new opportunity of that team having it.
    rep_weak_stage:
        Rep name -> the open stage where the rep loses an extra ``weak_stage_share`` of their lost deals.
    weak_stage_share:
        That extra share (0 means no rep has a weak stage, and ``rep_weak_stage`` is empty).
    lost_at_stage:
        Open stage -> share of lost deals that drop out there, before the weak-stage extra.
    sequence_response_rates:
        Sequence -> probability that its calls and e-mails get a positive response, averaged over
        variants and personalisation: ``mean(variant_response_rates) + sequence_effect``.
    sequence_mix:
        Sequence -> probability that a deal is enrolled in it.
    personalisation_lift:
        Segment -> absolute lift of a personalised touch's response probability over an
        unpersonalised one in that segment (exact: the terms are additive).
    intervention:
        ``(team, start date, log-odds effect)`` planted by ``generate(intervention=...)``: deals of that team
        decided on or after the start have the effect added to their log-odds; None when off.
    """

    base_logit: float
    rep_skill: dict[str, float]
    ramp_depth: float
    ramp_days: float
    source_effects: dict[str, float]
    segment_effects: dict[str, float]
    seasonal_factors: dict[int, float]
    p_win: np.ndarray
    decided_at: np.ndarray
    would_win: np.ndarray
    variant_response_rates: dict[str, float]
    team_source_mix: dict[str, dict[str, float]]
    team_segment_mix: dict[str, dict[str, float]]
    rep_weak_stage: dict[str, str] = field(default_factory=dict)
    weak_stage_share: float = 0.0
    lost_at_stage: dict[str, float] = field(default_factory=dict)
    sequence_response_rates: dict[str, float] = field(default_factory=dict)
    sequence_mix: dict[str, float] = field(default_factory=dict)
    personalisation_lift: dict[str, float] = field(default_factory=dict)
    intervention: tuple[str, str, float] | None = None

    @property
    def variant_lift(self) -> float:
        """True response-rate lift of the last variant over the first (B − A; 0.05 in the generator)."""
        rates = list(self.variant_response_rates.values())
        return rates[-1] - rates[0]

    def true_rate(self, mask: np.ndarray | pd.Series | None = None) -> float:
        """Expected eventual hit rate of the selected opportunities: the mean of their ``p_win``.

        Parameters
        ----------
        mask:
            Boolean selector aligned with the opportunities rows; ``None`` selects all.

        Returns
        -------
        float
            ``nan`` if nothing is selected.
        """
        p = self.p_win if mask is None else self.p_win[np.asarray(mask, dtype=bool)]
        return float(p.mean()) if p.size else float("nan")

    def ramp_effect(self, tenure_days: np.ndarray | float) -> np.ndarray:
        """Log-odds effect of tenure: ``-ramp_depth * exp(-tenure_days / ramp_days)``."""
        return -self.ramp_depth * np.exp(-np.asarray(tenure_days, dtype=float) / self.ramp_days)

    def odds_ratio(self, month_a: int, month_b: int) -> float:
        """True odds ratio of winning when decided in ``month_a`` rather than ``month_b``."""
        return self.seasonal_factors[month_a] / self.seasonal_factors[month_b]


@dataclass(frozen=True, eq=False)
class SynthData:
    """A generated data set: the canonical tables, the export date and the truth.

    Attributes
    ----------
    opportunities, reps, stage_history, activities:
        The canonical tables; ``stage_history`` and ``activities`` are empty (with the
        right columns) when not requested.
    truth:
        The exact model that generated the data.
    as_of:
        The export date (= ``end``); deals not decided by then are open.
    """

    opportunities: pd.DataFrame
    reps: pd.DataFrame
    stage_history: pd.DataFrame
    activities: pd.DataFrame
    truth: SynthTruth
    as_of: pd.Timestamp


# ---- vectorised helpers ----------------------------------------------------------------------
def _strings(
    categories: tuple[str, ...] | list[str], codes: np.ndarray, valid: np.ndarray | None = None
) -> ExtensionArray:
    """A pandas ``str`` array holding ``categories[codes]`` (missing where ``valid`` is False)."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    taken = pa.array(list(categories), pa.large_string()).take(pa.array(codes, mask=mask))
    out: ExtensionArray = pd.array(taken, dtype=_STR_DTYPE)
    return out


def _ids(prefix: str, n: int, width: int) -> ExtensionArray:
    """``prefix`` followed by the zero-padded numbers 1..n, built as one byte buffer."""
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    size = head.size + width
    buf = np.empty((n, size), dtype=np.uint8)
    buf[:, : head.size] = head
    number = np.arange(1, n + 1, dtype=np.int64)
    for k in range(width):
        buf[:, size - 1 - k] = number % 10 + 48
        number //= 10
    offsets = np.arange(0, n * size + 1, size, dtype=np.int64)
    arr = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)])
    out: ExtensionArray = pd.array(arr, dtype=_STR_DTYPE)
    return out


def _timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Epoch seconds -> ``datetime64[us]`` (NaT where ``valid`` is False)."""
    us = seconds.astype(np.int64) * _US
    if valid is not None:
        us[~valid] = _NAT
    return us.view("datetime64[us]")


def _pick(u: np.ndarray, probs: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
    """Categorical draws by inverse CDF: row ``i`` uses ``probs[group[i]]`` (or ``probs``)."""
    cum = np.cumsum(probs, axis=-1)
    cum = cum / cum[..., -1:]
    out = np.zeros(u.shape, dtype=np.int8)
    for j in range(cum.shape[-1] - 1):
        threshold = cum[..., j] if group is None else cum[group, j].astype(u.dtype)
        out += u >= threshold
    return out


def _month(seconds: np.ndarray) -> np.ndarray:
    """Calendar month (1..12) of epoch seconds."""
    return (seconds.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12 + 1).astype(np.int8)


def _seasonal_factors() -> np.ndarray:
    log = np.log(_SEASON_RAW)
    factors: np.ndarray = np.exp(log - log.mean())
    return factors


def _sequence_effects() -> np.ndarray:
    """Sequence effects on the response probability, centred so they average 0 over the sequence mix."""
    mix = _SEQUENCE_MIX / _SEQUENCE_MIX.sum()
    effects: np.ndarray = _SEQUENCE_RAW_EFFECTS - float(mix @ _SEQUENCE_RAW_EFFECTS)
    return effects


def _sequence_rates() -> dict[str, float]:
    """True response rate per sequence: the variants' mean rate (variants are equally likely) plus its effect."""
    base = float(np.mean(list(VARIANT_RESPONSE_RATES.values())))
    return {s: base + float(e) for s, e in zip(SEQUENCES, _sequence_effects(), strict=True)}


# ---- the generator ---------------------------------------------------------------------------
def _make_reps(
    rng: np.random.Generator, n_teams: int, reps_per_team: int, start_s: int, end_s: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Reps table plus, per rep (in table order): team index, hire time (s), skill."""
    n_reps = n_teams * reps_per_team
    n_names = n_reps + n_teams
    if n_names > len(_FIRST_NAMES) * len(_LAST_NAMES):
        raise ValueError(f"at most {len(_FIRST_NAMES) * len(_LAST_NAMES) - n_teams} reps are supported")
    combos = rng.choice(len(_FIRST_NAMES) * len(_LAST_NAMES), size=n_names, replace=False)
    names = [f"{_FIRST_NAMES[c // len(_LAST_NAMES)]} {_LAST_NAMES[c % len(_LAST_NAMES)]}" for c in combos]
    managers, rep_names = names[:n_teams], np.array(names[n_teams:], dtype=object)
    team = np.repeat(np.arange(n_teams), reps_per_team)
    team_names = [f"Team {_TEAMS[t]}" if t < len(_TEAMS) else f"Team {t + 1}" for t in range(n_teams)]
    team_regions = [_REGIONS[t % len(_REGIONS)] for t in range(n_teams)]

    # New hires join in the first 60 % of the window; the others 1-8 years before it.
    n_new = min(int(round(_NEW_HIRE_SHARE * n_reps)), n_reps - 1)
    is_new = np.zeros(n_reps, dtype=bool)
    is_new[rng.choice(n_reps, size=n_new, replace=False)] = True
    start_day = start_s // _DAY
    window_days = max((end_s - start_s) // _DAY, 1)
    new_day = start_day + rng.integers(0, max(int(0.6 * window_days), 1), size=n_reps)
    old_day = start_day - rng.integers(365, 8 * 365, size=n_reps)
    hired_s = np.where(is_new, new_day, old_day).astype(np.int64) * _DAY

    skill = rng.normal(0.0, REP_SKILL_SD, size=n_reps)
    skill -= skill.mean()

    order = np.lexsort((rep_names.astype(str), team))  # table order: by team, then name
    rep_names, team, hired_s, skill = rep_names[order], team[order], hired_s[order], skill[order]
    reps = pd.DataFrame(
        {
            "rep": pd.array(rep_names.astype(str), dtype=_STR_DTYPE),
            "team": pd.array([team_names[t] for t in team], dtype=_STR_DTYPE),
            "manager": pd.array([managers[t] for t in team], dtype=_STR_DTYPE),
            "region": pd.array([team_regions[t] for t in team], dtype=_STR_DTYPE),
            "hired_at": _timestamps(hired_s),
        }
    )
    return reps, team, hired_s, skill


def _team_mix(rng: np.random.Generator, base: np.ndarray, favoured: tuple[int, ...], n_teams: int) -> np.ndarray:
    """Per-team category mix: the base mix, jittered, with one favoured category tripled."""
    mix = base * np.exp(rng.normal(0.0, 0.3, size=(n_teams, base.size)))
    mix[np.arange(n_teams), [favoured[t % len(favoured)] for t in range(n_teams)]] *= 3.0
    shares: np.ndarray = mix / mix.sum(axis=1, keepdims=True)
    return shares


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.array([], dtype=_STR_DTYPE if k == "str" else "datetime64[us]") for c, k in columns.items()}
    )


_HISTORY_COLUMNS = {"id": "str", "stage": "str", "entered_at": "ts"}
_ACTIVITY_COLUMNS = {
    "id": "str",
    "opportunity_id": "str",
    "lead_id": "str",
    "rep": "str",
    "type": "str",
    "at": "ts",
    "campaign": "str",
    "variant": "str",
    "outcome": "str",
    "sequence": "str",
    "segment": "str",
    "personalised": "str",
}


def generate(
    *,
    seed: int = 0,
    n_opportunities: int = 20_000,
    start: str = "2022-01-01",
    end: str = "2024-12-31",
    n_teams: int = 5,
    reps_per_team: int = 6,
    with_history: bool = True,
    with_activities: bool = True,
    weak_stage_share: float = WEAK_STAGE_SHARE,
    intervention: tuple[str, str, float] | None = None,
) -> SynthData:
    """Generate a synthetic B2B sales pipeline and the truth behind it.

    The model is described in the module docstring: a logistic win probability made of
    a base rate, rep skill, a new-hire ramp, lead source, segment and the month of the
    decision; a lognormal time to decision; deals undecided at ``end`` are open.

    Parameters
    ----------
    seed:
        Seed of the single ``numpy.random.default_rng`` everything is drawn from.
    n_opportunities:
        Number of opportunities.
    start, end:
        Creation window; ``end`` is also the export date ``as_of``.
    n_teams, reps_per_team:
        Size of the sales organisation.
    with_history, with_activities:
        Whether to build the ``stage_history`` and ``activities`` tables (they are empty
        otherwise). The other tables do not depend on these switches.
    weak_stage_share:
        Extra share of each rep's lost deals that drop out at the rep's weak stage (0 to 1;
        0 turns weak stages off).
    intervention:
        ``(team, start date, log-odds effect)``: a planted intervention (coaching, training) whose effect is
        added to the log-odds of the team's deals decided on or after the start; off by default (nothing
        else changes, and no extra random numbers are drawn).

    Returns
    -------
    SynthData
    """
    if n_opportunities < 0:
        raise ValueError("n_opportunities must be >= 0")
    if n_teams < 1 or reps_per_team < 1:
        raise ValueError("n_teams and reps_per_team must be >= 1")
    if not 0.0 <= weak_stage_share <= 1.0:
        raise ValueError(f"weak_stage_share must be between 0 and 1; got {weak_stage_share}")
    start_ts, as_of = pd.Timestamp(start).as_unit("us"), pd.Timestamp(end).as_unit("us")
    if not start_ts < as_of:
        raise ValueError(f"start ({start}) must be before end ({end})")
    start_s, end_s = (int(t.to_datetime64().astype("datetime64[s]").astype(np.int64)) for t in (start_ts, as_of))
    n = int(n_opportunities)
    rng = np.random.default_rng(seed)

    # ---- organisation ----
    reps, rep_team, hired_s, skill = _make_reps(rng, n_teams, reps_per_team, start_s, end_s)
    rep_names = reps["rep"].tolist()
    team_names = list(dict.fromkeys(reps["team"].tolist()))
    source_mix = _team_mix(rng, _BASE_SOURCE_MIX, _TEAM_FAVOURED_SOURCE, n_teams)
    segment_mix = _team_mix(rng, _BASE_SEGMENT_MIX, _TEAM_FAVOURED_SEGMENT, n_teams)

    # ---- opportunities: who, what, when ----
    x = rng.random(n)  # creation time: inverse CDF of a linearly rising rate on [0, 1)
    x = (np.sqrt(1.0 + 2.0 * _GROWTH * (1.0 + _GROWTH / 2.0) * x) - 1.0) / _GROWTH
    created_s = start_s + np.minimum((x * (end_s - start_s)).astype(np.int64), end_s - start_s - 1)
    del x

    by_hire = np.argsort(hired_s, kind="stable")  # a rep is eligible once hired
    eligible = np.searchsorted(hired_s[by_hire], created_s, side="right")
    slot = (rng.random(n, dtype=np.float32) * eligible).astype(np.int64)
    rep = by_hire[np.minimum(slot, eligible - 1)].astype(np.int16)
    del eligible, slot
    team = rep_team[rep]

    source = _pick(rng.random(n, dtype=np.float32), source_mix, team)
    segment = _pick(rng.random(n, dtype=np.float32), segment_mix, team)
    product = _pick(rng.random(n, dtype=np.float32), _PRODUCT_MIX, segment)
    amount = _SEGMENT_MEDIAN_AMOUNT[segment] * _PRODUCT_AMOUNT[product]
    amount *= np.exp(rng.normal(0.0, _AMOUNT_SIGMA, size=n))
    amount = np.round(amount, 0)

    days = _SEGMENT_MEDIAN_DAYS[segment] * np.exp(rng.normal(0.0, _DURATION_SIGMA, size=n))
    duration_s = np.maximum((days * _DAY).astype(np.int64), _DAY)
    del days
    decided_s = created_s + duration_s
    closed = decided_s <= end_s

    # ---- the truth: win probability and outcome ----
    season = _seasonal_factors()
    tenure_days = (created_s - hired_s[rep]) / _DAY
    logit = BASE_LOGIT + skill[rep] - RAMP_DEPTH * np.exp(-tenure_days / RAMP_DAYS)
    del tenure_days
    logit += np.array(list(SOURCE_EFFECTS.values()))[source]
    logit += np.array(list(SEGMENT_EFFECTS.values()))[segment]
    logit += np.log(season)[_month(decided_s) - 1]
    if intervention is not None:
        treated_team = team_names.index(intervention[0])
        since = int(pd.Timestamp(intervention[1]).to_datetime64().astype("datetime64[s]").astype(np.int64))
        logit += intervention[2] * ((team == treated_team) & (decided_s >= since))
    p_win = 1.0 / (1.0 + np.exp(-logit))
    del logit
    would_win = rng.random(n) < p_win

    # ---- path through the stages ----
    # Last open stage reached: Negotiation for winners, a drop-out stage for losers.
    # A rep's lost deals drop out at (1 - share) * base + share * [their weak stage].
    n_reps = len(rep_names)
    weak = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(8,))).permutation(n_reps) % 4
    lost_mix = (1.0 - weak_stage_share) * np.broadcast_to(_LOST_AT_STAGE, (n_reps, 4)).copy()
    lost_mix[np.arange(n_reps), weak] += weak_stage_share
    last = np.where(would_win, np.int8(3), _pick(rng.random(n, dtype=np.float32), lost_mix, rep))
    # Stage j (1..last) is entered at created + duration * C[j-1] / C[last], C = cumsum of gammas.
    cum = np.cumsum(rng.standard_gamma(2.0, size=(n, 4), dtype=np.float32), axis=1)
    cum /= np.take_along_axis(cum, last[:, None].astype(np.int64), axis=1)
    entered_s = np.empty((n, 4), dtype=np.int64)
    entered_s[:, 0] = created_s
    entered_s[:, 1:] = created_s[:, None] + (cum[:, :3] * duration_s[:, None]).astype(np.int64)
    del cum
    reached = np.arange(4) <= last[:, None]  # stages on the path
    reached &= entered_s <= end_s  # ... and entered by the export date
    current = (reached.sum(axis=1) - 1).astype(np.int8)  # open deals sit at their last entered stage
    stage = np.where(closed, np.where(would_win, np.int8(4), np.int8(5)), current)
    outcome = np.where(closed, np.where(would_win, np.int8(0), np.int8(1)), np.int8(2))
    lost = outcome == 1
    reason = _pick(rng.random(n, dtype=np.float32), _LOSS_REASON_BY_STAGE, last)

    expected_s = created_s + (duration_s * np.exp(rng.normal(-0.15, 0.3, size=n))).astype(np.int64)
    expected_s -= expected_s % _DAY  # a date

    ids = _ids("OPP", n, max(7, len(str(n))))
    opportunities = pd.DataFrame(
        {
            "id": ids,
            "rep": _strings(rep_names, rep),
            "created_at": _timestamps(created_s),
            "closed_at": _timestamps(decided_s, closed),
            "expected_close": _timestamps(expected_s),
            "stage": _strings(STAGES, stage),
            "outcome": _strings(OUTCOMES, outcome),
            "amount": amount,
            "loss_reason": _strings(LOSS_REASONS, reason, lost),
            "segment": _strings(SEGMENTS, segment),
            "lead_source": _strings(LEAD_SOURCES, source),
            "product": _strings(PRODUCTS, product),
            "region": _strings(list(reps["region"]), rep),
        }
    )
    del expected_s, reason, product, amount

    # ---- stage history ----
    if with_history and n:
        slots = np.zeros((n, 5), dtype=bool)  # four open stages, then the closing stage
        slots[:, :4] = reached
        slots[:, 4] = closed
        times = np.empty((n, 5), dtype=np.int64)
        times[:, :4] = entered_s
        times[:, 4] = decided_s
        labels = np.empty((n, 5), dtype=np.int8)
        labels[:, :4] = np.arange(4, dtype=np.int8)
        labels[:, 4] = np.where(would_win, np.int8(4), np.int8(5))
        row = np.broadcast_to(np.arange(n)[:, None], (n, 5))[slots]
        stage_history = pd.DataFrame(
            {
                "id": pd.array(pa.array(ids).take(pa.array(row)), dtype=_STR_DTYPE),
                "stage": _strings(STAGES, labels[slots]),
                "entered_at": _timestamps(times[slots]),
            }
        )
        del slots, times, labels, row
    else:
        stage_history = _empty(_HISTORY_COLUMNS)
    del reached, entered_s

    # ---- activities ----
    if with_activities and n:
        life_s = np.minimum(decided_s, end_s) - created_s
        counts = 1 + rng.poisson(life_s / _DAY * _ACTIVITIES_PER_DAY)
        m = int(counts.sum())
        owner = np.repeat(np.arange(n), counts)
        at_s = created_s[owner] + (rng.random(m) * life_s[owner]).astype(np.int64)
        order = np.lexsort((at_s, owner))
        owner, at_s = owner[order], at_s[order]
        kind = _pick(rng.random(m, dtype=np.float32), _ACTIVITY_TYPE_MIX)
        campaign = rng.integers(0, len(CAMPAIGNS), size=m).astype(np.int8)
        variant = rng.integers(0, 2, size=m).astype(np.int8)
        u = rng.random(m)
        rate = np.array([VARIANT_RESPONSE_RATES[v] for v in VARIANTS])[variant]
        sequence = _pick(rng.random(n, dtype=np.float32), _SEQUENCE_MIX)[owner]
        personalised = rng.random(m) < _PERSONALISED_SHARE
        act_segment = segment[owner]
        rate = rate + _sequence_effects()[sequence]
        rate = rate + (personalised - 0.5) * np.array(list(PERSONALISATION_LIFT.values()))[act_segment]
        talk = np.where(u < rate * _MEETING_BOOKED_SHARE, 2, np.where(u < rate, 0, 1))  # booked/replied/none
        act_outcome = np.where(kind == 2, np.where(u < _MEETING_HELD, 3, 4), talk).astype(np.int8)
        activities = pd.DataFrame(
            {
                "id": _ids("ACT", m, max(8, len(str(m)))),
                "opportunity_id": pd.array(pa.array(ids).take(pa.array(owner)), dtype=_STR_DTYPE),
                "lead_id": pd.array(pa.nulls(m, pa.large_string()), dtype=_STR_DTYPE),
                "rep": _strings(rep_names, rep[owner]),
                "type": _strings(ACTIVITY_TYPES, kind),
                "at": _timestamps(at_s),
                "campaign": _strings(CAMPAIGNS, campaign),
                "variant": _strings(VARIANTS, variant),
                "outcome": _strings(ACTIVITY_OUTCOMES, act_outcome),
                "sequence": _strings(SEQUENCES, sequence),
                "segment": _strings(SEGMENTS, act_segment),
                "personalised": _strings(("no", "yes"), personalised.astype(np.int8)),
            }
        )
    else:
        activities = _empty(_ACTIVITY_COLUMNS)

    for arr in (p_win, would_win):
        arr.flags.writeable = False
    decided_at = _timestamps(decided_s)
    decided_at.flags.writeable = False
    truth = SynthTruth(
        base_logit=BASE_LOGIT,
        rep_skill={name: float(s) for name, s in zip(rep_names, skill, strict=True)},
        ramp_depth=RAMP_DEPTH,
        ramp_days=RAMP_DAYS,
        source_effects=dict(SOURCE_EFFECTS),
        segment_effects=dict(SEGMENT_EFFECTS),
        seasonal_factors={m + 1: float(f) for m, f in enumerate(season)},
        p_win=p_win,
        decided_at=decided_at,
        would_win=would_win,
        variant_response_rates=dict(VARIANT_RESPONSE_RATES),
        team_source_mix={
            t: dict(zip(LEAD_SOURCES, map(float, mix), strict=True))
            for t, mix in zip(team_names, source_mix, strict=True)
        },
        team_segment_mix={
            t: dict(zip(SEGMENTS, map(float, mix), strict=True)) for t, mix in zip(team_names, segment_mix, strict=True)
        },
        rep_weak_stage=(
            {name: OPEN_STAGES[w] for name, w in zip(rep_names, weak, strict=True)} if weak_stage_share > 0 else {}
        ),
        weak_stage_share=float(weak_stage_share),
        lost_at_stage=dict(zip(OPEN_STAGES, map(float, _LOST_AT_STAGE), strict=True)),
        sequence_response_rates=_sequence_rates(),
        sequence_mix=dict(zip(SEQUENCES, map(float, _SEQUENCE_MIX / _SEQUENCE_MIX.sum()), strict=True)),
        personalisation_lift=dict(PERSONALISATION_LIFT),
        intervention=intervention,
    )
    return SynthData(
        opportunities=opportunities,
        reps=reps,
        stage_history=stage_history,
        activities=activities,
        truth=truth,
        as_of=as_of,
    )
