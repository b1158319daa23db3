"""Dates that contradict each other (won before the first contact, as in the Olist marketing funnel) and groups
at exactly 0% or 100%: every analysis runs, the deal counts at age 0, and nothing crashes (issue 15).

The file is written here: 60 ordinary deals over three teams, one deal won two days before it was created
(Olist's lead ``OL1``), and team ``C`` whose six deals are all won.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import pytest

import hitrate
from hitrate.engine.counting import fetch
from hitrate.engine.expressions import cohort_expr
from hitrate.engine.query import Query
from hitrate.stats.funnel_plot import funnel_flags, funnel_limits

MAPPING = {"id": "id", "rep": "rep", "team": "team", "stage": "stage", "created_at": "created_at",
           "closed_at": "closed_at", "amount": "amount"}  # fmt: skip


def olist_like(path: Path) -> list[tuple[str, str, str, str, dt.date, dt.date | None]]:
    """Write the file; return its rows (id, rep, team, stage, created, closed)."""
    rows: list[tuple[str, str, str, str, dt.date, dt.date | None]] = []
    start = dt.date(2024, 1, 1)
    stages = ["Won", "Lost", "Lost", "Open"]
    for i in range(60):
        created = start + dt.timedelta(days=(i * 37) % 200)
        stage = stages[i % 4]
        closed = None if stage == "Open" else created + dt.timedelta(days=1 + (i * 11) % 50)
        rows.append((f"D{i}", f"Rep {i % 5}", "A" if i % 5 < 3 else "B", stage, created, closed))
    rows.append(("OL1", "Rep 1", "A", "Won", dt.date(2024, 5, 10), dt.date(2024, 5, 8)))
    rows += [(f"C{i}", "Rep C", "C", "Won", dt.date(2024, 3, 1 + i), dt.date(2024, 3, 20 + i)) for i in range(6)]
    lines = ["id,rep,team,stage,created_at,closed_at,amount"]
    lines += [f"{r[0]},{r[1]},{r[2]},{r[3]},{r[4]},{r[5] or ''},{1000 + k}" for k, r in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rows


@pytest.fixture
def messy(tmp_path: Path) -> tuple[hitrate.Store, list[tuple[str, str, str, str, dt.date, dt.date | None]]]:
    rows = olist_like(tmp_path / "olist.csv")
    store = hitrate.Store(tmp_path / "s.duckdb")
    hitrate.import_files(store, [tmp_path / "olist.csv"], mapping=MAPPING, won=["Won"], lost=["Lost"])
    yield store, rows
    store.close()


def test_every_analysis_runs_on_a_deal_won_before_it_was_created(messy, tmp_path):
    store, _ = messy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = [
            hitrate.rates(store, basis="cohort"),
            hitrate.rates(store, basis="cohort", by="team", period="month"),
            hitrate.rates(store, by="rep", period="quarter"),
            hitrate.benchmark(store, by="team"),
            hitrate.benchmark(store, by="rep", within="team"),
            hitrate.trend(store, period="month"),
            hitrate.compare(store, "A", "C", by="team"),
            hitrate.coach(store, "Rep 1"),
        ]
    for result in results:
        assert result.summary()
        assert result.to_dict()
    hitrate.write_store_report(store, tmp_path / "report.html")
    found = hitrate.doctor(store).finding("closed_before_created")
    assert found is not None and found.count == 1 and found.examples[0]["id"] == "OL1"
    cohort = results[0]
    assert any("closed before they were created" in str(w) and "1 deals" in str(w) for w in cohort.warnings)
    assert 0.0 <= cohort.to_frame()["eventual_rate"].iloc[0] <= 1.0


def test_a_deal_closed_before_it_was_created_counts_at_age_zero(messy):
    """The engine's event table equals ages computed here from the file's dates, negative ones set to 0."""
    store, rows = messy
    as_of = max(max(r[4] for r in rows), max(r[5] for r in rows if r[5] is not None))
    defs = hitrate.definitions_in_force(store).with_overrides(basis="cohort")
    events = fetch(store, cohort_expr(store, defs, Query(), dt.datetime.combine(as_of, dt.time()))["events"])
    expected: dict[int, list[int]] = {}
    for _, _, _, stage, created, closed in rows:
        age = max(((closed if stage != "Open" else as_of) - created).days, 0)
        counts = expected.setdefault(age, [0, 0, 0])
        counts[["Won", "Lost", "Open"].index(stage)] += 1
    got = {int(a): [int(w), int(lo), int(c)] for a, w, lo, c in
           zip(events["age"], events["won"], events["lost"], events["censored"], strict=True)}  # fmt: skip
    assert got == expected
    assert int(events["early"].sum()) == 1
    assert int(events["early"][events["age"] == 0].sum()) == 1


def test_funnel_limits_at_a_rate_of_zero_or_one_are_the_rate_itself():
    """Binomial(n, 1) puts all its mass on n and Binomial(n, 0) on 0 (scipy agrees): no spread, limits = p0."""
    from scipy import stats

    n = np.array([0, 1, 5, 40])
    for p0 in (0.0, 1.0):
        for level, (low, high) in funnel_limits(n, p0).items():
            assert np.isnan(low[0]) and np.isnan(high[0])
            tail = (1 - level) / 2
            ref_low = stats.binom.ppf(tail, n[1:], p0) / n[1:]
            ref_high = stats.binom.ppf(1 - tail, n[1:], p0) / n[1:]
            np.testing.assert_allclose(low[1:], ref_low)
            np.testing.assert_allclose(high[1:], ref_high)
    flags, p, _ = funnel_flags([5, 40], [5, 40], 1.0)
    assert list(flags) == ["within", "within"] and list(p) == [1.0, 1.0]


def test_a_selection_at_one_hundred_percent_is_a_normal_benchmark(messy):
    store, _ = messy
    result = hitrate.benchmark(store, by="rep", where={"team": ["C"]})
    row = result.to_frame().iloc[0]
    assert (row["attempts"], row["hits"], row["flag"]) == (6, 6, "within")
    assert row["funnel95_low"] == row["funnel95_high"] == 1.0
    assert 0.0 < row["shrunk_rate"] <= 1.0
    both = hitrate.compare(store, "C", "C", by="team")
    assert both.to_dict()


def test_the_web_answers_for_a_team_at_one_hundred_percent(messy):
    from fastapi.testclient import TestClient

    from hitrate.store.users import add_user, new_token
    from hitrate.web import create_app

    store, _ = messy
    add_user(store, "cc", "manager", teams=["C"], password="correct-horse-battery")
    add_user(store, "rc", "rep", rep="Rep C", password="correct-horse-battery")
    add_user(store, "ann", "admin", password="correct-horse-battery")
    tokens = {name: new_token(store, name) for name in ("cc", "rc", "ann")}
    path = store.path
    store.close()
    client = TestClient(create_app(Path(path), secret="test"), raise_server_exceptions=False)
    for name, token in tokens.items():
        for url in ("/api/benchmark?by=rep", "/api/benchmark?by=team", "/benchmark?team=C", "/rep",
                    "/api/rates?basis=cohort&by=team"):  # fmt: skip
            r = client.get(url, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, (name, url, r.text[:300])
