"""Tests for hitrate.report: a self-contained, escaped, bilingual HTML report."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("plotly")
pytest.importorskip("jinja2")

from hitrate.report import RateTable, render_report, write_report  # noqa: E402
from hitrate.report._charts import bars_figure, trend_figure  # noqa: E402
from hitrate.report._i18n import strings  # noqa: E402
from hitrate.report._render import section_rows  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EVIL = '<script>alert("pwned")</script>'
EVIL_IMG = "<img src=x onerror=alert(1)>"
GENERATED = "2024-05-01 09:30 UTC"
HASH = "abc123def4567890fedcba9876543210"


# --- helpers -----------------------------------------------------------------------------


def wilson(hits: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval, written out here so the test does not trust the code under test."""
    if n == 0:
        return math.nan, math.nan
    p = hits / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


def rate_frame(label: str, labels: list[str], attempts: list[int], hits: list[int]) -> pd.DataFrame:
    rows = []
    for name, n, h in zip(labels, attempts, hits, strict=True):
        low, high = wilson(h, n)
        rows.append(
            {
                label: name,
                "attempts": n,
                "hits": h,
                "hit_rate": h / n if n else math.nan,
                "ci_low": low,
                "ci_high": high,
                "amount_won": h * 1000.0,
                "value_hit_rate": (0.8 * h / n) if n else math.nan,
            }
        )
    return pd.DataFrame(rows)


def pct(x: float, sep: str = ".") -> str:
    return f"{x * 100:.1f}".replace(".", sep)


class _Tables(HTMLParser):
    """Collects every <table> as a list of rows, each a list of cell texts (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def without_plotly_bundle(html: str) -> str:
    """The page with the inline plotly.js bundle (the first script, in the head) cut out."""
    start = html.index("<script>")
    end = html.index("</script>", start)
    assert start < html.index("</head>") < html.index("<body>")
    return html[:start] + html[end:]


# --- fixtures ----------------------------------------------------------------------------

TEAMS = ["North", "South", "East", EVIL]
TEAM_ATTEMPTS = [120, 1234, 45, 10]
TEAM_HITS = [54, 400, 22, 3]
PERIODS = ["2017-01", "2017-02", "2017-03", "2017-04", "2017-05", "2017-06"]
PERIOD_ATTEMPTS = [30, 42, 55, 0, 61, 90]
PERIOD_HITS = [9, 15, 20, 0, 25, 41]


def sections() -> list[RateTable]:
    teams = rate_frame("team", TEAMS, TEAM_ATTEMPTS, TEAM_HITS)
    teams.loc[2, "value_hit_rate"] = math.nan  # East: value hit rate not available
    reps = rate_frame("rep", ["Ann", EVIL_IMG, "Bo"], [20, 30, 40], [5, 12, 30])
    reps.insert(0, "team", ["North", "South", "South"])
    months = rate_frame("period", PERIODS, PERIOD_ATTEMPTS, PERIOD_HITS)
    return [
        RateTable("Hit rate by team", teams, "team", overall_rate=0.35, note=f"Small teams {EVIL}"),
        RateTable("Hit rate by rep", reps, "rep"),
        RateTable("Hit rate by month", months, "period", kind="trend", overall_rate=0.4),
    ]


def report(lang: str = "en") -> str:
    return render_report(
        title=f"Hit rate {EVIL}",
        subtitle=f"Closed deals {EVIL_IMG}",
        definitions_hash=HASH,
        sections=sections(),
        notes=[f"note {EVIL}"],
        generated_at=GENERATED,
        lang=lang,
    )


@pytest.fixture(scope="module")
def html_en() -> str:
    return report("en")


@pytest.fixture(scope="module")
def html_da() -> str:
    return report("da")


# --- tests -------------------------------------------------------------------------------


def test_write_report_writes_utf8_file(tmp_path: Path, html_en: str) -> None:
    target = tmp_path / "sub" / "report.html"
    out = write_report(
        target,
        title=f"Hit rate {EVIL}",
        subtitle=f"Closed deals {EVIL_IMG}",
        definitions_hash=HASH,
        sections=sections(),
        notes=[f"note {EVIL}"],
        generated_at=GENERATED,
    )
    assert out == target
    assert isinstance(out, Path)
    text = out.read_bytes().decode("utf-8")  # strict: fails on anything but UTF-8
    assert text == html_en
    assert text.startswith("<!DOCTYPE html>")
    assert text.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in text


def test_plotly_bundle_inlined_once_in_head(html_en: str) -> None:
    from plotly.offline import get_plotlyjs

    bundle = get_plotlyjs()
    head = html_en[: html_en.index("</head>")]
    assert html_en.count(bundle[:3000]) == 1
    assert html_en.count(bundle[-3000:]) == 1
    assert bundle[:3000] in head
    # One chart per section, each drawn with the page's single copy of plotly.js.
    assert html_en.count("Plotly.newPlot(") == 3
    assert html_en.count('class="plotly-graph-div"') == 3


def test_no_external_loads(html_en: str) -> None:
    for pattern in (
        r"<script\b[^>]*\bsrc\s*=",
        r"<link\b",
        r"@import",
        r"@font-face",
        r"url\(\s*['\"]?\s*(https?:)?//",
        r"<(iframe|img|embed|object|source|video|audio)\b",
        r"<script\b[^>]*cdn",
    ):
        assert not re.search(pattern, html_en, re.IGNORECASE), pattern
    # Outside plotly's own code there is no URL at all, so nothing can be fetched.
    rest = without_plotly_bundle(html_en)
    assert "http://" not in rest
    assert "https://" not in rest
    assert "cdn" not in rest.lower()


def test_tables_show_attempts_hits_rate_and_interval(html_en: str) -> None:
    tables = tables_of(html_en)
    assert len(tables) == 3
    team_table = tables[0]
    assert team_table[0] == [
        "Team",
        "Attempts",
        "Hits",
        "Hit rate",
        "95% interval",
        "Value hit rate",
        "Amount won",
    ]
    body = team_table[1:]
    assert [row[0] for row in body] == TEAMS  # frame order, the evil label shown literally
    for row, n, h in zip(body, TEAM_ATTEMPTS, TEAM_HITS, strict=True):
        low, high = wilson(h, n)
        assert row[1] == f"{n:,}"
        assert row[2] == f"{h:,}"
        assert row[3] == f"{pct(h / n)} %"
        assert row[4] == f"{pct(low)}–{pct(high)} %"
        assert row[6] == f"{h * 1000:,}"
    assert body[0][1:5] == ["120", "54", "45.0 %", "36.4–53.9 %"]
    assert body[1][1] == "1,234"
    assert body[0][5] == f"{pct(0.8 * 54 / 120)} %"
    assert body[2][5] == "–"  # NaN value hit rate

    rep_table = tables[1]
    assert rep_table[0][:2] == ["Team", "Rep"]  # every label column, then the numbers
    assert rep_table[1][:3] == ["North", "Ann", "20"]


def test_sections_have_headings_caption_and_note(html_en: str) -> None:
    for title in ("Hit rate by team", "Hit rate by rep", "Hit rate by month"):
        assert re.search(rf"<h2 id=\"[^\"]+\">{title}</h2>", html_en)
    assert "The dashed line is the overall hit rate." in html_en
    assert '<p class="note">Small teams &lt;script&gt;' in html_en


def test_header_and_footer(html_en: str) -> None:
    header = html_en[html_en.index("<header") : html_en.index("</header>")]
    assert "Definitions" in header
    assert "abc123def456…" in header
    assert HASH not in re.sub(r'title="[^"]*"', "", header)  # only the short form is printed
    assert GENERATED in header
    footer = html_en[html_en.index("<footer") : html_en.index("</footer>")]
    assert "Hit rate</dfn> = hits / attempts" in footer
    assert "Wilson" in footer
    assert "Value hit rate</dfn>" in footer and "amount won divided by" in footer
    assert HASH in footer


def test_escapes_user_text(html_en: str) -> None:
    assert EVIL not in html_en
    assert EVIL_IMG not in html_en
    assert "<img" not in html_en
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html_en  # jinja2's escaping
    # Only our own scripts: the plotly bundle, one per chart, and the print helper.
    assert len(re.findall(r"<script\b", html_en, re.IGNORECASE)) == 1 + 3 + 1
    # In the chart data the label is HTML-escaped too, so plotly.js shows it as text.
    chart = html_en[html_en.index('id="s1-hit-rate-by-team-chart"') :]
    chart = chart[: chart.index("</script>")]
    assert "&lt;script&gt;alert(" in chart
    title = re.search(r"<title>(.*?)</title>", html_en, re.S)
    assert title is not None and "&lt;script&gt;" in title.group(1)
    rep_rows = tables_of(html_en)[1]
    assert rep_rows[2][1] == EVIL_IMG  # shown literally to the reader


def test_danish(html_da: str, html_en: str) -> None:
    assert '<html lang="da">' in html_da
    assert '<html lang="en">' in html_en
    tables = tables_of(html_da)
    assert tables[0][0] == [
        "Team",
        "Forsøg",
        "Vundne",
        "Hitrate",
        "95 %-interval",
        "Værdi-hitrate",
        "Vundet beløb",
    ]
    assert tables[1][0][:2] == ["Team", "Sælger"]
    assert tables[2][0][0] == "Periode"
    north = tables[0][1]
    assert north[1:5] == ["120", "54", "45,0 %", "36,4–53,9 %"]
    assert tables[0][2][1] == "1.234"
    for word in ("Definitioner", "Dannet", "Om tallene", "Bemærkninger", "Hitrate</dfn> = vundne / forsøg"):
        assert word in html_da, word
    rest = without_plotly_bundle(html_da)
    for english in ("Attempts", "Amount won", "About the numbers", "95% interval"):
        assert english not in rest, english
    assert '"separators":",."' in html_da  # plotly's axis numbers use a decimal comma too


def test_trend_with_period_labels(html_en: str) -> None:
    month_table = tables_of(html_en)[2]
    assert month_table[0][0] == "Period"
    assert [row[0] for row in month_table[1:]] == PERIODS
    april = month_table[1 + PERIODS.index("2017-04")]
    assert april[1:5] == ["0", "0", "–", "–"]  # no attempts: no rate, no interval

    section = sections()[2]
    rows = section_rows(section, "en")
    fig = trend_figure(rows, strings("en"), "en", overall_rate=0.4)
    assert fig.layout.xaxis.type == "category"  # "2017-03" stays a label, not a date
    assert list(fig.layout.xaxis.categoryarray) == PERIODS
    upper, lower, line = fig.data
    assert lower.fill == "tonexty"
    assert list(upper.x) == [p for p in PERIODS if p != "2017-04"]
    for edge, side in ((upper, 1), (lower, 0)):
        expected = [wilson(h, n)[side] for n, h in zip(PERIOD_ATTEMPTS, PERIOD_HITS, strict=True) if n]
        assert list(edge.y) == pytest.approx(expected)
    assert list(line.x) == PERIODS
    assert line.y[PERIODS.index("2017-04")] is None  # a gap, not a zero
    sizes = dict(zip(PERIOD_ATTEMPTS, line.marker.size, strict=True))
    assert sizes[90] > sizes[61] > sizes[30] > 0
    march = line.hovertext[PERIODS.index("2017-03")]
    low, high = wilson(20, 55)
    assert "20 hits of 55 attempts" in march
    assert f"{pct(low)}–{pct(high)} %" in march
    assert [s.y0 for s in fig.layout.shapes] == [0.4]  # the overall line
    assert '"2017-03"' in html_en


def test_bars_sorted_with_overall_line_and_hover() -> None:
    section = sections()[0]
    fig = bars_figure(section_rows(section, "en"), strings("en"), "en", overall_rate=0.35)
    (trace,) = fig.data
    rates = [h / n for n, h in zip(TEAM_ATTEMPTS, TEAM_HITS, strict=True)]
    assert list(trace.x) == sorted(rates, reverse=True)
    assert trace.y[-1] == '&lt;script&gt;alert("pwned")&lt;/script&gt;'  # lowest rate, escaped for plotly.js
    assert fig.layout.yaxis.autorange == "reversed"  # first (highest) row on top
    (line,) = fig.layout.shapes
    assert (line.x0, line.x1) == (0.35, 0.35)
    north = trace.hovertext[list(trace.y).index("North")]
    assert "54 hits of 120 attempts" in north and "36.4–53.9 %" in north
    err = trace.error_x
    i = list(trace.y).index("North")
    low, high = wilson(54, 120)
    assert trace.x[i] - err.arrayminus[i] == pytest.approx(low)
    assert trace.x[i] + err.array[i] == pytest.approx(high)


def test_section_without_attempts_has_table_but_no_chart() -> None:
    empty = rate_frame("team", ["North"], [0], [0])
    html = render_report(title="t", subtitle="", definitions_hash="h", sections=[RateTable("Empty", empty, "team")])
    assert "Plotly.newPlot(" not in html
    assert "no row has any attempts" in html
    assert tables_of(html)[0][1][:3] == ["North", "0", "0"]


def test_rejects_bad_input() -> None:
    frame = rate_frame("team", ["North"], [10], [3])
    with pytest.raises(ValueError, match="kind"):
        RateTable("x", frame, "team", kind="pie")
    with pytest.raises(ValueError, match="label column"):
        RateTable("x", frame, "rep")
    with pytest.raises(ValueError, match="ci_high"):
        RateTable("x", frame.drop(columns="ci_high"), "team")
    with pytest.raises(ValueError, match="language"):
        render_report(title="t", subtitle="", definitions_hash="h", sections=[], lang="de")
    with pytest.raises(TypeError, match="RateTable"):
        render_report(title="t", subtitle="", definitions_hash="h", sections=[frame])  # type: ignore[list-item]


def test_import_is_cheap() -> None:
    code = "import sys, hitrate.report; print(sorted(m for m in ('plotly', 'jinja2', 'pandas') if m in sys.modules))"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"
