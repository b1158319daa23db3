"""The truth behind a generated pipeline: each deal's win probability, and the :class:`SynthTruth` that
records the whole model."""

from __future__ import annotations

import numpy as np

from hitrate.synth._arrays import DAY, month, timestamps, to_seconds
from hitrate.synth.deals import Deals
from hitrate.synth.model import (
    _LOST_AT_STAGE,
    _SEASON_RAW,
    _SEQUENCE_MIX,
    BASE_LOGIT,
    LEAD_SOURCES,
    OPEN_STAGES,
    PERSONALISATION_LIFT,
    RAMP_DAYS,
    RAMP_DEPTH,
    SEGMENT_EFFECTS,
    SEGMENTS,
    SEQUENCES,
    SOURCE_EFFECTS,
    VARIANT_RESPONSE_RATES,
    SynthTruth,
)
from hitrate.synth.outreach import sequence_rates
from hitrate.synth.reps import Organisation


def seasonal_factors() -> np.ndarray:
    """The odds factors of the twelve decision months, scaled to a geometric mean of 1."""
    log = np.log(_SEASON_RAW)
    factors: np.ndarray = np.exp(log - log.mean())
    return factors


def win_probability(
    deals: Deals, org: Organisation, season: np.ndarray, intervention: tuple[str, str, float] | None
) -> np.ndarray:
    """``p_win`` of every deal: the logistic model of :mod:`hitrate.synth.generator`, with the planted
    intervention's effect added to its team's deals decided on or after its start."""
    rep = deals.rep
    tenure_days = (deals.created_s - org.hired_s[rep]) / DAY
    logit = BASE_LOGIT + org.skill[rep] - RAMP_DEPTH * np.exp(-tenure_days / RAMP_DAYS)
    logit += np.array(list(SOURCE_EFFECTS.values()))[deals.source]
    logit += np.array(list(SEGMENT_EFFECTS.values()))[deals.segment]
    logit += np.log(season)[month(deals.decided_s) - 1]
    if intervention is not None:
        treated_team = org.team_names.index(intervention[0])
        since = to_seconds(intervention[1])
        logit += intervention[2] * ((deals.team == treated_team) & (deals.decided_s >= since))
    p_win: np.ndarray = 1.0 / (1.0 + np.exp(-logit))
    return p_win


def record(
    org: Organisation,
    deals: Deals,
    season: np.ndarray,
    p_win: np.ndarray,
    would_win: np.ndarray,
    weak: np.ndarray,
    weak_stage_share: float,
    intervention: tuple[str, str, float] | None,
) -> SynthTruth:
    """The :class:`SynthTruth` of a generated pipeline (its arrays read-only)."""
    for arr in (p_win, would_win):
        arr.flags.writeable = False
    decided_at = timestamps(deals.decided_s)
    decided_at.flags.writeable = False
    names = org.rep_names
    return SynthTruth(
        base_logit=BASE_LOGIT,
        rep_skill={name: float(s) for name, s in zip(names, org.skill, strict=True)},
        ramp_depth=RAMP_DEPTH,
        ramp_days=RAMP_DAYS,
        source_effects=dict(SOURCE_EFFECTS),
        segment_effects=dict(SEGMENT_EFFECTS),
        seasonal_factors={m + 1: float(f) for m, f in enumerate(season)},
        p_win=p_win,
        decided_at=decided_at,
        would_win=would_win,
        variant_response_rates=dict(VARIANT_RESPONSE_RATES),
        team_source_mix=_mixes(org.team_names, LEAD_SOURCES, org.source_mix),
        team_segment_mix=_mixes(org.team_names, SEGMENTS, org.segment_mix),
        rep_weak_stage=(
            {name: OPEN_STAGES[w] for name, w in zip(names, weak, strict=True)} if weak_stage_share > 0 else {}
        ),
        weak_stage_share=float(weak_stage_share),
        lost_at_stage=dict(zip(OPEN_STAGES, map(float, _LOST_AT_STAGE), strict=True)),
        sequence_response_rates=sequence_rates(),
        sequence_mix=dict(zip(SEQUENCES, map(float, _SEQUENCE_MIX / _SEQUENCE_MIX.sum()), strict=True)),
        personalisation_lift=dict(PERSONALISATION_LIFT),
        intervention=intervention,
    )


def _mixes(teams: list[str], categories: tuple[str, ...], mix: np.ndarray) -> dict[str, dict[str, float]]:
    """Team -> category -> probability."""
    return {t: dict(zip(categories, map(float, row), strict=True)) for t, row in zip(teams, mix, strict=True)}
