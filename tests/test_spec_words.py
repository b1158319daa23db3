"""The definitions as readable rules (hitrate.spec.words): one sentence per rule in English and Danish, every
condition's operator in words; the dashboard's definitions page leads with them, the YAML one click away."""

from __future__ import annotations

from pathlib import Path

from hitrate.spec.model import default_definitions, parse_definitions
from hitrate.spec.words import rules

QUALIFIED = """
name: qualified
denominator: qualified_opportunities
basis: cohort
opportunity:
  - {field: stage, op: not_in, values: [Prospecting]}
  - {any: [{field: amount, op: gte, value: 1000}, {field: source, op: is_null}]}
won: [{field: stage, op: eq, value: Won}]
lost: [{field: stage, op: in, values: [Lost, Dead]}]
post_outcome: [Tags]
"""


def test_the_default_definitions_read_as_sentences():
    assert rules(default_definitions(), "en") == [
        "Every row of opportunities counts as an attempt.",
        "It is won when outcome is 'won'.",
        "It is lost when outcome is 'lost'.",
        "Hit rate = won / (won + lost): deals still open are left out until they are decided.",
        "A deal belongs to the period of its closed_at.",
    ]


def test_every_condition_is_said_in_both_languages():
    defs = parse_definitions(QUALIFIED, source="test")
    en = rules(defs, "en")
    assert en[0] == (
        "A row of qualified opportunities counts as an attempt when stage is none of 'Prospecting' and any of: "
        "amount is at least 1000 or source is empty."
    )
    assert en[2] == "It is lost when stage is one of 'Lost', 'Dead'."
    assert en[3].startswith("Hit rate = won / all attempts created in the period")
    assert en[4] == "A deal belongs to the period of its created_at." and en[5].endswith(": Tags.")
    da = rules(defs, "da")
    assert da[0].startswith("En række af") and "er mindst 1000 eller source er tom" in da[0]
    assert all(not s.startswith(("It is", "Every", "A row")) for s in da)


def test_the_definitions_page_leads_with_the_rules(tmp_path: Path):
    from tests.conftest import require_module

    require_module("fastapi")
    from fastapi.testclient import TestClient

    from hitrate.web import create_app
    from tests.web_helpers import build_web_store, sign_in

    web = build_web_store(tmp_path / "d.duckdb", n=300)
    client = TestClient(create_app(web.path, secret="s"))
    sign_in(client, "mo")
    page = client.get("/definitions?lang=en").text
    assert '<ul id="rules"' in page and "It is won when outcome is &#39;won&#39;." in page
    assert page.index('id="rules"') < page.index('<details id="yaml"') < page.index("<pre>")
    assert "Den er vundet" in client.get("/definitions?lang=da").text
