"""The forecast: its statistics against independent references, the Maven acceptance figure, time travel, the
CLI and the library faces."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.improve.forecast import ForecastResult, forecast
from hitrate.stats import forecast as sf

ENV = {"COLUMNS": "200"}


# ---- the statistics ------------------------------------------------------------------------------------------
def test_age_curves_without_shrinkage_equal_the_aalen_johansen_estimate(rng):
    """Reference: :func:`hitrate.stats.censoring.aalen_johansen` (itself held to
    ``lifelines.AalenJohansenFitter`` in tests/test_stats_censoring.py) on the same event table, read as a step
    function at every whole-day age; one group, ``strength=0``."""
    from hitrate.stats.censoring import aalen_johansen

    age = rng.integers(0, 60, 80)
    won, lost, cens = (rng.integers(0, 5, 80) for _ in range(3))
    curves = sf.age_curves(np.zeros(80), age, won, lost, cens, 1, strength=0.0)
    ref = aalen_johansen(age, won, lost, cens)
    for a in range(int(age.max()) + 1):
        i = np.searchsorted(ref.time, a, side="right") - 1
        assert curves.win[0, a] == pytest.approx(ref.cif_win[i] if i >= 0 else 0.0, abs=1e-12)
        assert curves.loss[0, a] == pytest.approx(ref.cif_loss[i] if i >= 0 else 0.0, abs=1e-12)


def test_shrinkage_pulls_a_small_group_towards_the_pooled_curve():
    """A group of 4 decided deals (all won) next to a big one (half won): with the prior it sits near the
    pooled curve, without it at 1."""
    group = [0, 0, 1, 1]
    age = [10, 10, 10, 10]
    won, lost, cens = [4, 0, 500, 0], [0, 0, 0, 500], [0, 0, 0, 0]
    free = sf.age_curves(group, age, won, lost, cens, 2, strength=0.0)
    shrunk = sf.age_curves(group, age, won, lost, cens, 2, strength=50.0)
    assert free.win[0, 10] == pytest.approx(1.0)
    # posterior share: (4 + 50 * 504/1004) / (4 + 50)
    assert shrunk.win[0, 10] == pytest.approx((4 + 50 * 504 / 1004) / 54)


def test_count_interval_exact_equals_brute_force_convolution_with_scipy():
    """Reference: the pmf of Σ Binomial(n_i, p_i) + NB(mean, alpha) by ``np.convolve`` of
    ``scipy.stats.binom.pmf`` and ``scipy.stats.nbinom.pmf(k, 1/alpha, (1/alpha) / (1/alpha + mean))``;
    quantiles: the smallest k with cdf >= q."""
    from scipy import stats as sps

    n, p, mean, alpha = [5, 12, 30], [0.7, 0.2, 0.05], 6.5, 0.3
    pmf = np.array([1.0])
    for ni, pi in zip(n, p, strict=True):
        pmf = np.convolve(pmf, sps.binom.pmf(np.arange(ni + 1), ni, pi))
    r = 1 / alpha
    pmf = np.convolve(pmf, sps.nbinom.pmf(np.arange(400), r, r / (r + mean)))
    cdf = np.cumsum(pmf)
    low, high, method = sf.count_interval(n, p, mean, alpha, 0.8)
    assert method == "exact"
    assert (low, high) == (float(np.argmax(cdf >= 0.1)), float(np.argmax(cdf >= 0.9)))


def test_refined_normal_interval_is_close_to_the_exact_one(monkeypatch, rng):
    n = rng.integers(1, 30, 60)
    p = rng.uniform(0.01, 0.6, 60)
    exact = sf.count_interval(n, p, 40.0, 0.05, 0.8)
    monkeypatch.setattr(sf, "EXACT_LIMIT", 10)
    approx = sf.count_interval(n, p, 40.0, 0.05, 0.8)
    assert approx[2] == "normal"
    assert abs(approx[0] - exact[0]) <= 1 and abs(approx[1] - exact[1]) <= 1


def test_arrival_model_recovers_a_planted_season_and_level(rng):
    """36 months of Poisson counts at 10 a day times known month factors (geometric mean 1) and no trend: the
    factors come back within 10% and the rate of the next month within 10%."""
    months = np.arange(np.datetime64("2021-01"), np.datetime64("2024-01"))
    days = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(float)
    planted = np.exp(0.3 * np.sin(np.arange(12) / 12 * 2 * np.pi))
    planted /= np.exp(np.log(planted).mean())
    counts = rng.poisson(10 * days * planted[months.astype(int) % 12])
    model = sf.arrival_model(counts, days, months, [dt.date(2024, 1, 1), dt.date(2024, 4, 1)])
    assert model.seasonal and model.trend
    assert model.per_day[0] == pytest.approx(10 * planted[0], rel=0.1)
    assert model.per_day[1] == pytest.approx(10 * planted[3], rel=0.1)


def test_amount_interval_is_the_gamma_with_that_mean_and_variance():
    from scipy import stats as sps

    low, high = sf.amount_interval(1000.0, 250_000.0, 0.8)
    shape, scale = 1000.0**2 / 250_000.0, 250_000.0 / 1000.0
    assert (low, high) == pytest.approx(tuple(sps.gamma.ppf([0.1, 0.9], shape, scale=scale)))


# ---- Maven: the acceptance figure ----------------------------------------------------------------------------
def test_maven_q3_2017_forecast_is_within_ten_percent_of_the_wins(maven_store, maven_dir):
    """Actual, from the CSV with pandas: won deals closed in Q3 2017 (1,257); deals open on 2017-07-01: engaged
    before it and not closed before it (1,686)."""
    d = pd.read_csv(maven_dir / "sales_pipeline.csv", parse_dates=["engage_date", "close_date"])
    as_of = pd.Timestamp("2017-07-01")
    actual = int(((d.deal_stage == "Won") & d.close_date.between("2017-07-01", "2017-09-30")).sum())
    open_then = int(((d.engage_date < as_of) & ~(d.close_date < as_of)).sum())
    assert actual == 1257
    result = forecast(maven_store, as_of="2017-07-01", until="2017-09-30", period="quarter")
    (row,) = result.rows
    assert row["period"] == "2017-Q3" and row["open_deals"] == open_then
    assert abs(row["expected_wins"] - actual) / actual <= 0.10
    assert row["wins_low"] < row["expected_wins"] < row["wins_high"]
    assert row["expected_wins"] == pytest.approx(row["from_open"] + row["from_new"])
    assert result.warnings  # the 500 deals without an engage date are named
    by_region = forecast(maven_store, as_of="2017-07-01", until="2017-09-30", period="quarter", by="region")
    assert sum(r["expected_wins"] for r in by_region.rows) == pytest.approx(row["expected_wins"], rel=0.05)


# ---- time travel ---------------------------------------------------------------------------------------------
def test_rows_closed_or_created_after_the_as_of_date_do_not_change_the_forecast(maven_store):
    """Every row decided on or after 2017-07-15 is flipped (won <-> lost), moved and gets another amount; every
    row created on or after it is deleted: the forecast as of 2017-07-15 (a period started before it, so booked
    wins count too) is the same to the last digit."""
    kwargs = {"as_of": "2017-07-15", "until": "2017-12-31", "period": "month", "by": "region"}
    before = forecast(maven_store, **kwargs).to_dict()["rows"]
    raw = maven_store.raw
    cut = dt.datetime(2017, 7, 15)
    changed = raw.execute("SELECT count(*) FROM opportunities WHERE closed_at >= ?", [cut]).fetchone()[0]
    created = raw.execute("SELECT count(*) FROM opportunities WHERE created_at >= ?", [cut]).fetchone()[0]
    assert changed > 1000 and created > 1000
    raw.execute(
        "UPDATE opportunities SET stage = CASE WHEN stage = 'Won' THEN 'Lost' ELSE 'Won' END, "
        "closed_at = closed_at + INTERVAL 3 DAY, amount = coalesce(amount, 0) * 3 + 1 WHERE closed_at >= ?",
        [cut],
    )
    raw.execute("DELETE FROM opportunities WHERE created_at >= ?", [cut])
    after = forecast(maven_store, **kwargs).to_dict()["rows"]
    # equal up to the last bits of the engine's parallel floating-point sums
    assert [
        {k: pytest.approx(v, rel=1e-9) if isinstance(v, float) else v for k, v in r.items()} for r in after
    ] == before
    raw.execute("UPDATE opportunities SET closed_at = ? WHERE closed_at < ? AND stage = 'Won'", [cut, cut])
    changed_rows = forecast(maven_store, **kwargs).to_dict()["rows"]
    assert [
        {k: pytest.approx(v, rel=1e-9) if isinstance(v, float) else v for k, v in r.items()} for r in changed_rows
    ] != before


# ---- the faces -----------------------------------------------------------------------------------------------
def test_cli_json_csv_and_table(maven_store, tmp_path):
    path = str(maven_store.path)
    maven_store.close()
    run = CliRunner().invoke
    args = ["forecast", "--as-of", "2017-07-01", "--until", "2017-09-30", "--period", "quarter", "--db", path]
    out = run(app, [*args, "--format", "json"], env=ENV)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert {"as_of", "until", "level", "definitions", "method", "rows"} <= set(data)
    row = data["rows"][0]
    for key in ("period", "expected_wins", "wins_low", "wins_high", "from_open", "from_new", "expected_amount",
                "amount_low", "amount_high"):  # fmt: skip
        assert key in row
    csv = run(app, [*args, "--format", "csv", "--by", "region"], env=ENV)
    assert csv.exit_code == 0 and csv.stdout.splitlines()[0].startswith("region,period,expected_wins")
    table = run(app, args, env=ENV)
    assert table.exit_code == 0 and "2017-Q3" in table.stdout
    bad = run(app, [*args[:-2], "--horizon", "year", "--db", path], env=ENV)
    assert bad.exit_code != 0 and "Traceback" not in bad.output
    bt = run(app, ["forecast", "backtest", "--from", "2017-06-01", "--to", "2017-08-01", "--db", path,
                   "--format", "json"], env=ENV)  # fmt: skip
    assert bt.exit_code == 0, bt.output
    points = json.loads(bt.stdout)
    assert [p["as_of"] for p in points["points"]] == ["2017-06-01", "2017-07-01", "2017-08-01"]
    assert set(points["summary"]) == {"hitrate", "stage_weighted", "run_rate"}
    assert points["points"][1]["actual"] == 308  # Maven wins closed in July 2017 (pandas: 308)


def test_the_five_faces(maven_store):
    result = forecast(maven_store, as_of="2017-07-01", until="2017-09-30")
    assert isinstance(result, ForecastResult)
    assert "2017-09" in result.summary() and "2017-09" in result.summary("da")
    assert len(result.to_frame()) == 3
    assert json.dumps(result.to_dict())
    assert "<table" in result._repr_html_()
    assert len(result.plot().data) == 3  # band (two edges) and the expected wins


def test_the_stage_weighted_baseline_equals_a_pandas_reference(store):
    """Reference with pandas on the generator's tables, for the as-of date D = 2024-06-01: each deal open on D
    (created before D, not decided before D) in the stage it last entered before D, times that stage's win rate
    among the deals decided before D that entered it before D; a deal with no stage then at the overall rate."""
    import pandas as pd

    from hitrate.improve.backtest import forecast_backtest
    from hitrate.synth.demo import load_synth
    from hitrate.synth.generator import generate

    data = generate(seed=4, n_opportunities=3000, start="2023-01-01", end="2024-12-31", with_activities=False)
    load_synth(store, data, label="synth")
    result = forecast_backtest(store, date_from="2024-06-01", date_to="2024-06-01")
    (point,) = result.rows
    day = pd.Timestamp("2024-06-01")
    o = data.opportunities
    o = o[o.created_at < day]
    decided = o.outcome.isin(["won", "lost"]) & (o.closed_at < day)
    h = data.stage_history[data.stage_history.entered_at < day]
    now = h.sort_values("entered_at").groupby("id").stage.last()
    ever = h[["id", "stage"]].drop_duplicates().merge(o[decided][["id", "outcome"]], on="id")
    rate = ever.groupby("stage").outcome.apply(lambda s: (s == "won").mean())
    overall = (o[decided].outcome == "won").mean()
    stage = o[~decided].id.map(now)
    expected = stage.map(rate).fillna(overall).sum()
    assert point["stage_weighted"] == pytest.approx(expected)
    wins = data.opportunities
    assert point["actual"] == ((wins.outcome == "won") & (wins.closed_at >= day)
                               & (wins.closed_at < pd.Timestamp("2024-07-01"))).sum()  # fmt: skip


def test_a_goal_for_the_group_and_period_gets_the_probability_of_reaching_it(maven_store):
    """Goals on West's Q3 2017 hit rate: a low target is almost sure, a high one almost hopeless, and a group
    or period without a goal has none. The maths is goals progress's (tests/test_goals.py holds it to scipy)."""
    from hitrate.improve.goals import set_goal

    set_goal(maven_store, "region=West", target=0.2, period="2017-Q3")
    set_goal(maven_store, "region=East", target=0.95, period="2017-Q3")
    result = forecast(maven_store, as_of="2017-08-01", until="2017-12-31", period="quarter", by="region")
    rows = {(r["region"], r["period"]): r for r in result.rows}
    assert rows[("West", "2017-Q3")]["goal"] == 0.2 and rows[("West", "2017-Q3")]["goal_probability"] > 0.99
    assert rows[("East", "2017-Q3")]["goal_probability"] < 0.01
    assert "goal" not in rows[("Central", "2017-Q3")] and "goal" not in rows[("West", "2017-Q4")]
    assert json.dumps(result.to_dict())


# ---- the report section --------------------------------------------------------------------------------------
def test_the_backtest_window_ends_with_a_month_that_is_over():
    from hitrate.improve._forecast_tables import backtest_window

    assert backtest_window(dt.date(2024, 11, 16)) == (dt.date(2023, 11, 1), dt.date(2024, 9, 30))
    assert backtest_window(dt.date(2025, 1, 1)) == (dt.date(2024, 1, 1), dt.date(2024, 11, 30))


def test_the_report_shows_the_forecast_and_its_backtest(maven_store, tmp_path):
    """The store's HTML report holds the forecast section (chart with its band, one row per month to the end of
    the quarter with the same numbers as ``forecast``) and the backtest section (chart and each method's MAE),
    in English and Danish."""
    from hitrate.analysis._common import resolve_definitions
    from hitrate.improve.backtest import forecast_backtest
    from hitrate.store_report import _forecast, store_sections, write_store_report

    defs = resolve_definitions(maven_store, None, None)
    shown = _forecast(maven_store, defs, "en")
    assert [s.title.split(":")[0] for s in shown] == [forecast(maven_store).title().render("en"), "Forecast backtest"]
    outlook = forecast(maven_store)  # the data end in 2017-12-31: as of 2018-01-01, to the end of Q1 2018
    assert [row[0] for row in shown[0].rows] == [r["period"] for r in outlook.rows] == ["2018-01", "2018-02", "2018-03"]
    assert shown[0].figure is not None and len(shown[0].figure.data) == 3
    assert shown[0].rows[0][1].startswith(f"{round(outlook.rows[0]['expected_wins']):,}")
    past = forecast_backtest(maven_store, date_from="2017-01-01", date_to="2017-11-30", definitions=defs)
    assert [row[1] for row in shown[1].rows] == [f"{past.accuracy[m]['mae']:,.1f}" for m in past.accuracy]
    sections, _, _ = store_sections(maven_store, "da")
    titles = [s.title for s in sections]
    assert any(t.startswith("Prognose pr.") for t in titles) and any(
        t.startswith("Backtest af prognosen") for t in titles
    )
    html = write_store_report(maven_store, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "forecast-as-of-2018-01-01" in html and "MAE" in html


def test_a_quarter_almost_over_is_forecast_with_the_next_one(store):
    """Data that end on the quarter's last day: the report's forecast runs to the end of the next quarter, not one
    day."""
    from hitrate.analysis._common import resolve_definitions
    from hitrate.store_report import _forecast
    from hitrate.synth.demo import load_synth
    from hitrate.synth.generator import generate

    load_synth(store, generate(seed=2, n_opportunities=1500, end="2024-12-30", with_activities=False), label="t")
    shown = _forecast(store, resolve_definitions(store, None, None), "en")
    assert shown and shown[0].title.endswith("up to 2025-03-31")
    assert [row[0] for row in shown[0].rows] == ["2024-12", "2025-01", "2025-02", "2025-03"]


def test_help_of_a_subcommand_needs_no_store(tmp_path, monkeypatch):
    """``forecast`` is a command and a group: its own options must not open the store before the subcommand's
    ``--help`` (it failed with "no store at hitrate.duckdb" where there is none)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HITRATE_DB", raising=False)
    result = CliRunner().invoke(app, ["forecast", "backtest", "--help"], env=ENV)
    assert result.exit_code == 0 and "--from" in result.stdout
    assert not (tmp_path / "hitrate.duckdb").exists()
    result = CliRunner().invoke(app, ["forecast"], env=ENV)
    assert result.exit_code == 2 and "no store" in result.output
