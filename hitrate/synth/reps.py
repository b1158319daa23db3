"""The sales organisation: teams, their managers and regions, reps with hire dates and skill, each team's
mix of lead sources and segments, and every rep's weak stage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hitrate.synth._arrays import DAY, STR_DTYPE, timestamps
from hitrate.synth.model import (
    _BASE_SEGMENT_MIX,
    _BASE_SOURCE_MIX,
    _LOST_AT_STAGE,
    _NEW_HIRE_SHARE,
    _TEAM_FAVOURED_SEGMENT,
    _TEAM_FAVOURED_SOURCE,
    REP_SKILL_SD,
)

_TEAMS = ("North", "South", "East", "West", "Central")
_REGIONS = ("Nordics", "Southern Europe", "DACH", "UK & Ireland", "Benelux")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST_NAMES = _words(
    """Anna Lars Maria Jonas Sofie Mikkel Ida Henrik Emma Frederik Clara Mads Laura Oskar Julie Anders Sara Peter
    Nora Erik Eva Thomas Lina Martin Freja Rasmus Hanna Jens Maja Kasper Ingrid Magnus Astrid Nils Karin Johan
    Elin Simon Vera David"""
)
_LAST_NAMES = _words(
    """Holm Berg Nielsen Larsen Lund Dahl Strand Eriksen Vik Hansen Moller Kjaer Sorensen Lindqvist Nyberg Bakke
    Winther Falk Krogh Jensen Petersen Sandberg Engel Brandt Ahlgren Lindgren Haugen Bjork Ek Norling Meyer
    Schmidt Vogel Keller Lambert Laurent Rossi Costa Murphy Walsh"""
)
#: How many people (reps and their managers) the name lists can tell apart.
MAX_PEOPLE = len(_FIRST_NAMES) * len(_LAST_NAMES)


@dataclass(frozen=True)
class Organisation:
    """The reps table and, per rep in table order, its team index, hire time (epoch seconds) and skill
    (log-odds); the team names, and each team's mix of lead sources and of segments (rows: teams)."""

    reps: pd.DataFrame
    team: np.ndarray
    hired_s: np.ndarray
    skill: np.ndarray
    team_names: list[str]
    source_mix: np.ndarray
    segment_mix: np.ndarray

    @property
    def rep_names(self) -> list[str]:
        """The reps' names, in table order (by team, then name)."""
        names: list[str] = self.reps["rep"].tolist()
        return names


def make_organisation(
    rng: np.random.Generator, n_teams: int, reps_per_team: int, start_s: int, end_s: int
) -> Organisation:
    """Teams, reps (a quarter of them hired during the window) and the teams' mixes, drawn in this order."""
    reps, team, hired_s, skill = _make_reps(rng, n_teams, reps_per_team, start_s, end_s)
    source_mix = _team_mix(rng, _BASE_SOURCE_MIX, _TEAM_FAVOURED_SOURCE, n_teams)
    segment_mix = _team_mix(rng, _BASE_SEGMENT_MIX, _TEAM_FAVOURED_SEGMENT, n_teams)
    team_names = list(dict.fromkeys(reps["team"].tolist()))
    return Organisation(reps, team, hired_s, skill, team_names, source_mix, segment_mix)


def _names(rng: np.random.Generator, n_teams: int, reps_per_team: int) -> tuple[list[str], np.ndarray]:
    """Distinct made-up names: the managers' (one per team) and the reps'."""
    combos = rng.choice(MAX_PEOPLE, size=n_teams * (reps_per_team + 1), replace=False)
    names = [f"{_FIRST_NAMES[c // len(_LAST_NAMES)]} {_LAST_NAMES[c % len(_LAST_NAMES)]}" for c in combos]
    return names[:n_teams], np.array(names[n_teams:], dtype=object)


def _hire_times(rng: np.random.Generator, n_reps: int, start_s: int, end_s: int) -> np.ndarray:
    """Hire times (epoch seconds): new hires join in the first 60 % of the window, the others 1-8 years
    before it."""
    n_new = min(int(round(_NEW_HIRE_SHARE * n_reps)), n_reps - 1)
    is_new = np.zeros(n_reps, dtype=bool)
    is_new[rng.choice(n_reps, size=n_new, replace=False)] = True
    start_day = start_s // DAY
    window_days = max((end_s - start_s) // DAY, 1)
    new_day = start_day + rng.integers(0, max(int(0.6 * window_days), 1), size=n_reps)
    old_day = start_day - rng.integers(365, 8 * 365, size=n_reps)
    hired: np.ndarray = np.where(is_new, new_day, old_day).astype(np.int64) * DAY
    return hired


def _make_reps(
    rng: np.random.Generator, n_teams: int, reps_per_team: int, start_s: int, end_s: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Reps table plus, per rep (in table order): team index, hire time (s), skill."""
    n_reps = n_teams * reps_per_team
    managers, rep_names = _names(rng, n_teams, reps_per_team)
    team = np.repeat(np.arange(n_teams), reps_per_team)
    team_names = [f"Team {_TEAMS[t]}" if t < len(_TEAMS) else f"Team {t + 1}" for t in range(n_teams)]
    team_regions = [_REGIONS[t % len(_REGIONS)] for t in range(n_teams)]
    hired_s = _hire_times(rng, n_reps, start_s, end_s)
    skill = rng.normal(0.0, REP_SKILL_SD, size=n_reps)
    skill -= skill.mean()

    order = np.lexsort((rep_names.astype(str), team))  # table order: by team, then name
    rep_names, team, hired_s, skill = rep_names[order], team[order], hired_s[order], skill[order]
    reps = pd.DataFrame(
        {
            "rep": pd.array(rep_names.astype(str), dtype=STR_DTYPE),
            "team": pd.array([team_names[t] for t in team], dtype=STR_DTYPE),
            "manager": pd.array([managers[t] for t in team], dtype=STR_DTYPE),
            "region": pd.array([team_regions[t] for t in team], dtype=STR_DTYPE),
            "hired_at": timestamps(hired_s),
        }
    )
    return reps, team, hired_s, skill


def _team_mix(rng: np.random.Generator, base: np.ndarray, favoured: tuple[int, ...], n_teams: int) -> np.ndarray:
    """Per-team category mix: the base mix, jittered, with one favoured category tripled."""
    mix = base * np.exp(rng.normal(0.0, 0.3, size=(n_teams, base.size)))
    mix[np.arange(n_teams), [favoured[t % len(favoured)] for t in range(n_teams)]] *= 3.0
    shares: np.ndarray = mix / mix.sum(axis=1, keepdims=True)
    return shares


def weak_stages(seed: int, n_reps: int) -> np.ndarray:
    """Each rep's weak stage (0..3, the four open stages dealt out evenly at random), from a stream of its own
    (``SeedSequence(seed, spawn_key=(8,))``) so that every other draw stays as it was before they existed."""
    stages: np.ndarray = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(8,))).permutation(n_reps) % 4
    return stages


def lost_mix(weak: np.ndarray, share: float) -> np.ndarray:
    """Per rep, where lost deals drop out: ``(1 - share) * base + share * [the rep's weak stage]``."""
    n_reps = len(weak)
    mix = (1.0 - share) * np.broadcast_to(_LOST_AT_STAGE, (n_reps, 4)).copy()
    mix[np.arange(n_reps), weak] += share
    return mix
