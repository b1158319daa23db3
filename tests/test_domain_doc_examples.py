"""The worked examples of docs/betting.md, docs/gaming.md and docs/marketing.md run as written (issue 18).

The convention of those pages: a file an example reads is shown in a fenced block right after a line naming
it in backticks and a colon (`` `bets.csv`: ``); the commands follow in a ```` ```console ```` block, each
after ``$ ``, and the lines up to the next ``$ `` are what that command prints (standard output, then
standard error) with ``COLUMNS=120``. Each console block runs in a fresh directory holding the files shown
so far on its page (a later file of the same name replaces an earlier one), with a fresh store there
(``HITRATE_DB``), through typer's ``CliRunner`` on :data:`hitrate.cli.app`. Its output must be the page's
text, trailing whitespace aside: a page whose example no longer says what the command prints fails here.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hitrate.cli import app

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("betting.md", "gaming.md", "marketing.md")
_FENCE = re.compile(r"^```(\S*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)
_NAMED = re.compile(r"^`([\w.-]+)`:\s*$")


@dataclass
class Example:
    """One console block of a page: the files shown before it, and its commands with their printed output."""

    page: str
    line: int
    files: dict[str, str]
    runs: list[tuple[str, str]] = field(default_factory=list)


def examples(page: str) -> list[Example]:
    """The console blocks of ``docs/<page>`` with the files named before each."""
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    files: dict[str, str] = {}
    out: list[Example] = []
    for fence in _FENCE.finditer(text):
        before = text[: fence.start()].rstrip("\n").rsplit("\n", 1)[-1]
        named = _NAMED.match(before)
        line = text.count("\n", 0, fence.start()) + 1
        if named:
            files[named.group(1)] = fence.group(2)
        elif fence.group(1) == "console":
            example = Example(page, line, dict(files))
            for chunk in re.split(r"^\$ ", fence.group(2), flags=re.M)[1:]:
                command, _, output = chunk.partition("\n")
                example.runs.append((command, output))
            out.append(example)
    return out


def run(command: str, directory: Path) -> str:
    """What ``command`` (``hitrate ...``) prints in ``directory`` with its own store, as the page shows it."""
    words = shlex.split(command)
    assert words[0] == "hitrate", command
    env = {"COLUMNS": "120", "HITRATE_DB": str(directory / "hitrate.duckdb"), "NO_COLOR": "1"}
    result = CliRunner().invoke(app, words[1:], env=env, catch_exceptions=False)
    return result.output


def _trimmed(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


ALL = [example for page in PAGES for example in examples(page)]


def test_each_page_has_its_worked_examples():
    counts = {page: sum(1 for e in ALL if e.page == page) for page in PAGES}
    assert counts["betting.md"] >= 4 and counts["gaming.md"] >= 5 and counts["marketing.md"] >= 1, counts


@pytest.mark.parametrize("example", ALL, ids=[f"{e.page}:{e.line}" for e in ALL])
def test_the_example_prints_what_the_page_says(example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name, body in example.files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for command, expected in example.runs:
        printed = run(command, tmp_path)
        assert _trimmed(printed) == _trimmed(expected), f"{example.page} line {example.line}: $ {command}\n{printed}"
