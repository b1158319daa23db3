"""Every result object of the analyses shows the same face: ``summary()``, ``to_frame()``, ``to_dict()``,
``_repr_html_()`` and ``plot()``, in English and Danish, on the synthetic demo store."""

from __future__ import annotations

import json
import re
import warnings

import pandas as pd
import pytest

from hitrate.analysis.benchmark import BenchmarkResult, benchmark
from hitrate.analysis.compare import ComparisonResult, compare
from hitrate.analysis.funnel import StageFunnel, stage_funnel
from hitrate.analysis.ramp import RampResult, ramp
from hitrate.analysis.rates import rates
from hitrate.analysis.results import RatesResult
from hitrate.analysis.trend import TrendResult, trend
from hitrate.analysis.worth import WorthResult, worth
from hitrate.report.result import Result
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo
from tests.conftest import require_module

go = require_module("plotly.graph_objects")

#: A message id that no catalogue has renders as ``id(params)``: none may show.
UNKNOWN_ID = re.compile(r"\b[a-z_]+\.[a-z0-9_.]+\(")

ANALYSES = {
    "rates by team": (RatesResult, lambda s: rates(s, by="team")),
    "rates per quarter": (RatesResult, lambda s: rates(s, period="quarter", where=["segment=SMB"])),
    "benchmark": (BenchmarkResult, lambda s: benchmark(s, by="rep", within="team", adjust="lead_source")),
    "trend": (TrendResult, lambda s: trend(s, period="month")),
    "trend by segment": (TrendResult, lambda s: trend(s, by="segment")),
    "compare": (ComparisonResult, lambda s: compare(s, "Team North", "Team South", by="team")),
    "stage funnel": (StageFunnel, lambda s: stage_funnel(s, by="segment", stages="Prospecting,Qualified,Proposal")),
    "ramp": (RampResult, lambda s: ramp(s, tenured_after=300)),
    "worth": (WorthResult, lambda s: worth(s, points=5, by="team")),
}


@pytest.fixture(scope="module")
def results():
    with Store(":memory:") as store, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_demo(store, seed=7, n_opportunities=3_000)
        yield {name: make(store) for name, (_, make) in ANALYSES.items()}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_every_result_has_the_five_faces(results, name):
    result = results[name]
    assert isinstance(result, ANALYSES[name][0]) and isinstance(result, Result)
    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame)
    data = result.to_dict()
    assert json.loads(json.dumps(data, default=str)) is not None
    for lang in ("en", "da"):
        text = result.summary(lang)
        assert text.splitlines()[0] and not UNKNOWN_ID.search(text), text
    assert result.summary("da") != result.summary("en")
    html = result._repr_html_()
    assert html.startswith('<div class="hitrate-result">') and "<table" in html
    figure = result.plot()
    assert isinstance(figure, go.Figure) and len(figure.data)
    assert isinstance(result.plot("da"), go.Figure)


@pytest.mark.parametrize("name", ["benchmark", "trend", "rates by team"])
def test_results_with_a_report_chart_draw_it_in_the_notebook(results, name):
    result = results[name]
    assert result.sections()
    assert "Plotly.newPlot" in result._repr_html_()


def test_the_benchmark_is_drawn_as_the_report_draws_reps(results):
    from hitrate.report import CaterpillarPlot, FunnelPlot

    funnel, caterpillar = results["benchmark"].sections()
    assert isinstance(funnel, FunnelPlot) and isinstance(caterpillar, CaterpillarPlot)
    assert funnel.label == "rep" and funnel.extra_labels == ("team",)
    assert funnel.overall_rate == results["benchmark"].query["overall_rate"]


def test_one_seasonal_plot_per_series(results):
    segments = {row["segment"] for row in results["trend by segment"].records()}
    assert len(results["trend by segment"].sections()) == len(segments)
    assert len(results["trend"].sections()) == 1


def test_to_dict_keeps_its_keys_and_writes_sentences_in_english(results):
    assert list(results["stage funnel"].to_dict()) == ["stages", "by", "warnings", "rows"]
    assert list(results["ramp"].to_dict()) == ["curves", "tenured", "fit", "warnings"]
    assert list(results["worth"].to_dict()) == ["points", "by", "assumption", "warnings", "rows"]
    assert results["worth"].to_dict()["assumption"].startswith("extra wins are valued at the mean amount")
    assert results["ramp"].to_dict()["fit"]["method"].startswith("binomial GLM with fixed effects")
    assert list(results["benchmark"].to_dict())[-2:] == ["priors", "adjust"]
    assert list(results["trend"].to_dict())[-2:] == ["seasonal_factors", "series"]


def test_the_comparison_reads_from_a_to_b_in_points_and_relative_in_english_and_danish(results):
    """From A to B in words and units (the sign of the points agrees with "higher"/"lower"), the relative lift,
    then the method's A − B difference; every number formatted here from the result's own fields."""
    result = results["compare"]
    d = result.difference
    lift, low, high = result.relative
    word = "higher" if d.rate_b > d.rate_a else "lower"
    expected = (
        f"Team South is {abs(d.difference) * 100:.1f} points {word} than Team North: {d.rate_a:.1%} → {d.rate_b:.1%} "
        f"({d.hits_a:,} of {d.attempts_a:,} → {d.hits_b:,} of {d.attempts_b:,}; 95% interval {-d.high * 100:+.1f} to "
        f"{-d.low * 100:+.1f} points), {lift:+.0%} relative (95% interval {low:+.0%} to {high:+.0%}); "
        f"p = {d.p_value:.3g}. Difference Team North − Team South: {d.difference:+.1%} (95% interval {d.low:+.1%} "
        f"to {d.high:+.1%})."
    )
    assert result.summary() == expected == str(result)
    assert f"{d.rate_a * 100:.1f} % →".replace(".", ",") in result.summary("da")
    assert ("højere" if word == "higher" else "lavere") in result.summary("da")
