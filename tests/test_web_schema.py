"""Schemathesis against the OpenAPI document: generated requests to every endpoint, for every role, never get a
5xx, and the statuses are the documented ones (200, 400, 403, 422; 409 for a store that needs upgrading)."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.web_helpers import build_web_store  # noqa: E402


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    from hitrate.web import create_app

    web = build_web_store(tmp_path_factory.mktemp("schema") / "store.duckdb", n=800)
    app = create_app(web.path, secret="t")
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
