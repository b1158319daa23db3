"""Every table of the dashboard downloads as CSV and Excel, with the page's filters and the page's scope, numbers as
numbers; the team filter on every page that shows data by team; amounts in the store's currency (issue 21)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from tests.conftest import require_module

require_module("fastapi")
require_module("openpyxl")
from fastapi.testclient import TestClient  # noqa: E402

from tests.web_helpers import MANAGED, OTHER_TEAM, PASSWORD, WebStore, build_web_store, sign_in  # noqa: E402

#: The pages that show data, and the tables and charts each downloads (for an admin on the demo store).
PAGES = {
    "/": {"monthly"},
    "/benchmark": {"quality", "benchmark"},
    "/trends": {"trend", "cohorts"},
    "/rep": {"coach", "monthly"},
    "/leads": {"leads"},
    "/goals": {"goals"},
    "/forecast": {"forecast", "forecast-accuracy"},
    "/reasons": {"reasons", "feedback"},
    "/definitions": {"history"},
    "/doctor": {"doctor"},
}
#: The pages with a team filter (for admins and managers).
TEAM_PAGES = ("/", "/benchmark", "/trends", "/rep", "/leads", "/goals", "/forecast", "/reasons", "/doctor")
FORMULA = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> WebStore:
    from hitrate.improve.feedback import add_feedback
    from hitrate.improve.goals import set_goal
    from hitrate.store.embedded import Store
    from hitrate.store.users import add_user

    web = build_web_store(tmp_path_factory.mktemp("downloads") / "web.duckdb", n=1500)
    with Store(web.path) as s:
        s.raw.execute("ALTER TABLE opportunities ADD COLUMN currency VARCHAR")
        s.raw.execute("UPDATE opportunities SET currency = 'DKK'")
        add_user(s, "meg", "manager", teams=[MANAGED, OTHER_TEAM], password=PASSWORD)
        set_goal(s, f"team={MANAGED}", target=0.4, period="2024", set_by="ann")
        set_goal(s, f"team={OTHER_TEAM}", target=0.41, period="2024", set_by="ann")
        lost = s.fetch(
            "SELECT min(id) FROM opportunities JOIN reps USING (rep) WHERE team = ? AND outcome = 'lost'", [MANAGED]
        )[0][0]
        add_feedback(s, lost, reason="price", note=FORMULA, recorded_by="ann")
    return web


@pytest.fixture(scope="module")
def app(web: WebStore) -> Any:
    from hitrate.web import create_app

    return create_app(web.path, secret="downloads")


def client(app: Any, name: str) -> TestClient:
    c = TestClient(app)
    assert sign_in(c, name).status_code == 303
    return c


def links(html: str) -> dict[str, dict[str, str]]:
    """The page's download links: table id -> format -> the link's query."""
    out: dict[str, dict[str, str]] = {}
    for query in re.findall(r'href="(\?[^"]*download=[^"]*)"', html):
        query = query.replace("&amp;", "&")
        table = re.search(r"download=([^&]+)", query).group(1)  # type: ignore[union-attr]
        form = re.search(r"format=([^&]+)", query).group(1)  # type: ignore[union-attr]
        out.setdefault(table, {})[form] = query
    return out


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def read_book(body: bytes) -> Any:
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(body))


def test_every_table_of_every_page_downloads_as_csv_and_excel(app: Any) -> None:
    c = client(app, "ann")
    for path, expected in PAGES.items():
        page = c.get(path)
        assert page.status_code == 200, path
        found = links(page.text)
        assert expected <= set(found), (path, sorted(found))
        for table, forms in found.items():
            assert set(forms) == {"csv", "xlsx"}, (path, table)
            got = c.get(path + forms["csv"])
            assert got.status_code == 200, (path, table, got.text[:200])
            assert got.headers["content-type"].startswith("text/csv")
            assert got.headers["content-disposition"].startswith('attachment; filename="hitrate-')
            assert got.headers["content-disposition"].endswith('.csv"')
            book = c.get(path + forms["xlsx"])
            assert book.status_code == 200
            assert book.headers["content-disposition"].endswith('.xlsx"')
            sheets = read_book(book.content)
            assert len(sheets.sheetnames) >= 2, (path, table)  # the table(s), then the notes


def test_numbers_are_numbers_in_both_files(app: Any) -> None:
    c = client(app, "ann")
    page = c.get("/forecast?lang=da")
    assert "kr." in page.text  # the page formats (Danish)...
    found = links(page.text)["forecast"]
    rows = read_csv(c.get("/forecast" + found["csv"]).text)
    assert rows and all(float(r["expected_wins"]) >= 0 and float(r["expected_amount"]) > 0 for r in rows)
    assert not any("kr" in r["expected_amount"] or "," in r["expected_wins"] for r in rows)
    sheet = read_book(c.get("/forecast" + found["xlsx"]).content).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    amount = header.index("expected_amount") + 1
    cells = [sheet.cell(row=i, column=amount) for i in range(2, sheet.max_row + 1)]
    assert cells and all(isinstance(cell.value, float) for cell in cells)
    assert all("DKK" in cell.number_format for cell in cells)  # money, in the store's currency
    rates = read_book(c.get("/" + links(c.get("/").text)["monthly"]["xlsx"]).content).worksheets[0]
    header = [cell.value for cell in rates[1]]
    rate = rates.cell(row=2, column=header.index("hit_rate") + 1)
    assert isinstance(rate.value, float) and rate.number_format == "0.0%"


def test_the_overview_download_is_what_the_command_line_writes(app: Any, web: WebStore) -> None:
    """The admin's monthly series is ``hitrate rates --period month --format csv``, byte for byte."""
    from typer.testing import CliRunner

    from hitrate.cli import app as cli

    c = client(app, "ann")
    mine = c.get("/" + links(c.get("/").text)["monthly"]["csv"]).text
    result = CliRunner().invoke(cli, ["rates", "--period", "month", "--format", "csv", "--db", str(web.path)])
    assert result.exit_code == 0, result.stderr
    assert mine == result.stdout


def test_the_workbook_notes_name_the_definitions_and_the_page(app: Any) -> None:
    c = client(app, "mo")
    found = links(c.get(f"/reasons?team={MANAGED}").text)["reasons"]
    notes = read_book(c.get("/reasons" + found["xlsx"]).content).worksheets[-1]
    values = [str(cell.value) for row in notes.iter_rows() for cell in row]
    defs = c.get("/definitions").text
    hash_ = re.search(r"hash ([0-9a-f]{8,})", defs).group(1)  # type: ignore[union-attr]
    assert any(hash_ in v for v in values)
    assert any(v.startswith("http") and "/reasons?team=Team+North" in v and "download" not in v for v in values)
    assert "DKK" in values


def test_text_that_would_run_in_a_spreadsheet_is_neutralised(app: Any) -> None:
    c = client(app, "ann")
    found = links(c.get("/reasons").text)["feedback"]
    rows = read_csv(c.get("/reasons" + found["csv"]).text)
    assert "'" + FORMULA in [r["note"] for r in rows]
    sheet = read_book(c.get("/reasons" + found["xlsx"]).content).worksheets[0]
    assert "'" + FORMULA in [cell.value for row in sheet.iter_rows() for cell in row]


def test_downloads_are_the_pages_scope(app: Any, web: WebStore) -> None:
    """A manager's files hold their teams only; a rep's benchmark holds their own row only; another team asked for
    is refused (403) for the file as for the page."""
    c = client(app, "mo")
    for path, table, column in (("/forecast", "forecast", "team"), ("/reasons", "reasons", "team")):
        rows = read_csv(c.get(path + links(c.get(path).text)[table]["csv"]).text)
        assert rows and {r[column] for r in rows} == {MANAGED}, path
    bench = read_csv(c.get("/benchmark" + links(c.get("/benchmark").text)["benchmark"]["csv"]).text)
    assert bench and {r["rep"] for r in bench} <= web.reps_in(MANAGED)
    for path in TEAM_PAGES:
        assert c.get(path, params={"team": OTHER_TEAM, "download": "x", "format": "csv"}).status_code == 403, path
    rita = client(app, "rita")
    for table in ("benchmark", "quality"):
        rows = read_csv(rita.get("/benchmark" + links(rita.get("/benchmark").text)[table]["csv"]).text)
        assert [r["rep"] for r in rows] == [web.rep]
        sheet = read_book(rita.get("/benchmark" + links(rita.get("/benchmark").text)[table]["xlsx"]).content)
        text = " ".join(str(cell.value) for ws in sheet.worksheets for row in ws.iter_rows() for cell in row)
        assert not [r for r in web.team_of if r != web.rep and r in text]


def test_an_unknown_table_or_format_is_not_found(app: Any) -> None:
    c = client(app, "ann")
    assert c.get("/forecast", params={"download": "nothing", "format": "csv"}).status_code == 404
    assert c.get("/forecast", params={"download": "forecast", "format": "pdf"}).status_code == 404
    assert c.get("/import", params={"download": "quarantine", "format": "csv"}).status_code == 200
    assert client(app, "mo").get("/import", params={"download": "quarantine", "format": "csv"}).status_code == 404


def test_a_team_filter_on_every_page_that_shows_teams(app: Any, web: WebStore) -> None:
    """A manager of two teams gets the menu on every such page; choosing one narrows the tables and the files;
    the choice is kept when the language changes."""
    c = client(app, "meg")
    for path in TEAM_PAGES:
        page = c.get(path, params={"team": OTHER_TEAM})
        assert page.status_code == 200, path
        menu = re.search(r'<select name="team" id="team">(.*?)</select>', page.text, re.S)
        assert menu is not None, path
        assert re.findall(r'<option value="([^"]+)"', menu.group(1)) == [MANAGED, OTHER_TEAM]
        assert f'value="{OTHER_TEAM}" selected' in menu.group(1)
        assert f'<input type="hidden" name="team" value="{OTHER_TEAM}">' in page.text, path  # the language switch
    south = web.reps_in(OTHER_TEAM)
    forecast = c.get("/forecast", params={"team": OTHER_TEAM})
    assert OTHER_TEAM in forecast.text and f"<td>{MANAGED}</td>" not in forecast.text
    rows = read_csv(c.get("/forecast" + links(forecast.text)["forecast"]["csv"]).text)
    assert {r["team"] for r in rows} == {OTHER_TEAM}
    goals = c.get("/goals", params={"team": OTHER_TEAM})
    shown = re.search(r'<table id="goals">.*?</table>', goals.text, re.S).group(0)  # type: ignore[union-attr]
    assert f"Team: {OTHER_TEAM}<" in shown and f"Team: {MANAGED}<" not in shown
    rows = read_csv(c.get("/goals" + links(goals.text)["goals"]["csv"]).text)
    assert [r["value"] for r in rows] == [OTHER_TEAM]
    reasons = c.get("/reasons", params={"team": OTHER_TEAM})
    rows = read_csv(c.get("/reasons" + links(reasons.text)["reasons"]["csv"]).text)
    assert rows and {r["team"] for r in rows} == {OTHER_TEAM}
    rep = c.get("/rep", params={"team": OTHER_TEAM})
    chooser = re.findall(r'<a href="/rep\?rep=[^"]*">([^<]+)</a>', rep.text)
    assert chooser and set(chooser) == south
    assert client(app, "mo").get("/goals", params={"team": OTHER_TEAM}).status_code == 403


def test_amounts_are_in_the_stores_currency(app: Any) -> None:
    c = client(app, "ann")
    for lang, mark in (("en", "DKK"), ("da", "kr.")):
        for path in ("/", "/forecast", "/rep"):
            page = c.get(path, params={"lang": lang}).text
            assert mark in page, (path, lang)


def test_downloading_reuses_the_pages_results(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A download after the page is a cache hit: no computation runs again."""
    from hitrate.web import data

    c = client(app, "ann")
    found = links(c.get("/forecast").text)
    calls: list[Any] = []
    original = data.StoreAccess.reading

    def counted(self: data.StoreAccess) -> Any:
        calls.append(1)
        return original(self)

    monkeypatch.setattr(data.StoreAccess, "reading", counted)
    for query in found["forecast"].values():
        assert c.get("/forecast" + query).status_code == 200
    assert calls == []


def test_a_download_is_fast(app: Any) -> None:
    import time

    c = client(app, "ann")
    query = links(c.get("/forecast").text)["forecast"]["xlsx"]
    start = time.perf_counter()
    assert c.get("/forecast" + query).status_code == 200
    assert time.perf_counter() - start < 2.0
