"""The dashboard speaks in the words of the definitions in force (issue 18): on a store whose definitions count
sessions, the pages and the API's texts say sessions and conversions (en and da), never opportunities or hit
rate; a sales store keeps its own words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import require_module

require_module("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from hitrate.engine.definitions import use_definitions  # noqa: E402
from hitrate.ingest import import_files  # noqa: E402
from hitrate.store.embedded import Store  # noqa: E402
from hitrate.store.users import add_user  # noqa: E402
from tests.web_helpers import PASSWORD, sign_in  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SESSIONS_DEFS = ROOT / "docs" / "examples" / "sessions.yaml"
SALES_WORDS = {"en": ["opportunit", "hit rate", "hits / attempts"], "da": ["salgsmulighed", "hitrate", "træf / forsøg"]}
SESSION_WORDS = {"en": ["sessions", "conversions", "conversion rate"], "da": ["sessioner", "konverteringer"]}


def _store(path: Path, sessions: bool) -> Path:
    """Two years of web sessions (a file the test writes) and an admin, ``ann``; the sessions definitions in
    force when ``sessions``."""
    rng = np.random.default_rng(18)
    n = 3_000
    days = pd.to_datetime("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    frame = pd.DataFrame(
        {
            "date": days.strftime("%Y-%m-%d"),
            "channel": rng.choice(["email", "search"], n),
            "converted": (rng.random(n) < 0.05).astype(int),
        }
    )
    csv = path.with_suffix(".csv")
    frame.to_csv(csv, index=False)
    with Store(path) as store:
        if sessions:
            use_definitions(store, SESSIONS_DEFS)
        import_files(
            store,
            [csv],
            mapping={"stage": "converted", "created_at": "date", "closed_at": "date"},
            won=["1"],
            lost=["0"],
        )
        add_user(store, "ann", "admin", password=PASSWORD)
    return path


@pytest.fixture(scope="module")
def sessions_app(tmp_path_factory: pytest.TempPathFactory):
    from hitrate.web import create_app

    return create_app(_store(tmp_path_factory.mktemp("web_units") / "sessions.duckdb", sessions=True), secret="t")


def _page(app, url: str) -> str:
    client = TestClient(app)
    assert sign_in(client, "ann").status_code == 303
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.text


def _visible(html: str) -> str:
    """The page's text as a reader meets it: tags, scripts and attribute values out (the brand name stays out too:
    in Danish the product's name, hitrate, is also the word for hit rate), and the folded method block, which is
    the page's ``--explain`` and says the method in its own words (as the command line's does)."""
    import re

    from tests.words import main_text

    html = re.sub(r"<script.*?</script>|<title>.*?</title>|<header.*?</header>", " ", html, flags=re.S)
    text = main_text(html).lower()
    return text.replace("hitrate goals progress", "").replace("hitrate doctor", "")


def test_overview_on_a_sessions_store_says_sessions_and_conversions(sessions_app):
    """Probe: the overview of a sessions store said "Monthly hit rate", "Hits / attempts", "won"."""
    for lang in ("en", "da"):
        html = _page(sessions_app, f"/?lang={lang}")
        page = _visible(html)
        for word in SESSION_WORDS[lang]:
            assert word in page, (lang, word)
        for word in SALES_WORDS[lang]:
            assert word not in page, (lang, word)
        chart = html.lower()[html.lower().index("plotly.newplot") :]
        assert SESSION_WORDS[lang][2 if lang == "en" else 1] in chart  # the chart's hover boxes and axis too


def test_trends_and_benchmark_on_a_sessions_store_keep_to_sessions(sessions_app):
    """Probe: the trends page showed "Cohorts: share won by deal age" and the benchmark page a funnel of reps
    "against the overall hit rate" on sessions, which have neither reps nor deals open to follow by age."""
    for lang in ("en", "da"):
        trends = _visible(_page(sessions_app, f"/trends?lang={lang}"))
        assert SESSION_WORDS[lang][0 if lang == "en" else 1] in trends
        for word in [*SALES_WORDS[lang], "won", "cohort", "vundne", "kohorte"]:
            assert word not in trends, (lang, word)
        bench = _visible(_page(sessions_app, f"/benchmark?lang={lang}"))
        assert (
            "count sessions, which have no reps" if lang == "en" else "tæller sessioner, som ikke har sælgere"
        ) in bench
        assert "hit rate" not in bench and "hitrate " not in bench.replace("hitrate benchmark", "")


def test_a_sales_store_keeps_its_words(tmp_path: Path):
    from hitrate.web import create_app

    app = create_app(_store(tmp_path / "sales.duckdb", sessions=False), secret="t")
    page = _visible(_page(app, "/?lang=en"))
    assert "monthly hit rate" in page and "conversion" not in page
