"""Fuzzing the API (issue 16): schemathesis generates requests from the OpenAPI document to every operation, both
ones the document allows and ones it does not, with an admin's token and another role's; Hypothesis puts control
characters (NUL among them), lone surrogates and invalid UTF-8 in every ``where`` value and field name, every ``by``,
the path's text and every text field of the JSON bodies. No answer is a 5xx, and the statuses are the documented
ones (200; 400 and 422 for bad input; 403 outside the scope; 404 for no such address; 409 for a store that needs
upgrading). Every run is the same: examples derandomised, no example database, bounded."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import require_module

require_module("fastapi")
schemathesis = require_module("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.web_helpers import build_web_store  # noqa: E402

#: The statuses an API answer may have (a 5xx never).
DOCUMENTED = (200, 400, 403, 404, 409, 422)
#: Generated examples per operation: ones the document allows, and ones it does not (wrong types, missing
#: fields, values out of range).
POSITIVE, NEGATIVE = 10, 6
SETTINGS = {"deadline": None, "suppress_health_check": list(HealthCheck), "database": None, "derandomize": True}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    from hitrate.web import create_app

    web = build_web_store(tmp_path_factory.mktemp("schema") / "store.duckdb", n=800)
    app = create_app(web.path, secret="t", public_docs=True)
    return schemathesis.openapi.from_asgi("/openapi.json", app), web.tokens


def _operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def test_the_document_covers_the_api(api):
    """Schemathesis reads every operation the app documents (none left out for a schema it cannot read)."""
    schema, _ = api
    names = {f"{op.method.upper()} {op.path}" for op in _operations(schema)}
    documented = {f"{m.upper()} {p}" for p, ops in schema.app.openapi()["paths"].items() for m in ops}
    assert names == documented
    assert {
        "GET /api/rates",
        "GET /api/forecast",
        "GET /api/doctor",
        "POST /api/imports",
        "POST /api/feedback",
    } <= names


def test_generated_requests_never_get_a_server_error(api):
    """Every operation, with examples the document allows and examples it does not, each sent with the admin's
    token and with a manager's or a rep's (drawn with the example)."""
    from schemathesis import GenerationMode

    schema, tokens = api
    document = schema.app.openapi()["paths"]
    for operation in _operations(schema):
        op = document[operation.path][operation.method.lower()]
        # an operation whose only input is the token has nothing to get wrong (a negative token is ours to send)
        wrong = "requestBody" in op or any(p["name"] != "authorization" for p in op.get("parameters", []))
        generated(operation, GenerationMode.POSITIVE, POSITIVE, tokens)()
        if wrong:
            generated(operation, GenerationMode.NEGATIVE, NEGATIVE, tokens)()


def generated(operation: Any, mode: Any, examples: int, tokens: dict[str, str]) -> Any:
    """A Hypothesis test: ``examples`` requests to ``operation`` generated in ``mode``, each sent as the admin and
    as a manager or rep, none answered with a 5xx or an undocumented status."""

    @given(case=operation.as_strategy(generation_mode=mode), other=st.sampled_from(("manager", "rep")))
    @settings(max_examples=examples, **SETTINGS)
    def check(case: Any, other: str) -> None:
        for role in ("admin", other):
            response = case.call(headers={"Authorization": f"Bearer {tokens[role]}"})
            where = f"{mode.value} {role} {case.method} {case.formatted_path} {case.query} {case.body!r:.200}"
            assert response.status_code < 500, f"{where}: {response.text}"
            assert response.status_code in DOCUMENTED, f"{where}: {response.status_code} {response.text}"

    return check


#: Text a fuzzer should try: control characters (NUL among them), lone surrogates, letters, digits and spaces.
NASTY = st.text(alphabet=st.characters(categories=("Cc", "Cs", "Lu", "Nd", "Zs")), max_size=40)
#: A valid body of each JSON operation; each of its text fields is replaced in turn.
BODIES = {
    "/api/feedback": {"deal": "x", "reason": "price", "note": ""},
    "/api/goals": {"for": "team=Team North", "target": 0.4, "period": "2025"},
}


def nasty_requests(document: dict[str, Any], value: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, url, keyword arguments) putting ``value`` where the OpenAPI document says text goes: each ``where``
    as a value and as a field name, each ``by``, each text path parameter, each text field of a JSON body. The
    query is written by hand, so a lone surrogate arrives as the invalid UTF-8 a client would send."""
    q = quote(value.encode("utf-8", "surrogatepass"), safe="")
    out: list[tuple[str, str, dict[str, Any]]] = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            params = {p["name"]: p for p in op.get("parameters", [])}
            if method == "get":
                in_path = {n: p["schema"].get("type") for n, p in params.items() if p["in"] == "path"}
                if in_path and set(in_path.values()) == {"string"}:
                    url = path
                    for name in in_path:
                        url = url.replace("{" + name + "}", q or "x")
                    out.append(("GET", url, {}))
                if "where" in params:
                    out += [("GET", f"{path}?where=team%3D{q}", {}), ("GET", f"{path}?where={q}%3Dx", {})]
                if "by" in params:
                    out.append(("GET", f"{path}?by={q}", {}))
            elif path in BODIES:
                body = BODIES[path]
                for name in (k for k, v in body.items() if isinstance(v, str)):
                    text = json.dumps({**body, name: value})  # a lone surrogate as the \\ud800 escape JSON allows
                    out.append(("POST", path, {"content": text, "headers": {"Content-Type": "application/json"}}))
    return out


def test_nasty_text_never_gets_a_server_error(api):
    """Hypothesis (derandomised, 10 examples, each with a role) puts the text of :data:`NASTY` everywhere
    :func:`nasty_requests` finds text in the document: never a 5xx, and no answer but a documented one."""
    from starlette.testclient import TestClient

    schema, tokens = api
    client = TestClient(schema.app, raise_server_exceptions=False)
    document = schema.app.openapi()
    assert len(nasty_requests(document, "x")) >= 19

    @given(value=NASTY, role=st.sampled_from(("admin", "manager", "rep")))
    @settings(max_examples=10, **SETTINGS)
    def check(value: str, role: str) -> None:
        for method, url, kwargs in nasty_requests(document, value):
            headers = {"Authorization": f"Bearer {tokens[role]}", **kwargs.pop("headers", {})}
            r = client.request(method, url, headers=headers, **kwargs)
            assert r.status_code in DOCUMENTED, f"{role} {method} {url} {kwargs}: {r.status_code} {r.text}"

    check()


def _patterns(schema: Any) -> list[str]:
    """Every ``pattern`` in a parameter's schema (inside ``anyOf`` too)."""
    if isinstance(schema, dict):
        return [schema.get("pattern", ""), *(p for v in schema.values() for p in _patterns(v))]
    return [p for v in schema for p in _patterns(v)] if isinstance(schema, list) else []


def date_requests(document: dict[str, Any], day: dt.date) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, url, keyword arguments) putting ``day`` in every date the OpenAPI document takes: each query
    parameter written ``YYYY-MM-DD`` (with ``period=week`` where the operation takes a period), a goal's
    ``from``/``to`` and its ``period`` as that day's year, month and quarter; then the goals' progress."""
    iso = f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    out: list[tuple[str, str, dict[str, Any]]] = []
    for path, ops in document["paths"].items():
        params = {p["name"]: p for p in ops.get("get", {}).get("parameters", [])}
        for name, p in params.items():
            if any(r"\d{4}-\d{2}-\d{2}" in pattern for pattern in _patterns(p["schema"])):
                week = {"period": "week"} if "period" in params and name != "as_of" else {}
                out.append(("GET", path, {"params": {name: iso, **week}}))
    goal: dict[str, Any] = {"for": "team=Team North", "target": 0.4}
    periods = [f"{day.year:04d}", f"{day.year:04d}-{day.month:02d}", f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"]
    out += [("POST", "/api/goals", {"json": {**goal, "from": iso, "to": iso}})]
    out += [("POST", "/api/goals", {"json": {**goal, "period": period}}) for period in periods]
    return [*out, ("GET", "/api/goals", {})]


def test_any_day_of_the_calendar_never_gets_a_server_error(api):
    """Hypothesis's dates (derandomised, 8 examples; the calendar's first and last days among them) in every date
    :func:`date_requests` finds: a day outside the dates hitrate counts with is a 400 naming the parameter (the
    day after 9999-12-31 does not exist, pandas' timestamps end in 2262), never a 500, and goals set on any day
    keep the goals' progress answering."""
    from starlette.testclient import TestClient

    schema, tokens = api
    client = TestClient(schema.app, raise_server_exceptions=False)
    document = schema.app.openapi()
    assert len(date_requests(document, dt.date(2024, 1, 1))) >= 13
    h = {"Authorization": f"Bearer {tokens['admin']}"}

    @given(day=st.one_of(st.sampled_from((dt.date.min, dt.date.max)), st.dates()))
    @settings(max_examples=8, **SETTINGS)
    def check(day: dt.date) -> None:
        for method, url, kwargs in date_requests(document, day):
            r = client.request(method, url, headers=h, **kwargs)
            assert r.status_code in DOCUMENTED, f"{method} {url} {kwargs}: {r.status_code} {r.text}"

    check()


def test_the_known_nasty_values_are_refused_with_a_400(api):
    """The values the fuzzers must reach, written out: a NUL byte, a lone surrogate (escaped in JSON, raw bytes
    in a query) and a control character are refused before a route reads them, naming what was refused; so are
    days outside the dates hitrate counts with."""
    from starlette.testclient import TestClient

    schema, tokens = api
    client = TestClient(schema.app, raise_server_exceptions=False)
    h = {"Authorization": f"Bearer {tokens['rep']}", "Content-Type": "application/json"}
    for url in ("/api/rates?where=team%3DA%00B", "/api/benchmark?by=%ED%A0%80", "/api/forecast?where=%00%3Dx"):
        r = client.get(url, headers=h)
        assert r.status_code == 400, (url, r.text)
    for body in ('{"deal": "x", "reason": "price", "note": "\\ud800"}', '{"for": "rep=\\u0000", "target": 0.4}'):
        r = client.post("/api/feedback" if "deal" in body else "/api/goals", content=body, headers=h)
        assert r.status_code == 400, (body, r.text)
    # found by the fuzzers: the year 0 and the calendar's last day answered 500
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    for url in ("/api/rates?date_to=9999-12-31&period=quarter", "/api/forecast?as_of=9999-12-01"):
        r = client.get(url, headers=admin)
        assert r.status_code == 400 and "outside the dates hitrate counts with" in r.text, (url, r.text)
    goal = {"for": "team=Team North", "target": 0.4}
    for extra, words in (
        ({"period": "0000"}, "period: '0000' is outside"),
        ({"period": "9999"}, "period: '9999' is outside"),
        ({"from": "1899-12-31", "to": "2026-01-01"}, "from: '1899-12-31' is outside"),
    ):
        r = client.post("/api/goals", json={**goal, **extra}, headers=admin)
        assert r.status_code == 400 and words in r.json()["detail"], (extra, r.text)
