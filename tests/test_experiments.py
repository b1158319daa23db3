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


def test_probability_to_beat_against_simulation() -> None:
    """Reference: 400,000 draws from each Beta(1 + hits, 1 + misses) posterior."""
    hits, attempts = [30, 42, 35], [200, 210, 190]
    beat, best = prob_to_beat(hits, attempts)
    rng = np.random.default_rng(3)
    draws = np.array([rng.beta(1 + k, 1 + n - k, 400_000) for k, n in zip(hits, attempts, strict=True)])
    assert beat[1] == pytest.approx((draws[1] > draws[0]).mean(), abs=0.004)
    assert beat[2] == pytest.approx((draws[2] > draws[0]).mean(), abs=0.004)
    winners = np.bincount(draws.argmax(axis=0), minlength=3) / draws.shape[1]
    np.testing.assert_allclose(best, winners, atol=0.004)
    assert best.sum() == pytest.approx(1)


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
