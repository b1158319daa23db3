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

import numpy as np
import pandas as pd

from hitrate.errors import InvalidParameterError
from hitrate.i18n import Message
from hitrate.synth import deals as _deals
from hitrate.synth import reps as _reps
from hitrate.synth import truth as _truth
from hitrate.synth._arrays import empty, to_seconds
from hitrate.synth._arrays import ids as _ids
from hitrate.synth.history import HISTORY_COLUMNS, stage_history
from hitrate.synth.model import (
    _LOSS_REASON_BY_STAGE,
    ACTIVITY_OUTCOMES,
    ACTIVITY_TYPES,
    CAMPAIGNS,
    LEAD_SOURCES,
    LOSS_REASONS,
    OPEN_STAGES,
    OUTCOMES,
    PRODUCTS,
    SEGMENTS,
    SEQUENCES,
    STAGES,
    VARIANTS,
    WEAK_STAGE_SHARE,
    SynthData,
    SynthTruth,
)
from hitrate.synth.outreach import ACTIVITY_COLUMNS, activities

__all__ = [
    "ACTIVITY_OUTCOMES",
    "ACTIVITY_TYPES",
    "CAMPAIGNS",
    "LEAD_SOURCES",
    "LOSS_REASONS",
    "OPEN_STAGES",
    "OUTCOMES",
    "PRODUCTS",
    "SEGMENTS",
    "SEQUENCES",
    "STAGES",
    "VARIANTS",
    "WEAK_STAGE_SHARE",
    "SynthData",
    "SynthTruth",
    "_LOSS_REASON_BY_STAGE",
    "_ids",
    "generate",
]


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

    Raises
    ------
    InvalidParameterError
        A negative ``n_opportunities``, fewer than one team or rep per team, more reps than the made-up names
        can tell apart, a ``weak_stage_share`` outside 0..1, or ``end`` not after ``start``.
    """
    _check(n_opportunities, n_teams, reps_per_team, weak_stage_share)
    start_ts, as_of = pd.Timestamp(start).as_unit("us"), pd.Timestamp(end).as_unit("us")
    if not start_ts < as_of:
        raise InvalidParameterError("end", Message("synth.after_start", start=start), end, caller="generate")
    start_s, end_s = to_seconds(start_ts), to_seconds(as_of)
    n = int(n_opportunities)
    rng = np.random.default_rng(seed)

    org = _reps.make_organisation(rng, n_teams, reps_per_team, start_s, end_s)
    deals = _deals.draw_deals(rng, org, n, start_s, end_s)
    season = _truth.seasonal_factors()
    p_win = _truth.win_probability(deals, org, season, intervention)
    would_win = rng.random(n) < p_win
    weak = _reps.weak_stages(seed, len(org.rep_names))
    path = _deals.stage_path(rng, deals, would_win, _reps.lost_mix(weak, weak_stage_share), end_s)
    opportunities = _deals.opportunities(rng, deals, path, org)
    ids = opportunities["id"].array
    history = stage_history(ids, deals, path, would_win) if with_history else empty(HISTORY_COLUMNS)
    del path
    acts = activities(rng, ids, deals, org.rep_names, end_s) if with_activities else empty(ACTIVITY_COLUMNS)
    return SynthData(
        opportunities=opportunities,
        reps=org.reps,
        stage_history=history,
        activities=acts,
        truth=_truth.record(org, deals, season, p_win, would_win, weak, weak_stage_share, intervention),
        as_of=as_of,
    )


def _check(n_opportunities: int, n_teams: int, reps_per_team: int, weak_stage_share: float) -> None:
    """Refuse sizes and shares the generator cannot honour (:class:`~hitrate.errors.InvalidParameterError`)."""
    if n_opportunities < 0:
        raise InvalidParameterError(
            "n_opportunities", Message("synth.at_least", minimum=0), n_opportunities, caller="generate"
        )
    for name, value in (("n_teams", n_teams), ("reps_per_team", reps_per_team)):
        if value < 1:
            raise InvalidParameterError(name, Message("synth.at_least", minimum=1), value, caller="generate")
    if n_teams * (reps_per_team + 1) > _reps.MAX_PEOPLE:
        most = Message("synth.at_most_reps", most=_reps.MAX_PEOPLE - n_teams)
        raise InvalidParameterError("reps_per_team", most, reps_per_team, caller="generate")
    if not 0.0 <= weak_stage_share <= 1.0:
        raise InvalidParameterError("weak_stage_share", Message("synth.share"), weak_stage_share, caller="generate")
