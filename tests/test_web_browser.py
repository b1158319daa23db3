"""The dashboard in a real headless Chromium (Playwright, the system browser): sign in, read the overview, filter
by team, switch language. Screenshots are kept in ``tests/artifacts/`` (git-ignored)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hitrate.improve.goals import set_goal
from hitrate.store.embedded import Store
from hitrate.store.users import add_user
from tests.pg_server import require
from tests.web_helpers import MANAGED, OTHER_TEAM, PASSWORD, build_web_store, serving

ARTIFACTS = Path(__file__).parent / "artifacts"


def _chromium() -> str:
    for name in (os.environ.get("HITRATE_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name) if name else None
        if path:
            return path
    require("no Chromium on PATH (make test installs Debian's chromium package)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require("playwright is not installed (the dev extra)")
    folder = tmp_path_factory.mktemp("browser")
    web = build_web_store(folder / "store.duckdb", n=6000)
    with Store(web.path) as store:  # a manager of both teams, and a goal for each team
        add_user(store, "meg", "manager", teams=[MANAGED, OTHER_TEAM], password=PASSWORD)
        for team in (MANAGED, OTHER_TEAM):
            set_goal(store, f"team={team}", target=0.4, period="2024", set_by="ann")
    with serving(web.path, folder / "server.log") as url:
        yield web, url


@pytest.fixture
def page(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
        context.route(
            "**/*", lambda route: route.abort() if not route.request.url.startswith(site[1]) else route.continue_()
        )
        yield context.new_page()
        browser.close()


def _login(page, url: str, name: str) -> None:
    page.goto(url + "/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(url + "/")


def _charts_drawn(page) -> int:
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    return int(page.evaluate("document.querySelectorAll('.js-plotly-plot .main-svg').length"))


def test_sign_in_and_read_the_overview_with_real_charts(site, page):
    _, url = site
    _login(page, url, "ann")
    assert page.locator("h1").inner_text() == "Overview"
    assert page.locator(".card .rate").count() == 3
    assert "%" in page.locator(".card .rate").first.inner_text()
    assert _charts_drawn(page) >= 1
    assert page.locator(".js-plotly-plot .scatterlayer .trace").count() >= 1  # the series is drawn
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "overview-admin-en.png"), full_page=True)


def test_filter_by_team_and_switch_language(site, page):
    _, url = site
    _login(page, url, "mo")
    options = page.locator("#team option").all_inner_texts()
    assert options[1:] == [MANAGED]  # a manager is offered only their own team
    page.select_option("#team", MANAGED)
    page.click("#apply")
    page.wait_for_url(f"**team={MANAGED.replace(' ', '+')}**")
    page.select_option("#lang", "da")
    page.wait_for_url("**lang=da**")
    assert page.locator("h1").inner_text() == "Overblik"
    rate = page.locator(".card .rate").first.inner_text()
    assert "," in rate and rate.endswith("%")
    _charts_drawn(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "overview-manager-da.png"), full_page=True)


def test_every_page_renders_for_a_rep(site, page):
    web, url = site
    _login(page, url, "rita")
    for path, heading in [
        ("/benchmark", "Benchmark"),
        ("/trends", "Trends"),
        ("/rep", f"Rep card: {web.rep}"),
        ("/leads", "Leads"),
        ("/definitions", "Definitions"),
        ("/doctor", "Data quality"),
        ("/import", "Import"),
        ("/goals", "Goals"),
        ("/reasons", "Loss reasons"),
    ]:
        page.goto(url + path)
        assert page.locator("h1").inner_text() == heading
    page.goto(url + "/benchmark")
    _charts_drawn(page)
    page.screenshot(path=str(ARTIFACTS / "benchmark-rep-en.png"), full_page=True)
    page.goto(url + "/reasons")
    page.screenshot(path=str(ARTIFACTS / "reasons-rep-en.png"), full_page=True)


def test_pages_and_charts_run_under_the_content_security_policy(site, page):
    """Every page is served with a Content-Security-Policy (scripts: the server's and nonce-carrying inline ones);
    the charts draw, the language menu works (tested above) and the browser reports no blocked script or style."""
    _, url = site
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    _login(page, url, "ann")
    for path in ("/", "/benchmark", "/trends", "/rep", "/leads", "/goals", "/reasons", "/doctor", "/import"):
        response = page.goto(url + path)
        assert "nonce-" in response.headers["content-security-policy"]
    page.goto(url + "/trends")
    assert _charts_drawn(page) >= 1
    assert blocked == []


def test_a_manager_sets_a_goal_sees_its_chart_reads_the_rules_and_clicks_to_a_rep(site, page):
    """In Chromium, in English then Danish: the goals form sets a goal and the chance of making it is drawn;
    the definitions page leads with readable rules (the YAML folded); the rep list's links open a rep's page."""
    _, url = site
    _login(page, url, "mo")
    page.goto(url + "/goals?lang=en")
    page.select_option("#who", f"team={MANAGED}")
    page.fill("#target", "45")
    page.fill("#period", "2024")
    page.click("#set-goal")
    page.wait_for_selector("#goals-chart .main-svg", timeout=30_000)
    assert f"Goal saved: team={MANAGED}, 45.0%" in page.content()
    assert page.locator("#goals-chart .bars .point").count() >= 1  # a bar per goal
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "goals-manager-en.png"), full_page=True)
    page.goto(url + "/definitions?lang=da")
    assert page.locator("#rules li").first.inner_text().startswith("Hver række af salgsmuligheder")
    assert not page.locator("#yaml pre").is_visible()  # one click away
    page.click("#yaml summary")
    assert page.locator("#yaml pre").is_visible()
    page.screenshot(path=str(ARTIFACTS / "definitions-manager-da.png"), full_page=True)
    page.goto(url + "/rep?lang=en")
    link = page.locator("#reps a").last
    name = link.inner_text()
    link.click()
    page.wait_for_load_state()
    assert name in page.locator("h1").inner_text()


def _download(page, link: str, lang: str) -> Path:
    """Click the download link ``link`` (its id); the file, kept in ``tests/artifacts/downloads/`` under the name
    the server gave it (with the page's language)."""
    with page.expect_download() as info:
        page.click(link)
    name = info.value.suggested_filename
    assert name.startswith("hitrate-") and name.endswith((".csv", ".xlsx")), name
    path = ARTIFACTS / "downloads" / f"{lang}-{name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    info.value.save_as(path)
    return path


def test_a_manager_downloads_a_table_as_csv_and_excel(site, page):
    """In Chromium, in English and Danish: the forecast's CSV and Excel links give the forecast of the manager's
    own team only, numbers as numbers (the page shows them formatted)."""
    import csv

    from openpyxl import load_workbook

    _, url = site
    _login(page, url, "mo")
    for lang in ("en", "da"):
        page.goto(url + f"/forecast?lang={lang}")
        assert page.locator(".downloads a").count() >= 4  # CSV and Excel under each table
        rows = list(
            csv.DictReader(_download(page, "#download-forecast-csv", lang).read_text(encoding="utf-8").splitlines())
        )
        assert rows and {r["team"] for r in rows} == {MANAGED}
        assert all(float(r["expected_wins"]) >= 0 for r in rows)
        book = load_workbook(_download(page, "#download-forecast-xlsx", lang))
        sheet = book.worksheets[0]
        header = [c.value for c in sheet[1]]
        teams = {sheet.cell(row=i, column=header.index("team") + 1).value for i in range(2, sheet.max_row + 1)}
        assert teams == {MANAGED}
        wins = sheet.cell(row=2, column=header.index("expected_wins") + 1).value
        assert isinstance(wins, float)
        assert len(book.sheetnames) == 2  # the forecast, then the notes
        method = page.locator("details.method p").first
        assert not method.is_visible()  # the method is one click away
        page.click("details.method summary")
        assert method.is_visible() and "Aalen" in method.inner_text()
        page.screenshot(path=str(ARTIFACTS / f"forecast-downloads-manager-{lang}.png"), full_page=True)
    page.goto(url + "/reasons?lang=da")
    book = load_workbook(_download(page, "#download-reasons-xlsx", "da"))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    shares = [sheet.cell(row=i, column=header.index("share") + 1) for i in range(2, sheet.max_row + 1)]
    assert shares and all(isinstance(c.value, float) and c.number_format == "0.0%" for c in shares)


def test_a_manager_picks_a_team_on_the_forecast_goals_and_reasons_pages(site, page):
    """A manager of two teams picks one from the menu: the page shows that team only, and keeps it when the
    language changes."""
    _, url = site
    _login(page, url, "meg")
    ARTIFACTS.mkdir(exist_ok=True)
    for path, lang in (("/forecast", "en"), ("/goals", "da"), ("/reasons", "en"), ("/forecast", "da")):
        page.goto(url + f"{path}?lang={lang}")
        assert page.locator("#team option").all_inner_texts()[1:] == [MANAGED, OTHER_TEAM]
        page.select_option("#team", OTHER_TEAM)
        page.click("#apply")
        page.wait_for_url(f"**team={OTHER_TEAM.replace(' ', '+')}**")
        table = page.locator("table").first.inner_text()
        assert OTHER_TEAM in table and MANAGED not in table, path
        other = "da" if lang == "en" else "en"
        page.select_option("#lang", other)
        page.wait_for_url(f"**lang={other}**")
        assert page.locator("#team").input_value() == OTHER_TEAM  # the team is kept
        assert MANAGED not in page.locator("table").first.inner_text()
        page.screenshot(path=str(ARTIFACTS / f"team-filter-{path.strip('/')}-manager-{other}.png"), full_page=True)
