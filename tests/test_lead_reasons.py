"""A lead's reasons: one format written by ``score predict`` and read by the dashboard, and stores scored the old
way (reasons as ``feature=value; ...`` text) still read (issue 15: ``/leads`` answered 500 after scoring)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.scoring.model import Factor
from hitrate.scoring.reasons import read_reasons, reasons_text, write_reasons
from hitrate.store.embedded import Store
from hitrate.store.users import add_user, new_token
from hitrate.synth.demo import build_demo


def test_reasons_round_trip_and_old_text_is_read():
    factors = [Factor("region", "UK & Ireland", 0.125), Factor("source", "Web; chat", -0.5)]
    written = write_reasons(factors)
    assert json.loads(written)[0] == {"feature": "region", "value": "UK & Ireland", "effect": 0.125}
    assert read_reasons(written) == [
        {"feature": "region", "value": "UK & Ireland", "effect": 0.125},
        {"feature": "source", "value": "Web; chat", "effect": -0.5},
    ]
    old = read_reasons("region=UK & Ireland; lead_source=Referral")
    assert old == [
        {"feature": "region", "value": "UK & Ireland", "effect": None},
        {"feature": "lead_source", "value": "Referral", "effect": None},
    ]
    assert reasons_text(old) == "region=UK & Ireland; lead_source=Referral"
    assert read_reasons("") == read_reasons(None) == read_reasons("[]") == []
    assert read_reasons("[not json") == [{"feature": "", "value": "[not json", "effect": None}]


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A demo store scored by ``hitrate score predict`` itself, with one account per role."""
    folder = tmp_path_factory.mktemp("scored")
    path = folder / "s.duckdb"
    with Store(path) as store:
        build_demo(store, seed=4, n_opportunities=400, force=True)
        rep, team = store.fetch("SELECT rep, team FROM reps ORDER BY rep LIMIT 1")[0]
        add_user(store, "ann", "admin", password="correct-horse-battery")
        add_user(store, "mo", "manager", teams=[team], password="correct-horse-battery")
        add_user(store, "rita", "rep", rep=rep, password="correct-horse-battery")
        tokens = {name: new_token(store, name) for name in ("ann", "mo", "rita")}
    runner = CliRunner()
    model, out = folder / "m.skops", folder / "scores.csv"
    for args in (
        ["score", "train", "--model", str(model)],
        ["score", "predict", "--model", str(model), "--out", str(out)],
    ):
        result = runner.invoke(app, [*args, "--db", str(path)], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
    return path, tokens


def _get(path: Path, tokens: dict[str, str]) -> dict[str, list[object]]:
    from fastapi.testclient import TestClient

    from hitrate.web import create_app

    client = TestClient(create_app(path, secret="test"), raise_server_exceptions=False)
    seen: dict[str, list[object]] = {}
    for name, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        page = client.get("/leads", headers=headers)
        assert page.status_code == 200, (name, page.text[:300])
        api = client.get("/api/leads", headers=headers)
        assert api.status_code == 200, (name, api.text[:300])
        seen[name] = api.json()["leads"]
    return seen


def test_leads_page_and_api_answer_after_score_predict(scored):
    path, tokens = scored
    with Store(path, read_only=True) as store:
        stored = store.fetch("SELECT reasons_up FROM lead_scores WHERE reasons_up <> '[]' LIMIT 1")[0][0]
    assert read_reasons(stored) == json.loads(stored)  # the store keeps what the web reads
    leads = _get(path, tokens)
    assert leads["ann"] and all(lead["up"] or lead["down"] for lead in leads["ann"])
    first = next(lead for lead in leads["ann"] if lead["up"])
    assert set(first["up"][0]) == {"feature", "value", "effect"} and first["up"][0]["effect"] > 0


def test_a_store_scored_the_old_way_is_read(scored, tmp_path):
    import shutil

    path, tokens = scored
    old = tmp_path / "old.duckdb"
    shutil.copy(path, old)
    with Store(old) as store:
        store.raw.execute("UPDATE lead_scores SET reasons_up = 'region=UK & Ireland', reasons_down = ''")
    leads = _get(old, tokens)
    assert all(lead["up"] == [{"feature": "region", "value": "UK & Ireland", "effect": None}] for lead in leads["ann"])
    assert all(lead["down"] == [] for lead in leads["ann"])
