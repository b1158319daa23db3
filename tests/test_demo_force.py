"""``hitrate demo --force`` starts from an empty store (issue 16): nothing of the replaced store stays (accounts,
tokens, goals, interventions, feedback, scores, definitions, quarantine, import history), unless ``--keep-users``:
then the accounts stay and their passwords still work, but every session and API token of theirs ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.engine.definitions import definitions_in_force, record_definitions
from hitrate.improve.feedback import add_feedback
from hitrate.improve.goals import set_goal
from hitrate.improve.interventions import add_intervention
from hitrate.spec.model import default_definitions
from hitrate.store.embedded import Store
from hitrate.store.schema import TABLES
from hitrate.store.users import add_user, check_password, get_user, new_token, user_for_token
from hitrate.synth.demo import build_demo

runner = CliRunner()
PASSWORD = "correct-horse-battery"
#: Tables that hold something of the replaced store before the demo (every one the store has but these).
LEFT = {"hitrate_meta", "import_batches", "compiled_queries", "products", "accounts", "activities", "stage_history"}


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stderr


def bookkeeping(store: Store) -> dict[str, int]:
    """Rows per table that is not a data table (the data tables are replaced by the demo anyway)."""
    names = [n for (n,) in store.fetch("SELECT table_name FROM duckdb_tables() WHERE schema_name = current_schema()")]
    return {n: store.count(n) for n in sorted(names) if n not in TABLES and n != "hitrate_meta"}


@pytest.fixture
def used_store(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A store in use: imported data (with a quarantined row), an account per role with a token, a goal, an
    intervention, feedback on a lost deal, a lead score and definitions put in force."""
    path = tmp_path / "used.duckdb"
    with Store(path) as store:
        build_demo(store, seed=3, n_opportunities=300)
        rep, team = store.fetch("SELECT rep, team FROM reps ORDER BY rep LIMIT 1")[0]
        lost = store.fetch("SELECT id FROM opportunities WHERE outcome = 'lost' ORDER BY id LIMIT 1")[0][0]
        add_user(store, "ann", "admin", password=PASSWORD)
        add_user(store, "mo", "manager", teams=[team], password=PASSWORD)
        add_user(store, "rita", "rep", rep=rep, password=PASSWORD)
        tokens = {name: new_token(store, name) for name in ("ann", "mo", "rita")}
        set_goal(store, f"rep={rep}", target=0.4, period="2024", set_by="ann")
        add_intervention(store, f"team={team}", kind="coaching", start="2024-03-01", added_by="mo")
        add_feedback(store, lost, reason="price", note="too dear", recorded_by="rita")
        store.raw.execute("INSERT INTO lead_scores VALUES (?, 0.5, 'B', '[]', '[]', 'm', '', now()::TIMESTAMP)", [lost])
        record_definitions(store, default_definitions().model_copy(update={"basis": "cohort"}), "test")
        # a CRM sync's state, stages and a deleted deal; a digest sent
        store.raw.execute(
            "INSERT INTO crm_sync (source, cursor, synced_at) VALUES ('hubspot', '2024-01-01', now()::TIMESTAMP)"
        )
        store.raw.execute("INSERT INTO crm_stages (source, stage_id, stage) VALUES ('hubspot', 's1', 'Won')")
        store.raw.execute("INSERT INTO crm_deleted (source, id) VALUES ('hubspot', 'H1')")
        store.raw.execute("INSERT INTO digest_sent VALUES ('2024-W01', 'ann@example.com', 'email', now())")
    imported = tmp_path / "more.csv"
    imported.write_text("id,stage,amount\nX1,Won,100\nX2,Lost,oops\n")
    code, err = run("import", str(imported), "--db", str(path))
    assert code == 0, err
    with Store(path) as store:
        counts = bookkeeping(store)
        assert all(counts[t] for t in set(counts) - LEFT), counts  # every table holds something to lose
        assert definitions_in_force(store).basis == "cohort"
    return path, tokens


def test_demo_force_starts_from_an_empty_store(used_store: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    path, tokens = used_store
    code, err = run("demo", "--n", "300", "--force", "--report", str(tmp_path / "r.html"), "--db", str(path))
    assert code == 0, err
    assert "empty store" in err
    with Store(path) as store:
        counts = bookkeeping(store)
        assert counts.pop("import_batches") == 1 and store.fetch("SELECT kind FROM import_batches") == [("synth",)]
        assert not {t: n for t, n in counts.items() if n and t != "compiled_queries"}, counts
        assert store.count("quarantine") == 0 and not store.has_imported_data()
        assert definitions_in_force(store).hash == default_definitions().hash
        assert store.count("opportunities") == 300
        assert all(user_for_token(store, t) is None for t in tokens.values())
        assert check_password(store, "ann", PASSWORD) is None


def test_demo_force_keep_users_keeps_accounts_but_ends_their_sessions_and_tokens(
    used_store: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    path, tokens = used_store
    with Store(path) as store:
        before = {name: get_user(store, name) for name in tokens}
    args = ["demo", "--n", "300", "--force", "--keep-users", "--report", str(tmp_path / "r.html"), "--db", str(path)]
    code, err = run(*args)
    assert code == 0, err
    assert "kept its 3 account(s)" in err
    with Store(path) as store:
        counts = bookkeeping(store)
        assert counts.pop("users") == 3 and counts.pop("import_batches") == 1
        assert not {t: n for t, n in counts.items() if n and t != "compiled_queries"}, counts
        for name, token in tokens.items():
            user, old = get_user(store, name), before[name]
            assert user is not None and old is not None
            assert (user.role, user.teams, user.rep) == (old.role, old.teams, old.rep)
            assert user.session_version > old.session_version, "a cookie made before the demo no longer works"
            assert user_for_token(store, token) is None
            assert check_password(store, name, PASSWORD) is not None
        assert definitions_in_force(store).hash == default_definitions().hash


def test_demo_without_force_over_an_earlier_demo_replaces_only_the_data(tmp_path: Path) -> None:
    path = tmp_path / "demo.duckdb"
    with Store(path) as store:
        build_demo(store, seed=3, n_opportunities=300)
        add_user(store, "ann", "admin", password=PASSWORD)
        token = new_token(store, "ann")
    code, err = run("demo", "--n", "200", "--report", str(tmp_path / "r.html"), "--db", str(path))
    assert code == 0, err
    with Store(path) as store:
        assert store.count("opportunities") == 200 and user_for_token(store, token) is not None
