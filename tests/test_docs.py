"""The public API is pinned, and --help, the docs and the README stay in step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

import hitrate
from hitrate.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

PUBLIC_API = [
    "AmbiguousDateFormatError",
    "BacktestResult",
    "ForecastResult",
    "forecast",
    "forecast_backtest",
    "BenchmarkResult",
    "BetsResult",
    "ComparisonResult",
    "DoctorResult",
    "Condition",
    "Definitions",
    "DefinitionsError",
    "EffectResult",
    "ExperimentPlan",
    "ExperimentResult",
    "FileReport",
    "GoalsProgress",
    "HitrateError",
    "HitrateWarning",
    "ImportReport",
    "InputFileError",
    "InvalidParameterError",
    "InvalidValueError",
    "MissingDependencyError",
    "NotFoundError",
    "PermissionDeniedError",
    "RampResult",
    "RatesResult",
    "ReasonsResult",
    "RepCard",
    "Result",
    "SlotStats",
    "SmallSampleWarning",
    "StageFunnel",
    "StageGaps",
    "Store",
    "StoreError",
    "StrictImportError",
    "SyncError",
    "SyncReport",
    "SynthData",
    "SynthTruth",
    "TrendResult",
    "UnknownFieldError",
    "UserInputError",
    "ValueRateWarning",
    "WorthResult",
    "__version__",
    "add_feedback",
    "add_intervention",
    "benchmark",
    "bets",
    "build_demo",
    "coach",
    "compare",
    "connect",
    "default_definitions",
    "doctor",
    "definitions_history",
    "definitions_in_force",
    "experiment_compare",
    "experiment_plan",
    "funnel",
    "generate",
    "sync",
    "goals_progress",
    "import_files",
    "intervention_effect",
    "list_feedback",
    "list_goals",
    "list_interventions",
    "load_definitions",
    "outreach",
    "parse_definitions",
    "preset_names",
    "ramp",
    "rates",
    "reasons",
    "score_evaluate",
    "score_explain",
    "score_predict",
    "score_train",
    "set_goal",
    "slots_par",
    "slots_reels",
    "slots_spins",
    "stage_gaps",
    "trend",
    "use_definitions",
    "wilson_interval",
    "worth",
    "write_store_report",
]


def commands() -> list[tuple[str, Any]]:
    """Every leaf command as (page name, command): 'import', 'quarantine-list', ..."""
    out: list[tuple[str, Any]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        if hasattr(cmd, "commands"):
            if path and getattr(cmd, "invoke_without_command", False):  # a group that is a command too (forecast)
                out.append(("-".join(path), cmd))
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
        else:
            out.append(("-".join(path), cmd))

    walk(get_command(app), [])
    return out


def test_public_api_is_pinned():
    assert sorted(hitrate.__all__) == sorted(PUBLIC_API)
    for name in PUBLIC_API:
        assert getattr(hitrate, name) is not None
        if name != "__version__":
            assert getattr(hitrate, name).__doc__, f"{name} has no docstring"


@pytest.mark.parametrize(("page", "command"), commands(), ids=[c[0] for c in commands()])
def test_every_command_has_help_docstring_and_a_docs_page_naming_every_option(page, command):
    assert command.help, f"{page} has no docstring"
    doc = DOCS / "commands" / f"{page}.md"
    assert doc.exists(), f"no docs page {doc.relative_to(ROOT)}"
    text = doc.read_text()
    for param in command.params:
        for flag in getattr(param, "opts", []):
            if flag.startswith("-"):
                assert f"`{flag}" in text or f"{flag}" in text, f"{doc.name} does not mention {flag}"
    # wide enough that Rich does not cut a long flag (--allow-outcome-changes) in the options column
    result = CliRunner().invoke(app, [*page.split("-"), "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    for param in command.params:
        if getattr(param, "hidden", False):  # an older spelling kept for scripts: in the docs, not listed by --help
            continue
        for flag in getattr(param, "opts", []):
            if flag.startswith("--"):
                assert flag in result.stdout


def test_docs_pages_name_only_existing_commands():
    pages = {p.stem for p in (DOCS / "commands").glob("*.md")}
    assert pages == {name for name, _ in commands()}


def test_readme_names_every_top_level_command_and_the_two_quick_start_commands():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick
    for name in get_command(app).commands:  # type: ignore[attr-defined]
        assert f"hitrate {name}" in readme, f"README does not mention `hitrate {name}`"


def test_glossary_defines_the_rates():
    text = (DOCS / "glossary.md").read_text().lower()
    for term in ("hit rate", "win rate", "conversion rate", "cohort", "wilson"):
        assert term in text


def test_docs_index_links_every_command_page():
    index = (DOCS / "index.md").read_text()
    for page, _ in commands():
        assert f"commands/{page}.md" in index, f"docs/index.md does not link commands/{page}.md"
