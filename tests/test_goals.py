"""Goals: the Poisson-binomial, the won/lost/open convolution, progress against `hitrate rates`, the CLI."""

from __future__ import annotations

import calendar
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hitrate.analysis.rates import rates
from hitrate.cli import app
from hitrate.improve.goals import parse_period, progress, set_goal
from hitrate.stats.poisson_binomial import outcome_pmf, poisson_binomial_pmf, prob_rate_at_least
from hitrate.store.embedded import SCHEMA_VERSION, Store
from hitrate.synth.demo import load_synth
from hitrate.synth.generator import generate

ENV = {"COLUMNS": "200"}


# ---- the distributions ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [[0.2, 0.5], [0.1, 0.9, 0.35, 0.6, 0.01], [0.0, 1.0, 0.5], []])
def test_poisson_binomial_equals_scipy(p):
    """Reference: ``scipy.stats.poisson_binom.pmf(k, p)`` (scipy >= 1.15, computed by scipy's own DFT-free
    recursion), e.g. ``poisson_binom.pmf([0, 1, 2], [0.2, 0.5]) == [0.4, 0.5, 0.1]``."""
    from scipy.stats import poisson_binom

    k = np.arange(len(p) + 1)
    expected = poisson_binom.pmf(k, p) if p else np.array([1.0])
    np.testing.assert_allclose(poisson_binomial_pmf(p), expected, atol=1e-14)


def test_outcome_pmf_matches_monte_carlo_and_its_margins(rng):
    """Reference by simulation::

        u = rng.random((400_000, n)); won = u < w; lost = (u >= w) & (u < w + l)
        counts of (won.sum(1), lost.sum(1))

    within 4 standard errors per cell; the wins margin must equal the Poisson-binomial exactly."""
    w = np.array([0.3, 0.1, 0.5, 0.25, 0.05, 0.6])
    lo = np.array([0.4, 0.2, 0.1, 0.5, 0.9, 0.1])
    pmf = outcome_pmf(w, lo)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(pmf.sum(axis=1), poisson_binomial_pmf(w), atol=1e-14)
    np.testing.assert_allclose(pmf.sum(axis=0), poisson_binomial_pmf(lo), atol=1e-14)
    draws = 400_000
    u = rng.random((draws, w.size))
    x = (u < w).sum(axis=1)
    lcount = ((u >= w) & (u < w + lo)).sum(axis=1)
    freq = np.zeros_like(pmf)
    np.add.at(freq, (x, lcount), 1.0)
    freq /= draws
    se = np.sqrt(pmf * (1 - pmf) / draws)
    assert np.all(np.abs(freq - pmf) <= 4 * se + 1e-9)


def test_probability_of_reaching_a_rate_matches_simulation(rng):
    """P((3 + X) / (10 + X + L) >= 0.4) for eight deals, against 400,000 simulated periods."""
    w = rng.uniform(0, 0.5, 8)
    lo = rng.uniform(0, 0.5, 8)
    prob, expected, method = prob_rate_at_least(3, 10, w, lo, 0.4)
    u = rng.random((400_000, 8))
    x = (u < w).sum(axis=1)
    lcount = ((u >= w) & (u < w + lo)).sum(axis=1)
    sim = np.mean(3 + x >= 0.4 * (10 + x + lcount))
    assert prob == pytest.approx(sim, abs=4 * np.sqrt(sim * (1 - sim) / 400_000) + 1e-9)
    assert expected == pytest.approx(3 + w.sum())
    assert "convolution" in method


def test_cohort_basis_probability_is_a_poisson_binomial_tail():
    w = [0.5, 0.5, 0.5, 0.5]
    prob, _, _ = prob_rate_at_least(2, 10, w, [0, 0, 0, 0], 0.4, basis="cohort")  # need 2 more wins of 4
    assert prob == pytest.approx(11 / 16)


def test_normal_approximation_beyond_the_exact_limit_is_close(rng, monkeypatch):
    from hitrate.stats import poisson_binomial as pb

    w = rng.uniform(0.1, 0.4, 300)
    lo = rng.uniform(0.1, 0.4, 300)
    exact, _, _ = pb.prob_rate_at_least(40, 100, w, lo, 0.42)
    monkeypatch.setattr(pb, "EXACT_LIMIT", 10)
    approx, _, method = pb.prob_rate_at_least(40, 100, w, lo, 0.42)
    assert "normal" in method
    assert approx == pytest.approx(exact, abs=0.03)


@given(
    w=st.lists(st.floats(0, 0.6), min_size=0, max_size=25),
    lo=st.lists(st.floats(0, 0.4), min_size=0, max_size=25),
)
@settings(max_examples=60, deadline=None)
def test_outcome_pmf_moments_hold_for_any_deals(w, lo):
    """Property: a distribution (sums to 1, no negative mass) whose means and covariance are the sums of the
    deals' (E X = Σw, E L = Σl, Var X = Σw(1−w), Cov(X, L) = −Σwl)."""
    n = min(len(w), len(lo))
    w_, l_ = np.array(w[:n]), np.array(lo[:n])
    pmf = outcome_pmf(w_, l_)
    x = np.arange(n + 1)[:, None]
    y = np.arange(n + 1)[None, :]
    assert pmf.min() >= -1e-15 and pmf.sum() == pytest.approx(1.0, abs=1e-12)
    ex, el = (pmf * x).sum(), (pmf * y).sum()
    assert ex == pytest.approx(w_.sum(), abs=1e-9) and el == pytest.approx(l_.sum(), abs=1e-9)
    assert (pmf * (x - ex) ** 2).sum() == pytest.approx((w_ * (1 - w_)).sum(), abs=1e-9)
    assert (pmf * (x - ex) * (y - el)).sum() == pytest.approx(-(w_ * l_).sum(), abs=1e-9)


def test_probabilities_are_checked():
    with pytest.raises(ValueError, match="'p' parameter of poisson_binomial_pmf"):
        poisson_binomial_pmf([0.2, 1.5])
    with pytest.raises(ValueError, match="at most 1"):
        outcome_pmf([0.7], [0.6])


# ---- the store -------------------------------------------------------------------------------------------
@pytest.fixture
def pipeline_store(tmp_path: Path) -> Store:
    """A synthetic pipeline exported mid-quarter (2024-11-15), so Q4 goals have an open pipeline."""
    data = generate(seed=3, n_opportunities=6000, end="2024-11-15", with_activities=False, with_history=False)
    s = Store(tmp_path / "goals.duckdb")
    load_synth(s, data, label="test")
    s.truth = data  # type: ignore[attr-defined]
    yield s
    s.close()


def test_a_store_at_layout_4_gets_the_new_tables(tmp_path: Path):
    path = tmp_path / "old.duckdb"
    with Store(path) as s:
        for table in ("goals", "interventions", "deal_feedback"):
            s.raw.execute(f"DROP TABLE {table}")
        s.set_meta("schema_version", "4")
    with Store(path) as s:
        assert s.meta("schema_version") == SCHEMA_VERSION == "8"
        names = {r[0] for r in s.fetch("SELECT table_name FROM duckdb_tables()")}
        assert {"goals", "interventions", "deal_feedback"} <= names


def test_progress_counts_equal_rates_for_the_same_group_and_period(pipeline_store):
    s = pipeline_store
    reps = s.truth.reps  # type: ignore[attr-defined]
    start, end = parse_period("2024-Q4")
    for field, value in (("rep", reps.rep[0]), ("team", reps.team[0])):
        set_goal(s, field=field, value=value, target=0.35, start=start, end=end, set_by="test")
    result = progress(s)
    assert str(result.as_of) == "2024-11-14"
    for row in result.rows:
        ref = rates(s, where={row["field"]: [row["value"]]}, date_from="2024-10-01", date_to="2024-12-31").records()[0]
        assert (row["attempts"], row["hits"]) == (ref["attempts"], ref["hits"])
        assert row["ci_low"] == pytest.approx(ref["ci_low"]) and row["ci_high"] == pytest.approx(ref["ci_high"])
        assert row["open_deals"] > 0 and 0 <= row["probability"] <= 1
        assert row["win_probability_from"].startswith("adjusted rate")
        assert row["off_track"] == (row["probability"] < 0.5)


def test_progress_counts_equal_the_rates_command(pipeline_store):
    """The same numbers `hitrate rates --where team=... --from ... --to ... --format json` prints."""
    s = pipeline_store
    team = s.truth.reps.team[0]  # type: ignore[attr-defined]
    start, end = parse_period("2024-11")
    set_goal(s, field="team", value=team, target=0.3, start=start, end=end, set_by="t")
    row = progress(s).rows[0]
    path = s.path
    s.close()
    args = ["rates", "--where", f"team={team}", "--from", "2024-11-01", "--to", "2024-11-30", "--format", "json"]
    cli = json.loads(CliRunner().invoke(app, [*args, "--db", path]).stdout)["rows"][0]
    assert (row["attempts"], row["hits"], row["ci_low"]) == (cli["attempts"], cli["hits"], cli["ci_low"])


def test_progress_on_the_cohort_basis(pipeline_store, tmp_path: Path):
    """Cohort basis: attempts are the deals created in the period, open ones included, and only those can add hits."""
    from hitrate.engine.definitions import use_definitions

    s = pipeline_store
    (tmp_path / "cohort.yaml").write_text("name: cohort\nbasis: cohort\n")
    use_definitions(s, tmp_path / "cohort.yaml")
    rep = s.truth.reps.rep[0]  # type: ignore[attr-defined]
    start, end = parse_period("2024-Q4")
    set_goal(s, field="rep", value=rep, target=0.2, start=start, end=end, set_by="t")
    row = progress(s).rows[0]
    ref = rates(s, where={"rep": [rep]}, date_from="2024-10-01", date_to="2024-12-31").records()[0]
    assert (row["attempts"], row["hits"]) == (ref["attempts"], ref["hits"])
    open_in_q4 = s.fetch(
        "SELECT count(*) FROM opportunities WHERE rep = ? AND outcome = 'open' AND created_at >= '2024-10-01'", [rep]
    )[0][0]
    assert row["open_deals"] == open_in_q4 > 0
    assert row["projected_rate"] == pytest.approx(row["expected_final_hits"] / row["attempts"])
    assert "Poisson-binomial" in progress(s).method


def test_progress_uses_lead_scores_when_present_and_lists_off_track_goals(pipeline_store):
    s = pipeline_store
    rep = s.truth.reps.rep[0]  # type: ignore[attr-defined]
    s.raw.execute(
        "INSERT INTO lead_scores (id, probability) "
        "SELECT id, 0.0 FROM opportunities WHERE outcome = 'open' AND rep = ?",
        [rep],
    )
    start, end = parse_period("2024-Q4")
    goal = set_goal(s, field="rep", value=rep, target=0.95, start=start, end=end, set_by="t")
    row = progress(s).rows[0]
    assert row["goal_id"] == goal.goal_id
    assert row["win_probability_from"] == f"lead scores ({row['open_deals']} of {row['open_deals']})"
    assert row["expected_final_hits"] == pytest.approx(row["hits"])  # every open deal scored 0
    assert row["probability"] == pytest.approx(0.0) and row["off_track"]


def _q4_team_goals(s):
    """Set a 30% Q4 2024 goal for every team of the synthetic store; its truth and the goals' progress rows."""
    data = s.truth  # type: ignore[attr-defined]
    start, end = parse_period("2024-Q4")
    for team in sorted(set(data.reps.team)):
        set_goal(s, field="team", value=team, target=0.3, start=start, end=end, set_by="t")
    return data, progress(s).rows


def test_expected_final_hits_track_the_truth(pipeline_store):
    """The synthetic truth knows when every open deal will close and whether it will be won: the expected final
    hits of all five teams' Q4 goals should be near the true Q4 hits (sum over teams, within 10%)."""
    s = pipeline_store
    data, rows = _q4_team_goals(s)
    opps = data.opportunities
    decided = data.truth.decided_at
    q4 = (decided >= np.datetime64("2024-10-01")) & (decided < np.datetime64("2025-01-01"))
    true_hits = int((q4 & data.truth.would_win).sum())
    expected = sum(r["expected_final_hits"] for r in rows)
    assert len(opps) == 6000
    assert expected == pytest.approx(true_hits, rel=0.10)


def _reference_goal(data, as_of: dt.date, team: str, start: dt.date, end: dt.date, target: float, season: bool = True):
    """An independent computation of one team's goal row from the generated frames (pandas, lifelines, a
    dynamic programme): the method of :mod:`hitrate.improve.goals`, written out again::

        age      = closed − created (decided deals) or as_of − created (open, censored), whole days
        S        = lifelines KaplanMeierFitter().fit(age, decided)        # P(still open at an age), pooled
        P(closes in month [f, l])  = (S(a + (f − as_of)) − S(a + (l − as_of) + 1)) / S(a)  for an open deal of age a
        rate     = beta-binomial posterior mean of the team's closed-basis rate over the 365 days to as_of
                   (fit_beta_binomial + shrink over all teams: held to scipy's betabinom by Nelder-Mead in
                   tests/test_stats_shrinkage.py)
        P(won)   = rate with its odds × the month's seasonal factor (decompose() of the monthly closed-basis
                   counts: held to a statsmodels formula GLM in tests/test_stats_seasonal.py)
        P(final rate ≥ target) = the mass of (h + X) / (n + X + L) ≥ target under the exact distribution of
                   (X wins, L losses), by a dynamic programme over the open deals

    ``season=False`` leaves the seasonal factors out (to show they matter)."""
    from lifelines import KaplanMeierFitter

    from hitrate.stats.seasonal import decompose
    from hitrate.stats.shrinkage import fit_beta_binomial, shrink

    opp = data.opportunities
    teams = opp["rep"].map(data.reps.set_index("rep")["team"]).to_numpy()
    created = pd.to_datetime(opp["created_at"]).dt.normalize()
    closed = pd.to_datetime(opp["closed_at"]).dt.normalize()
    won = (opp["outcome"] == "won").to_numpy()
    decided = opp["outcome"].isin(["won", "lost"]).to_numpy()
    today = pd.Timestamp(as_of)
    age = np.where(decided, (closed - created).dt.days, (today - created).dt.days).astype(float)
    km = KaplanMeierFitter().fit(age[age >= 0], decided[age >= 0])

    def surv(t: np.ndarray) -> np.ndarray:
        return km.survival_function_at_times(t).to_numpy()

    in_period = decided & (teams == team) & (closed >= pd.Timestamp(start)) & (closed <= pd.Timestamp(as_of))
    hits, attempts = int((in_period & won).sum()), int(in_period.sum())
    recent = pd.DataFrame({"team": teams, "won": won})[decided & (closed >= today - pd.Timedelta(days=364))]
    by_team = recent.groupby("team")["won"].agg(["sum", "count"])
    prior = fit_beta_binomial(by_team["sum"].to_numpy(float), by_team["count"].to_numpy(float))
    rate = float(shrink([by_team.loc[team, "sum"]], [by_team.loc[team, "count"]], prior)[0][0])
    monthly = pd.DataFrame({"month": closed[decided].dt.to_period("M"), "won": won[decided]})
    m = monthly.groupby("month")["won"].agg(["sum", "count"])
    starts = np.array([np.datetime64(f"{p}-01") for p in m.index])
    factors = decompose(starts, m["count"].to_numpy(), m["sum"].to_numpy(), period="month").seasonal_factors
    is_open = ~decided & (teams == team)
    a = np.maximum((today - created[is_open]).dt.days.to_numpy(float), 0)
    w, c = np.zeros(a.size), np.zeros(a.size)
    first = max(start, as_of)
    while first <= end:
        last = min(dt.date(first.year, first.month, calendar.monthrange(first.year, first.month)[1]), end)
        closes = (surv(a + (first - as_of).days) - surv(a + (last - as_of).days + 1)) / surv(a)
        odds = rate / (1 - rate) * (factors[first.month] if season else 1.0)
        w, c = w + closes * odds / (1 + odds), c + closes
        first = last + dt.timedelta(days=1)
    pmf = np.zeros((a.size + 1, a.size + 1))
    pmf[0, 0] = 1.0
    for won_p, lost_p in zip(w, c - w, strict=True):
        nxt = pmf * (1 - won_p - lost_p)
        nxt[1:, :] += pmf[:-1, :] * won_p
        nxt[:, 1:] += pmf[:, :-1] * lost_p
        pmf = nxt
    x, y = np.arange(a.size + 1)[:, None], np.arange(a.size + 1)[None, :]
    reached = hits + x >= target * (attempts + x + y) - 1e-12
    return {
        "attempts": attempts,
        "hits": hits,
        "open_deals": int(is_open.sum()),
        "expected_closing": float(c.sum()),
        "expected_final_hits": hits + float(w.sum()),
        "projected_rate": (hits + float(w.sum())) / (attempts + float(c.sum())),
        "probability": float(pmf[reached].sum()),
    }


def test_goal_probabilities_equal_an_independent_computation(pipeline_store):
    """Every number of each team's Q4 goal row against :func:`_reference_goal` (no lead scores: the shrunk
    team rate with the seasonal odds factors), at 1e-6 (Kaplan–Meier of "still open" is the Aalen–Johansen
    survival; measured agreement about 1e-12). The seasonal factors matter here: without them Team South's
    P(make the goal) drops from 0.41 to below 0.15, and an 8% bias in each deal's P(won) moves it by more
    than 0.1."""
    s = pipeline_store
    data, rows = _q4_team_goals(s)
    as_of = dt.date(2024, 11, 14)
    start, end = parse_period("2024-Q4")
    assert len(rows) == 5
    for row in rows:
        ref = _reference_goal(data, as_of, row["value"], start, end, 0.3)
        assert {k: row[k] for k in ("attempts", "hits", "open_deals")} == {
            k: ref[k] for k in ("attempts", "hits", "open_deals")
        }
        for key in ("expected_closing", "expected_final_hits", "projected_rate", "probability"):
            assert row[key] == pytest.approx(ref[key], abs=1e-6), (row["value"], key)
    south = next(r for r in rows if r["value"] == "Team South")
    assert 0.3 < south["probability"] < 0.5
    assert _reference_goal(data, as_of, "Team South", start, end, 0.3, season=False)["probability"] < 0.15


# ---- the command line --------------------------------------------------------------------------------------
def test_goals_cli_set_list_progress_and_user_errors(pipeline_store):
    path = pipeline_store.path
    rep = pipeline_store.truth.reps.rep[0]  # type: ignore[attr-defined]
    pipeline_store.close()
    run = CliRunner().invoke
    r = run(
        app, ["goals", "set", f"rep={rep}", "--target", "0.3", "--period", "2024-Q4", "--set-by", "ana", "--db", path]
    )
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("goal 1: rep")
    r = run(app, ["goals", "list", "--format", "json", "--db", path])
    assert json.loads(r.stdout)[0]["set_by"] == "ana"
    r = run(app, ["goals", "progress", "--format", "json", "--db", path])
    payload = json.loads(r.stdout)
    assert payload["rows"][0]["attempts"] > 0 and "convolution" in payload["method"]
    r = run(app, ["goals", "progress", "--off-track", "--threshold", "0.99", "--db", path], env=ENV)
    assert r.exit_code == 0 and "P(make it)" in r.stdout
    for args, message in (
        (["rep=Nobody Here", "--target", "0.3", "--period", "2024-Q4"], "rep 'Nobody Here'"),
        ([f"rep={rep}", "--target", "1.5", "--period", "2024-Q4"], "--target 1.5"),
        ([f"rep={rep}", "--target", "0.3", "--period", "2024-Q5"], "2024-Q5"),
        ([f"rep={rep}", "--target", "0.3", "--from", "2024-12-01", "--to", "2024-11-01"], "before --from"),
        (["rep", "--target", "0.3", "--period", "2024"], "FIELD=VALUE"),
        (["nofield=x", "--target", "0.3", "--period", "2024"], "unknown field 'nofield'"),
    ):
        r = run(app, ["goals", "set", *args, "--db", path])
        assert r.exit_code == 2, r.output
        assert message in r.stderr and "Traceback" not in r.output
    r = run(app, ["goals", "progress", "--goal", "9", "--db", path])
    assert r.exit_code == 2 and "goal 9" in r.stderr


def test_goal_results_show_the_result_face(pipeline_store):
    from hitrate.improve.goals import goals_progress, list_goals
    from tests.improve_faces import check_face

    s = pipeline_store
    team = sorted(set(s.truth.reps.team))[0]  # type: ignore[attr-defined]
    set_goal(s, f"team={team}", target=0.3, period="2024-Q4", set_by="t")
    set_goal(s, field="team", value=team, target=0.9, date_from="2024-10-01", date_to="2024-12-31")
    goals = list_goals(s)
    assert [g.goal_id for g in goals] == [1, 2] and goals.to_dict()["goals"][0] == goals[0].to_dict()
    check_face(goals)
    result = goals_progress(s, off_track=True)
    assert [r["goal_id"] for r in result.rows] == [r["goal_id"] for r in progress(s).off_track()]
    check_face(goals_progress(s))
    assert "Antagelser:" in goals_progress(s).summary("da")
