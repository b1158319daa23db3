"""Schemathesis against the OpenAPI document: generated requests to every endpoint, for every role, never get a
5xx, and the statuses are the documented ones (200, 400, 403, 422; 409 for a store that needs upgrading)."""

from __future__ import annotations

import pytest

from tests.conftest import require_module

require_module("fastapi")
schemathesis = require_module("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.web_helpers import build_web_store  # noqa: E402


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    from hitrate.web import create_app

    web = build_web_store(tmp_path_factory.mktemp("schema") / "store.duckdb", n=800)
    app = create_app(web.path, secret="t", public_docs=True)
    return schemathesis.openapi.from_asgi("/openapi.json", app), web.tokens


def _operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def test_the_document_covers_the_api(api):
    schema, _ = api
    names = {f"{op.method.upper()} {op.path}" for op in _operations(schema)}
    wanted = {
        "GET /api/rates",
        "GET /api/benchmark",
        "GET /api/leads",
        "GET /api/definitions",
        "POST /api/imports",
        "GET /api/doctor",
        "GET /api/goals",
        "POST /api/goals",
        "GET /api/reasons",
        "GET /api/feedback",
        "POST /api/feedback",
        "GET /api/interventions",
        "GET /api/interventions/{intervention_id}/effect",
    }
    assert wanted <= names


def test_generated_requests_never_get_a_server_error(api):
    schema, tokens = api
    for operation in _operations(schema):

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            for role in ("admin", "manager", "rep"):
                response = case.call(headers={"Authorization": f"Bearer {tokens[role]}"})
                where = f"{role} {case.method} {case.path} {case.query}"
                assert response.status_code < 500, f"{where}: {response.text}"
                assert response.status_code in (200, 400, 403, 409, 422), f"{where}: {response.text}"

        check()


#: Text a fuzzer should try: control characters (NUL among them), lone surrogates and long runs, in every place a
#: person's text reaches the server.
NASTY = st.text(alphabet=st.characters(categories=("Cc", "Cs", "Lu", "Nd", "Zs")), max_size=40)


def test_nasty_text_never_gets_a_server_error(api):
    """Hypothesis (seeded, 12 examples) puts control characters and lone surrogates in a ``where`` value, a ``by``
    field, the coach path, a feedback note and a goal's subject, for every role: 200, 400, 403, 404 or 422, never
    a 5xx."""
    from hypothesis import seed
    from starlette.testclient import TestClient

    schema, tokens = api
    client = TestClient(schema.app, raise_server_exceptions=False)

    @seed(16)
    @given(value=NASTY)
    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(value: str) -> None:
        import json
        from urllib.parse import quote

        q = quote(value.encode("utf-8", "surrogatepass"))
        body = json.dumps({"deal": "x", "reason": "price", "note": value})
        goal = json.dumps({"for": f"rep={value}", "target": 0.4, "period": "2025"})
        for role in ("admin", "manager", "rep"):
            h = {"Authorization": f"Bearer {tokens[role]}", "Content-Type": "application/json"}
            answers = [
                client.get(f"/api/rates?where=team%3D{q}", headers=h),
                client.get(f"/api/benchmark?by={q}", headers=h),
                client.get(f"/api/coach/{q or 'x'}", headers=h),
                client.post("/api/feedback", content=body, headers=h),
                client.post("/api/goals", content=goal, headers=h),
            ]
            for r in answers:
                assert r.status_code in (200, 400, 403, 404, 422), f"{role} {r.request.url}: {r.text}"

    check()
