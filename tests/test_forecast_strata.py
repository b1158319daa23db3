"""The forecast's strata: open deals' time-to-close curves per stratum (segment, lead source...) within each
group, each shrunk towards its group's curve; held to per-stratum Aalen–Johansen, to a planted truth, to time
travel, and named in the output."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.errors import UnknownFieldError, UserInputError
from hitrate.improve.forecast import forecast
from hitrate.stats import forecast as sf
from hitrate.store.embedded import Store
from hitrate.synth.demo import load_frame, load_synth
from hitrate.synth.generator import generate

ENV = {"COLUMNS": "200"}
AS_OF = dt.date(2024, 7, 1)
#: The planted segments: mean days to a decision (exponential) and the chance of a win.
PLANTED = {"A": (10.0, 0.8), "B": (120.0, 0.3)}


# ---- the statistics ------------------------------------------------------------------------------------------
def test_strata_curves_without_shrinkage_equal_aalen_johansen_per_stratum(rng):
    """Reference: :func:`hitrate.stats.censoring.aalen_johansen` (held to lifelines in
    tests/test_stats_censoring.py) on each cell's rows alone (two groups, three strata each), and on each
    group's rows for the group curves, read as step functions at every whole-day age; both strengths 0."""
    from hitrate.stats.censoring import aalen_johansen

    n = 240
    group, stratum = rng.integers(0, 2, n), rng.integers(0, 3, n)
    age = rng.integers(0, 60, n)
    won, lost, cens = (rng.integers(0, 5, n) for _ in range(3))
    cell = group * 3 + stratum
    groups, cells = sf.strata_curves(group, cell, age, won, lost, cens, 2, 6, strength=0.0, cell_strength=0.0)

    def same(curves, row, mine):
        ref = aalen_johansen(age[mine], won[mine], lost[mine], cens[mine])
        for a in range(int(age.max()) + 1):
            i = np.searchsorted(ref.time, a, side="right") - 1
            assert curves.win[row, a] == pytest.approx(ref.cif_win[i] if i >= 0 else 0.0, abs=1e-12)
            assert curves.loss[row, a] == pytest.approx(ref.cif_loss[i] if i >= 0 else 0.0, abs=1e-12)

    for c in range(6):
        same(cells, c, cell == c)
    for g in range(2):
        same(groups, g, group == g)


def test_a_small_stratum_is_pulled_towards_its_groups_curve_not_the_pooled_one():
    """Group 0: a stratum of 4 deals (all won) and one of 1,000 (half won); group 1: 1,000 deals, all lost. No
    shrinkage between groups, 50 pseudo-deals within: the small stratum's win share is (4 + 50 * 504/1004) / 54,
    its group's share of wins, not the pooled 504/2004."""
    group, cell = [0, 0, 0, 1], [0, 1, 1, 2]
    age = [10, 10, 10, 10]
    won, lost, cens = [4, 500, 0, 0], [0, 0, 500, 1000], [0, 0, 0, 0]
    _, cells = sf.strata_curves(group, cell, age, won, lost, cens, 2, 3, strength=0.0, cell_strength=50.0)
    assert cells.win[0, 10] == pytest.approx((4 + 50 * 504 / 1004) / 54)
    assert cells.win[2, 10] == pytest.approx(0.0)
    assert cells.strength == 50.0


# ---- a planted truth -----------------------------------------------------------------------------------------
def planted(store: Store, seed: int = 3) -> float:
    """4,000 deals created over 2023-01-01..2024-06-30 in segments A (decided in 10 days on average, 80% won)
    and B (120 days, 30% won), decision times exponential; B is 10% of the deals until April 2024 and 90% from
    May: the pipeline's mix has turned. Returns the true expected wins in July 2024 of the deals open on
    2024-07-01: by the exponential's lack of memory each open deal of segment s is won in the 31 days with
    probability ``p_s (1 - exp(-31 / m_s))``."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-01")
    span = (pd.Timestamp(AS_OF) - start).days
    created = start + pd.to_timedelta(np.sort(rng.uniform(0, span, 4000)), unit="D")
    late = created >= pd.Timestamp("2024-05-01")
    segment = np.where(rng.random(4000) < np.where(late, 0.9, 0.1), "B", "A")
    mean = np.array([PLANTED[s][0] for s in segment])
    p = np.array([PLANTED[s][1] for s in segment])
    closed = created + pd.to_timedelta(rng.exponential(mean), unit="D")
    frame = pd.DataFrame(
        {
            "id": [f"d{i}" for i in range(4000)],
            "outcome": np.where(rng.random(4000) < p, "won", "lost"),
            "created_at": created,
            "closed_at": closed,
            "segment": segment,
            "amount": 1000.0,
        }
    )
    with store.transaction():
        load_frame(store, "opportunities", frame, batch_id=1)
    open_then = (created < pd.Timestamp(AS_OF)) & (closed >= pd.Timestamp(AS_OF))
    return float((p * (1 - np.exp(-31 / mean)))[open_then].sum())


def test_stratified_open_deals_are_closer_to_a_planted_truth(store):
    """The pooled curve learned its young ages from fast segment A; most young open deals are now slow B: one
    curve for all expects far too many wins from them, a curve per segment gets close to the truth."""
    truth = planted(store)
    kwargs = {"as_of": AS_OF, "until": "2024-07-31"}
    pooled = forecast(store, strata=(), **kwargs)
    split = forecast(store, strata="segment", **kwargs)
    assert split.facts["strata"] == ["segment"] and pooled.facts["strata"] == []
    (one,), (two,) = pooled.rows, split.rows
    assert abs(two["from_open"] - truth) < 0.25 * truth
    assert abs(one["from_open"] - truth) > 2 * abs(two["from_open"] - truth)
    assert two["open_deals"] == one["open_deals"]
    assert two["wins_low"] < two["expected_wins"] < two["wins_high"]
    assert forecast(store, **kwargs).rows == split.rows  # segment is chosen by default


# ---- the choice, time travel and the faces -------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("strata") / "s.duckdb"
    data = generate(seed=5, n_opportunities=3000, start="2023-01-01", end="2024-12-31", with_history=False,
                    with_activities=False)  # fmt: skip
    with Store(path) as s:
        load_synth(s, data, label="synth:5")
    return path


@pytest.fixture
def synth(synth_path, tmp_path):
    import shutil

    path = tmp_path / "s.duckdb"
    shutil.copy(synth_path, path)
    with Store(path) as s:
        yield s


def test_the_default_strata_are_a_field_with_a_few_values_that_is_not_a_group(synth):
    """The generator has segment (3 values) and lead_source (5): segment first; lead_source when segment is a
    ``by`` field or has one value under ``where``; none when asked, or when the data have no such field (the
    Maven sample: tests/test_forecast.py's figure is unstratified)."""
    assert forecast(synth, as_of="2024-07-01").facts["strata"] == ["segment"]
    assert forecast(synth, as_of="2024-07-01", by="segment").facts["strata"] == ["lead_source"]
    assert forecast(synth, as_of="2024-07-01", where={"segment": ["SMB"]}).facts["strata"] == ["lead_source"]
    assert forecast(synth, as_of="2024-07-01", strata=()).facts["strata"] == []
    both = forecast(synth, as_of="2024-07-01", strata=["segment", "lead_source"], by="region")
    assert both.facts["strata"] == ["segment", "lead_source"] and both.facts["strata_values"] == 15
    with pytest.raises(UnknownFieldError):
        forecast(synth, strata="colour")
    with pytest.raises(UserInputError):
        forecast(synth, strata="id")  # 3,000 values


def test_rows_closed_or_created_after_the_as_of_date_do_not_change_the_stratified_forecast(synth):
    """As tests/test_forecast.py's time-travel test, with the strata chosen and used: every deal decided on or
    after 2024-03-15 flipped, moved and re-priced, every deal created on or after it given one of 30 new
    segments (counted over all the data, segment would have too many values to be chosen), then deleted: the
    same forecast each time."""
    kwargs = {"as_of": "2024-03-15", "until": "2024-06-30", "by": "region"}
    before = forecast(synth, **kwargs)
    assert before.facts["strata"] == ["segment"]
    raw, cut = synth.raw, dt.datetime(2024, 3, 15)
    raw.execute(
        "UPDATE opportunities SET outcome = CASE outcome WHEN 'won' THEN 'lost' WHEN 'lost' THEN 'won' "
        "ELSE outcome END, closed_at = closed_at + INTERVAL 3 DAY, amount = coalesce(amount, 0) * 3 + 1 "
        "WHERE closed_at >= ?",
        [cut],
    )
    raw.execute("UPDATE opportunities SET segment = 'new' || CAST(hash(id) % 30 AS VARCHAR) WHERE created_at >= ?",
                [cut])  # fmt: skip
    assert synth.fetch("SELECT count(DISTINCT segment) FROM opportunities")[0][0] > 20
    renamed = forecast(synth, **kwargs)
    raw.execute("DELETE FROM opportunities WHERE created_at >= ?", [cut])
    for after in (renamed, forecast(synth, **kwargs)):
        assert close(after.facts) == before.facts
        assert [close(r) for r in after.to_dict()["rows"]] == before.to_dict()["rows"]


def close(values: dict) -> dict:
    """Floats equal up to the last bits of the engine's parallel floating-point sums."""
    return {k: pytest.approx(v, rel=1e-9) if isinstance(v, float) else v for k, v in values.items()}


def test_json_and_the_command_line_name_the_strata(synth):
    path = str(synth.path)
    synth.close()
    run = CliRunner().invoke
    args = ["forecast", "--as-of", "2024-07-01", "--db", path, "--format", "json"]
    auto = json.loads(run(app, args, env=ENV).stdout)
    assert auto["facts"]["strata"] == ["segment"] and "per segment" in auto["method"]
    off = json.loads(run(app, [*args, "--no-strata"], env=ENV).stdout)
    assert off["facts"]["strata"] == [] and "per segment" not in off["method"]
    assert off["rows"] != auto["rows"]
    given = json.loads(run(app, [*args, "--strata", "lead_source"], env=ENV).stdout)
    assert given["facts"]["strata"] == ["lead_source"] and "per lead_source" in given["method"]
    both = run(app, [*args, "--strata", "segment", "--no-strata"], env=ENV)
    assert both.exit_code != 0 and "--no-strata" in both.output and "Traceback" not in both.output
    bt = run(app, ["forecast", "backtest", "--from", "2024-05-01", "--to", "2024-06-01", "--db", path,
                   "--no-strata", "--format", "json"], env=ENV)  # fmt: skip
    assert bt.exit_code == 0, bt.output
