"""Did it work? Difference in differences against statsmodels, and on synthetic data with a planted effect."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.improve.interventions import add_intervention, did_counts, effect
from hitrate.store.embedded import Store
from hitrate.synth.demo import load_synth
from hitrate.synth.generator import generate

ENV = {"COLUMNS": "200"}


def test_did_equals_a_row_level_logistic_regression_in_statsmodels():
    """Reference, on one row per deal::

        frame = DataFrame({"won": ..., "group": ..., "after": ...})
        smf.glm("won ~ group * after", frame, family=sm.families.Binomial()).fit()

    The interaction coefficient must agree to 1e-8, the Wald bound to 1e-6 (IRLS stopping differs), the p-value
    to 1e-5 relative."""
    import pandas as pd
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    hits = [120, 110, 30, 52]
    attempts = [400, 380, 100, 104]
    group = np.repeat([0, 0, 1, 1], attempts)
    after = np.repeat([0, 1, 0, 1], attempts)
    won = np.concatenate([np.r_[np.ones(k), np.zeros(n - k)] for k, n in zip(hits, attempts, strict=True)])
    fit = smf.glm("won ~ group * after", pd.DataFrame({"won": won, "group": group, "after": after}),
                  family=sm.families.Binomial()).fit()  # fmt: skip
    ours = did_counts(hits, attempts)
    b, se = fit.params["group:after"], fit.bse["group:after"]
    assert ours["did_logodds"] == pytest.approx(b, abs=1e-8)
    assert ours["did_logodds_low"] == pytest.approx(b - 1.959963984540054 * se, abs=1e-6)
    assert ours["p_value"] == pytest.approx(fit.pvalues["group:after"], rel=1e-5)
    p = np.array(hits) / np.array(attempts)
    assert ours["did_probability"] == pytest.approx((p[3] - p[2]) - (p[1] - p[0]))


def test_did_with_a_zero_cell_keeps_the_probability_scale():
    out = did_counts([0, 10, 5, 9], [20, 30, 10, 12])
    assert out["did_logodds"] is None
    assert out["did_probability_low"] < out["did_probability"] < out["did_probability_high"]


@pytest.fixture
def planted(tmp_path: Path) -> Store:
    """Team North's deals decided from 2024-01-01 get +0.8 on the log-odds (synth's planted intervention)."""
    data = generate(seed=11, n_opportunities=30_000, with_activities=False, with_history=False,
                    intervention=("Team North", "2024-01-01", 0.8))  # fmt: skip
    assert data.truth.intervention == ("Team North", "2024-01-01", 0.8)
    s = Store(tmp_path / "did.duckdb")
    load_synth(s, data, label="test")
    yield s
    s.close()


def test_planted_effect_is_recovered_and_the_placebo_is_null(planted):
    add_intervention(planted, field="team", value="Team North", kind="coaching", started="2024-01-01", added_by="t")
    r = effect(planted, 1, window=180)
    assert r.did_logodds_low < 0.8 < r.did_logodds_high
    assert r.did_logodds_low > 0.3  # clearly positive
    assert r.did_probability_low > 0
    assert r.placebo_low < 0 < r.placebo_high
    assert r.baseline_low > 0.3  # the longer baseline (2023) sees it too
    assert [h["attempts"] > 0 for h in r.history] == [True, True]
    assert any("parallel trends" in c for c in r.caveats)
    assert [c["window"] for c in r.cells] == ["before", "after", "before", "after"]


def test_no_planted_effect_gives_an_interval_around_zero(tmp_path: Path):
    data = generate(seed=11, n_opportunities=30_000, with_activities=False, with_history=False)
    assert data.truth.intervention is None
    with Store(tmp_path / "null.duckdb") as s:
        load_synth(s, data, label="test")
        add_intervention(s, field="team", value="Team North", kind="training", started="2024-01-01", added_by="t")
        r = effect(s, 1, window=180)
    assert r.did_logodds_low < 0 < r.did_logodds_high


def test_intervention_cli_and_user_errors(planted):
    path = planted.path
    planted.close()
    run = CliRunner().invoke
    r = run(app, ["intervention", "add", "team=Team North", "--kind", "coaching", "--start", "2024-01-01",
                  "--note", "weekly 1:1s", "--db", path])  # fmt: skip
    assert r.exit_code == 0 and r.stdout.startswith("intervention 1: coaching")
    r = run(app, ["intervention", "list", "--format", "json", "--db", path])
    assert json.loads(r.stdout)[0]["note"] == "weekly 1:1s"
    r = run(app, ["intervention", "effect", "1", "--window", "120", "--db", path], env=ENV)
    assert r.exit_code == 0, r.output
    assert "Difference in differences (log-odds)" in r.stdout and "Caveat: parallel trends" in r.stdout
    r = run(app, ["intervention", "effect", "1", "--where", "segment=SMB", "--format", "json", "--db", path])
    assert json.loads(r.stdout)["method"].endswith("within the --where rows")
    for args, message in (
        (["add", "team=Team Nowhere", "--kind", "x", "--start", "2024-01-01"], "team 'Team Nowhere'"),
        (["add", "team=Team North", "--kind", "x", "--start", "2024-13-01"], "'2024-13-01' is not a date"),
        (["effect", "7"], "intervention 7"),
        (["effect", "1", "--window", "3"], "--window 3"),
    ):
        r = run(app, ["intervention", *args, "--db", path])
        assert r.exit_code == 2, r.output
        assert message in r.stderr and "Traceback" not in r.output


def test_a_rebound_after_a_bad_spell_is_caught_by_the_longer_baseline(tmp_path: Path):
    """No intervention is planted; instead half of Team North's wins in the half year before the start are turned
    into losses (a bad spell). The headline DiD then reads the rebound as an effect; the DiD against the year
    before the window does not, and a caveat names the bad spell."""
    data = generate(seed=11, n_opportunities=30_000, with_activities=False, with_history=False)
    with Store(tmp_path / "spell.duckdb") as s:
        load_synth(s, data, label="test")
        s.raw.execute(
            "UPDATE opportunities SET outcome = 'lost' WHERE outcome = 'won' AND closed_at >= '2023-07-05' "
            "AND closed_at < '2024-01-01' AND hash(id) % 2 = 0 "
            "AND rep IN (SELECT rep FROM reps WHERE team = 'Team North')"
        )
        add_intervention(s, field="team", value="Team North", kind="coaching", started="2024-01-01", added_by="t")
        r = effect(s, 1, window=180)
    assert r.did_logodds_low > 0  # the headline is fooled
    assert r.baseline_low < 0 < r.baseline_high  # the longer baseline is not
    assert any("bad spell" in c for c in r.caveats)


def test_intervention_results_show_the_result_face(planted):
    from hitrate.improve.interventions import intervention_effect, list_interventions
    from tests.improve_faces import check_face

    add_intervention(planted, "team=Team North", kind="coaching", start="2024-01-01", added_by="t")
    check_face(list_interventions(planted))
    result = intervention_effect(planted, 1)
    check_face(result)
    assert result.to_dict()["caveats"][0].startswith("parallel trends")
    assert "parallelle tendenser" in result.summary("da")
