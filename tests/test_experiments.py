"""Outreach experiments: sample sizes held to statsmodels, comparisons to scipy and to the generator's truth."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.errors import UnknownFieldError, UserInputError
from hitrate.improve.experiments import experiment, plan, prob_to_beat
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo

runner = CliRunner()


@pytest.mark.parametrize(
    ("baseline", "lift", "power", "alpha"),
    [(0.20, 0.05, 0.8, 0.05), (0.05, 0.01, 0.9, 0.05), (0.5, -0.1, 0.8, 0.01), (0.02, 0.005, 0.8, 0.1)],
)
def test_plan_matches_statsmodels(baseline: float, lift: float, power: float, alpha: float) -> None:
    """Reference::

    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize
    h = proportion_effectsize(baseline + lift, baseline)
    ceil(NormalIndPower().solve_power(effect_size=abs(h), alpha=alpha, power=power, ratio=1))
    """
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = proportion_effectsize(baseline + lift, baseline)
    expected = math.ceil(NormalIndPower().solve_power(effect_size=abs(h), alpha=alpha, power=power, ratio=1))
    got = plan(baseline, lift, power=power, alpha=alpha)
    assert got["n_per_variant"] == expected and got["n_total"] == 2 * expected
    # and the planned size really has the power: the two-sided z-test power at n is at least `power`
    from scipy.stats import norm

    z = norm.ppf(1 - alpha / 2)
    se = math.sqrt(2 / got["n_per_variant"])
    achieved = norm.cdf(abs(h) / se - z) + norm.cdf(-abs(h) / se - z)
    assert achieved >= power


def test_plan_for_the_acceptance_check_and_bad_input() -> None:
    assert plan(0.20, 0.05)["n_per_variant"] == 1092
    for kwargs, flag in (
        ({"baseline": 1.2, "lift": 0.05}, "^baseline"),
        ({"baseline": 0.9, "lift": 0.2}, "^baseline \\+ lift"),
        ({"baseline": 0.2, "lift": 0.0}, "^lift"),
    ):
        with pytest.raises(UserInputError, match=flag):  # the parameter; the command line says --baseline
            plan(**kwargs)  # type: ignore[arg-type]
    result = runner.invoke(app, ["experiment", "plan", "--baseline", "0.2", "--lift", "0.05", "--power", "1.5"])
    assert result.exit_code == 2 and "--power" in result.stderr


@pytest.mark.parametrize(
    ("hits", "attempts"),
    [([30, 42, 35], [200, 210, 190]), ([3, 9], [20, 25]), ([200, 230, 210, 190], [1000] * 4), ([0, 1], [5, 5])],
)
def test_probability_to_beat_against_numerical_integration(hits: list[int], attempts: list[int]) -> None:
    """Reference, adaptive quadrature with the posteriors' own pdf and cdf (agrees with the grid to about 1e-9)::

        d = [scipy.stats.beta(1 + k, 1 + n - k) for k, n in zip(hits, attempts)]
        beat_i = quad(lambda x: d[i].pdf(x) * d[0].cdf(x), 0, 1, points=[d[i].mean()])   # P(arm i > control)
        best_i = quad(lambda x: d[i].pdf(x) * prod(d[j].cdf(x) for j != i), 0, 1, ...)     # P(arm i is the best)

    held at 1e-6; the control's own "beat" is 0.5 by definition and the "best" probabilities sum to 1."""
    from scipy import integrate, stats

    beat, best = prob_to_beat(hits, attempts)
    d = [stats.beta(1 + k, 1 + n - k) for k, n in zip(hits, attempts, strict=True)]

    def quad(f: object, i: int) -> float:
        opts = {"epsabs": 1e-13, "epsrel": 1e-12, "limit": 200, "points": [d[i].mean()]}
        return float(integrate.quad(f, 0, 1, **opts)[0])  # type: ignore[arg-type]

    for i in range(len(d)):
        others = [d[j] for j in range(len(d)) if j != i]
        assert best[i] == pytest.approx(
            quad(lambda x, i=i, o=others: d[i].pdf(x) * np.prod([e.cdf(x) for e in o]), i), abs=1e-6
        )
        if i:
            assert beat[i] == pytest.approx(quad(lambda x, i=i: d[i].pdf(x) * d[0].cdf(x), i), abs=1e-6)
    assert beat[0] == 0.5 and best.sum() == pytest.approx(1, abs=1e-12)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    path = tmp_path_factory.mktemp("exp") / "demo.duckdb"
    with Store(path) as store:
        data = build_demo(store, seed=17, n_opportunities=4_000)
    return path, data


def test_variants_against_truth_and_scipy(demo) -> None:
    """The generator's calls and e-mails get a reply with a probability set by the variant alone
    (truth: A 0.18, B 0.23). Reference p-value: scipy.stats.chi2_contingency([[kB, nB-kB], [kA, nA-kA]],
    correction=False)."""
    from scipy.stats import chi2_contingency

    path, data = demo
    with Store(path) as store:
        result = experiment(store)
    a, b = result.rows
    truth = data.truth.variant_response_rates  # type: ignore[attr-defined]
    assert (a["variant"], b["variant"]) == ("A", "B") and a["control"] and not b["control"]
    for row in (a, b):
        assert row["ci_low"] <= truth[row["variant"]] <= row["ci_high"]
    assert b["diff_low"] <= truth["B"] - truth["A"] <= b["diff_high"]
    table = [[b["hits"], b["attempts"] - b["hits"]], [a["hits"], a["attempts"] - a["hits"]]]
    assert b["p_value"] == pytest.approx(chi2_contingency(table, correction=False)[1], rel=1e-9)
    assert b["prob_beat"] > 0.99
    # the counts: calls and e-mails per variant, and those with a reply, as pandas counts them
    acts = data.activities  # type: ignore[attr-defined]
    touches = acts[acts["type"].isin(["email", "call"])]
    for row in (a, b):
        arm = touches[touches["variant"] == row["variant"]]
        assert row["attempts"] == len(arm)
        assert row["hits"] == int(arm["outcome"].isin(["replied", "meeting_booked"]).sum())


def test_won_step_counts_touches_of_won_opportunities(demo) -> None:
    path, data = demo
    with Store(path) as store:
        result = experiment(store, by="campaign", step="won", control="Webinar Follow-up")
    assert result.rows[0]["campaign"] == "Webinar Follow-up"
    acts, opps = data.activities, data.opportunities  # type: ignore[attr-defined]
    won = set(opps["id"][opps["outcome"] == "won"])
    touches = acts[acts["type"].isin(["email", "call"])]
    for row in result.rows:
        arm = touches[touches["campaign"] == row["campaign"]]
        assert (row["attempts"], row["hits"]) == (len(arm), int(arm["opportunity_id"].isin(won).sum()))
    assert any("not adjusted" in w for w in result.warnings)


def test_errors_name_what_is_wrong(demo) -> None:
    path, _ = demo
    with Store(path) as store:
        with pytest.raises(UnknownFieldError, match="nope"):
            experiment(store, by="nope")
        with pytest.raises(UserInputError, match="^step bought"):
            experiment(store, step="bought")
        with pytest.raises(UserInputError, match="^control Z"):
            experiment(store, control="Z")
        with pytest.raises(UserInputError, match="two or more"):
            experiment(store, campaign="No such campaign")


def test_cli_compare_json(demo) -> None:
    path, _ = demo
    result = runner.invoke(app, ["experiment", "compare", "--step", "meeting", "--format", "json", "--db", str(path)])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["step"] == "meeting" and out["control"] == "A"
    assert {"attempts", "hits", "rate", "ci_low", "ci_high", "difference", "p_value", "prob_beat", "prob_best"} <= set(
        out["rows"][1]
    )


def test_experiment_results_show_the_result_face(demo) -> None:
    from hitrate.improve.experiments import experiment_compare, experiment_plan
    from tests.improve_faces import check_face

    planned = experiment_plan(baseline=0.2, lift=0.05)
    assert planned.to_dict() == plan(0.2, 0.05) and planned.n_per_variant == 1092
    check_face(planned)
    path, _ = demo
    with Store(path) as store:
        check_face(experiment_compare(store, by="variant"))


def test_plan_takes_a_relative_lift_and_says_which_lift_it_used() -> None:
    """--relative-lift 0.10 on a 20% baseline is 20% -> 22%: the same plan as --lift 0.02 (statsmodels'
    NormalIndPower with Cohen's h, computed here), and both sentences name the lift in points and relative."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    from hitrate.errors import InvalidValueError
    from hitrate.improve.experiments import experiment_plan

    relative = experiment_plan(baseline=0.2, relative_lift=0.10)
    absolute = experiment_plan(baseline=0.2, lift=0.02)
    h = proportion_effectsize(0.22, 0.2)
    expected = int(np.ceil(NormalIndPower().solve_power(effect_size=abs(h), alpha=0.05, power=0.8) - 1e-9))
    assert relative.n_per_variant == absolute.n_per_variant == expected
    assert relative.target == pytest.approx(0.22) and relative.relative_lift == pytest.approx(0.10)
    assert "20.0% -> 22.0% (a lift of +2.0 points, +10% relative)" in relative.summary()
    assert "(a lift of +5.0 points, +25% relative)" in experiment_plan(baseline=0.2, lift=0.05).summary()
    for wrong in ({}, {"lift": 0.05, "relative_lift": 0.1}):
        with pytest.raises(InvalidValueError, match="exactly one of lift"):
            experiment_plan(baseline=0.2, **wrong)
    out = runner.invoke(app, ["experiment", "plan", "--baseline", "0.2", "--relative-lift", "0.1"])
    assert out.exit_code == 0 and "+10% relative" in out.stdout and f"{expected:,} per variant" in out.stdout
    both = runner.invoke(app, ["experiment", "plan", "--baseline", "0.2"])
    assert both.exit_code == 2 and "--relative-lift" in both.stderr
