"""``hitrate --lang da`` and ``HITRATE_LANG``: every command speaks the language asked (messages, headers,
numbers), the next command without it speaks English again (the CLI's language is per invocation), a language
hitrate does not have is refused naming the option, and ``report``'s own ``--lang`` follows the global one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("lang") / "s.duckdb"
    with Store(path) as s:
        build_demo(s, n_opportunities=2500, seed=4, force=True)
    return str(path)


def test_lang_da_before_the_command_and_english_again_after(db: str):
    da = runner.invoke(app, ["--lang", "da", "rates", "--by", "team", "--db", db])
    assert da.exit_code == 0, da.output
    assert "Hitrate (lukket-grundlag)" in da.stdout and "forsøg" in da.stdout and "interval" in da.stdout
    assert " %" in da.stdout and "," in da.stdout.split("Team")[1]  # 28,8 %: Danish decimals and spacing
    en = runner.invoke(app, ["rates", "--by", "team", "--db", db])
    assert "attempts" in en.stdout and "forsøg" not in en.stdout


def test_hitrate_lang_from_the_environment_and_json_unchanged(db: str):
    da = runner.invoke(app, ["rates", "--db", db, "--from", "2099-01-01"], env={"HITRATE_LANG": "da"})
    en = runner.invoke(app, ["rates", "--db", db, "--from", "2099-01-01"])
    assert da.exit_code == en.exit_code == 0
    assert da.stderr != en.stderr or da.stdout != en.stdout  # the empty result said in two languages
    as_json = [
        runner.invoke(app, ["rates", "--db", db, "--format", "json"], env=env).stdout
        for env in ({"HITRATE_LANG": "da"}, {})
    ]
    assert json.loads(as_json[0])["rows"] == json.loads(as_json[1])["rows"]  # data is not translated


def test_an_unknown_language_is_refused_naming_the_option(db: str):
    bad = runner.invoke(app, ["--lang", "de", "rates", "--db", db])
    said = " ".join(bad.output.replace("│", " ").split())  # the parser's box, unwrapped
    assert bad.exit_code == 2 and "--lang" in said and "'de' is not one of 'en', 'da'" in said
    env = runner.invoke(app, ["rates", "--db", db], env={"HITRATE_LANG": "sv"})
    assert env.exit_code == 2 and "HITRATE_LANG" in " ".join(env.output.replace("│", " ").split())


def test_report_follows_the_global_language(db: str, tmp_path: Path):
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["--lang", "da", "report", "--output", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    assert '<html lang="da"' in out.read_text(encoding="utf-8")


def test_periods_read_as_danish_people_write_them(db: str):
    """Babel's CLDR month names (``mar.``) and the catalogue's ``2. kvt. 2024``; English keeps hitrate's labels,
    JSON the machine label in both."""
    from hitrate.i18n import format as fmt

    assert [fmt.period(x, "da") for x in ("2024-Q2", "2024-03", "2024-W09", "2024")] == [
        "2. kvt. 2024",
        "mar. 2024",
        "uge 9 2024",
        "2024",
    ]
    assert [fmt.period(x, "en") for x in ("2024-Q2", "2024-03")] == ["2024-Q2", "2024-03"]
    assert fmt.period("Team North", "da") == "Team North"
    da = runner.invoke(app, ["--lang", "da", "rates", "--period", "quarter", "--db", db])
    assert "kvt." in da.stdout and "-Q" not in da.stdout
    en = runner.invoke(app, ["rates", "--period", "quarter", "--db", db])
    assert "-Q" in en.stdout
    data = runner.invoke(app, ["--lang", "da", "rates", "--period", "quarter", "--format", "json", "--db", db])
    assert all("-Q" in r["period"] for r in json.loads(data.stdout)["rows"])
