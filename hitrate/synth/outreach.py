"""Outreach: the activities (calls, e-mails, meetings) on each deal, and how the people reached respond.

A call or e-mail gets a positive response (``replied`` or ``meeting_booked``) with a probability that adds
three independent terms: the variant's rate, the deal's sequence's effect (centred over the sequence mix)
and, for a personalised touch, half the segment's personalisation lift (minus half for an unpersonalised
one), so the variant alone sets a variant's expected rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionArray

from hitrate.synth._arrays import DAY, STR_DTYPE, empty, ids, pick, strings, taken, timestamps
from hitrate.synth.deals import Deals
from hitrate.synth.model import (
    _ACTIVITIES_PER_DAY,
    _ACTIVITY_TYPE_MIX,
    _MEETING_BOOKED_SHARE,
    _MEETING_HELD,
    _PERSONALISED_SHARE,
    _SEQUENCE_MIX,
    _SEQUENCE_RAW_EFFECTS,
    ACTIVITY_OUTCOMES,
    ACTIVITY_TYPES,
    CAMPAIGNS,
    PERSONALISATION_LIFT,
    SEGMENTS,
    SEQUENCES,
    VARIANT_RESPONSE_RATES,
    VARIANTS,
)

ACTIVITY_COLUMNS = {
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


def sequence_effects() -> np.ndarray:
    """Sequence effects on the response probability, centred so they average 0 over the sequence mix."""
    mix = _SEQUENCE_MIX / _SEQUENCE_MIX.sum()
    effects: np.ndarray = _SEQUENCE_RAW_EFFECTS - float(mix @ _SEQUENCE_RAW_EFFECTS)
    return effects


def sequence_rates() -> dict[str, float]:
    """True response rate per sequence: the variants' mean rate (variants are equally likely) plus its effect."""
    base = float(np.mean(list(VARIANT_RESPONSE_RATES.values())))
    return {s: base + float(e) for s, e in zip(SEQUENCES, sequence_effects(), strict=True)}


def activities(
    rng: np.random.Generator, opportunity_ids: ExtensionArray, deals: Deals, rep_names: list[str], end_s: int
) -> pd.DataFrame:
    """1 + Poisson(life_days / 20) activities per deal, spread uniformly over its life up to its decision or
    the export date ``end_s``, each with a campaign, variant, sequence, personalisation and outcome."""
    n = len(deals)
    if not n:
        return empty(ACTIVITY_COLUMNS)
    owner, at_s = _times(rng, deals, end_s)
    m = len(owner)
    kind = pick(rng.random(m, dtype=np.float32), _ACTIVITY_TYPE_MIX)
    campaign = rng.integers(0, len(CAMPAIGNS), size=m).astype(np.int8)
    variant = rng.integers(0, 2, size=m).astype(np.int8)
    u = rng.random(m)
    sequence = pick(rng.random(n, dtype=np.float32), _SEQUENCE_MIX)[owner]
    personalised = rng.random(m) < _PERSONALISED_SHARE
    segment = deals.segment[owner]
    outcome = _outcomes(u, kind, variant, sequence, personalised, segment)
    return pd.DataFrame(
        {
            "id": ids("ACT", m, max(8, len(str(m)))),
            "opportunity_id": taken(opportunity_ids, owner),
            "lead_id": pd.array(pa.nulls(m, pa.large_string()), dtype=STR_DTYPE),
            "rep": strings(rep_names, deals.rep[owner]),
            "type": strings(ACTIVITY_TYPES, kind),
            "at": timestamps(at_s),
            "campaign": strings(CAMPAIGNS, campaign),
            "variant": strings(VARIANTS, variant),
            "outcome": strings(ACTIVITY_OUTCOMES, outcome),
            "sequence": strings(SEQUENCES, sequence),
            "segment": strings(SEGMENTS, segment),
            "personalised": strings(("no", "yes"), personalised.astype(np.int8)),
        }
    )


def _times(rng: np.random.Generator, deals: Deals, end_s: int) -> tuple[np.ndarray, np.ndarray]:
    """Each activity's deal (an index) and time, ordered by deal, then time."""
    life_s = np.minimum(deals.decided_s, end_s) - deals.created_s
    counts = 1 + rng.poisson(life_s / DAY * _ACTIVITIES_PER_DAY)
    m = int(counts.sum())
    owner = np.repeat(np.arange(len(deals)), counts)
    at_s = deals.created_s[owner] + (rng.random(m) * life_s[owner]).astype(np.int64)
    order = np.lexsort((at_s, owner))
    return owner[order], at_s[order]


def _outcomes(
    u: np.ndarray,
    kind: np.ndarray,
    variant: np.ndarray,
    sequence: np.ndarray,
    personalised: np.ndarray,
    segment: np.ndarray,
) -> np.ndarray:
    """Outcome codes: a meeting is held or a no-show; a call or e-mail is booked, replied or unanswered, by
    the uniform draw ``u`` against its response probability."""
    rate = np.array([VARIANT_RESPONSE_RATES[v] for v in VARIANTS])[variant]
    rate = rate + sequence_effects()[sequence]
    rate = rate + (personalised - 0.5) * np.array(list(PERSONALISATION_LIFT.values()))[segment]
    talk = np.where(u < rate * _MEETING_BOOKED_SHARE, 2, np.where(u < rate, 0, 1))  # booked/replied/none
    outcome: np.ndarray = np.where(kind == 2, np.where(u < _MEETING_HELD, 3, 4), talk).astype(np.int8)
    return outcome
