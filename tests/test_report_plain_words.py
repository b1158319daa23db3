"""The HTML report in plain words (issue 21): each section opens with a plain sentence, and the named methods
(Wilson, beta-binomial empirical Bayes, Aalen-Johansen, GLM, ...) sit in the section's method block
(``class="method"``), so the main text has no statistician's jargon; and the report speaks one language, Danish
with no English words left in it and English with no Danish ones, apart from the names in the data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hitrate.store.embedded import Store
from hitrate.store_report import write_store_report
from tests.words import data_names, foreign_words, jargon_in, main_text, method_text


@pytest.fixture(scope="module")
def store_path(small_demo_db: Path) -> Path:
    return small_demo_db


@pytest.fixture(scope="module")
def names(store_path: Path) -> set[str]:
    with Store(store_path, read_only=True) as s:
        return data_names(s)


@pytest.fixture(scope="module", params=["en", "da"])
def report(request: pytest.FixtureRequest, store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    out = tmp_path_factory.mktemp("reports") / f"report-{request.param}.html"
    with Store(store_path, read_only=True) as s:
        write_store_report(s, out, lang=request.param)
    return request.param, out.read_text(encoding="utf-8")


def test_the_main_text_has_no_jargon_and_the_methods_are_in_their_blocks(report: tuple):
    lang, html = report
    assert jargon_in(main_text(html)) == []
    methods = method_text(html)
    for name in ("Wilson", "Aalen-Johansen", "GLM", "Benjamini-Hochberg", "Bayes"):
        assert name in methods, name  # moved out of the main text, not dropped
    summary = "How this is worked out" if lang == "en" else "Sådan er det regnet ud"
    assert html.count(f"<summary>{summary}</summary>") >= 8


def test_every_section_opens_with_a_plain_sentence(report: tuple):
    _, html = report
    sections = re.findall(r"<section\b.*?</section>", html, re.DOTALL)
    assert len(sections) >= 10
    for section in sections:
        lead = re.search(r"</h2>\s*<p class=\"lead\">([^<]+)</p>", section)
        assert lead is not None and len(lead.group(1).split()) >= 5, section[:300]


def test_the_report_speaks_one_language(report: tuple, names: set[str]):
    lang, html = report
    assert foreign_words(main_text(html), lang, known=names) == []
