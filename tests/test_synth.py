"""Tests of the synthetic pipeline generator :mod:`hitrate.synth`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hitrate.synth.generator import (
    ACTIVITY_TYPES,
    LEAD_SOURCES,
    LOSS_REASONS,
    PRODUCTS,
    SEGMENTS,
    STAGES,
    SynthData,
    _ids,
    generate,
)

OPEN_STAGES = ["Prospecting", "Qualified", "Proposal", "Negotiation"]
STAGE_RANK = {s: i for i, s in enumerate(STAGES)}
OPP_COLUMNS = [
    "id", "rep", "created_at", "closed_at", "expected_close", "stage", "outcome", "amount",
    "loss_reason", "segment", "lead_source", "product", "region",
]  # fmt: skip
REP_COLUMNS = ["rep", "team", "manager", "region", "hired_at"]
HISTORY_COLUMNS = ["id", "stage", "entered_at"]
ACTIVITY_COLUMNS = [
    "id", "opportunity_id", "lead_id", "rep", "type", "at", "campaign", "variant", "outcome",
    "sequence", "segment", "personalised",
]  # fmt: skip


@pytest.fixture(scope="module")
def small() -> SynthData:
    """Default-shaped data (history and activities), small enough to check row by row."""
    return generate(seed=7, n_opportunities=5_000)


@pytest.fixture(scope="module")
def big() -> SynthData:
    """A large sample without history / activities, for the statistical checks."""
    return generate(seed=11, n_opportunities=200_000, with_history=False, with_activities=False)


def _frames(d: SynthData) -> list[pd.DataFrame]:
    return [d.opportunities, d.reps, d.stage_history, d.activities]


def _closed_won(d: SynthData) -> tuple[np.ndarray, np.ndarray]:
    outcome = d.opportunities["outcome"].to_numpy(dtype=object)
    return outcome != "open", outcome == "won"


def _se(p: np.ndarray) -> float:
    """Standard error of the empirical rate of independent Bernoulli(p_i) draws."""
    return float(np.sqrt((p * (1 - p)).sum()) / p.size)


# ---- determinism -------------------------------------------------------------------------------
def test_same_seed_gives_identical_data() -> None:
    a, b = generate(seed=3, n_opportunities=3_000), generate(seed=3, n_opportunities=3_000)
    for fa, fb in zip(_frames(a), _frames(b), strict=True):
        assert len(fa) > 0
        pd.testing.assert_frame_equal(fa, fb)
    np.testing.assert_array_equal(a.truth.p_win, b.truth.p_win)
    np.testing.assert_array_equal(a.truth.would_win, b.truth.would_win)
    assert a.truth.rep_skill == b.truth.rep_skill
    assert a.truth.seasonal_factors == b.truth.seasonal_factors
    assert a.as_of == b.as_of


def test_different_seeds_differ() -> None:
    a, b = generate(seed=1, n_opportunities=2_000), generate(seed=2, n_opportunities=2_000)
    assert not a.opportunities["created_at"].equals(b.opportunities["created_at"])
    assert not a.opportunities["rep"].equals(b.opportunities["rep"])
    assert not np.array_equal(a.truth.p_win, b.truth.p_win)
    assert a.truth.rep_skill != b.truth.rep_skill
    assert not a.activities["at"].equals(b.activities["at"])


def test_switches_do_not_change_the_opportunities() -> None:
    full = generate(seed=5, n_opportunities=2_000)
    bare = generate(seed=5, n_opportunities=2_000, with_history=False, with_activities=False)
    pd.testing.assert_frame_equal(full.opportunities, bare.opportunities)
    pd.testing.assert_frame_equal(full.reps, bare.reps)
    np.testing.assert_array_equal(full.truth.p_win, bare.truth.p_win)


# ---- shape and types ---------------------------------------------------------------------------
def test_columns_and_types(small: SynthData) -> None:
    o, reps, h, act = small.opportunities, small.reps, small.stage_history, small.activities
    assert list(o.columns) == OPP_COLUMNS
    assert list(reps.columns) == REP_COLUMNS
    assert list(h.columns) == HISTORY_COLUMNS
    assert list(act.columns) == ACTIVITY_COLUMNS
    timestamps = {"created_at", "closed_at", "expected_close", "hired_at", "entered_at", "at"}
    for frame in (o, reps, h, act):
        for col in frame.columns:
            if col in timestamps:
                assert pd.api.types.is_datetime64_dtype(frame[col]), col
            elif col == "amount":
                assert pd.api.types.is_float_dtype(frame[col])
            else:
                assert pd.api.types.is_string_dtype(frame[col]), col
    assert isinstance(small.as_of, pd.Timestamp)
    assert small.truth.p_win.shape == (len(o),)

    assert o["id"].is_unique and o["id"].str.fullmatch(r"OPP\d{7}").all()
    assert set(o["stage"]) <= set(STAGES)
    assert set(o["outcome"]) == {"won", "lost", "open"}
    assert set(o["segment"]) == set(SEGMENTS)
    assert set(o["lead_source"]) == set(LEAD_SOURCES)
    assert set(o["product"]) <= set(PRODUCTS)
    assert set(o["loss_reason"].dropna()) == set(LOSS_REASONS)
    assert set(o["rep"]) <= set(reps["rep"])
    assert np.isfinite(o["amount"]).all() and (o["amount"] > 0).all()
    # Amounts depend on segment.
    medians = o.groupby("segment")["amount"].median()
    assert medians["SMB"] < medians["Mid-market"] < medians["Enterprise"]
    # Region is the rep's region.
    assert (o["region"].to_numpy() == reps.set_index("rep")["region"].reindex(o["rep"]).to_numpy()).all()


def test_reps_table(small: SynthData) -> None:
    reps = small.reps
    assert len(reps) == 30 and reps["rep"].is_unique
    assert reps["rep"].str.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+").all()
    assert reps["team"].nunique() == 5 and (reps.groupby("team").size() == 6).all()
    assert (reps.groupby("team")["manager"].nunique() == 1).all()
    assert reps["manager"].nunique() == 5 and not set(reps["manager"]) & set(reps["rep"])
    start = pd.Timestamp("2022-01-01")
    new = reps["hired_at"] >= start
    assert 0 < new.sum() < len(reps)
    assert (reps.loc[new, "hired_at"] < small.as_of).all()
    assert (reps.loc[~new, "hired_at"] <= start - pd.Timedelta(days=365)).all()
    # Nobody sells before being hired.
    hired = reps.set_index("rep")["hired_at"].reindex(small.opportunities["rep"]).to_numpy()
    assert (small.opportunities["created_at"].to_numpy() >= hired).all()


def test_switched_off_tables_are_empty_with_columns() -> None:
    d = generate(seed=0, n_opportunities=500, with_history=False, with_activities=False)
    assert d.stage_history.empty and list(d.stage_history.columns) == HISTORY_COLUMNS
    assert d.activities.empty and list(d.activities.columns) == ACTIVITY_COLUMNS
    assert pd.api.types.is_datetime64_dtype(d.stage_history["entered_at"])


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        generate(n_opportunities=-1)
    with pytest.raises(ValueError):
        generate(start="2024-01-01", end="2023-01-01")
    with pytest.raises(ValueError):
        generate(n_teams=0)


# ---- consistency -------------------------------------------------------------------------------
def test_outcome_closed_at_and_stage_agree(small: SynthData) -> None:
    o, as_of = small.opportunities, small.as_of
    is_open = o["outcome"] == "open"
    assert 0 < is_open.sum() < len(o)
    assert o.loc[is_open, "closed_at"].isna().all()
    assert o.loc[~is_open, "closed_at"].notna().all()
    assert (o.loc[~is_open, "closed_at"] <= as_of).all()
    assert (o.loc[~is_open, "closed_at"] >= o.loc[~is_open, "created_at"]).all()
    assert (o["created_at"] >= pd.Timestamp("2022-01-01")).all() and (o["created_at"] < as_of).all()
    assert o.loc[is_open, "stage"].isin(OPEN_STAGES).all()
    assert o.loc[is_open, "stage"].nunique() > 1
    assert ((o["outcome"] == "won") == (o["stage"] == "Won")).all()
    assert ((o["outcome"] == "lost") == (o["stage"] == "Lost")).all()
    assert (o["loss_reason"].notna() == (o["outcome"] == "lost")).all()
    assert (o["expected_close"] >= o["created_at"].dt.normalize()).all()
    # The recorded truth agrees with the frame.
    t = small.truth
    decided = pd.Series(t.decided_at, index=o.index)
    assert (decided[~is_open] == o.loc[~is_open, "closed_at"]).all()
    assert (decided[is_open] > as_of).all()
    assert (t.would_win[~is_open.to_numpy()] == (o.loc[~is_open, "outcome"] == "won").to_numpy()).all()
    assert ((t.p_win > 0) & (t.p_win < 1)).all()


def test_open_stage_grows_with_age(small: SynthData) -> None:
    o = small.opportunities
    is_open = o["outcome"] == "open"
    age = (small.as_of - o.loc[is_open, "created_at"]).dt.days
    rank = o.loc[is_open, "stage"].map(STAGE_RANK)
    assert age[rank == 0].median() < age[rank >= 2].median()


def test_stage_history_is_ordered_and_ends_in_current_stage(small: SynthData) -> None:
    o, h = small.opportunities.set_index("id"), small.stage_history
    assert set(h["id"]) == set(o.index)
    same = h["id"].eq(h["id"].shift())
    step = h["entered_at"].diff()
    assert (step[same] >= pd.Timedelta(0)).all()
    rank = h["stage"].map(STAGE_RANK)
    assert (rank.diff()[same] > 0).all()  # forward only, no repeats
    first, last = h[~same], h.groupby("id", sort=False).tail(1).set_index("id")
    assert (first["stage"] == "Prospecting").all()
    assert (first["entered_at"].to_numpy() == o.loc[first["id"], "created_at"].to_numpy()).all()
    assert (last["stage"] == o.loc[last.index, "stage"]).all()
    closed = o.loc[last.index, "outcome"] != "open"
    assert (last.loc[closed, "entered_at"] == o.loc[last.index[closed], "closed_at"]).all()
    assert (h["entered_at"] <= small.as_of).all()
    # A won deal went through every open stage.
    n_steps = h.groupby("id").size()
    assert (n_steps[o.index[o["outcome"] == "won"]] == 5).all()


def test_activities_inside_the_deal_lifetime(small: SynthData) -> None:
    o, act = small.opportunities.set_index("id"), small.activities
    assert act["id"].is_unique
    assert act["lead_id"].isna().all()
    assert set(act["type"]) == set(ACTIVITY_TYPES)
    assert set(act["variant"]) == {"A", "B"}
    assert act["campaign"].nunique() >= 3
    assert set(act.loc[act["type"] != "meeting", "outcome"]) == {"replied", "no_reply", "meeting_booked"}
    assert 2 <= len(act) / len(o) <= 6
    opp = o.loc[act["opportunity_id"]]
    assert (act["rep"].to_numpy() == opp["rep"].to_numpy()).all()
    end = opp["closed_at"].fillna(small.as_of).to_numpy()
    assert (act["at"].to_numpy() >= opp["created_at"].to_numpy()).all()
    assert (act["at"].to_numpy() <= end).all()


# ---- the truth ---------------------------------------------------------------------------------
def test_seasonal_factors_have_geometric_mean_one(small: SynthData) -> None:
    f = small.truth.seasonal_factors
    assert sorted(f) == list(range(1, 13))
    assert np.exp(np.mean(np.log(list(f.values())))) == pytest.approx(1.0, abs=1e-12)
    assert min(f.values()) < 0.8 and max(f.values()) > 1.3
    assert f[12] == max(f.values()) and f[8] < 1


def test_p_win_is_exactly_the_stated_model(small: SynthData) -> None:
    o, t = small.opportunities, small.truth
    hired = small.reps.set_index("rep")["hired_at"].reindex(o["rep"]).to_numpy()
    tenure = (o["created_at"].to_numpy() - hired) / np.timedelta64(1, "D")
    month = pd.DatetimeIndex(t.decided_at).month
    logit = (
        t.base_logit
        + o["rep"].map(t.rep_skill).to_numpy()
        - t.ramp_depth * np.exp(-tenure / t.ramp_days)
        + o["lead_source"].map(t.source_effects).to_numpy()
        + o["segment"].map(t.segment_effects).to_numpy()
        + np.log(np.asarray([t.seasonal_factors[m] for m in month]))
    )
    np.testing.assert_allclose(1 / (1 + np.exp(-logit)), t.p_win, rtol=1e-9)
    assert abs(np.mean(list(t.rep_skill.values()))) < 1e-12


def test_empirical_rate_matches_true_rate(big: SynthData) -> None:
    closed, won = _closed_won(big)
    p = big.truth.p_win[closed]
    rate = won[closed].mean()
    assert 0.25 <= rate <= 0.35
    assert abs(rate - p.mean()) < 4 * _se(p)
    assert big.truth.true_rate(closed) == pytest.approx(p.mean())
    # ... and within every lead source and segment, whose true rates are clearly apart.
    o = big.opportunities
    for col, spread in (("lead_source", 0.2), ("segment", 0.05)):
        true_rates = []
        for value in o[col].unique():
            sel = closed & (o[col] == value).to_numpy()
            p = big.truth.p_win[sel]
            assert abs(won[sel].mean() - p.mean()) < 4 * _se(p), (col, value)
            true_rates.append(p.mean())
        assert max(true_rates) - min(true_rates) > spread


def test_more_skilled_rep_on_same_mix_wins_more(big: SynthData) -> None:
    o, reps, skill = big.opportunities, big.reps, big.truth.rep_skill
    closed, won = _closed_won(big)
    veterans = reps[reps["hired_at"] < pd.Timestamp("2022-01-01")]
    rate = pd.Series(won[closed]).groupby(o["rep"].to_numpy()[closed]).mean()
    compared = 0
    for _, team in veterans.groupby("team"):  # a team's reps share one lead mix
        ranked = sorted(team["rep"], key=skill.__getitem__)
        low, high = ranked[0], ranked[-1]
        if skill[high] - skill[low] < 0.3:
            continue
        compared += 1
        assert rate[high] > rate[low] + 0.03, (low, high)
    assert compared >= 3


def test_new_hires_ramp_up(big: SynthData) -> None:
    o, reps, t = big.opportunities, big.reps.set_index("rep"), big.truth
    closed, won = _closed_won(big)
    hired = reps["hired_at"].reindex(o["rep"]).to_numpy()
    new = hired >= np.datetime64("2022-01-01")
    tenure = (o["created_at"].to_numpy() - hired) / np.timedelta64(1, "D")
    early = closed & new & (tenure < t.ramp_days)
    later = closed & new & (tenure > 4 * t.ramp_days)
    assert early.sum() > 1_000 and later.sum() > 1_000
    gap = won[later].mean() - won[early].mean()
    true_gap = t.p_win[later].mean() - t.p_win[early].mean()
    assert gap > 0.05
    se = np.hypot(_se(t.p_win[early]), _se(t.p_win[later]))
    assert abs(gap - true_gap) < 4 * se


def test_seasonality_shows_in_closed_deals(big: SynthData) -> None:
    closed, won = _closed_won(big)
    month = big.opportunities["closed_at"].dt.month.to_numpy()
    december, august = closed & (month == 12), closed & (month == 8)
    assert won[december].mean() - won[august].mean() > 0.08


def test_teams_have_different_lead_mixes(big: SynthData) -> None:
    o = big.opportunities
    team = big.reps.set_index("rep")["team"].reindex(o["rep"]).to_numpy()
    shares = pd.crosstab(team, o["lead_source"].to_numpy(), normalize="index")
    assert (shares.max() - shares.min()).max() > 0.15
    expected = pd.DataFrame(big.truth.team_source_mix).T.loc[shares.index, shares.columns]
    np.testing.assert_allclose(shares.to_numpy(), expected.to_numpy(), atol=0.01)


def test_ids_are_zero_padded() -> None:
    d = generate(seed=0, n_opportunities=12, with_history=False, with_activities=False)
    assert d.opportunities["id"].tolist() == [f"OPP{i:07d}" for i in range(1, 13)]
    # The helper behind the ids, as used past 9,999,999 rows (width = digits of n).
    assert _ids("X", 1000, 4).tolist() == [f"X{i:04d}" for i in range(1, 1001)]


def test_no_opportunities() -> None:
    d = generate(n_opportunities=0)
    assert d.opportunities.empty and list(d.opportunities.columns) == OPP_COLUMNS
    assert d.truth.p_win.size == 0 and np.isnan(d.truth.true_rate())


def test_the_same_seed_gives_the_same_data_byte_for_byte():
    """The generator's modules (reps, deals, truth, history, outreach) draw in one fixed order: the tables of
    ``generate(seed=7, n_opportunities=5000)`` are pinned as written by the single-function generator they
    were split from (a changed digest means the demo data changed)."""
    import hashlib

    data = generate(seed=7, n_opportunities=5000)
    digest = hashlib.sha256()
    for name in ("opportunities", "reps", "stage_history", "activities"):
        digest.update(getattr(data, name).to_csv(index=False).encode())
    digest.update(data.truth.p_win.tobytes())
    assert digest.hexdigest() == "cc02a4c135652bc783dc84b0a0424cef774a8bfa0e6238d3c762e595601c37ae"


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"n_opportunities": -1}, "n_opportunities"),
        ({"n_teams": 0}, "n_teams"),
        ({"reps_per_team": 0}, "reps_per_team"),
        ({"n_teams": 40, "reps_per_team": 50}, "reps_per_team"),
        ({"weak_stage_share": 1.5}, "weak_stage_share"),
        ({"start": "2024-01-01", "end": "2023-01-01"}, "end"),
    ],
)
def test_impossible_parameters_are_named(kwargs, parameter):
    from hitrate.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=f"The '{parameter}' parameter of generate") as info:
        generate(**{"n_opportunities": 10, **kwargs})
    assert info.value.parameter == parameter
