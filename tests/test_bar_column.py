"""The bar column of tables whose rows are periods (issue 21): ``hitrate trend`` and ``hitrate rates --period``
draw each row's hit rate as a bar scaled across the table (the lowest a sliver, the highest full), in the
terminal table only; ``#`` where the terminal cannot show block characters."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.cli.cells import BAR_WIDTH, Bar, bars

runner = CliRunner()
BLOCKS = set("█▏▎▍▌▋▊▉")


@pytest.fixture
def db(small_demo_db: Path) -> str:
    return str(small_demo_db)


def test_bars_are_scaled_from_the_lowest_to_the_highest_rate():
    drawn = bars([0.5, 0.25, None, 0.75, 0.375])
    assert [b.eighths for b in drawn] == [49, 1, 0, BAR_WIDTH * 8, 25]
    assert str(drawn[3]) == "█" * BAR_WIDTH and str(drawn[1]) == "▏" and str(drawn[2]) == ""
    assert str(drawn[0]) == "██████▏"  # 49 eighths: six whole characters and one eighth
    assert [b.eighths for b in bars([0.3, 0.3])] == [BAR_WIDTH * 8] * 2  # no spread: all full
    assert bars([]) == []


def test_a_terminal_without_block_characters_gets_hashes():
    class Ascii(io.StringIO):
        encoding = "ascii"

    out = Ascii()
    Console(file=out, width=40).print(Bar(49))
    assert out.getvalue().rstrip() == "######"  # 49 eighths: six characters, rounded
    assert Bar(1).text(ascii=True) == "#" and Bar(0).text(ascii=True) == ""


def _rows(stdout: str) -> list[str]:
    """The rows of the table of periods (the seasonal factors' table, months 1-12, has no bars)."""
    return [line for line in stdout.splitlines() if line.startswith("│") and re.search(r"\b20\d\d\b", line)]


def test_trend_draws_the_bar_in_the_table_only(db: str):
    table = runner.invoke(app, ["trend", "--db", db])
    assert table.exit_code == 0, table.output
    assert "low to high" in table.stdout
    rows = _rows(table.stdout)
    assert rows and all(BLOCKS & set(r) for r in rows)
    assert sum("█" * BAR_WIDTH in r for r in rows) >= 1  # the highest month is full
    for fmt in ("json", "csv"):
        other = runner.invoke(app, ["trend", "--db", db, "--format", fmt])
        assert other.exit_code == 0 and not BLOCKS & set(other.stdout)
    json.loads(runner.invoke(app, ["trend", "--db", db, "--format", "json"]).stdout)


def test_rates_draws_the_bar_when_rows_are_periods(db: str):
    by_period = runner.invoke(app, ["--lang", "da", "rates", "--period", "quarter", "--by", "team", "--db", db])
    assert by_period.exit_code == 0, by_period.output
    assert "lav til høj" in by_period.stdout and all(BLOCKS & set(r) for r in _rows(by_period.stdout))
    by_team = runner.invoke(app, ["rates", "--by", "team", "--db", db])
    assert "low to high" not in by_team.stdout and not BLOCKS & set(by_team.stdout)
