"""The example commands of docs/commands/*.md, the README and the prose pages in PROSE, run through the CLI and
compared with the output the docs show (issue 17, deliverable 4). The docs are what must be true: where an
example's output differs, the docs are updated to the real output, unless the difference is a bug.

What an example is: a line ``$ ...`` (indented four spaces, or inside a fenced block), continued on the next
line when it ends with ``\\``. The output it shows is the indented lines right below it, or the fenced block
that follows it, or (inside a fenced block) the lines up to the next ``$`` line. The shell lines this test
runs (every other ``$`` line is in SKIP, with the reason):

- ``hitrate ARGS``, with ``*`` in an argument expanded as the shell would (``E0/*.csv``);
- ``printf '%s\\n' 'TEXT' | hitrate ARGS`` and ``hitrate ARGS < FILE``: TEXT or the file is the standard input;
- ``NAME=$(hitrate ARGS | tail -1)``: the last line of stdout goes to ``$NAME``; the shown output is stderr;
- ``curl -s -H "Authorization: Bearer $NAME" 'URL' | head -c N``: the request goes to the web app of the store
  (``hitrate.web.create_app``) in this process, as ``hitrate serve`` would answer it;
- ``cat FILE``: the lines shown below it are written to FILE, so a doc shows the file an example reads.

Where the examples run: each page's examples run in order in an empty folder of their own, so an example may
build on the one before. The folder's path is ``/tmp/hrdocs-`` and eight characters, and output shows it as
``/home/ann/sales-data`` (the same length, so tables keep their widths); the docs show that path. The folder
holds the files docs/definitions.md and the page itself show as a ``yaml`` block whose first line is
``# NAME.yaml`` (qualified.yaml, my-salesforce.yaml), and the files FILES names for the page: copies of the
shared data (``../shared/data``) or of the repository's, a store, or a file made here as the page describes
it (the broken Maven export, the Danish one). The store (``HITRATE_DB``,
outside the folder) is a copy of the demo store (hitrate demo, seed 7, 20,000 deals) for the pages in DEMO,
of the Maven sample imported with the maven preset for MAVEN_DOCS, else a new one; STORE_AT switches a page
to another store from one example on (``maven``, ``empty``; ``empty:NAME`` for a second new one, and back
to a store used before by its name). A page in AFTER starts where the examples of another page left off (its
folder, stores and variables; those examples are run once per module, exit codes checked, output not
compared).

How output is compared (each rule below is one the docs state in their own words):

- lines are compared without trailing whitespace; box-drawing rules (``━``, ``─``, ``═``) of any width match;
- a line ``...`` (or ``…``) in the docs stands for any number of lines;
- a line the docs show that the command wrote to stderr (warnings, "Built ...", "Report written ...") may sit
  anywhere in the shown output, and stderr lines the docs leave out are not required ("the stderr warning is
  left out here");
- ``json`` fences are re-wrapped and trimmed in the docs: the command must print valid JSON, and each
  ``"key": value`` pair the docs show with a number or string value must be in it;
- VOLATILE: temporary paths, timings, timestamps (when a reason was recorded, a definitions file put in
  force) and API tokens, replaced by a placeholder on both sides. VOLATILE_IN: the same for one page only
  (the day a goal was set, token ids); a token id the docs show stands for the real one in the commands
  after it (``hitrate users revoke ann ID``);
- the terminal width (COLUMNS) is that of the widest table the docs show, so wrapped cells wrap the same way
  (200 when the docs show no table);
- an example shown with an ``error:`` line must exit with code 2, any other with 0.

The ``console`` blocks of the pages in ELSEWHERE are run by tests/test_domain_doc_examples.py, their other
examples here. Besides: the README's quick start shows what ``hitrate demo`` prints, definitions-init.md the
file ``hitrate definitions init`` writes, and no page shows output under ``hitrate`` commands written without
``$`` (an example this test would not see).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.ingest import import_files
from hitrate.store.embedded import Store
from tests.conftest import DATA, MAVEN, MAVEN_FILES, ROOT, require, require_module

DOCS = ROOT / "docs" / "commands"
#: Prose pages whose examples run here, keyed ``../NAME`` as docs/commands links them.
PROSE = (
    "betting.md",
    "definitions.md",
    "engines.md",
    "gaming.md",
    "import.md",
    "marketing.md",
    "outreach.md",
    "statistics.md",
    "synthetic.md",
)
#: Prose pages whose ``console`` blocks another test runs (with the files the page shows); their other examples
#: run here.
ELSEWHERE = {
    "betting.md": "tests/test_domain_doc_examples.py",
    "gaming.md": "tests/test_domain_doc_examples.py",
    "marketing.md": "tests/test_domain_doc_examples.py",
}


def pages() -> dict[str, Path]:
    """Every page whose examples this test runs, by key: the command docs by name, ``README.md``, and the
    prose pages as ``../NAME``."""
    found = {p.name: p for p in sorted(DOCS.glob("*.md"))}
    found["README.md"] = ROOT / "README.md"
    found.update({f"../{name}": ROOT / "docs" / name for name in PROSE})
    return found


#: Pages whose examples run on the demo store (hitrate demo, seed 7, 20,000 deals).
DEMO = {
    "coach.md",
    "demo.md",
    "experiment-compare.md",
    "experiment-plan.md",
    "feedback-add.md",
    "feedback-list.md",
    "funnel.md",
    "goals-list.md",
    "goals-progress.md",
    "goals-set.md",
    "intervention-add.md",
    "intervention-effect.md",
    "intervention-list.md",
    "outreach.md",
    "presets-list.md",
    "reasons.md",
    "score-train.md",
    "serve.md",
    "users-add.md",
    "worth.md",
    "../outreach.md",
    "../statistics.md",
    "../synthetic.md",
}
#: Pages whose examples run on the Maven sample imported with the maven preset.
MAVEN_DOCS = {
    "definitions-check.md",
    "definitions-history.md",
    "definitions-show.md",
    "doctor.md",
    "forecast.md",
    "rates.md",
    "report.md",
}

#: Examples from which a page runs on another store: (page, command) -> store (see the module docstring).
STORE_AT = {
    ("README.md", "hitrate benchmark --by team --adjust sector"): "maven",
    ("README.md", "hitrate import E0/E0_2324.csv E0/E0_2425.csv --preset football-data"): "empty:football",
    (
        "import.md",
        "hitrate import sales_pipeline.csv sales_teams.csv accounts.csv products.csv --preset maven",
    ): "empty:maven",
    ("import.md", "hitrate import pipeline-broken.csv --preset maven"): "empty:broken",
    ("import.md", "hitrate import amb.csv --map closed_at=Lukkedato"): "empty:amb",
    ("import.md", "hitrate import sales_pipeline.csv --preset maven --format json"): "empty:maven",
    ("../definitions.md", "hitrate rates --definitions qualified.yaml"): "maven",
}

_PIPELINE = "crm_sales_opportunities_maven/sales_pipeline.csv"
_PAR = "slot_par_sheets_harrigan_dixon_2009/table2_double_diamond_deluxe_92_5_outcome_distribution.csv"
_SFDC = "crm_exports/salesforce/sfdc-assets_data-cloud-workshop__Opportunity.csv"
#: Files a page's examples read, put in its folder: name -> ``data:PATH`` (a copy of the shared data's PATH),
#: ``repo:PATH`` (a copy of the repository's), ``store:KIND`` (a copy of a store) or ``make:NAME`` (made by
#: MAKERS[NAME]).
FILES: dict[str, dict[str, str]] = {
    "README.md": {
        "sfdc-assets_data-cloud-workshop__Opportunity.csv": f"data:{_SFDC}",
        "E0": "data:football_data_co_uk_odds/E0",
        Path(_PAR).name: f"data:{_PAR}",
    },
    "demo.md": {"maven.duckdb": "store:maven"},
    "import.md": {
        **{path.name: f"data:{path.relative_to(DATA)}" for path in MAVEN_FILES},
        "pipeline-broken.csv": "make:pipeline-broken",
    },
    "quarantine-list.md": {"pipeline-broken.csv": "make:pipeline-broken"},
    "score-train.md": {"Leads.csv": "data:lead_scoring_x_education/Leads.csv"},
    "serve.md": {"mo-password.txt": "make:mo-password"},
    "bets.md": {"E0": "data:football_data_co_uk_odds/E0"},
    "slots-par.md": {Path(_PAR).name: f"data:{_PAR}"},
    "../marketing.md": {
        "online_shoppers_intention.csv": "data:uci_online_shoppers_intention/online_shoppers_intention.csv",
        "docs/examples/sessions.yaml": "repo:docs/examples/sessions.yaml",
    },
    "../import.md": {"salg.csv": "make:salg"},
}

#: Pages whose examples start where another page's examples left off: page -> that page.
AFTER = {
    "feedback-list.md": "feedback-add.md",
    "reasons.md": "feedback-add.md",
    "goals-list.md": "goals-set.md",
    "goals-progress.md": "goals-set.md",
    "intervention-effect.md": "intervention-add.md",
    "intervention-list.md": "intervention-add.md",
    "users-list.md": "serve.md",
    "users-email.md": "serve.md",
    "users-passwd.md": "serve.md",
    "users-remove.md": "serve.md",
    "users-token.md": "serve.md",
    "users-tokens.md": "serve.md",
    "users-revoke.md": "users-tokens.md",
}

#: ``$`` lines that are not run: (page, command) -> why. A listed line that is no longer in the docs fails.
SKIP: dict[tuple[str, str], str] = {
    ("demo.md", "export HITRATE_DB=$(mktemp -d)/s.duckdb"): "the test gives each page a new store (HITRATE_DB)",
    ("serve.md", "hitrate serve"): "a server that runs until Ctrl+C; the curl lines ask the same app in process",
    ("serve.md", "export HITRATE_HUBSPOT_TOKEN=pat-eu1-..."): "a HubSpot account's token, named for the example",
    ("serve.md", "hitrate serve --sync hubspot --sync-every 1h"): (
        "a server syncing a real HubSpot until Ctrl+C (tests/test_serve_sync.py runs it against a fake HubSpot and "
        "holds its log line)"
    ),
    ("sync.md", "HITRATE_HUBSPOT_TOKEN=pat-eu1-... hitrate sync hubspot"): (
        "a HubSpot account (tests/test_sync_crms.py and tests/test_sync_hubspot.py sync a fake HubSpot API)"
    ),
    ("sync.md", "hitrate sync pipedrive --every 15m"): (
        "a Pipedrive account, until Ctrl+C (tests/test_sync_schedule.py runs sync --every against a fake HubSpot)"
    ),
    ("score-push.md", "hitrate score push hubspot --property hitrate_score"): (
        "a HubSpot account (tests/test_score_push.py pushes to a fake HubSpot and holds the dry run's table)"
    ),
    ("../engines.md", "hitrate rates --engine postgresql://analyst@db.internal/crm --by team"): (
        "a PostgreSQL server named for the example (tests/test_engines_cli.py runs rates and benchmark on one)"
    ),
    ("../engines.md", "hitrate benchmark --engine spark+local:///data/crm --by rep"): (
        "Parquet tables named for the example (tests/test_engines_cli.py runs rates and benchmark on Spark)"
    ),
}

#: Volatile bits, replaced on both sides before comparing: (pattern, placeholder).
VOLATILE = [
    (re.compile(r"/tmp/[\w./-]+"), "<tmp path>"),
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"), "<timestamp>"),
    (re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d\b"), "<date time>"),
    (re.compile(r"\(\d+(\.\d+)? s in all\)"), "(<time> s in all)"),
    (re.compile(r"\b\d+(\.\d+)? (ms|s)\b"), "<time>"),
    (re.compile(r"\bhr_[\w-]{43}\b"), "<API token>"),
]
#: A token id, in JSON and as the first cell of a table row; its group is the id (see the module docstring).
_TOKEN_IDS = [
    (re.compile(r'"id": "([0-9a-f]{12})"'), '"id": "<token id>"'),
    (re.compile(r"^│ ([0-9a-f]{12}) │"), "│ <token id> │"),
]
#: Volatile bits of one page only: page -> [(pattern, placeholder)].
VOLATILE_IN = {
    "goals-list.md": [(re.compile(r"│ \d{4}-\d\d-\d\d │$"), "│ <the day it was set> │")],
    "users-revoke.md": _TOKEN_IDS,
    "users-tokens.md": _TOKEN_IDS,
}
RULES = re.compile(r"[━─═]+")
ELISION = {"...", "…"}
#: The example folder as made here, and as the docs show it (the same length).
WORK = re.compile(r"/tmp/hrdocs-[a-z0-9_]{8}")
SHOWN_WORK = "/home/ann/sales-data"


@dataclass
class Example:
    """One ``$`` line of a doc and the output shown below it (None when it shows none)."""

    file: str
    command: str
    shown: list[str] | None
    json: bool = False
    #: Where the shown lines are in the file (first line, the line after the last) and their indent.
    at: tuple[int, int, int] = (0, 0, 0)


def _command(lines: list[str], i: int, indent: int) -> tuple[str, int]:
    """The ``$`` line at ``i`` without its ``$``, joined with the lines a trailing ``\\`` continues it on; and
    the index of the line after it."""
    command = lines[i].strip()[2:]
    i += 1
    while command.endswith("\\") and i < len(lines) and lines[i].startswith(" " * indent):
        command = command[:-1].rstrip() + " " + lines[i].strip()
        i += 1
    return command, i


def examples_in(path: Path, key: str | None = None) -> list[Example]:
    """The examples of one markdown file, in order (``key``: the page's key, its name by default)."""
    name = key or path.name
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
        if fence == "console" and path.name in ELSEWHERE:
            i += 1
            continue
        if fence is not None and stripped.startswith("$ "):
            command, j = _command(lines, i, 0)
            start = j
            while j < len(lines) and not lines[j].strip().startswith(("$ ", "```")):
                j += 1
            found.append(Example(name, command, lines[start:j] or None, at=(start, j, 0)))
            i = j
            continue
        if fence is None and line.startswith("    $ "):
            command, j = _command(lines, i, 4)
            start = j
            while j < len(lines) and lines[j].startswith("    ") and not lines[j].strip().startswith("$"):
                j += 1
            shown: list[str] | None = [x[4:] for x in lines[start:j]] or None
            is_json, at = False, (start, j, 4)
            k = j
            while k < len(lines) and not lines[k].strip():
                k += 1
            if shown is None and k < len(lines) and lines[k].startswith("```"):
                end = k + 1
                while end < len(lines) and not lines[end].startswith("```"):
                    end += 1
                shown, is_json, at = lines[k + 1 : end], lines[k].strip() == "```json", (k + 1, end, 0)
                j = end + 1
            found.append(Example(name, command, shown, is_json, at))
            i = j
            continue
        i += 1
    return found


@dataclass
class Shell:
    """What one ``$`` line does, in the forms the module docstring lists."""

    kind: str  # "hitrate", "cat" or "curl"
    args: list[str]
    stdin: str | None = None
    stdin_file: str | None = None
    capture: str | None = None
    head: int | None = None


_PRINTF = re.compile(r"printf '%s\\n' ('[^']*') \| (hitrate .*)")
_CAPTURE = re.compile(r"([A-Z_]+)=\$\((hitrate .*) \| tail -1\)")
_REDIRECT = re.compile(r"(hitrate .*) < (\S+)")
_CURL = re.compile(r"(curl .*) \| head -c (\d+)")


def shell(command: str) -> Shell | None:
    """The form of a ``$`` line, or None when it is none of the forms this test runs."""
    if m := _PRINTF.fullmatch(command):
        return Shell("hitrate", shlex.split(m[2])[1:], stdin=shlex.split(m[1])[0] + "\n")
    if m := _CAPTURE.fullmatch(command):
        return Shell("hitrate", shlex.split(m[2])[1:], capture=m[1])
    if m := _REDIRECT.fullmatch(command):
        return Shell("hitrate", shlex.split(m[1])[1:], stdin_file=m[2])
    if m := _CURL.fullmatch(command):
        return Shell("curl", shlex.split(m[1])[1:], head=int(m[2]))
    words = shlex.split(command)
    if words[0] == "hitrate" and not set("|<>;&$`") & set(command):
        return Shell("hitrate", words[1:])
    if words[0] == "cat" and len(words) == 2:
        return Shell("cat", words[1:])
    return None


def width_of(shown: list[str] | None) -> int:
    """The terminal width the docs' output was made at: the width of its widest table, else a wide 200."""
    tables = [len(x.rstrip()) for x in shown or [] if x.lstrip().startswith(("┏", "┌", "╭"))]
    return max(tables, default=200)


def normalise(line: str, page: str = "") -> str:
    out = RULES.sub("─", line.rstrip())
    for pattern, placeholder in [*VOLATILE_IN.get(page, []), *VOLATILE]:
        out = pattern.sub(placeholder, out)
    return out


def matches(shown: list[str], stdout: list[str], stderr: list[str], page: str = "") -> str | None:
    """None when the shown output fits the real one by the rules in the module docstring, else why not."""
    errs = {normalise(x, page) for x in stderr}
    want = [normalise(x, page) for x in shown if normalise(x, page) not in errs]
    got = [normalise(x, page) for x in stdout]
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


REWRITE = os.environ.get("HITRATE_DOCS_REWRITE") == "1"


def rewritten(shown: list[str], stdout: list[str], stderr: list[str], page: str = "") -> list[str]:
    """The shown output brought in line with the real ``stdout``: lines that match (as :func:`matches`
    compares them) are kept as the docs write them, the docs' ``...`` keep standing for what they stood for,
    stderr lines the docs show stay where they are, every other line is the real one."""
    import difflib

    errs = {normalise(x, page) for x in stderr}
    kept_err = [(i, x) for i, x in enumerate(shown) if normalise(x, page) in errs and x.strip()]
    want = [x for x in shown if not (normalise(x, page) in errs and x.strip())]
    got = list(stdout)
    while got and not got[-1].strip():
        got.pop()
    a, b = [normalise(x, page) for x in want], [normalise(x, page) for x in got]
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out += want[i1:i2]
        elif any(x.strip() in ELISION for x in want[i1:i2]):
            out.append(next(x for x in want[i1:i2] if x.strip() in ELISION))
        else:
            out += got[j1:j2]
    for i, x in kept_err:  # at the end when the docs show them after every line of stdout, else where they were
        at_end = all(normalise(y, page) in errs or not y.strip() for y in shown[i:])
        out.insert(len(out) if at_end else min(i, len(out)), x)
    return out


def json_fits(shown: list[str], stdout: str, page: str = "") -> str | None:
    """None when stdout is JSON holding every scalar ``"key": value`` pair shown (volatile values as
    placeholders), else why not."""
    try:
        data = json.loads(stdout)
    except ValueError as exc:
        return f"not JSON: {exc}"
    text = normalise(json.dumps(data, ensure_ascii=False), page)
    for key, value in re.findall(r'"(\w+)": ("[^"]*"|-?\d[\d.e+-]*|null|true|false)', "\n".join(shown)):
        if normalise(f'"{key}": {value}', page) not in text:
            return f'"{key}": {value} is not in the output'
    return None


def all_examples() -> list[Example]:
    return [e for key, path in pages().items() for e in examples_in(path, key)]


def shown_files(path: Path) -> dict[str, str]:
    """The files a page shows as a ``yaml`` block whose first line is ``# NAME.yaml``, by name."""
    text = path.read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n# ([\w.-]+\.yaml)\n(.*?)^```", text, flags=re.M | re.S)
    return {name: body for name, body in blocks}


def _pipeline() -> Path:
    if not (DATA / _PIPELINE).exists():
        require(f"the shared data {DATA / _PIPELINE} is missing")
    return DATA / _PIPELINE


def _pipeline_broken(path: Path) -> None:
    """The broken export import.md describes: the first 50 Maven rows; after the 25th, five bad rows (Maven rows
    51-55 spoilt: a date that is none, an amount that is none, 10 fields, 3 fields, no stage) and a second copy
    of the first row, id ``1C1I7A6R``, with the amount 2000."""
    lines = _pipeline().read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:51]
    first = rows[0].split(",")
    spare = [r.split(",") for r in lines[51:56]]
    spare[0][5] = "2017-13-45"
    spare[1][7] = "abc"
    spare[4][4] = ""
    bad = [
        ",".join(spare[0]),
        ",".join(spare[1]),
        ",".join([*spare[2], "x", "y"]),
        ",".join(spare[3][:3]),
        ",".join(spare[4]),
        ",".join([*first[:7], "2000"]),
    ]
    path.write_text("\n".join([header, *rows[:25], *bad, *rows[25:]]) + "\n", encoding="utf-8")


def _salg(path: Path) -> None:
    """The Maven pipeline as the Danish export of docs/import.md: Danish names, ``;``, cp1252, day-first dates,
    a decimal comma with ``.`` for thousands."""
    import pandas as pd

    frame = pd.read_csv(_pipeline(), dtype=str, keep_default_na=False)
    stages = {"Won": "Vundet", "Lost": "Tabt", "Engaging": "I dialog", "Prospecting": "Emne"}

    def day_first(value: str) -> str:
        return "-".join(reversed(value.split("-"))) if value else ""

    def comma(value: str) -> str:
        return f"{float(value):,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".") if value else ""

    out = pd.DataFrame(
        {
            "Muligheds-ID": frame["opportunity_id"],
            "Sælger": frame["sales_agent"],
            "Produkt": frame["product"],
            "Konto": frame["account"],
            "Fase": frame["deal_stage"].map(stages),
            "Startdato": frame["engage_date"].map(day_first),
            "Lukkedato": frame["close_date"].map(day_first),
            "Beløb": frame["close_value"].map(comma),
        }
    )
    out.to_csv(path, sep=";", index=False, encoding="cp1252")


#: Files made here for FILES (``make:NAME``).
MAKERS: dict[str, Callable[[Path], None]] = {
    "pipeline-broken": _pipeline_broken,
    "salg": _salg,
    "mo-password": lambda path: path.write_text("mo's long password\n", encoding="utf-8"),
}


@dataclass
class Snapshot:
    """Where a page's examples left off: a copy of its folder and stores, the store in use, the variables."""

    folder: Path
    stores: dict[str, Path]
    active: str
    names: dict[str, str]
    bound: dict[str, str]


@dataclass
class Session:
    """One page's examples run in order: its folder, its stores, the shell variables and bound token ids."""

    page: str
    folder: Path
    store_dir: Path
    built: dict[str, Path]
    stores: dict[str, Path] = field(default_factory=dict)
    active: str = ""
    names: dict[str, str] = field(default_factory=dict)
    bound: dict[str, str] = field(default_factory=dict)

    def use(self, store: str) -> None:
        """Run the next examples on ``store`` (a new copy the first time it is named)."""
        if store not in self.stores:
            kind = store.split(":")[0]
            path = self.store_dir / f"{store.replace(':', '-')}.duckdb"
            if kind != "empty":
                if kind not in self.built:
                    require(f"the shared data folder {MAVEN} is missing")
                shutil.copy(self.built[kind], path)
            self.stores[store] = path
        self.active = store

    def prepare(self, before: Snapshot | None) -> None:
        """The page's folder and store: where ``before`` left off, else new; then its files."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        if before is not None:
            shutil.copytree(before.folder, self.folder, dirs_exist_ok=True, symlinks=True)
            for name, path in before.stores.items():
                self.stores[name] = self.store_dir / path.name
                shutil.copy(path, self.stores[name])
            self.names, self.bound = dict(before.names), dict(before.bound)
            self.use(before.active)
        else:
            self.use("demo" if self.page in DEMO else "maven" if self.page in MAVEN_DOCS else "empty")
        shown = {**shown_files(ROOT / "docs" / "definitions.md"), **shown_files(pages()[self.page])}
        for name, body in shown.items():
            (self.folder / name).write_text(body, encoding="utf-8")
        for name, source in FILES.get(self.page, {}).items():
            self.put(name, source)

    def put(self, name: str, source: str) -> None:
        """Put a file FILES names in the folder."""
        how, _, what = source.partition(":")
        target = self.folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if how == "make":
            MAKERS[what](target)
        elif how == "store":
            if what not in self.built:
                require(f"the shared data folder {MAVEN} is missing")
            shutil.copy(self.built[what], target)
        elif how == "repo":
            shutil.copy(ROOT / what, target)
        elif not (DATA / what).exists():
            require(f"the shared data {DATA / what} is missing")
        elif (DATA / what).is_dir():
            shutil.copytree(DATA / what, target)
        else:
            shutil.copy(DATA / what, target)

    def snapshot(self, into: Path) -> Snapshot:
        shutil.copytree(self.folder, into / "folder", symlinks=True)
        (into / "stores").mkdir()
        stores = {name: Path(shutil.copy(path, into / "stores")) for name, path in self.stores.items() if path.exists()}
        return Snapshot(into / "folder", stores, self.active, dict(self.names), dict(self.bound))

    def play(self, compare: bool) -> int:
        """Run the page's examples in order (``compare``: also compare their output); how many ran.

        With ``HITRATE_DOCS_REWRITE=1`` (a maintainer's tool, never set in ``make test``) an example whose
        output differs has its shown output rewritten to the real one in the page (:func:`rewritten`), and the
        test fails naming the pages rewritten, so the diff is read before it is committed."""
        ran = 0
        rewrites: list[tuple[Example, list[str]]] = []
        for e in examples_in(pages()[self.page], self.page):
            if (e.file, e.command) in SKIP:
                continue
            if (e.file, e.command) in STORE_AT:
                self.use(STORE_AT[(e.file, e.command)])
            form = shell(e.command)
            assert form is not None, f"{e.file}: {e.command!r} is no form this test runs and is not in SKIP"
            if form.kind == "cat":
                (self.folder / form.args[0]).write_text("\n".join(e.shown or []) + "\n", encoding="utf-8")
                continue
            ran += 1
            code, out, err = self.curl(form) if form.kind == "curl" else self.hitrate(e, form)
            out, err = WORK.sub(SHOWN_WORK, out), WORK.sub(SHOWN_WORK, err)
            if form.capture:
                self.names[form.capture] = out.splitlines()[-1]
                out, err = err, ""
            shown_error = bool(e.shown) and any(x.startswith("error:") for x in e.shown or [])
            assert code == (2 if shown_error else 0), f"{e.file}: {e.command}\n{err}"
            if e.shown is None:
                continue
            self.bind(e.shown, out.splitlines())
            if not compare:
                continue
            if e.json:
                why = json_fits(e.shown, out, self.page)
            else:
                why = matches(e.shown, out.splitlines(), err.splitlines(), self.page)
            if why is not None and REWRITE and not e.json:
                rewrites.append((e, rewritten(e.shown, out.splitlines(), err.splitlines(), self.page)))
                continue
            assert why is None, f"{e.file}: {e.command}\n{why}"
        if rewrites:
            path = pages()[self.page]
            lines = path.read_text(encoding="utf-8").splitlines()
            for e, new in reversed(rewrites):
                start, end, indent = e.at
                lines[start:end] = [(" " * indent + x).rstrip() if x.strip() else "" for x in new]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            pytest.fail(f"{path.name}: {len(rewrites)} example outputs rewritten (HITRATE_DOCS_REWRITE)")
        return ran

    def hitrate(self, e: Example, form: Shell) -> tuple[int, str, str]:
        """A ``hitrate`` line through typer's CliRunner: exit code, stdout, stderr."""
        args = [x for a in form.args for x in self.expand(self.bound.get(a, a))]
        stdin = form.stdin
        if form.stdin_file is not None:
            stdin = "" if form.stdin_file == "/dev/null" else (self.folder / form.stdin_file).read_text("utf-8")
        env = {
            "HITRATE_DB": str(self.stores[self.active]),
            "HITRATE_ENGINE": "",
            "HITRATE_DEFINITIONS": "",
            "COLUMNS": str(width_of(e.shown)),
        }
        result = CliRunner().invoke(app, args, input=stdin, env=env, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    def expand(self, word: str) -> list[str]:
        """``word`` with a ``*`` expanded to the matching names in the folder, sorted, as the shell does."""
        return (sorted(glob(word, root_dir=self.folder)) or [word]) if "*" in word else [word]

    def curl(self, form: Shell) -> tuple[int, str, str]:
        """A ``curl -s [-H HEADER] URL | head -c N`` line, asked of the store's web app in this process."""
        require_module("fastapi")
        from fastapi.testclient import TestClient

        from hitrate.web import create_app

        headers: dict[str, str] = {}
        words = iter(form.args)
        url = ""
        for word in words:
            if word == "-H":
                name, _, value = next(words).partition(": ")
                headers[name] = re.sub(r"\$(\w+)", lambda m: self.names[m[1]], value)
            elif not word.startswith("-"):
                url = word
        with TestClient(create_app(self.stores[self.active]), base_url="http://127.0.0.1:8000") as client:
            response = client.get(url, headers=headers)
        return 0, response.text[: form.head], ""

    def bind(self, shown: list[str], real: list[str]) -> None:
        """Token ids the shown output names stand for the real ones in the commands after it."""
        for pattern, _ in VOLATILE_IN.get(self.page, []):
            if pattern.groups:
                doc = [v for line in shown for v in pattern.findall(line)]
                got = [v for line in real for v in pattern.findall(line)]
                if len(doc) == len(got):
                    self.bound.update(zip(doc, got, strict=True))


@contextlib.contextmanager
def example_folder() -> Iterator[Path]:
    """A new folder ``/tmp/hrdocs-XXXXXXXX`` (shown as ``/home/ann/sales-data``), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="hrdocs-", dir="/tmp"))
    assert WORK.fullmatch(str(folder)), folder
    try:
        with contextlib.chdir(folder):
            yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def few_threads(page: str) -> Iterator[None]:
    """One thread for the model's trees on the pages that train one: on a busy machine their OpenMP threads
    slow a fit down many times (4 minutes instead of 20 s for the X Education leads)."""
    if not any(e.command.startswith("hitrate score") for e in examples_in(pages()[page], page)):
        yield
        return
    import sklearn.ensemble  # noqa: F401  (loaded first: threadpool_limits limits the libraries loaded)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@dataclass
class Built:
    """The stores built once for the module, and what ``hitrate demo`` printed while building one."""

    stores: dict[str, Path]
    demo_stdout: str
    demo_stderr: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The demo store and the Maven store, each built once for the module."""
    base = tmp_path_factory.mktemp("docs-stores")
    demo = base / "demo.duckdb"
    result = CliRunner().invoke(
        app, ["demo", "--db", str(demo), "--report", str(base / "demo.html")], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    stores = {"demo": demo}
    if MAVEN.exists():
        maven = base / "maven.duckdb"
        with Store(maven) as s:
            import_files(s, MAVEN_FILES, preset="maven")
        stores["maven"] = maven
    return Built(stores, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def left_off(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Snapshot]:
    """Where a page's examples leave off (after those of the page it comes AFTER), run once per module."""
    done: dict[str, Snapshot] = {}
    base = tmp_path_factory.mktemp("docs-left-off")

    def snapshot(page: str) -> Snapshot:
        if page not in done:
            before = snapshot(AFTER[page]) if page in AFTER else None
            with example_folder() as folder, few_threads(page):
                name = page.replace("/", "_")
                session = Session(page, folder, base / f"{name}-stores", built.stores)
                session.prepare(before)
                session.play(compare=False)
                (base / name).mkdir()
                done[page] = session.snapshot(base / name)
        return done[page]

    return snapshot


def test_the_skip_list_names_examples_that_exist() -> None:
    present = {(e.file, e.command) for e in all_examples()}
    assert set(SKIP) <= present, sorted(set(SKIP) - present)
    assert set(STORE_AT) <= present, sorted(set(STORE_AT) - present)


def test_every_shell_line_is_run_or_skipped() -> None:
    """Every ``$`` line of the pages is a form this test runs, or is in SKIP; every other docs page with one
    is run elsewhere."""
    for e in all_examples():
        assert (e.file, e.command) in SKIP or shell(e.command) is not None, f"{e.file}: {e.command!r}"
    keys = set(pages()) | {p for p, _ in SKIP}
    assert set(AFTER) | set(AFTER.values()) | set(FILES) | DEMO | MAVEN_DOCS <= keys
    for path in sorted((ROOT / "docs").glob("*.md")):
        if examples_in(path):
            assert path.name in PROSE or path.name in ELSEWHERE, f"docs/{path.name} has examples no test runs"


def test_the_forms_are_read_as_the_shell_reads_them() -> None:
    assert shell("printf '%s\\n' 'a long password' | hitrate users add ann --password-stdin") == Shell(
        "hitrate", ["users", "add", "ann", "--password-stdin"], stdin="a long password\n"
    )
    assert shell("TOKEN=$(hitrate users token ann | tail -1)") == Shell(
        "hitrate", ["users", "token", "ann"], capture="TOKEN"
    )
    assert shell("hitrate users add bot < /dev/null") == Shell(
        "hitrate", ["users", "add", "bot"], stdin_file="/dev/null"
    )
    assert shell('hitrate rates --where "team=Team East"') == Shell("hitrate", ["rates", "--where", "team=Team East"])
    assert shell("hitrate users token ann | tail -1") is None
    assert shell("export HITRATE_DB=x") is None


def _runs(page: str) -> bool:
    return any((e.file, e.command) not in SKIP for e in examples_in(pages()[page], page))


@pytest.mark.parametrize("page", [p for p in pages() if _runs(p)])
def test_examples_print_what_the_docs_show(
    page: str, built: Built, left_off: Callable[[str], Snapshot], tmp_path: Path
) -> None:
    before = left_off(AFTER[page]) if page in AFTER else None
    with example_folder() as folder, few_threads(page):
        session = Session(page, folder, tmp_path / "stores", built.stores)
        session.prepare(before)
        assert session.play(compare=True)


def test_the_readme_quick_start_shows_what_the_demo_prints(built: Built) -> None:
    """The README's quick start shows the output of ``make demo`` (``hitrate demo``) without its stderr."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"Its output:\n\n```\n(.*?)^```", text, flags=re.M | re.S)
    assert block is not None
    why = matches(block[1].splitlines(), built.demo_stdout.splitlines(), built.demo_stderr.splitlines())
    assert why is None, why


def test_definitions_init_writes_the_file_its_doc_shows(tmp_path: Path) -> None:
    """definitions-init.md shows the file ``hitrate definitions init`` writes, "exactly this"."""
    text = (DOCS / "definitions-init.md").read_text(encoding="utf-8")
    block = re.search(r"The file written is exactly this.*?\n```yaml\n(.*?)^```", text, flags=re.M | re.S)
    assert block is not None
    result = CliRunner().invoke(app, ["definitions", "init", str(tmp_path / "hitrate.yaml")])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "hitrate.yaml").read_text(encoding="utf-8") == block[1]


def test_no_page_shows_output_under_a_command_without_its_dollar() -> None:
    """An indented block of ``hitrate`` commands with no ``$`` followed by a plain fenced block (output) is an
    example this test would not run: write its commands as ``$ hitrate ...``."""
    commands_then_output = re.compile(r"((?:^    (?:\.venv/bin/)?hitrate .*\n)+)\n*```\n", flags=re.M)
    found = [
        f"{path.relative_to(ROOT)}: {block[1].strip()!r}"
        for path in [*sorted((ROOT / "docs").glob("**/*.md")), ROOT / "README.md"]
        for block in commands_then_output.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not found, found
