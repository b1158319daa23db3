"""The library face: docs/library.md runs top to bottom as written, and every result type it meets shows all
five faces (summary, to_frame, to_dict, a notebook view with its table and chart, plot).

The session is the docs page itself (its ``python`` blocks, in order, in one namespace, in a fresh folder),
so the page cannot drift from the library. It uses the synthetic demo, so it needs no shared data.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest

import hitrate
from hitrate.report.result import Result

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "library.md"


def _result_types() -> set[type]:
    """Every result class a call can return: the leaves of the Result tree, and RatesResult (which has
    subclasses of its own but is returned by ``rates``)."""
    for info in pkgutil.walk_packages(hitrate.__path__, "hitrate."):
        if not info.name.startswith(("hitrate.web", "hitrate.cli")):
            importlib.import_module(info.name)

    def walk(cls: type) -> set[type]:
        out: set[type] = set()
        for sub in cls.__subclasses__():
            out |= {sub} | walk(sub)
        return out

    every = walk(Result)
    from hitrate.analysis.results import RatesResult

    # A sync needs a CRM to answer, which the offline session has not: tests/test_sync_crms.py shows a real
    # SyncReport's five faces instead.
    needs_a_crm = {c for c in every if c.__name__ == "SyncReport"}
    # So does a digest a mail server or a webhook: tests/test_digest.py shows a real DigestReport's five faces.
    needs_a_server = {c for c in every if c.__name__ == "DigestReport"}
    return {c for c in every if not c.__subclasses__()} - needs_a_crm - needs_a_server | {RatesResult}


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """docs/library.md's code, run as a reader would run it, in a folder of its own."""
    import os

    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 8
    folder = tmp_path_factory.mktemp("notebook")
    here = Path.cwd()
    namespace: dict[str, Any] = {}
    os.chdir(folder)
    try:
        for number, block in enumerate(blocks):
            exec(compile(block, f"docs/library.md block {number + 1}", "exec"), namespace)
    finally:
        os.chdir(here)
    return namespace


def _results(namespace: dict[str, Any]) -> dict[str, Result]:
    return {name: value for name, value in namespace.items() if isinstance(value, Result)}


def test_the_session_meets_every_result_type(session):
    met = {type(r) for r in _results(session).values()}
    missing = sorted(c.__qualname__ for c in _result_types() - met)
    assert missing == [], f"docs/library.md shows no {missing}"


def test_every_result_shows_all_five_faces(session):
    import pandas as pd
    import plotly.graph_objects as go

    for name, result in _results(session).items():
        assert isinstance(result.summary(), str) and result.summary(lang="da"), name
        assert isinstance(result.to_frame(), pd.DataFrame), name
        json.dumps(result.to_dict(), allow_nan=False)
        html = result._repr_html_()
        assert html.startswith('<div class="hitrate-result">') and "<table" in html, name
        figure = result.plot()
        assert isinstance(figure, go.Figure) and figure.data, name
        assert 'class="plotly-graph-div"' in html, f"{name}: the notebook view has no chart"
        assert isinstance(result.plot(lang="da"), go.Figure), name


def test_every_result_writes_its_tables_as_a_workbook(session):
    """The sixth face, ``tables()``: every result's tables go into a workbook (a sheet each, then the notes) with
    numbers as numeric cells and nothing a spreadsheet would run."""
    import io

    from openpyxl import load_workbook

    from hitrate.report.safe_cells import runs_in_a_spreadsheet
    from hitrate.report.workbook import write_result

    for name, result in _results(session).items():
        tables = result.tables()
        assert tables and all(t.columns for t in tables), name
        buffer = io.BytesIO()
        write_result(result, buffer, lang="da")
        book = load_workbook(io.BytesIO(buffer.getvalue()))
        assert len(book.sheetnames) == len(tables) + 1 and book.sheetnames[-1] == "Noter", name
        for sheet, table in zip(book.worksheets, tables, strict=False):
            assert sheet.freeze_panes == "A2" and sheet.max_row == len(table.rows) + 1, name
            cells = [c for row in sheet.iter_rows() for c in row]
            assert not any(c.data_type == "f" or runs_in_a_spreadsheet(c.value) for c in cells), name


def test_the_notebook_view_works_offline(session):
    """plotly.js is inlined (no CDN) into the first view a process shows, and not repeated in later ones."""
    from hitrate.report import notebook

    notebook._STATE["plotly_sent"] = False
    views = [r._repr_html_() for r in _results(session).values()]
    assert not any(re.search(r"<script[^>]+src=|<link[^>]+href=", v) for v in views), "a view loads from elsewhere"
    with_js = [v for v in views if "Plotly" in v and len(v) > 1_000_000]
    assert len(with_js) == 1 and views[0] is not None


def test_the_names_of_the_page_are_the_public_api():
    """Every ``hitrate.name`` the page calls is in ``hitrate.__all__`` (and so pinned by tests/test_docs.py)."""
    used = set(re.findall(r"hitrate\.([a-z_A-Z]+)\(", PAGE.read_text(encoding="utf-8")))
    assert used and used <= set(hitrate.__all__), used - set(hitrate.__all__)


def test_the_calling_convention_is_the_command_lines():
    """The analyses take the data first and the command's option names as keywords."""
    import inspect

    expected = {
        "rates": {"by", "period", "basis", "date_from", "date_to", "where", "definitions"},
        "benchmark": {"by", "within", "adjust", "basis", "date_from", "date_to", "where", "definitions"},
        "trend": {"period", "by", "basis", "date_from", "date_to", "where", "definitions"},
        "funnel": {"by", "stages", "where", "definitions"},
        "worth": {"points", "by", "definitions"},
        "coach": {"rep", "peers_by", "period", "adjust"},
        "outreach": {"view", "by", "campaign", "step"},
        "bets": {"strategy", "by"},
        "forecast": {"as_of", "until", "horizon", "period", "by", "where", "level", "strata", "definitions"},
        "forecast_backtest": {"date_from", "date_to", "every", "horizon", "by", "where", "level", "strata"},
    }
    for name, options in expected.items():
        parameters = inspect.signature(getattr(hitrate, name)).parameters
        assert options <= set(parameters), (name, options - set(parameters))
