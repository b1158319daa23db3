"""The fixed part of the synthetic model, and what :func:`hitrate.synth.generate` returns.

The constants below are the truth every generated data set shares (effects on the log-odds of a win, the
mixes of sources, segments and products, the sizes and durations of deals, the outreach response rates);
:class:`SynthTruth` records them with the parts drawn per data set (rep skill, team mixes, weak stages, the
win probability of every deal), and :class:`SynthData` holds the tables with their truth. The model in plain
words is in :mod:`hitrate.synth.generator`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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


@dataclass(frozen=True, eq=False)
class SynthTruth:
    """The exact model behind a :class:`SynthData` (see :mod:`hitrate.synth.generator`).

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

    def expected_wins(self, period: str = "month") -> dict[str, float]:
        """True expected wins of every ``month`` or ``quarter`` (labelled as in ``rates``: ``2024-03``, ``2024-Q1``):
        the sum of ``p_win`` over the deals decided in it, also after the export date (the open deals' future),
        given which deals exist and when each is decided. Periods after the export date miss the deals not
        yet created then."""
        months, inverse = np.unique(np.asarray(self.decided_at, dtype="datetime64[M]"), return_inverse=True)
        sums = np.bincount(inverse, weights=self.p_win, minlength=months.size)
        out: dict[str, float] = {}
        for month, total in zip(months.tolist(), sums.tolist(), strict=True):
            label = f"{month.year:04d}-" + (
                f"Q{(month.month - 1) // 3 + 1}" if period == "quarter" else f"{month.month:02d}"
            )
            out[label] = out.get(label, 0.0) + float(total)
        return out

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
