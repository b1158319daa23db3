"""Rates: exact counts on real data, Wilson against statsmodels, invariants, periods, filters, definitions."""

from __future__ import annotations

import collections
import csv
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hitrate.analysis.rates import rates
from hitrate.engine.query import Query, period_label
from hitrate.errors import UnknownFieldError, UserInputError, ValueRateWarning
from hitrate.spec.model import parse_definitions
from hitrate.stats import wilson_interval
from hitrate.store.embedded import Store
from hitrate.synth.demo import load_frame


def test_maven_rates_by_rep_are_exactly_won_over_closed(maven_store, maven_dir):
    won: collections.Counter[str] = collections.Counter()
    closed: collections.Counter[str] = collections.Counter()
    with (maven_dir / "sales_pipeline.csv").open() as f:
        for r in csv.DictReader(f):
            if r["deal_stage"] in ("Won", "Lost"):
                closed[r["sales_agent"]] += 1
                won[r["sales_agent"]] += r["deal_stage"] == "Won"
    rows = rates(maven_store, by=["rep"]).rows.set_index("rep")
    assert len(rows) == len(closed) == 30
    for rep, n in closed.items():
        assert rows.loc[rep, "attempts"] == n
        assert rows.loc[rep, "hits"] == won[rep]
        assert rows.loc[rep, "hit_rate"] == won[rep] / n
    overall = rates(maven_store).rows.iloc[0]
    assert (overall["hits"], overall["attempts"]) == (4238, 6711)
    assert round(overall["hit_rate"], 4) == 0.6315


def test_maven_value_hit_rate_warns_that_it_says_nothing_and_is_not_shown(maven_store, tmp_path):
    """Maven's lost deals have amount 0, so amount won / amount attempted is 1 wherever anything was won: the
    value rate is left empty (JSON null, no table column) with the warning saying why, never shown as 100%."""
    with pytest.warns(ValueRateWarning, match="says nothing"):
        result = rates(maven_store, by=["rep"])
    assert result.rows["value_hit_rate"].isna().all() and (result.rows["amount_won"] > 0).any()
    assert all(r["value_hit_rate"] is None for r in result.to_dict()["rows"])
    assert any("says nothing" in w for w in result.warnings)
    from typer.testing import CliRunner

    from hitrate.cli import app

    shown = CliRunner().invoke(app, ["rates", "--by", "rep", "--db", str(maven_store.path)])
    assert shown.exit_code == 0 and "value hit rate says nothing" in shown.stderr
    assert "value hit rate" not in shown.stdout and "100.0%" not in shown.stdout
    report = tmp_path / "r.html"
    written = CliRunner().invoke(app, ["report", "--output", str(report), "--db", str(maven_store.path)])
    assert written.exit_code == 0, written.output
    page = report.read_text(encoding="utf-8")
    assert ">Value hit rate</th>" not in page and "100.0%" not in page


def test_cohort_basis_counts_open_deals(maven_store):
    row = rates(maven_store, basis="cohort").rows.iloc[0]
    assert (row["hits"], row["attempts"]) == (4238, 8800)
    result = rates(maven_store, basis="cohort", period="quarter")
    # Prospecting rows have no engage date: they cannot be put in a period.
    assert result.rows["attempts"].sum() == 8800 - 500
    assert result.to_dict()["definitions"]["period_date"] == "created_at"


def test_wilson_matches_statsmodels():
    """Reference: statsmodels 0.14+.

    from statsmodels.stats.proportion import proportion_confint
    proportion_confint([0, 1, 9, 300, 4238], [10, 1, 12, 450, 6711], alpha=0.05, method="wilson")
    """
    from statsmodels.stats.proportion import proportion_confint

    k = np.array([0, 1, 9, 300, 4238, 3, 17])
    n = np.array([10, 1, 12, 450, 6711, 1000, 17])
    for conf in (0.8, 0.95, 0.99):
        low, high = wilson_interval(k, n, conf)
        ref_low, ref_high = proportion_confint(k, n, alpha=1 - conf, method="wilson")
        np.testing.assert_allclose(low, ref_low, rtol=0, atol=1e-12)
        np.testing.assert_allclose(high, ref_high, rtol=0, atol=1e-12)
    # Published value (Newcombe 1998, Table I, 81/263): 0.2553 to 0.3662.
    low, high = wilson_interval([81], [263])
    assert (round(float(low[0]), 4), round(float(high[0]), 4)) == (0.2553, 0.3662)


def test_wilson_edge_cases():
    low, high = wilson_interval([0, 5], [0, 5])
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert high[1] == 1.0
    with pytest.raises(ValueError, match="hits <= attempts"):
        wilson_interval([3], [2])
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval([1], [2], confidence=1.5)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1, max_size=30))
def test_wilson_bounds_hold_the_rate(pairs):
    n = np.array([max(a, b) for a, b in pairs])
    k = np.array([min(a, b) for a, b in pairs])
    low, high = wilson_interval(k, n)
    ok = n > 0
    rate = np.divide(k, n, where=ok, out=np.zeros(len(n)))
    assert np.all((low[ok] >= 0) & (low[ok] <= rate[ok] + 1e-12) & (rate[ok] <= high[ok] + 1e-12) & (high[ok] <= 1))


def frame_store(records) -> Store:
    store = Store(":memory:")
    frame = pd.DataFrame(records, columns=["id", "rep", "stage", "outcome", "created_at", "closed_at", "amount"])
    for c in ("created_at", "closed_at"):
        frame[c] = pd.to_datetime(frame[c])
    with store.transaction():
        load_frame(store, "opportunities", frame, batch_id=1)
    return store


row_strategy = st.tuples(
    st.sampled_from(["Ann", "Bo", "Cy"]),
    st.sampled_from(["won", "lost", "open"]),
    st.dates(dt.date(2020, 1, 1), dt.date(2021, 12, 31)),
    st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False)),
)


@settings(max_examples=15, deadline=None)
@given(rows=st.lists(row_strategy, min_size=1, max_size=60), seed=st.integers(0, 2**32 - 1))
def test_rates_are_independent_of_row_order_and_hold_their_invariants(rows, seed):
    records = [
        (
            f"o{i}",
            rep,
            out.title(),
            out,
            pd.Timestamp(d),
            None if out == "open" else pd.Timestamp(d) + pd.Timedelta(days=30),
            amt,
        )
        for i, (rep, out, d, amt) in enumerate(rows)
    ]
    shuffled = [records[i] for i in np.random.default_rng(seed).permutation(len(records))]
    with frame_store(records) as a, frame_store(shuffled) as b:
        for kwargs in ({"by": ["rep"]}, {"by": ["rep"], "period": "month"}, {"basis": "cohort", "period": "quarter"}):
            ra, rb = rates(a, **kwargs).rows, rates(b, **kwargs).rows
            pd.testing.assert_frame_equal(ra, rb)
            ok = ra["attempts"] > 0
            r = ra[ok]
            assert ((r.ci_low >= 0) & (r.ci_low <= r.hit_rate) & (r.hit_rate <= r.ci_high) & (r.ci_high <= 1)).all()
        closed = sum(1 for r in rows if r[1] != "open")
        assert rates(a).rows["attempts"].sum() == closed


@pytest.mark.parametrize(
    ("day", "period", "label"),
    [
        ("2017-03-15", "month", "2017-03"),
        ("2017-02-28", "quarter", "2017-Q1"),
        ("2017-12-31", "quarter", "2017-Q4"),
        ("2017-03-01", "week", "2017-W09"),
        ("2021-01-01", "week", "2020-W53"),
        ("2017-06-30", "year", "2017"),
    ],
)
def test_period_labels(day, period, label, store):
    ts = pd.Timestamp(day)
    frame = pd.DataFrame({"id": ["1"], "stage": ["Won"], "outcome": ["won"], "closed_at": [ts]})
    with store.transaction():
        load_frame(store, "opportunities", frame, batch_id=1)
    assert rates(store, period=period).rows["period"].tolist() == [label]
    assert (
        period_label(ts.to_period({"week": "W", "month": "M", "quarter": "Q", "year": "Y"}[period]).start_time, period)
        == label
    )


def test_from_to_and_where_filters(maven_store):
    r = rates(maven_store, date_from="2017-06-01", date_to="2017-06-30").rows.iloc[0]
    m = rates(maven_store, period="month").rows.set_index("period").loc["2017-06"]
    assert (r["attempts"], r["hits"]) == (m["attempts"], m["hits"])
    one = rates(maven_store, by=["rep"], where={"rep": ["Moses Frase"]}).rows
    assert one["rep"].tolist() == ["Moses Frase"]
    two = rates(maven_store, where={"rep": ["Moses Frase", "Darcel Schlecht"]}).rows.iloc[0]
    by_rep = rates(maven_store, by=["rep"]).rows.set_index("rep")
    assert two["attempts"] == by_rep.loc[["Moses Frase", "Darcel Schlecht"], "attempts"].sum()
    with pytest.raises(UserInputError, match="not a date"):
        rates(maven_store, date_from="01-06-2017")


def test_lookup_fields_group_through_reps_and_products(maven_store):
    teams = rates(maven_store, by=["team", "region"]).rows
    assert teams["attempts"].sum() == 6711
    assert set(teams["region"]) == {"Central", "East", "West"}
    series = rates(maven_store, by=["series"]).rows  # products.series, joined by product
    assert series["attempts"].sum() == 6711  # GTXPro matches no product: its rows land in a null series
    assert series["series"].isna().sum() == 1


def test_unknown_fields_are_named(maven_store):
    """The library names its parameter (``by``); the command line writes it its way (``--by``)."""
    with pytest.raises(UnknownFieldError, match=r"unknown field 'reep' \(by\); expected one of: .*rep") as info:
        rates(maven_store, by=["reep"])
    assert "unknown field 'reep' (--by)" in info.value.render("en", lambda p: f"--{p}")
    with pytest.raises(UnknownFieldError, match=r"\(where\)") as info:
        rates(maven_store, where={"colour": ["red"]})
    assert "(--where)" in info.value.render("en", lambda p: f"--{p}")
    defs = parse_definitions("won: [{field: status, op: eq, value: won}]", source="d.yaml")
    with pytest.raises(UnknownFieldError, match=r"'status' \(won\[0\]\)"):
        rates(maven_store, definitions=defs)


def test_definitions_conditions_change_what_counts(maven_store, maven_dir):
    gtx = parse_definitions(
        "opportunity:\n  - {field: product, op: in, values: [GTX Basic, GTX Plus Basic, GTXPro]}\n"
        "won: [{field: stage, op: eq, value: Won}]\nlost: [{field: stage, op: eq, value: Lost}]\n",
        source="gtx.yaml",
    )
    result = rates(maven_store, definitions=gtx)
    raw = pd.read_csv(maven_dir / "sales_pipeline.csv")
    sub = raw[raw["product"].isin(["GTX Basic", "GTX Plus Basic", "GTXPro"]) & raw["deal_stage"].isin(["Won", "Lost"])]
    row = result.rows.iloc[0]
    assert (row["attempts"], row["hits"]) == (len(sub), int((sub["deal_stage"] == "Won").sum()))
    assert result.to_dict()["definitions"]["hash"] == gtx.hash
    big = parse_definitions(
        "won: [{any: [{field: outcome, op: eq, value: won}]}, {field: amount, op: gt, value: 1000}]", source="big.yaml"
    )
    row = rates(maven_store, definitions=big).rows.iloc[0]
    assert row["hits"] == int(((raw["deal_stage"] == "Won") & (raw["close_value"] > 1000)).sum())
    # A won deal of <= 1000 is neither won (by this file) nor lost: it does not count on the closed basis.
    assert row["attempts"] == row["hits"] + int((raw["deal_stage"] == "Lost").sum())


def test_ne_and_not_in_hold_for_missing_values(store):
    frame = pd.DataFrame(
        {
            "id": ["1", "2", "3"],
            "stage": ["Won", "Won", "Lost"],
            "outcome": ["won", "won", "lost"],
            "closed_at": pd.to_datetime(["2020-01-01"] * 3),
            "source": ["Spam", None, "Web"],
        }
    )
    with store.transaction():
        load_frame(store, "opportunities", frame, batch_id=1)
    for cond in ("{field: source, op: ne, value: Spam}", "{field: source, op: not_in, values: [Spam]}"):
        defs = parse_definitions(f"opportunity: [{cond}]", source="x")
        assert rates(store, definitions=defs).rows.iloc[0]["attempts"] == 2
    defs = parse_definitions("opportunity: [{field: source, op: is_null}]", source="x")
    assert rates(store, definitions=defs).rows.iloc[0]["attempts"] == 1


def test_result_objects(maven_store):
    result = rates(maven_store, by=["rep"], period="quarter")
    d = result.to_dict()
    assert set(d) >= {"definitions", "rows", "warnings", "method", "query"}
    assert list(d["rows"][0]) == [
        "rep",
        "period",
        "attempts",
        "hits",
        "hit_rate",
        "ci_low",
        "ci_high",
        "amount_won",
        "value_hit_rate",
        "change",
        "change_low",
        "change_high",
        "change_p",
        "change_flag",
    ]
    assert isinstance(d["rows"][0]["attempts"], int)
    assert "Wilson" in result.method
    assert "Moses Frase" in result.summary()
    assert result.to_frame() is not result.rows


def test_synthetic_rates_cover_the_known_truth():
    """Each lead source's closed-basis rate is held to the generator's truth (mean true p_win of its decided deals)."""
    from hitrate.synth.demo import build_demo

    with Store(":memory:") as store:
        data = build_demo(store, seed=11, n_opportunities=60_000)
        result = rates(store, by=["lead_source"])
        rows = result.rows.set_index("lead_source")
    assert not any("says nothing" in w for w in result.warnings)  # lost deals carry amounts here
    opps = data.opportunities
    decided = (opps["outcome"] != "open").to_numpy()
    covered = 0
    for source, row in rows.iterrows():
        mask = decided & (opps["lead_source"] == source).to_numpy()
        truth = data.truth.true_rate(mask)
        assert row["attempts"] == mask.sum()
        covered += row["ci_low"] <= truth <= row["ci_high"]
        assert abs(row["hit_rate"] - truth) < 4 * np.sqrt(truth * (1 - truth) / row["attempts"])
    assert covered >= len(rows) - 1


def test_where_compares_numbers_as_numbers(maven_store, maven_dir):
    raw = pd.read_csv(maven_dir / "sales_pipeline.csv")
    expected = int(((raw["close_value"] == 1054) & raw["deal_stage"].isin(["Won", "Lost"])).sum())
    for text in ("1054", "1054.0", "1054.00"):
        assert rates(maven_store, where={"amount": [text]}).rows.iloc[0]["attempts"] == expected
    with pytest.raises(UserInputError, match="where amount: 'lots' is not a number") as info:
        rates(maven_store, where={"amount": ["lots"]})
    assert info.value.render("en", lambda p: f"--{p}").startswith("--where amount: 'lots' is not a number")


def test_a_single_small_group_is_warned_about(store):
    frame = pd.DataFrame(
        {
            "id": ["1", "2"],
            "stage": ["Won", "Lost"],
            "outcome": ["won", "lost"],
            "closed_at": pd.to_datetime(["2020-01-01"] * 2),
        }
    )
    with store.transaction():
        load_frame(store, "opportunities", frame, batch_id=1)
    result = rates(store)
    assert any("fewer than 10 attempts" in w for w in result.warnings)


def test_unknown_field_message_lists_lookup_fields(maven_store):
    with pytest.raises(UnknownFieldError) as info:
        rates(maven_store, by=["teem"])
    assert {"team", "region", "sector", "series"} <= set(info.value.available)


def test_compiled_query_cache_sees_new_rows_and_new_columns(store, tmp_path):
    from hitrate.ingest import import_files

    a = tmp_path / "a.csv"
    a.write_text("id,stage\n1,Won\n2,Lost\n")
    import_files(store, [a])
    assert rates(store).rows.iloc[0]["attempts"] == 2
    with pytest.raises(UnknownFieldError):
        rates(store, by=["colour"])
    b = tmp_path / "b.csv"
    b.write_text("id,stage,colour\n3,Won,red\n")
    import_files(store, [b])
    assert rates(store).rows.iloc[0]["attempts"] == 3  # same compiled query, new rows
    assert rates(store, by=["colour"]).rows["attempts"].tolist() == [1, 2]  # the schema change dropped the cache


def test_period_over_period_changes_follow_each_series(store):
    """Two reps, three months each; Bo jumps from 10/100 to 60/100 (flagged up); Ann stays flat."""
    recs = []
    for rep, month, wins in [
        ("Ann", 1, 30),
        ("Ann", 2, 31),
        ("Ann", 3, 29),
        ("Bo", 1, 10),
        ("Bo", 2, 60),
        ("Bo", 3, 58),
    ]:
        for i in range(100):
            recs.append((f"{rep}{month}-{i}", rep, "won" if i < wins else "lost", pd.Timestamp(2020, month, 15)))
    frame = pd.DataFrame(recs, columns=["id", "rep", "outcome", "closed_at"]).assign(stage="x")
    with store.transaction():
        load_frame(store, "opportunities", frame, batch_id=1)
    rows = rates(store, by=["rep"], period="month").rows
    assert rows["change_flag"].tolist() == ["", "", "", "", "up", ""]
    assert np.isnan(rows["change"].iloc[0]) and np.isnan(rows["change"].iloc[3])  # a series starts fresh
    assert rows["change"].iloc[4] == pytest.approx(0.5)
    assert rows["change_low"].iloc[4] < 0.5 < rows["change_high"].iloc[4]


def test_cohort_basis_adds_eventual_rates_that_cover_the_synthetic_truth():
    """The youngest quarters' eventual rates: at least the naive rate, near the realised truth
    ((won + open deals that will win) / created), far nearer than the naive rate."""
    from hitrate.synth.demo import build_demo

    with Store(":memory:") as store:
        data = build_demo(store, seed=5, n_opportunities=30_000)
        rows = rates(store, period="quarter", basis="cohort").rows
    opps = data.opportunities
    quarter = opps["created_at"].dt.to_period("Q").astype(str).str.replace("Q", "-Q", regex=False)
    truth = pd.Series(data.truth.would_win, index=opps.index).groupby(quarter).mean()
    for _, row in rows.tail(2).iterrows():
        assert row["eventual_low"] <= row["eventual_rate"] <= row["eventual_high"]
        assert row["eventual_rate"] >= row["hit_rate"]
        t = truth[row["period"]]
        assert abs(row["eventual_rate"] - t) < 0.04
        assert abs(row["eventual_rate"] - t) < abs(row["hit_rate"] - t) / 3
    assert (rows["median_days_to_win"] > 0).all()


def test_eventual_rates_work_without_any_lost_deal(store):
    recs = [
        (
            f"w{i}",
            "won",
            pd.Timestamp(2020, 1, 1) + pd.Timedelta(days=i),
            pd.Timestamp(2020, 1, 20) + pd.Timedelta(days=i),
        )
        for i in range(60)
    ]
    recs += [(f"o{i}", "open", pd.Timestamp(2020, 3, 1) + pd.Timedelta(days=i), pd.NaT) for i in range(20)]
    frame = pd.DataFrame(recs, columns=["id", "outcome", "created_at", "closed_at"]).assign(stage="x")
    with store.transaction():
        load_frame(store, "opportunities", frame, batch_id=1)
    rows = rates(store, basis="cohort", period="month").rows
    assert rows["eventual_rate"].notna().all()
    assert (rows["eventual_rate"] >= rows["hit_rate"]).all()
    assert np.isnan(rows["median_days_to_lose"]).all() or (rows["median_days_to_lose"] >= 0).all()


@pytest.mark.parametrize(
    ("build", "library", "command_line"),
    [
        (lambda: Query.build(by=["team", "team"]), "by names a field twice: team, team", "--by names a field twice"),
        (lambda: Query.build(by=["period"]), "use period week|month", "use --period week|month"),
        (lambda: Query.build(date_from="yesterday"), "date_from: 'yesterday' is not a date", "--from: 'yesterday'"),
        (lambda: Query.build(date_to="2024-13-01"), "date_to: '2024-13-01' is not a date", "--to: '2024-13-01'"),
        (lambda: Query.build(where=["team"]), "where 'team': expected FIELD=VALUE", "--where 'team': expected"),
    ],
)
def test_query_errors_name_the_parameter_each_face_writes_its_way(build, library, command_line):
    """The library names its parameters (``by``, ``date_from``); the command line writes them as its options."""
    flags = {"date_from": "--from", "date_to": "--to"}
    with pytest.raises(UserInputError) as info:
        build()
    assert library in str(info.value)
    assert command_line in info.value.render("en", lambda p: flags.get(p, f"--{p}"))


def test_query_accepts_the_command_lines_forms():
    """One field for ``by``, ``FIELD=VALUE`` items for ``where``, as the command line takes them."""
    assert Query.build(by="rep").by == ("rep",)
    assert Query.build(where=["team=North", "team=South", "segment=SMB"]).where == (
        ("segment", ("SMB",)),
        ("team", ("North", "South")),
    )
    assert Query.build(where={"team": "North"}).where == (("team", ("North",)),)


def test_a_blank_group_is_named_not_shown_as_an_unnamed_row(tmp_path):
    """Deals without a rep are the group "(no rep)" in the terminal and the report (JSON keeps null), in both
    languages; never an empty label."""
    import json

    from typer.testing import CliRunner

    from hitrate.cli import app

    csv = tmp_path / "deals.csv"
    rows = ["id,stage,rep,created_at,closed_at,amount"]
    rows += [f"D{i},{'Won' if i % 3 == 0 else 'Lost'},{'' if i < 12 else 'Ann'},2024-01-0{1 + i % 9},2024-02-01,10"
             for i in range(30)]  # fmt: skip
    csv.write_text("\n".join(rows) + "\n")
    db = str(tmp_path / "s.duckdb")
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(csv), "--won", "Won", "--lost", "Lost", "--db", db]).exit_code == 0
    shown = runner.invoke(app, ["rates", "--by", "rep", "--db", db], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "(no rep)" in shown.stdout
    wide = {"COLUMNS": "200"}  # a narrow terminal wraps the label inside its cell
    assert (
        "(ingen rep)" in runner.invoke(app, ["--lang", "da", "benchmark", "--by", "rep", "--db", db], env=wide).stdout
    )
    data = json.loads(runner.invoke(app, ["rates", "--by", "rep", "--format", "json", "--db", db]).stdout)
    assert sorted(r["rep"] or "" for r in data["rows"]) == ["", "Ann"] and any(r["rep"] is None for r in data["rows"])
    report = tmp_path / "r.html"
    assert runner.invoke(app, ["report", "--output", str(report), "--db", db]).exit_code == 0
    assert "(no rep)" in report.read_text(encoding="utf-8")
