"""The example commands in docs/commands/*.md and the README, run through the CLI and compared with the output
the docs show (issue 17, deliverable 4). The docs are what must be true: where an example's output differs,
the docs are updated to the real output, unless the difference is a bug.

What an example is: a line ``$ hitrate ...`` (indented four spaces, or inside a fenced block). The output it
shows is the indented lines right below it, or the fenced block that follows it, or (inside a fenced block)
the lines up to the next ``$`` line. Each file's examples run in order on a copy of one store (the demo store
for the files in DEMO, the Maven sample for the files in MAVEN), so an example may build on the one before.

How output is compared (each rule below is one the docs state in their own words):

- lines are compared without trailing whitespace; box-drawing rules (``━``, ``─``, ``═``) of any width match;
- a line ``...`` (or ``…``) in the docs stands for any number of lines;
- a line the docs show that the command wrote to stderr (warnings, "Built ...", "Report written ...") may sit
  anywhere in the shown output, and stderr lines the docs leave out are not required ("the stderr warning is
  left out here");
- ``json`` fences are re-wrapped and trimmed in the docs: the command must print valid JSON, and each
  ``"key": value`` pair the docs show with a number or string value must be in it;
- VOLATILE: temporary paths, timings and timestamps (when a reason was recorded), replaced by a placeholder
  on both sides.
- the terminal width (COLUMNS) is that of the widest table the docs show, so wrapped cells wrap the same way
  (200 when the docs show no table).

Examples that cannot run here are in SKIP with the reason; the test fails when a listed example no longer
appears in the docs, so the list stays accurate. Files not run yet are in NOT_YET, each with what it needs.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.ingest import import_files
from hitrate.store.embedded import Store
from tests.conftest import MAVEN, MAVEN_FILES, ROOT, require

DOCS = ROOT / "docs" / "commands"
#: Files whose examples run on the demo store (hitrate demo, seed 7, 20,000 deals).
DEMO = {
    "coach.md",
    "definitions-show.md",
    "demo.md",
    "experiment-compare.md",
    "experiment-plan.md",
    "feedback-add.md",
    "feedback-list.md",
    "funnel.md",
    "goals-progress.md",
    "goals-set.md",
    "intervention-add.md",
    "intervention-effect.md",
    "intervention-list.md",
    "outreach.md",
    "presets-list.md",
    "presets-show.md",
    "reasons.md",
    "worth.md",
}
#: Files whose examples run on the Maven sample imported with the maven preset.
MAVEN_DOCS = {"forecast.md", "rates.md", "report.md"}

#: Files whose examples this test does not run yet, each with what running them needs. Not a skip: a gap, kept
#: in view here (issue 17).
NOT_YET = {
    "README.md": "examples on files outside the repository (a Salesforce export, football-data seasons, a PAR sheet)",
    "definitions-history.md": "definitions files from docs/definitions.md and their timestamps",
    "definitions-init.md": "writes hitrate.yaml; its output is the whole file",
    "doctor.md": "the 207-deal export with broken dates the doc was made on",
    "goals-list.md": "the date each goal was set (the day the docs were made)",
    "import.md": "the broken and renamed export files the doc imports",
    "quarantine-list.md": "the broken file from import.md",
    "score-train.md": "the X Education train/test split files, and a 2-minute training",
    "serve.md": "a web server",
    "slots-par.md": "the PAR sheet CSV by the name the doc uses",
    "users-add.md": "a shell pipe (printf ... |) and the users the other examples add",
    "users-list.md": "the users and tokens of its session, with their dates",
    "users-remove.md": "the user 'mo' made before it",
    "users-revoke.md": "a token id made in its session",
    "users-tokens.md": "the tokens made in its session, with their dates",
}

#: Stores an example names as a file in its folder: file -> {name: store}.
STORE_FILES = {"demo.md": {"maven.duckdb": "maven"}}

#: Files whose examples show the state another file's examples make: that file's examples run first (exit codes
#: checked, output not compared).
AFTER = {
    "feedback-list.md": "feedback-add.md",
    "reasons.md": "feedback-add.md",
    "goals-progress.md": "goals-set.md",
    "intervention-effect.md": "intervention-add.md",
    "intervention-list.md": "intervention-add.md",
}

_DEFS = "needs a definitions file shown in docs/definitions.md, not one kept as a file"
_STATE = "shows store state made by commands the docs do not show"
_FILE = "needs an export file that is not in the repository or ../shared/data under this name"
#: Examples that cannot run here: (file, command) -> why. A listed example that is no longer in the docs fails.
SKIP: dict[tuple[str, str], str] = {
    ("definitions-check.md", "hitrate definitions check hitrate.yaml"): _DEFS,
    ("definitions-check.md", "hitrate definitions check cohort.yaml"): _DEFS,
    ("definitions-check.md", "hitrate definitions check bad.yaml"): _DEFS,
    ("definitions-check.md", "hitrate definitions check badfield.yaml"): _DEFS,
    ("definitions-show.md", "hitrate definitions show --definitions qualified.yaml"): _DEFS,
    ("definitions-show.md", "hitrate definitions show --format json"): _STATE + " (stages.yaml put in force)",
    (
        "goals-set.md",
        'hitrate goals set "team=Team East" --target 0.40 --from 2024-12-01 --to 2025-02-28 --set-by ann',
    ): (_STATE + " (goal 2, for rep Clara Dahl, set before it)"),
    ("presets-show.md", "hitrate import report.csv --preset ./my-salesforce.yaml"): _FILE + " (report.csv, a preset)",
}

#: Volatile bits, replaced on both sides before comparing: (pattern, placeholder).
VOLATILE = [
    (re.compile(r"/tmp/[\w./-]+"), "<tmp path>"),
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"), "<timestamp>"),
    (re.compile(r"\(\d+(\.\d+)? s in all\)"), "(<time> s in all)"),
    (re.compile(r"\b\d+(\.\d+)? (ms|s)\b"), "<time>"),
]
RULES = re.compile(r"[━─═]+")
ELISION = {"...", "…"}


@dataclass
class Example:
    """One ``$ hitrate`` line of a doc and the output shown below it (None when it shows none)."""

    file: str
    command: str
    shown: list[str] | None
    json: bool = False


def examples_in(path: Path) -> list[Example]:
    """The examples of one markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Example] = []
    i, fence = 0, None
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = None if fence is not None else stripped[3:]
            i += 1
            continue
        if fence is not None and stripped.startswith("$ hitrate "):
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith(("$ ", "```")):
                j += 1
            found.append(Example(path.name, stripped[2:], lines[i + 1 : j] or None))
            i = j
            continue
        if fence is None and line.startswith("    $ hitrate "):
            j = i + 1
            while j < len(lines) and lines[j].startswith("    ") and not lines[j].strip().startswith("$"):
                j += 1
            shown: list[str] | None = [x[4:] for x in lines[i + 1 : j]] or None
            is_json = False
            k = j
            while k < len(lines) and not lines[k].strip():
                k += 1
            if shown is None and k < len(lines) and lines[k].startswith("```") and k > j - 1:
                end = k + 1
                while end < len(lines) and not lines[end].startswith("```"):
                    end += 1
                shown, is_json = lines[k + 1 : end], lines[k].strip() == "```json"
                j = end + 1
            found.append(Example(path.name, stripped[2:], shown, is_json))
            i = j
            continue
        i += 1
    return found


def width_of(shown: list[str] | None) -> int:
    """The terminal width the docs' output was made at: the width of its widest table, else a wide 200."""
    tables = [len(x.rstrip()) for x in shown or [] if x.lstrip().startswith(("┏", "┌", "╭"))]
    return max(tables, default=200)


def normalise(line: str) -> str:
    out = RULES.sub("─", line.rstrip())
    for pattern, placeholder in VOLATILE:
        out = pattern.sub(placeholder, out)
    return out


def matches(shown: list[str], stdout: list[str], stderr: list[str]) -> str | None:
    """None when the shown output fits the real one by the rules in the module docstring, else why not."""
    errs = {normalise(x) for x in stderr}
    want = [normalise(x) for x in shown if normalise(x) not in errs]
    got = [normalise(x) for x in stdout]
    while got and not got[-1]:
        got.pop()
    while want and not want[-1]:
        want.pop()
    segments: list[list[str]] = [[]]
    for w in want:
        if w.strip() in ELISION:
            segments.append([])
        else:
            segments[-1].append(w)
    pos = 0
    for n, seg in enumerate(segments):
        if not seg:
            continue
        anchored = n == 0
        at = next(
            (
                p
                for p in range(pos, len(got) - len(seg) + 1)
                if got[p : p + len(seg)] == seg and (p == pos or not anchored)
            ),
            None,
        )
        if at is None:
            return f"not found in order: {seg[0]!r}...\nreal output:\n" + "\n".join(got)
        pos = at + len(seg)
    if segments[-1] and pos != len(got):
        return "the real output goes on after the shown output:\n" + "\n".join(got[pos:])
    return None


def json_fits(shown: list[str], stdout: str) -> str | None:
    """None when stdout is JSON holding every scalar ``"key": value`` pair shown, else why not."""
    try:
        data = json.loads(stdout)
    except ValueError as exc:
        return f"not JSON: {exc}"
    text = json.dumps(data, ensure_ascii=False)
    for key, value in re.findall(r'"(\w+)": ("[^"]*"|-?\d[\d.e+-]*|null|true|false)', "\n".join(shown)):
        if f'"{key}": {value}' not in text:
            return f'"{key}": {value} is not in the output'
    return None


def all_examples() -> list[Example]:
    files = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]
    return [e for f in files for e in examples_in(f)]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo store and the Maven store, each built once for the module."""
    base = tmp_path_factory.mktemp("docs-stores")
    demo = base / "demo.duckdb"
    result = CliRunner().invoke(app, ["demo", "--db", str(demo), "--report", str(base / "demo.html")])
    assert result.exit_code == 0, result.output
    built = {"demo": demo}
    if MAVEN.exists():
        maven = base / "maven.duckdb"
        with Store(maven) as s:
            import_files(s, MAVEN_FILES, preset="maven")
        built["maven"] = maven
    return built


def test_the_skip_list_names_examples_that_exist() -> None:
    present = {(e.file, e.command) for e in all_examples()}
    assert set(SKIP) <= present, sorted(set(SKIP) - present)


def test_every_example_file_is_run_or_skipped() -> None:
    """A doc with examples names its store (DEMO or MAVEN_DOCS), or lists each example in SKIP, or is one of the
    files NOT_YET covers."""
    for e in all_examples():
        if (e.file, e.command) not in SKIP and e.file not in NOT_YET:
            assert e.file in DEMO | MAVEN_DOCS, f"{e.file}: {e.command!r} runs on no store and is not in SKIP"
    assert not set(NOT_YET) & (DEMO | MAVEN_DOCS)


@pytest.mark.parametrize("doc", sorted(DEMO | MAVEN_DOCS))
def test_examples_print_what_the_docs_show(
    doc: str, stores: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = "demo" if doc in DEMO else "maven"
    if kind not in stores:
        require(f"the shared data folder {MAVEN} is missing")
    db = tmp_path / f"{kind}.duckdb"
    shutil.copy(stores[kind], db)
    monkeypatch.chdir(tmp_path)  # files an example writes land here
    for name, store in STORE_FILES.get(doc, {}).items():
        if store not in stores:
            require(f"the shared data folder {MAVEN} is missing")
        shutil.copy(stores[store], tmp_path / name)
    runner = CliRunner()
    env = {"HITRATE_DB": str(db), "HITRATE_ENGINE": "", "HITRATE_DEFINITIONS": ""}
    for e in examples_in(DOCS / AFTER[doc]) if doc in AFTER else []:
        args = shlex.split(e.command)[1:]
        before = runner.invoke(app, args, env={**env, "COLUMNS": "200"}, catch_exceptions=False)
        assert before.exit_code == 0 or (e.shown and e.shown[0].startswith("error:")), before.stderr
    ran = 0
    for e in examples_in(DOCS / doc):
        if (e.file, e.command) in SKIP:
            continue
        args = shlex.split(e.command)[1:]
        result = runner.invoke(app, args, env={**env, "COLUMNS": str(width_of(e.shown))}, catch_exceptions=False)
        ran += 1
        shown_error = bool(e.shown) and any(x.startswith("error:") for x in e.shown)
        assert result.exit_code == (2 if shown_error else 0), f"{doc}: {e.command}\n{result.stderr}"
        if e.shown is None:
            continue
        if e.json:
            why = json_fits(e.shown, result.stdout)
        else:
            why = matches(e.shown, result.stdout.splitlines(), result.stderr.splitlines())
        assert why is None, f"{doc}: {e.command}\n{why}"
    assert ran
