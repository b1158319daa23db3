"""Every dashboard page speaks plainly in its own language (issue 21): as an admin, a manager and a rep, in English
and Danish, the text outside the pages' method blocks (``class="method"``, one click away) names no statistical
method, and a Danish page holds no English word (an English page no Danish one) besides the data's own names."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import require_module

require_module("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from tests.web_helpers import WebStore, build_web_store, sign_in  # noqa: E402
from tests.words import data_names, foreign_words, jargon_in, main_text, method_text  # noqa: E402

ROLES = ("ann", "mo", "rita")
LANGS = ("en", "da")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> WebStore:
    from hitrate.improve.feedback import add_feedback
    from hitrate.improve.goals import set_goal
    from hitrate.store.embedded import Store

    web = build_web_store(tmp_path_factory.mktemp("plain") / "web.duckdb", n=1500)
    with Store(web.path) as s:  # a goal and a recorded reason, so those pages show their tables
        set_goal(s, "team=Team North", target=0.4, period="2024", set_by="ann")
        set_goal(s, f"rep={web.rep}", target=0.4, period="2024", set_by="ann")
        lost = s.fetch("SELECT min(id) FROM opportunities WHERE rep = ? AND outcome = 'lost'", [web.rep])[0][0]
        add_feedback(s, lost, reason="price", note="", recorded_by="ann")
    return web


@pytest.fixture(scope="module")
def pages(web: WebStore) -> dict[tuple[str, str, str], str]:
    """Every page (the navigation's GET pages, and the rep card at /coach/REP) per account and language."""
    from hitrate.web import create_app
    from hitrate.web.pages import NAV

    app = create_app(web.path, secret="plain")
    paths = [path for _, path in NAV] + [f"/coach/{web.rep}"]
    out: dict[tuple[str, str, str], str] = {}
    for name in ROLES:
        client = TestClient(app)
        assert sign_in(client, name).status_code == 303
        for lang in LANGS:
            for path in paths:
                r = client.get(path, params={"lang": lang})
                assert r.status_code in (200, 403), (name, lang, path, r.status_code)  # a rep: 403 on /sync
                out[(name, lang, path)] = r.text
    return out


@pytest.fixture(scope="module")
def known(web: WebStore) -> set[str]:
    """The data's own names: reps, teams, stages, products, reasons, lead sources, segments, activity types,
    account names and ids (whatever language the data is in), and the product's name."""
    from hitrate.store.embedded import Store

    with Store(web.path, read_only=True) as s:
        return data_names(s)


#: Code on a page (field and table names, examples of a mapping), which is in no language.
_CODE = re.compile(r"<code>.*?</code>", re.S)


def _failures(pages: dict[tuple[str, str, str], str], check: Any) -> list[str]:
    out = []
    for (name, lang, path), html in pages.items():
        found = check(main_text(_CODE.sub(" ", html)), lang)
        if found:
            out.append(f"{path} as {name} ({lang}): {sorted(set(found))[:8]}")
    return out


def test_no_page_names_a_statistical_method_outside_its_method_block(pages: dict[tuple[str, str, str], str]) -> None:
    failures = _failures(pages, lambda text, lang: jargon_in(text))
    assert failures == [], "\n".join(failures)


def test_no_danish_page_holds_english_and_no_english_page_danish(
    pages: dict[tuple[str, str, str], str], known: set[str]
) -> None:
    failures = _failures(pages, lambda text, lang: foreign_words(text, lang, known))
    assert failures == [], "\n".join(failures)


def test_the_method_is_one_click_away_in_both_languages(pages: dict[tuple[str, str, str], str]) -> None:
    """The pages that compute with a method say which in a folded ``<details class="method">`` block, headed in
    the page's language."""
    summaries = {"en": "How this is worked out", "da": "Sådan er det regnet ud"}
    for path in ("/", "/benchmark", "/trends", "/goals", "/forecast", "/reasons"):
        for lang in LANGS:
            html = pages[("ann", lang, path)]
            assert '<details class="method">' in html, (path, lang)
            assert f"<summary>{summaries[lang]}</summary>" in html, (path, lang)
            assert method_text(html).strip(), (path, lang)
    assert jargon_in(method_text(pages[("ann", "en", "/benchmark")]))  # the method is named there
