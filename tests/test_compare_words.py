"""`compare` says the direction in words and units, with the relative lift and its interval.

The probe's case: November 47 of 1,000 (4.7%), December 58 of 1,000 (5.8%): "December is 1.1 points higher than
November, +23% relative", where the old sentence printed an unlabelled "Difference -1.1%".
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import norm
from statsmodels.stats import proportion
from typer.testing import CliRunner

from hitrate.analysis.compare import compare, relative_lift
from hitrate.cli import app
from hitrate.ingest import import_files


@pytest.fixture
def months(store, tmp_path):
    rows = [f"n{i},Nov,{'won' if i < 47 else 'lost'}" for i in range(1000)]
    rows += [f"d{i},Dec,{'won' if i < 58 else 'lost'}" for i in range(1000)]
    path = tmp_path / "sessions.csv"
    path.write_text("id,month,stage\n" + "\n".join(rows) + "\n", encoding="utf-8")
    import_files(store, [path], won=["won"], lost=["lost"])
    return store


def test_the_sentence_goes_from_a_to_b_in_points_and_relative(months):
    result = compare(months, "Nov", "Dec", by="month")
    text = result.summary()
    assert text.startswith("Dec is 1.1 points higher than Nov: 4.7% → 5.8% (47 of 1,000 → 58 of 1,000;")
    assert "+23% relative" in text and "Difference Nov − Dec: -1.1%" in text
    assert result.summary("da").startswith("Dec ligger 1,1 procentpoint højere end Nov: 4,7 % → 5,8 %")
    back = compare(months, "Dec", "Nov", by="month").summary()
    assert back.startswith("Nov is 1.1 points lower than Dec") and "-19% relative" in back
    data = result.to_dict()
    assert data["change"] == pytest.approx(0.011) and data["difference"] == pytest.approx(-0.011)
    assert data["relative_lift"] == pytest.approx(58 / 47 - 1)
    assert data["change_ci_low"] == pytest.approx(-data["ci_high"])


@pytest.mark.parametrize(("ka", "na", "kb", "nb"), [(47, 1000, 58, 1000), (12, 80, 30, 95), (300, 900, 250, 910)])
def test_the_relative_interval_inverts_the_score_test(ka, na, kb, nb):
    """Reference: the interval is the set of ratios the score test (statsmodels' test_proportions_2indep,
    compare="ratio", method="score") does not reject at 5%, so its p-value at each bound is 0.05; and for these
    counts it is close to the Katz log interval exp(log RR ± z·√(1/kb − 1/nb + 1/ka − 1/na)) computed here."""
    lift, low, high = relative_lift(ka, na, kb, nb)
    assert lift == pytest.approx((kb / nb) / (ka / na) - 1, rel=1e-12)
    for bound in (low, high):
        p = proportion.test_proportions_2indep(kb, nb, ka, na, value=bound + 1, compare="ratio", method="score").pvalue
        assert p == pytest.approx(0.05, abs=2e-3)
    se = np.sqrt(1 / kb - 1 / nb + 1 / ka - 1 / na)
    katz = np.exp(np.log((kb / nb) / (ka / na)) + np.array([-1, 1]) * norm.ppf(0.975) * se) - 1
    assert (low, high) == pytest.approx(tuple(katz), abs=0.03)
    assert low < lift < high


def test_no_relative_lift_from_zero_and_the_cli_sentence(months, tmp_path):
    assert relative_lift(0, 100, 5, 100) == (None, None, None)
    db = str(tmp_path / "cli.duckdb")
    path = tmp_path / "z.csv"
    path.write_text("id,month,stage\n" + "".join(f"a{i},A,lost\n" for i in range(20)) + "b1,B,won\nb2,B,lost\n")
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(path), "--won", "won", "--lost", "lost", "--db", db]).exit_code == 0
    out = runner.invoke(app, ["compare", "A", "B", "--by", "month", "--db", db])
    assert out.exit_code == 0 and "B is 50.0 points higher than A" in out.stdout
    assert "no relative change from A's 0%" in out.stdout
    data = json.loads(runner.invoke(app, ["compare", "A", "B", "--by", "month", "--db", db, "--format", "json"]).stdout)
    assert data["relative_lift"] is None
