"""Progress of the long steps (issue 21): ``score train``, ``report``, ``forecast backtest`` and ``sync`` tell a
``progress(done, total)`` callback (or, where the steps are not known beforehand, a ``stage(label)`` callback)
after each real step; the command line draws it as a bar on standard error, so standard output stays the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hitrate._progress import Steps
from hitrate.cli import app
from hitrate.cli.output import LazyProgress
from hitrate.store.embedded import Store
from tests.conftest import require_module

runner = CliRunner()


@pytest.fixture
def db(small_demo_db: Path) -> str:
    return str(small_demo_db)


class Calls(list[tuple[int, int]]):
    """The calls a progress callback got."""

    def __call__(self, done: int, total: int) -> None:
        self.append((done, total))

    def check(self, least: int) -> None:
        """At least ``least`` calls, one total, counts rising by at least one and ending at the total."""
        assert len(self) >= least, self
        totals = {t for _, t in self}
        assert len(totals) == 1, self
        total = totals.pop()
        counts = [d for d, _ in self]
        assert counts == sorted(set(counts)), self
        assert counts[0] >= 1 and counts[-1] == total, self


def test_a_part_of_the_steps_is_counted_in_proportion():
    calls = Calls()
    steps = Steps(calls, 6)
    steps.done()
    part = steps.part(4)
    for done in range(1, 9):  # another function's eight steps are four of these
        part(done, 8)
    part(8, 8)
    steps.finish()
    assert calls == [(1, 6), (2, 6), (3, 6), (4, 6), (5, 6), (6, 6)]


def test_steps_count_up_to_the_total_and_finish_says_the_rest_once():
    calls = Calls()
    steps = Steps(calls, 4)
    steps.done()
    steps.done(2)
    steps.finish()
    steps.finish()
    assert calls == [(1, 4), (3, 4), (4, 4)]
    Steps(None, 3).done()  # no callback: nothing to tell


def test_score_train_tells_each_step(db: str, tmp_path: Path):
    from hitrate.scoring.commands import score_train

    calls = Calls()
    with Store(db, read_only=True) as store:
        score_train(store, model=tmp_path / "m.skops", progress=calls)
    calls.check(20)
    assert calls[-1] == (20, 20)  # leakage guard, the model's 8 steps, two baselines, the final model's 8, the file


def test_the_report_tells_each_section_then_the_file(db: str, tmp_path: Path):
    from hitrate.store_report import store_sections, write_store_report

    calls = Calls()
    with Store(db, read_only=True) as store:
        write_store_report(store, tmp_path / "r.html", progress=calls)
        sections = Calls()
        store_sections(store, progress=sections)
    calls.check(8)
    sections.check(8)
    assert calls[-1][1] == sections[-1][1] + 1  # the file is the last step


def test_forecast_backtest_tells_each_as_of_date(db: str):
    from hitrate.improve.backtest import forecast_backtest

    calls = Calls()
    with Store(db, read_only=True) as store:
        result = forecast_backtest(store, date_from="2024-01-01", date_to="2024-06-01", progress=calls)
    calls.check(8)
    assert calls[-1] == (8, 8)  # wins by month, the forecasts, six as-of dates
    assert len({r["as_of"] for r in result.rows}) == 6


def _outputs(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """A command run with the bar hidden (quick work), then drawn from the start (the command line waits a
    second before it draws one); the bar was told the steps."""
    told = Calls()
    original = LazyProgress.__call__

    def telling(self: LazyProgress, done: int, total: int) -> None:
        told(done, total)
        original(self, done, total)

    monkeypatch.setattr(LazyProgress, "__call__", telling)
    hidden = runner.invoke(app, args)
    monkeypatch.setattr(LazyProgress, "delay", 0.0)
    drawn = runner.invoke(app, args)
    monkeypatch.setattr(LazyProgress, "delay", 1.0)
    assert hidden.exit_code == drawn.exit_code == 0, (hidden.output, drawn.output)
    assert told and told[-1][0] == told[-1][1]
    return hidden, drawn


def test_the_bar_leaves_standard_output_as_it_was(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    args = ["forecast", "backtest", "--from", "2024-01-01", "--to", "2024-03-01", "--db", db]
    for fmt in ("table", "json"):
        hidden, drawn = _outputs([*args, "--format", fmt], monkeypatch)
        assert hidden.stdout == drawn.stdout
    json.loads(drawn.stdout)
    out = tmp_path / "r.html"
    hidden, drawn = _outputs(["report", "--output", str(out), "--db", db], monkeypatch)
    assert hidden.stdout == drawn.stdout == ""


def test_a_stage_label_is_said_in_the_command_lines_language(monkeypatch: pytest.MonkeyPatch):
    from hitrate.cli.output import set_language
    from hitrate.i18n import Message
    from hitrate.ingest.importer import StepLabel

    shown: list[str] = []
    bar = LazyProgress("x")
    monkeypatch.setattr(bar, "_shown", lambda: None)
    set_language("da")
    try:
        bar.stage(StepLabel(Message("sync.step_rescoring")))
        shown.append(bar.label)
    finally:
        set_language("en")
    assert shown == ["Opdaterer lead-scorerne"]


def test_a_sync_names_each_step_and_the_records_fetched_so_far(store: Store):
    require_module("dlt")
    require_module("uvicorn")
    import hitrate
    from tests.crm_server import serving
    from tests.sync_helpers import fake_for, run

    fake = fake_for("hubspot")
    fake.load_synth(hitrate.generate(n_opportunities=250, seed=7, with_activities=False))
    stages: list[str] = []
    with serving(fake.app(fake.routes())) as url:
        run(store, fake, url, stage=stages.append)
    assert stages[0] == "Connecting to HubSpot" and stages[-1] == "Refreshing the lead scores"
    fetched = [int(s.rsplit(": ", 1)[1].split()[0].replace(",", "")) for s in stages if s.startswith("Fetching")]
    assert fetched[0] == 0 and fetched == sorted(fetched) and fetched[-1] >= 250  # three pages of deals at least
    assert all(hasattr(s, "message") for s in stages)  # each carries its message for another language
