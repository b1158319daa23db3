"""Imports through the server are the command line's imports (issue 15, deliverable 8): ``POST /api/imports``
and the upload form recognise the CRM as ``hitrate import`` does (``preset=auto`` by default), take the same
options (mapping, won/lost...), refuse what it refuses with the same message in the caller's language, naming
the form's fields and never a command-line flag or a server path; and a file with its own ``team`` column
leaves the reps' teams of the stored deals as they were."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_module

require_module("fastapi")
from fastapi.testclient import TestClient  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from hitrate.cli import app  # noqa: E402
from hitrate.store.embedded import Store  # noqa: E402
from tests.crm_files import write_csv  # noqa: E402
from tests.web_helpers import MANAGED, WebStore, build_web_store, form_token, sign_in  # noqa: E402

#: A Salesforce report export ("Details Only"), as the user sees its labels, with a team column of its own.
SF_HEADER = ["Opportunity Owner", "Account Name", "Opportunity Name", "Opportunity ID", "Stage", "Amount",
             "Close Date", "Created Date", "Team"]  # fmt: skip
STAGES = ("Closed Won", "Closed Lost", "Prospecting", "Negotiation/Review")
OWN_TEAM = "Key Accounts"
N_DEALS = 80
STORED = "id, rep, stage, outcome, amount, created_at, closed_at, expected_close, team"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> WebStore:
    return build_web_store(tmp_path_factory.mktemp("web-import") / "base.duckdb", n=600)


def copy_of(base: WebStore, path: Path) -> WebStore:
    """The base store copied to ``path`` (its accounts and tokens with it)."""
    shutil.copy(base.path, path)
    return WebStore(path, base.tokens, base.rep, base.team_of)


def salesforce_rows(web: WebStore) -> list[dict[str, Any]]:
    """Eighty deals of the store's reps (a third with a team of their own), then the report's footer."""
    owners = sorted(web.team_of)
    rows: list[dict[str, Any]] = []
    for i in range(N_DEALS):
        created = dt.date(2024, 1, 1) + dt.timedelta(days=i)
        rows.append({"Opportunity Owner": owners[i % len(owners)], "Account Name": f"Acct {i % 17}",
                     "Opportunity Name": f"Deal {i}", "Opportunity ID": f"006A{i:05d}", "Stage": STAGES[i % 4],
                     "Amount": 1000 + 10 * i, "Close Date": (created + dt.timedelta(days=30)).strftime("%m/%d/%Y"),
                     "Created Date": created.strftime("%m/%d/%Y"), "Team": OWN_TEAM if i % 3 == 0 else ""})  # fmt: skip
    rows.append({"Opportunity Owner": "Confidential Information - Do Not Distribute"})
    return rows


def salesforce_file(web: WebStore, folder: Path) -> Path:
    return write_csv(folder / "Opportunities report.csv", SF_HEADER, salesforce_rows(web))


def api(web: WebStore) -> TestClient:
    from hitrate.web import create_app

    return TestClient(create_app(web.path, secret="t"), raise_server_exceptions=False)


def post_file(client: TestClient, web: WebStore, path: Path, lang: str | None = None, **fields: Any) -> Any:
    headers = {"Authorization": f"Bearer {web.tokens['admin']}"}
    if lang:
        headers["Accept-Language"] = lang
    files = {"files": (path.name, path.read_bytes())}
    return client.post("/api/imports", headers=headers, files=files, data=fields)


def cli_import(web: WebStore, path: Path, *args: str) -> dict[str, Any]:
    out = CliRunner().invoke(app, ["import", str(path), *args, "--db", str(web.path), "--format", "json"])
    assert out.exit_code == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def stored(web: WebStore, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with Store(web.path, read_only=True) as s:
        return [tuple(r) for r in s.fetch(sql, params or [])]


def counts(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report[k] for k in ("read", "imported", "updated", "unchanged", "quarantined", "skipped_non_data")}


# -- the API is the command line --------------------------------------------------------------------------------------
def test_the_api_imports_a_salesforce_export_as_the_command_line_does(base, tmp_path):
    """Without ``preset`` the API recognises Salesforce as the command line does: the same counts, the file's
    ids and owners (not made-up ids and no rep), the same stored rows; batches name the file, not a folder."""
    by_cli, by_api = copy_of(base, tmp_path / "cli.duckdb"), copy_of(base, tmp_path / "api.duckdb")
    path = salesforce_file(base, tmp_path)
    cli = cli_import(by_cli, path)
    r = post_file(api(by_api), by_api, path)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert counts(answer) == counts(cli)
    assert answer["imported"] == N_DEALS and answer["read"] == N_DEALS + answer["quarantined"]
    assert answer["files"][0]["preset"] == cli["files"][0]["preset"] == "salesforce"
    rows = stored(by_api, f"SELECT {STORED} FROM opportunities WHERE id LIKE '006A%' ORDER BY id")
    assert rows == stored(by_cli, f"SELECT {STORED} FROM opportunities WHERE id LIKE '006A%' ORDER BY id")
    assert [(r[0], r[1]) for r in rows] == [(d["Opportunity ID"], d["Opportunity Owner"])
                                            for d in salesforce_rows(base)[:N_DEALS]]  # fmt: skip
    assert {r[3] for r in rows} == {"won", "lost", "open"}
    assert stored(by_api, "SELECT count(*) FROM opportunities") == stored(by_cli, "SELECT count(*) FROM opportunities")
    sql = "SELECT sources FROM import_batches WHERE kind = 'import' ORDER BY finished_at DESC LIMIT 1"
    assert json.loads(stored(by_api, sql)[0][0]) == [path.name]
    assert "/tmp" not in r.text and "hitrate-upload-" not in r.text and str(tmp_path) not in r.text


def test_the_same_file_through_the_command_line_then_the_api_counts_nothing_twice(base, tmp_path):
    web = copy_of(base, tmp_path / "twice.duckdb")
    path = salesforce_file(base, tmp_path)
    first = cli_import(web, path)
    total = stored(web, "SELECT count(*) FROM opportunities")
    r = post_file(api(web), web, path)
    assert r.status_code == 200, r.text
    again = r.json()
    assert first["imported"] == N_DEALS
    assert (again["imported"], again["updated"], again["unchanged"]) == (0, 0, N_DEALS)
    assert stored(web, "SELECT count(*) FROM opportunities") == total


def test_the_reps_teams_survive_a_file_with_its_own_team_column(base, tmp_path):
    """The file's ``team`` column sets the team of its own deals where it has one; the deals stored before it,
    and its deals with an empty team, keep their rep's team (``reps.team``, untouched): a manager still sees
    their team (issue 15: every team query came back empty)."""
    web = copy_of(base, tmp_path / "team.duckdb")
    client = api(web)
    admin = {"Authorization": f"Bearer {web.tokens['admin']}"}
    manager = {"Authorization": f"Bearer {web.tokens['manager']}"}

    def by_team(headers: dict[str, str]) -> dict[Any, int]:
        rows = client.get("/api/rates", params={"by": "team"}, headers=headers).json()["rows"]
        return {r["team"]: r["attempts"] for r in rows}

    reps = stored(web, "SELECT * FROM reps ORDER BY rep")
    before, managed = by_team(admin), by_team(manager)
    r = post_file(client, web, salesforce_file(base, tmp_path))
    assert r.status_code == 200, r.text
    assert stored(web, "SELECT * FROM reps ORDER BY rep") == reps
    added: dict[Any, int] = {}
    for d in salesforce_rows(base)[:N_DEALS]:
        if d["Stage"] in ("Closed Won", "Closed Lost"):
            team = d["Team"] or web.team_of[d["Opportunity Owner"]]
            added[team] = added.get(team, 0) + 1
    after = by_team(admin)
    assert None not in after and after[OWN_TEAM] == added[OWN_TEAM]
    assert {t: after[t] - before.get(t, 0) for t in after} == {t: added.get(t, 0) for t in after}
    assert by_team(manager) == {MANAGED: managed[MANAGED] + added.get(MANAGED, 0)}


# -- errors: the same refusals, in the caller's language, naming the fields ----------------------------------------
def danish_stages(folder: Path) -> Path:
    """A plain export whose stages are Danish: Vundet 6, Tabt 4, Forhandling 2."""
    stages = ["Vundet"] * 6 + ["Tabt"] * 4 + ["Forhandling"] * 2
    lines = ["id,rep,stage,created_at,closed_at"]
    lines += [f"S{i},Zed,{s},2024-01-02,2024-02-0{1 + i % 9}" for i, s in enumerate(stages)]
    path = folder / "stages.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (None, ["no row has stage 'Won'", "did you mean won Vundet lost Tabt?"]),
        ("da", ["ingen række har stage 'Won'", "mente du won Vundet lost Tabt?"]),
        ("en;q=0.4, da-DK;q=0.9", ["ingen række har stage 'Won'", "mente du won Vundet lost Tabt?"]),
    ],
)
def test_won_values_that_match_nothing_are_refused_naming_the_field_won(base, tmp_path, lang, words):
    web = copy_of(base, tmp_path / "won.duckdb")
    total = stored(web, "SELECT count(*) FROM opportunities")
    r = post_file(api(web), web, danish_stages(tmp_path), lang=lang, won="Won", lost="Lost")
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert all(w in detail for w in words), detail
    assert "Vundet (6)" in detail and "Tabt (4)" in detail and "Forhandling (2)" in detail
    assert "--" not in detail and "stages.csv" in detail
    assert "/tmp" not in r.text and "hitrate-upload-" not in r.text
    assert stored(web, "SELECT count(*) FROM opportunities") == total  # nothing written


def test_the_api_takes_a_mapping_and_refuses_a_mistyped_field_naming_map_as_dimension(base, tmp_path):
    web = copy_of(base, tmp_path / "map.duckdb")
    client = api(web)
    path = tmp_path / "salg.csv"
    path.write_text("Nr;Sælger;Fase;Oprettet;Lukket;Beløb\nN1;Zed;Vundet;02-01-2024;01-02-2024;1.234,50\n"
                    "N2;Zed;Tabt;03-01-2024;02-02-2024;99,00\n", encoding="utf-8")  # fmt: skip
    mapping = ["id=Nr", "rep=Sælger", "stage=Fase", "created_at=Oprettet", "closed_at=Lukket"]
    typo = post_file(client, web, path, map=[*mapping, "ammount=Beløb"], won="Vundet", lost="Tabt")
    assert typo.status_code == 400, typo.text
    detail = typo.json()["detail"]
    assert "did you mean amount?" in detail and "map_as_dimension" in detail and "--" not in detail
    # one value of several lines (the page's text area) is as good as repeated fields
    fields = {"won": "Vundet", "lost": "Tabt", "date_format": "DD-MM-YYYY", "decimal": ","}
    ok = post_file(client, web, path, map="\n".join([*mapping, "amount=Beløb"]), **fields)
    assert ok.status_code == 200, ok.text
    assert ok.json()["imported"] == 2 and ok.json()["files"][0]["preset"] is None
    assert stored(web, "SELECT id, outcome, amount, created_at FROM opportunities WHERE id LIKE 'N%' ORDER BY id") == [
        ("N1", "won", 1234.5, dt.datetime(2024, 1, 2)),
        ("N2", "lost", 99.0, dt.datetime(2024, 1, 3)),
    ]


def test_the_api_takes_the_other_options_of_the_command_line(base, tmp_path):
    """``skip_rows`` and ``delimiter`` (``tab`` for a tab, as typed on a command line); a bad one names its field."""
    web = copy_of(base, tmp_path / "opts.duckdb")
    client = api(web)
    path = tmp_path / "tabbed.txt"
    path.write_text("Pipeline report\n\nid\trep\tstage\tcreated_at\tclosed_at\nT1\tZed\tWon\t2024-01-02\t2024-02-01\n",
                    encoding="utf-8")  # fmt: skip
    ok = post_file(client, web, path, skip_rows="2", delimiter="tab", won="Won", lost="Lost")
    assert ok.status_code == 200, ok.text
    assert ok.json()["imported"] == 1
    bad = post_file(client, web, path, delimiter="||", lang="da")
    assert bad.status_code == 400 and "delimiter" in bad.json()["detail"] and "forventede ét tegn" in bad.text


# -- the upload page ----------------------------------------------------------------------------------------------
def test_the_upload_page_takes_a_mapping_and_won_lost_values_and_says_errors_in_danish(base, tmp_path):
    from hitrate.web import create_app

    web = copy_of(base, tmp_path / "page.duckdb")
    c = TestClient(create_app(web.path, secret="t"))
    sign_in(c, "ann")
    page = c.get("/import?lang=da")
    for field in ('name="map"', 'name="won"', 'name="lost"', 'name="allow_outcome_changes"', 'name="sheet"'):
        assert field in page.text, field
    csrf = form_token(c, "/import")
    path = danish_stages(tmp_path)
    upload = {"files": (path.name, path.read_bytes())}
    wrong = c.post("/import", files=upload, data={"csrf": csrf, "won": "Won", "lost": "Lost", "map": ""})
    assert wrong.status_code == 400
    assert "mente du won Vundet lost Tabt?" in wrong.text and "Vundet (6)" in wrong.text
    assert "--won" not in wrong.text and "/tmp" not in wrong.text
    assert ">Won</textarea>" in wrong.text  # the form keeps what was typed
    right = c.post("/import", files=upload, data={"csrf": csrf, "won": "Vundet", "lost": "Tabt"})
    assert right.status_code == 200, right.text
    assert "Importeret 12" in right.text
    assert stored(web, "SELECT outcome, count(*) FROM opportunities WHERE id LIKE 'S%' GROUP BY 1 ORDER BY 1") == [
        ("lost", 4),
        ("open", 2),
        ("won", 6),
    ]


def test_the_upload_page_recognises_salesforce_without_a_preset(base, tmp_path):
    from hitrate.web import create_app

    web = copy_of(base, tmp_path / "page-sf.duckdb")
    c = TestClient(create_app(web.path, secret="t"))
    sign_in(c, "ann")
    path = salesforce_file(base, tmp_path)
    r = c.post("/import", files={"files": (path.name, path.read_bytes())},
               data={"csrf": form_token(c, "/import"), "preset": "", "map": "", "won": "", "lost": ""})  # fmt: skip
    assert r.status_code == 200, r.text
    assert f"Imported {N_DEALS}," in r.text
    assert stored(web, "SELECT count(*) FROM opportunities WHERE id LIKE '006A%' AND rep IS NOT NULL") == [(N_DEALS,)]
