"""Two layers of words on the command line (issue 21): what a sales leader reads (a command's output without
``--explain``) uses no statistician's jargon (:data:`tests.words.JARGON`), leads with a plain sentence, and
points to the method; ``hitrate --explain`` shows the method, named. And each language is whole: Danish output
holds no English words, English output no Danish ones (:func:`tests.words.foreign_words`), apart from the
data's own names (reps, teams, stages, reasons...).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo
from tests.words import data_names, foreign_words, jargon_in

runner = CliRunner()

#: The commands a sales leader runs, as they would type them (after ``hitrate [--lang da] [--explain]``).
LEADER_COMMANDS: list[list[str]] = [
    ["rates"],
    ["rates", "--by", "team"],
    ["rates", "--period", "quarter"],
    ["benchmark", "--by", "rep"],
    ["trend"],
    ["compare", "2024-Q3", "2024-Q4", "--period", "quarter"],
    ["funnel"],
    ["reasons"],
    ["forecast"],
    ["goals", "progress"],
    ["coach", "{rep}"],
    ["ramp"],
    ["worth", "--points", "2"],
    ["doctor"],
]
#: Commands whose method text ``--explain`` must add (their tables carry one).
EXPLAINED = {"rates", "benchmark", "trend", "funnel", "reasons", "forecast", "goals", "coach", "ramp"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, list[str]]:
    """A demo store with a goal set (so goals progress has rows): its path, a rep and the data's names."""
    path = tmp_path_factory.mktemp("plain") / "s.duckdb"
    with Store(path) as s:
        build_demo(s, n_opportunities=4000, seed=11, force=True)
        names = sorted(data_names(s))
        rep = str(s.fetch("SELECT rep FROM opportunities WHERE rep IS NOT NULL ORDER BY rep LIMIT 1")[0][0])
    goal = ["goals", "set", "team=Team East", "--target", "0.5", "--from", "2024-12-01", "--to", "2025-02-28"]
    done = runner.invoke(app, [*goal, "--set-by", "ann", "--db", str(path)])
    assert done.exit_code == 0, done.output
    return str(path), rep, names


def _run(store: tuple[str, str, list[str]], command: list[str], *options: str) -> str:
    db, rep, _ = store
    args = [*options, *(a.replace("{rep}", rep) for a in command), "--db", db]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result.stdout + "\n" + result.stderr


@pytest.mark.parametrize("lang", ["en", "da"])
@pytest.mark.parametrize("command", LEADER_COMMANDS, ids=lambda c: " ".join(c))
def test_a_leader_reads_plain_words_and_the_method_is_one_option_away(
    store: tuple[str, str, list[str]], command: list[str], lang: str
) -> None:
    plain = _run(store, command, "--lang", lang)
    assert jargon_in(plain) == [], plain
    if command[0] in EXPLAINED:
        explained = _run(store, command, "--lang", lang, "--explain")
        hint = {"en": "add --explain", "da": "tilføj --explain"}[lang]
        assert hint in plain and hint not in explained
        assert jargon_in(explained), "the method, named, is shown with --explain"


@pytest.mark.parametrize("lang", ["en", "da"])
@pytest.mark.parametrize("command", LEADER_COMMANDS, ids=lambda c: " ".join(c))
def test_each_language_is_whole(store: tuple[str, str, list[str]], command: list[str], lang: str) -> None:
    said = _run(store, command, "--lang", lang, "--explain")
    assert foreign_words(said, lang, known=store[2]) == [], said


def test_the_first_line_is_a_sentence(store: tuple[str, str, list[str]]) -> None:
    """Rates, benchmark, trend, forecast, goals and reasons open with their plain sentence, not the table."""
    for command in (["rates", "--by", "team"], ["benchmark", "--by", "team"], ["forecast"], ["reasons"]):
        first = _run(store, command).splitlines()[0]
        assert first.endswith(".") and not first.startswith(("┏", "Hit rate", "Benchmark")), first


def test_rates_says_clearly_only_where_the_interval_says_so(store: tuple[str, str, list[str]], tmp_path: Path) -> None:
    """The headline's "clearly above/below" groups are the ones whose 95% interval lies wholly on one side of
    the overall rate, counted from the JSON the same command gives."""
    import json

    db = store[0]
    data = json.loads(runner.invoke(app, ["rates", "--by", "rep", "--format", "json", "--db", db]).stdout)
    rows = data["rows"]
    overall = sum(r["hits"] for r in rows) / sum(r["attempts"] for r in rows)
    above = sum(1 for r in rows if r["ci_low"] is not None and r["ci_low"] > overall)
    below = sum(1 for r in rows if r["ci_high"] is not None and r["ci_high"] < overall)
    first = _run(store, ["rates", "--by", "rep"]).splitlines()[0]
    assert f"{above} of {len(rows)} clearly above" in first or (above == 0 and "none clearly above" in first)
    assert f"{below} clearly below" in first or (below == 0 and "none clearly below" in first)


def test_a_long_table_shows_its_first_rows_and_says_how_to_get_all(store: tuple[str, str, list[str]]) -> None:
    """``hitrate --limit N``: a terminal table of more rows shows N, and its footer the count and the way to all
    of them; ``--limit 0`` shows every row; JSON always holds every row; Danish says it in Danish."""
    import json

    db = store[0]
    command = ["rates", "--by", "rep", "--period", "month", "--db", db]
    rows = len(json.loads(runner.invoke(app, [*command, "--format", "json"]).stdout)["rows"])
    assert rows > 40
    short = runner.invoke(app, ["--limit", "40", *command], env={"COLUMNS": "200"})
    body = [line for line in short.stdout.splitlines() if line.startswith("│")]
    assert short.exit_code == 0 and len(body) == 40
    assert f"Showing the first 40 of {rows:,} rows" in short.stdout and "--limit 0" in short.stdout
    every = runner.invoke(app, ["--limit", "0", *command], env={"COLUMNS": "200"})
    assert len([line for line in every.stdout.splitlines() if line.startswith("│")]) == rows
    assert "Showing the first" not in every.stdout
    da = runner.invoke(app, ["--lang", "da", "--limit", "40", *command], env={"COLUMNS": "200"})
    assert f"Viser de første 40 af {rows:,} rækker".replace(",", ".") in da.stdout
