"""With the sessions definitions the words are sessions and conversions throughout (issue 18): the tables of
``rates`` and ``trend``, the report, in English and Danish; never opportunities, deals or hit rates. The words
follow the definitions, so a sales store keeps its own."""

from __future__ import annotations

import re
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hitrate.analysis.rates import rates
from hitrate.cli import app
from hitrate.i18n import LANGS, namespace, template, text, unit_words
from hitrate.ingest import import_files
from hitrate.spec.model import default_definitions
from hitrate.store.embedded import Store

ROOT = Path(__file__).resolve().parents[1]
SESSIONS_DEFS = ROOT / "docs" / "examples" / "sessions.yaml"
#: Sales words that must not appear on session data, per language (case-insensitive).
SALES_WORDS = {
    "en": ["opportunit", "deal", "hit rate", "hits", "attempt", "amount won", "value hit rate"],
    "da": ["salgsmulighed", "aftale", "hitrate ", "hitraten", "vundne", "forsøg", "værdi-hitrate", "vundet beløb"],
}
SESSION_WORDS = {
    "en": ["sessions", "conversions", "conversion rate"],
    "da": ["sessioner", "konverteringer", "konverteringsrate"],
}


def _placeholders(text_: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text_) if name}


def test_every_units_word_rewords_a_message_with_the_same_placeholders():
    for lang in LANGS:
        words = namespace(lang, "units")
        assert words, f"no units catalogue in {lang}"
        for key, own in words.items():
            unit, _, message = key.partition(".")
            base = template(message, lang)
            assert base is not None, f"units.{key} rewords no message"
            assert _placeholders(own) == _placeholders(base), f"units.{key}: placeholders differ from {message}"
            assert own != base, f"units.{key} says what {message} says"


def test_unit_words_apply_inside_the_block_only():
    assert text("cli.col.attempts") == "attempts"
    with unit_words("sessions"):
        assert text("cli.col.attempts") == "sessions" and text("cli.col.attempts", "da") == "sessioner"
        assert text("cli.col.interval") == "95% interval"  # a message without words of its own
        with unit_words("opportunities"):
            assert text("cli.col.hits") == "hits"
        assert text("cli.col.hits") == "conversions"
    assert text("cli.col.attempts") == "attempts"


@pytest.fixture
def sessions_db(tmp_path: Path) -> Path:
    """Two years of web sessions (a file the test writes) with the sessions definitions in force."""
    rng = np.random.default_rng(18)
    n = 6_000
    days = pd.to_datetime("2022-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    channel = rng.choice(["email", "search", "social"], n)
    converted = (rng.random(n) < np.where(channel == "email", 0.06, 0.04)).astype(int)
    path = tmp_path / "sessions.csv"
    frame = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "channel": channel, "converted": converted})
    frame.to_csv(path, index=False)
    db = tmp_path / "sessions.duckdb"
    with Store(db) as store:
        mapping = {"stage": "converted", "created_at": "date", "closed_at": "date"}
        import_files(store, [path], mapping=mapping, won=["1"], lost=["0"])
    return db


def _cli(args: list[str], lang: str = "en") -> str:
    out = CliRunner().invoke(app, ["--lang", lang, *args], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    return out.stdout


def _says(words: str, lang: str, *, unit_and_rate_only: bool = False) -> None:
    lower = words.lower()
    wanted = [SESSION_WORDS[lang][0], SESSION_WORDS[lang][2]] if unit_and_rate_only else SESSION_WORDS[lang]
    assert [w for w in wanted if w not in lower] == []
    assert [w for w in SALES_WORDS[lang] if w in lower] == []


@pytest.mark.parametrize("lang", LANGS)
def test_rates_and_trend_speak_of_sessions_and_conversions(sessions_db, lang):
    db = str(sessions_db)
    table = _cli(["rates", "--by", "channel", "--definitions", str(SESSIONS_DEFS), "--db", db], lang)
    _says(table, lang)
    assert ("Conversion rate (closed basis)" if lang == "en" else "Konverteringsrate (lukket-grundlag)") in table
    trend = _cli(["trend", "--db", db], lang)
    _says(trend, lang, unit_and_rate_only=True)  # the trend table has no count of conversions
    assert ("Conversion rate by month" if lang == "en" else "Konverteringsrate pr. måned") in trend


def test_json_keys_stay_the_same(sessions_db):
    import json

    out = _cli(["rates", "--definitions", str(SESSIONS_DEFS), "--db", str(sessions_db), "--format", "json"])
    row = json.loads(out)["rows"][0]
    assert {"attempts", "hits", "hit_rate"} <= set(row) and row["attempts"] == 6_000


@pytest.mark.parametrize("lang", LANGS)
def test_the_report_speaks_of_sessions_and_conversions(sessions_db, tmp_path, lang):
    path = tmp_path / f"report-{lang}.html"
    _cli(
        ["report", "--definitions", str(SESSIONS_DEFS), "--output", str(path), "--lang", lang, "--db", str(sessions_db)]
    )
    page = path.read_text(encoding="utf-8")
    body = page[page.index("<body") :]
    shown = re.sub(r"hitrate(-rapport| report)?|hitrate\.|hitrate ", " ", re.sub(r"<[^>]+>", " ", body))
    _says(shown, lang)
    opening = "conversions of 6,000 sessions" if lang == "en" else "konverteringer af 6.000 sessioner"
    assert opening in page
    # Sessions have no reps and are decided as they happen: no rep, cohort or forecast sections.
    assert "by rep" not in page and "Cohorts" not in page and "Forecast" not in page


def test_the_library_tells_a_result_in_its_own_units_words(sessions_db):
    with Store(sessions_db) as store:
        sessions = rates(store, by=["channel"], definitions=SESSIONS_DEFS)
        sales = rates(store, by=["channel"], definitions=default_definitions())
    assert sessions.summary().startswith("Conversion rate by channel")
    assert sessions.summary("da").startswith("Konverteringsrate efter channel")
    assert sales.summary().startswith("Hit rate by channel")  # the words do not outlive the result
