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

from tests.conftest import require_module

require_module("plotly")
require_module("jinja2")

from hitrate.report import RateTable, render_report, write_report  # noqa: E402
from hitrate.report._charts import bars_figure, trend_figure  # noqa: E402
from hitrate.report._render import section_rows  # noqa: E402
from hitrate.report.words import report_words as strings  # noqa: E402

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
        assert row[3] == f"{pct(h / n)}%"
        assert row[4] == f"{pct(low)}–{pct(high)}%"
        assert row[6] == f"{h * 1000:,}"
    assert body[0][1:5] == ["120", "54", "45.0%", "36.4–53.9%"]
    assert body[1][1] == "1,234"
    assert body[0][5] == f"{pct(0.8 * 54 / 120)}%"
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
    assert f"{pct(low)}–{pct(high)}%" in march
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
    assert "54 hits of 120 attempts" in north and "36.4–53.9%" in north
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


# --- honest benchmarking: funnel, caterpillar, seasonal and cohort sections ---------------------

from hitrate.report import CaterpillarPlot, CohortCurves, FunnelPlot, SeasonalPlot  # noqa: E402
from hitrate.report._charts import (  # noqa: E402
    caterpillar_figure,
    cohort_figure,
    factors_figure,
    funnel_figure,
    seasonal_figure,
)
from hitrate.report._render import (  # noqa: E402
    caterpillar_rows,
    cohort_curves,
    factor_rows,
    funnel_rows,
    season_rows,
)

P0 = 0.35
REPS = ["Ann", "Bo", EVIL, "Dan", "Eve", "Finn"]
REP_TEAMS = ["North", "North", "South", "South", "South", "North"]
REP_ATTEMPTS = [12, 300, 45, 150, 80, 0]
REP_HITS = [9, 120, 10, 30, 28, 0]
REP_FLAGS: list[str | None] = ["within", "above", "below", "below", "within", None]
FLAG_WORDS = ["Within chance", "Clearly above", "Clearly below", "Clearly below", "Within chance", "–"]
FLAG_WORDS_DA = [
    "Inden for det tilfældige",
    "Tydeligt over",
    "Tydeligt under",
    "Tydeligt under",
    "Inden for det tilfældige",
    "–",
]
SEASON_N = 26
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
GAP = 7  # the month with no attempts
UNUSUAL = {4: "high", 15: "low"}
FACTORS = {m: 0.8 + 0.04 * m for m in range(1, 13)}
FACTOR_LOW = {m: f * 0.85 for m, f in FACTORS.items()}
FACTOR_HIGH = {m: f * 1.2 for m, f in FACTORS.items()} | {2: math.inf}
SHORT_NOTE = f"Fewer than two full cycles {EVIL_IMG}"
COHORTS = {
    # name: (n, ages, shares)
    "2024-Q1": (200, [0, 20, 45, 75, 120, 200], [0.0, 0.05, 0.15, 0.22, 0.30, 0.36]),
    "2024-Q3": (150, [10, 30, 61, 95], [0.04, 0.12, 0.2, 0.25]),
    EVIL: (40, [5, 25], [0.02, 0.1]),
}
# Share won within 30/60/90/180 days, worked out by hand from the step curves above; None: not reached.
COHORT_MILESTONES = {
    "2024-Q1": ["5.0%", "15.0%", "22.0%", "30.0%"],
    "2024-Q3": ["12.0%", "12.0%", "20.0%", None],
    EVIL: [None, None, None, None],
}


def bench_frame() -> pd.DataFrame:
    """A frame shaped like hitrate.benchmarking.benchmark's, with columns the report ignores too."""
    from scipy.stats import binom

    rows = []
    for team, rep, n, h, flag in zip(REP_TEAMS, REPS, REP_ATTEMPTS, REP_HITS, REP_FLAGS, strict=True):
        low, high = wilson(h, n)
        shrunk = (h + 7) / (n + 20)
        limits = {
            f"funnel{level}_{side}": (binom.ppf(q, n, P0) / n if n else math.nan)
            for level, qs in (("95", (0.025, 0.975)), ("998", (0.001, 0.999)))
            for side, q in zip(("low", "high"), qs, strict=True)
        }
        rows.append(
            {
                "team": team,
                "rep": rep,
                "attempts": n,
                "hits": h,
                "hit_rate": h / n if n else math.nan,
                "ci_low": low,
                "ci_high": high,
                "shrunk_rate": shrunk,
                "shrunk_low": shrunk - 0.08,
                "shrunk_high": shrunk + 0.09,
                "flag": flag,
                "p_value": 0.5,
                **limits,
                "small": n < 20,
            }
        )
    return pd.DataFrame(rows)


def season_frame() -> pd.DataFrame:
    rows = []
    for j in range(SEASON_N):
        n = 0 if j == GAP else 50 + 3 * j
        h = (n * (25 + (j * 7) % 20)) // 100
        low, high = wilson(h, n)
        rate = h / n if n else math.nan
        rows.append(
            {
                "period": f"{2022 + j // 12}-{j % 12 + 1:02d}",
                "attempts": n,
                "hits": h,
                "hit_rate": rate,
                "ci_low": low,
                "ci_high": high,
                "trend": 0.3 + 0.004 * j,
                "adjusted_rate": rate * 0.95,
                "unusual": UNUSUAL.get(j, ""),
            }
        )
    return pd.DataFrame(rows)


def cohort_frame() -> pd.DataFrame:
    rows = [
        {"cohort": name, "age": age, "cumulative_win_rate": share, "n": n}
        for name, (n, ages, shares) in COHORTS.items()
        for age, share in zip(ages, shares, strict=True)
    ]
    rows[6:10] = rows[6:10][::-1]  # 2024-Q3 out of age order: the report sorts by age
    return pd.DataFrame(rows)


def bench_sections() -> list[FunnelPlot | CaterpillarPlot | SeasonalPlot | CohortCurves]:
    bench = bench_frame()
    seasons = season_frame()
    return [
        FunnelPlot("Funnel by rep", bench, "rep", overall_rate=P0, note=f"Funnel note {EVIL}"),
        CaterpillarPlot("Shrunk rates by rep", bench, "rep", overall_rate=P0, extra_labels=["team"]),
        SeasonalPlot(
            "Monthly seasons",
            seasons,
            seasonal_factors=FACTORS,
            seasonal_factor_low=FACTOR_LOW,
            seasonal_factor_high=FACTOR_HIGH,
            note="Seasons note",
        ),
        SeasonalPlot("Short series", seasons.head(14), note=SHORT_NOTE),
        CohortCurves("Cohorts by quarter", cohort_frame()),
    ]


def bench_report(lang: str = "en") -> str:
    return render_report(
        title="Honest benchmarking",
        subtitle="",
        definitions_hash=HASH,
        sections=bench_sections(),
        generated_at=GENERATED,
        lang=lang,
    )


@pytest.fixture(scope="module")
def bench_en() -> str:
    return bench_report("en")


@pytest.fixture(scope="module")
def bench_da() -> str:
    return bench_report("da")


def section_html(html: str, section_id: str) -> str:
    start = html.index('<section class="rates ')
    start = html.index(f'id="{section_id}"', start)
    return html[start : html.index("</section>", start)]


def chart_data(html: str, div_id: str) -> str:
    """The inline script that draws the chart in ``div_id``."""
    start = html.index(f'id="{div_id}"')
    return html[start : html.index("</script>", start)]


BENCH_CHARTS = [
    "s1-funnel-by-rep-chart",
    "s2-shrunk-rates-by-rep-chart",
    "s3-monthly-seasons-chart",
    "s3-monthly-seasons-factors-chart",
    "s4-short-series-chart",
    "s5-cohorts-by-quarter-chart",
]


def test_benchmark_sections_render_offline_with_every_chart(bench_en: str) -> None:
    from plotly.offline import get_plotlyjs

    bundle = get_plotlyjs()
    assert bench_en.count(bundle[:3000]) == 1  # plotly.js inlined once, in the head
    assert bundle[:3000] in bench_en[: bench_en.index("</head>")]
    assert bench_en.count("Plotly.newPlot(") == len(BENCH_CHARTS)
    for div_id in BENCH_CHARTS:
        assert bench_en.count(f'id="{div_id}"') == 1, div_id
    assert 'id="s4-short-series-factors-chart"' not in bench_en
    for kind in ("funnel", "caterpillar", "seasonal", "cohorts"):
        assert f'<section class="rates {kind}"' in bench_en, kind
    for pattern in (r"<script\b[^>]*\bsrc\s*=", r"<link\b", r"@import", r"<(iframe|img|embed|object)\b"):
        assert not re.search(pattern, bench_en, re.IGNORECASE), pattern
    rest = without_plotly_bundle(bench_en)
    assert "http://" not in rest and "https://" not in rest
    # Every chart has a how-to-read caption and the footer explains the new terms.
    for words in (
        "The lines around the overall hit rate form a funnel",
        "The faint ring on the same row is the raw hit rate",
        "The dashed line is the seasonally adjusted hit rate",
        "Each bar is a month's seasonal factor",
        "Young cohorts have short lines",
    ):
        assert words in html_unescape(bench_en), words
    for term in ("Funnel limits", "Hit rate, adjusted for small samples", "Seasonal decomposition", "Share won"):
        assert f"<dfn>{term}</dfn>" in bench_en, term


def test_footer_explains_only_the_kinds_present(html_en: str) -> None:
    for term in ("Funnel limits", "Hit rate, adjusted for small samples", "Seasonal decomposition", "Share won"):
        assert f"<dfn>{term}</dfn>" not in html_en


def test_funnel_table(bench_en: str) -> None:
    table = tables_of(section_html(bench_en, "s1-funnel-by-rep"))[0]
    assert table[0] == [
        "Rep",
        "Attempts",
        "Hits",
        "Hit rate",
        "95% interval",
        "95% limits",
        "99.8% limits",
        "Compared with overall",
    ]
    body = table[1:]
    assert [row[0] for row in body] == REPS  # frame order; the evil label shown literally
    frame = bench_frame()
    for row, rec, word in zip(body, frame.to_dict("records"), FLAG_WORDS, strict=True):
        n, h = rec["attempts"], rec["hits"]
        assert row[1:3] == [f"{n:,}", f"{h:,}"]
        if n:
            low, high = wilson(h, n)
            assert row[3] == f"{pct(h / n)}%"
            assert row[4] == f"{pct(low)}–{pct(high)}%"
            assert row[5] == f"{pct(rec['funnel95_low'])}–{pct(rec['funnel95_high'])}%"
            assert row[6] == f"{pct(rec['funnel998_low'])}–{pct(rec['funnel998_high'])}%"
        else:
            assert row[3:7] == ["–"] * 4
        assert row[7] == word
    assert body[1][1:5] == ["300", "120", "40.0%", "34.6–45.6%"]
    assert "Funnel note &lt;script&gt;" in bench_en


def test_funnel_figure_limits_and_flags() -> None:
    from scipy.stats import binom

    section = bench_sections()[0]
    assert isinstance(section, FunnelPlot)
    fig = funnel_figure(funnel_rows(section), strings("en"), "en", P0)
    traces = {t.name: t for t in fig.data}
    for name, (q_low, q_high) in (("99.8% limits", (0.001, 0.999)), ("95% limits", (0.025, 0.975))):
        trace = traces[name]
        gap = list(trace.x).index(None)
        grid, low, high = list(trace.x[:gap]), list(trace.y[:gap]), list(trace.y[gap + 1 :])
        assert list(trace.x[gap + 1 :]) == grid
        assert grid == sorted(grid) and len(grid) > 50  # a smooth curve, not one point per group
        assert grid[0] <= min(n for n in REP_ATTEMPTS if n) and grid[-1] >= max(REP_ATTEMPTS)
        for n, lo, hi in zip(grid, low, high, strict=True):
            assert lo < P0 < hi
            # Each limit lies within one whole hit of the exact binomial quantile, on its outer side.
            r_low, r_high = binom.ppf(q_low, n, P0), binom.ppf(q_high, n, P0)
            assert (r_low - 1) / n - 1e-12 <= lo <= r_low / n + 1e-12
            assert r_high / n - 1e-12 <= hi <= (r_high + 1) / n + 1e-12
        assert high[0] - low[0] > 2 * (high[-1] - low[-1])  # the funnel narrows as attempts grow
        if name == "95% limits":
            n = grid[-1]
            half = 1.959964 * math.sqrt(P0 * (1 - P0) / n)
            assert high[-1] == pytest.approx(P0 + half, abs=1.5 / n)
            assert low[-1] == pytest.approx(P0 - half, abs=1.5 / n)
    inner, outer = traces["95% limits"], traces["99.8% limits"]
    assert inner.line.dash != outer.line.dash
    assert min(v for v in outer.y if v is not None) < min(v for v in inner.y if v is not None)
    assert list(traces["Overall 35.0%"].y) == [P0, P0]

    above, below, within = traces["Clearly above"], traces["Clearly below"], traces["Within chance"]
    assert (list(above.x), list(above.y)) == ([300], [0.4])
    assert list(below.x) == [45, 150] and list(below.y) == pytest.approx([10 / 45, 0.2])
    assert list(within.x) == [12, 80]
    assert len({above.marker.color, below.marker.color, within.marker.color}) == 3
    assert (above.marker.symbol, below.marker.symbol) == ("triangle-up", "triangle-down")
    assert 0 not in [x for t in fig.data if t.mode == "markers" for x in t.x]  # no dot for a group without attempts
    evil = below.hovertext[0]
    assert evil.startswith("<b>&lt;script&gt;alert(")
    low, high = wilson(10, 45)
    for part in ("10 hits of 45 attempts", "Hit rate 22.2%", f"{pct(low)}–{pct(high)}%", "Flag: Clearly below"):
        assert part in evil, part


def test_funnel_curves_pass_through_the_benchmark_limits() -> None:
    """The drawn funnel agrees with the per-group limits hitrate.benchmarking puts in the frame."""
    from hitrate.report._charts import funnel_limit_curves
    from hitrate.stats import funnel_plot as funnel

    sizes = [1, 5, 12, 45, 80, 150, 300, 1234]
    for p0 in (0.05, P0, 0.5, 0.93):
        expected = funnel.funnel_limits(sizes, p0)
        for level in (0.95, 0.998):
            low, high = funnel_limit_curves(p0, sizes, level)
            assert list(low) == pytest.approx(list(expected[level][0]), abs=1e-12)
            assert list(high) == pytest.approx(list(expected[level][1]), abs=1e-12)


def test_caterpillar_table_and_figure(bench_en: str) -> None:
    table = tables_of(section_html(bench_en, "s2-shrunk-rates-by-rep"))[0]
    assert table[0] == [
        "Team",
        "Rep",
        "Attempts",
        "Hits",
        "Raw hit rate",
        "Hit rate, adjusted for small samples",
        "95% interval (adjusted)",
    ]
    for row, team, rep, n, h in zip(table[1:], REP_TEAMS, REPS, REP_ATTEMPTS, REP_HITS, strict=True):
        shrunk = (h + 7) / (n + 20)
        assert row[:4] == [team, rep, f"{n:,}", f"{h:,}"]
        assert row[4] == (f"{pct(h / n)}%" if n else "–")
        assert row[5] == f"{pct(shrunk)}%"
        assert row[6] == f"{pct(shrunk - 0.08)}–{pct(shrunk + 0.09)}%"
    assert '<th scope="row">Ann</th>' in section_html(bench_en, "s2-shrunk-rates-by-rep")  # rep is the row header

    section = bench_sections()[1]
    assert isinstance(section, CaterpillarPlot)
    fig = caterpillar_figure(caterpillar_rows(section), strings("en"), "en", P0)
    joins, raw, shrunk = fig.data
    shrunk_rates = {rep: (h + 7) / (n + 20) for rep, n, h in zip(REPS, REP_ATTEMPTS, REP_HITS, strict=True)}
    order = sorted(REPS, key=lambda r: -shrunk_rates[r])
    assert [html_unescape(y) for y in shrunk.y] == order  # highest shrunk rate first...
    assert fig.layout.yaxis.autorange == "reversed"  # ...drawn at the top
    assert list(shrunk.x) == pytest.approx([shrunk_rates[r] for r in order])
    raw_rates = {rep: (h / n if n else None) for rep, n, h in zip(REPS, REP_ATTEMPTS, REP_HITS, strict=True)}
    assert list(raw.x) == [raw_rates[r] for r in order]  # the raw rate is marked too; none for Finn
    assert raw.marker.symbol == "circle-open" and raw.opacity < 1  # faint
    i = order.index("Bo")
    assert shrunk.x[i] - shrunk.error_x.arrayminus[i] == pytest.approx(shrunk_rates["Bo"] - 0.08)
    assert shrunk.x[i] + shrunk.error_x.array[i] == pytest.approx(shrunk_rates["Bo"] + 0.09)
    # Each raw rate is joined to its shrunk rate by a faint line: the shrinkage.
    segments = [(joins.x[k], joins.x[k + 1], joins.y[k], joins.y[k + 1]) for k in range(0, len(joins.x), 3)]
    assert [html_unescape(y0) for *_, y0, _ in segments] == [r for r in order if raw_rates[r] is not None]
    for raw_x, shrunk_x, y0, y1 in segments:
        rep = html_unescape(y0)
        assert y0 == y1 and raw_x == pytest.approx(raw_rates[rep]) and shrunk_x == pytest.approx(shrunk_rates[rep])
    assert all(joins.x[k] is None for k in range(2, len(joins.x), 3))
    (line,) = fig.layout.shapes
    assert (line.x0, line.x1) == (P0, P0)
    assert "&lt;script&gt;" in shrunk.y[order.index(EVIL)]
    assert "120 hits of 300 attempts" in shrunk.hovertext[i] and "Raw hit rate 40.0%" in shrunk.hovertext[i]


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_seasonal_tables(bench_en: str) -> None:
    part = section_html(bench_en, "s3-monthly-seasons")
    periods, factors = tables_of(part)
    assert periods[0] == [
        "Period",
        "Attempts",
        "Hits",
        "Hit rate",
        "95% interval",
        "Trend",
        "Seasonally adjusted",
        "Unusual",
    ]
    frame = season_frame()
    assert [row[0] for row in periods[1:]] == list(frame["period"])
    for j, (row, rec) in enumerate(zip(periods[1:], frame.to_dict("records"), strict=True)):
        n, h = rec["attempts"], rec["hits"]
        assert row[1:3] == [f"{n:,}", f"{h:,}"]
        assert row[5] == f"{pct(0.3 + 0.004 * j)}%"
        assert row[7] == {"high": "Unusually high", "low": "Unusually low"}.get(UNUSUAL.get(j, ""), "")
        if n:
            low, high = wilson(h, n)
            assert row[3] == f"{pct(h / n)}%"
            assert row[4] == f"{pct(low)}–{pct(high)}%"
            assert row[6] == f"{pct(h / n * 0.95)}%"
        else:
            assert row[3:5] == ["–", "–"] and row[6] == "–"
    assert factors[0] == ["Month", "Seasonal factor (odds)", "95% interval"]
    assert [row[0] for row in factors[1:]] == MONTHS
    for row, m in zip(factors[1:], range(1, 13), strict=True):
        f = FACTORS[m]
        assert row[1] == f"{f:.2f}"
        high = "∞" if m == 2 else f"{f * 1.2:.2f}"
        assert row[2] == f"{f * 0.85:.2f}–{high}"
    assert factors[1][1:] == ["0.84", "0.71–1.01"]
    assert "Seasons note" in part
    assert "No seasonal factors are shown." not in part


def test_seasonal_figures() -> None:
    section = bench_sections()[2]
    assert isinstance(section, SeasonalPlot)
    s = strings("en")
    rows = season_rows(section)
    fig = seasonal_figure(rows, s, "en")
    traces = {t.name: t for t in fig.data}
    frame = season_frame()
    periods = list(frame["period"])
    assert fig.layout.xaxis.type == "category" and list(fig.layout.xaxis.categoryarray) == periods
    observed, trend, adjusted = traces["Hit rate"], traces["Trend"], traces["Seasonally adjusted"]
    assert observed.y[GAP] is None and adjusted.y[GAP] is None  # gaps, not zeros
    assert list(trend.y) == pytest.approx(list(frame["trend"]))
    assert [y for y in adjusted.y if y is not None] == pytest.approx([r * 0.95 for r in frame["hit_rate"] if r == r])
    assert traces["ci_low"].fill == "tonexty"
    assert list(traces["ci_high"].y) == pytest.approx([h for h in frame["ci_high"] if h == h])
    high, low = traces["Unusually high"], traces["Unusually low"]
    assert list(high.x) == [periods[4]] and list(low.x) == [periods[15]]
    assert high.y[0] == pytest.approx(frame["hit_rate"][4])
    assert "Unusually low" in low.hovertext[0] and "Trend" in low.hovertext[0]

    bars, dots = factors_figure(factor_rows(section, "en"), s, "en").data[:2]
    assert list(bars.x) == MONTHS
    assert bars.base == 1  # bars rise from, or fall to, 1
    assert [1 + y for y in bars.y] == pytest.approx([FACTORS[m] for m in range(1, 13)])
    assert list(dots.y) == pytest.approx([FACTORS[m] for m in range(1, 13)])
    assert dots.y[0] - dots.error_y.arrayminus[0] == pytest.approx(FACTOR_LOW[1])
    assert dots.y[0] + dots.error_y.array[0] == pytest.approx(FACTOR_HIGH[1])
    assert all(math.isfinite(v) for v in dots.error_y.array)  # the unbounded end stops at the axis
    fig = factors_figure(factor_rows(section, "en"), s, "en")
    assert [shape.y0 for shape in fig.layout.shapes] == [1]  # the line at 1


def test_seasonal_without_factors_shows_the_note(bench_en: str) -> None:
    part = section_html(bench_en, "s4-short-series")
    assert re.search(
        r'<p class="note no-factors">No seasonal factors are shown\. Fewer than two full cycles &lt;img', part
    )
    assert part.count("Fewer than two full cycles") == 1  # in place of the chart, not printed twice
    assert 'id="s4-short-series-chart"' in part
    assert "factors-chart" not in part and "factors-table" not in part
    (periods,) = tables_of(part)
    assert len(periods) == 1 + 14
    assert "Each bar is a month's seasonal factor" not in html_unescape(part)
    assert "Each bar is a month's seasonal factor" in html_unescape(section_html(bench_en, "s3-monthly-seasons"))
    # Partial factors are refused rather than drawn half-way.
    with pytest.raises(ValueError, match="together"):
        SeasonalPlot("x", season_frame(), seasonal_factors=FACTORS)
    with pytest.raises(ValueError, match="same keys"):
        SeasonalPlot(
            "x", season_frame(), seasonal_factors=FACTORS, seasonal_factor_low={1: 0.5}, seasonal_factor_high=FACTORS
        )


def test_cohort_table_and_figure(bench_en: str) -> None:
    part = section_html(bench_en, "s5-cohorts-by-quarter")
    (table,) = tables_of(part)
    assert table[0] == [
        "Cohort",
        "Deals",
        "Followed (days)",
        "Won within 30 days",
        "Won within 60 days",
        "Won within 90 days",
        "Won within 180 days",
    ]
    assert [row[0] for row in table[1:]] == list(COHORTS)
    for row, (name, (n, ages, _)) in zip(table[1:], COHORTS.items(), strict=True):
        assert row[1:3] == [f"{n:,}", f"{max(ages):,}"]
        assert row[3:] == [v if v is not None else "–" for v in COHORT_MILESTONES[name]], name
    assert part.count('<abbr title="the cohort is not that old yet">–</abbr>') == 5

    section = bench_sections()[4]
    assert isinstance(section, CohortCurves)
    fig = cohort_figure(cohort_curves(section), strings("en"), "en")
    assert [html_unescape(t.name) for t in fig.data] == list(COHORTS)
    for trace, (n, ages, shares) in zip(fig.data, COHORTS.values(), strict=True):
        assert trace.line.shape == "hv"  # a step: the share holds until the next win
        expected_x = ages if ages[0] == 0 else [0, *ages]
        expected_y = shares if ages[0] == 0 else [0.0, *shares]
        assert list(trace.x) == expected_x  # sorted by age, starting at day 0
        assert list(trace.y) == pytest.approx(expected_y)
        assert trace.marker.size[-1] > 0 and set(trace.marker.size[:-1]) == {0}  # a dot where the line ends
        assert f"of {n} deals won" in trace.hovertext[-1]
    young = fig.data[2]
    assert max(young.x) == 25 < max(fig.data[0].x) == 200  # the young cohort is short, not low
    assert fig.data[2].name.startswith("&lt;script&gt;")


def test_benchmark_sections_escape_labels(bench_en: str) -> None:
    assert EVIL not in bench_en
    assert EVIL_IMG not in bench_en
    assert "<img" not in bench_en
    # Only our scripts: the plotly bundle, one per chart, the print helper.
    assert len(re.findall(r"<script\b", bench_en, re.IGNORECASE)) == 1 + len(BENCH_CHARTS) + 1
    for div_id in ("s1-funnel-by-rep-chart", "s2-shrunk-rates-by-rep-chart", "s5-cohorts-by-quarter-chart"):
        data = chart_data(bench_en, div_id)
        assert "&lt;script&gt;alert(" in data, div_id
        assert "<script>alert(" not in data and "\\u003cscript\\u003ealert" not in data, div_id
    tables = tables_of(bench_en)
    assert tables[0][3][0] == EVIL  # shown literally to the reader
    assert tables[-1][3][0] == EVIL


def test_benchmark_sections_in_danish(bench_da: str) -> None:
    assert '<html lang="da">' in bench_da
    tables = tables_of(bench_da)
    assert tables[0][0] == [
        "Sælger",
        "Forsøg",
        "Vundne",
        "Hitrate",
        "95 %-interval",
        "95 %-grænser",
        "99,8 %-grænser",
        "I forhold til samlet",
    ]
    assert [row[7] for row in tables[0][1:]] == FLAG_WORDS_DA
    assert tables[0][2][1:5] == ["300", "120", "40,0 %", "34,6–45,6 %"]
    assert tables[1][0] == [
        "Team",
        "Sælger",
        "Forsøg",
        "Vundne",
        "Rå hitrate",
        "Hitrate, justeret for små stikprøver",
        "95 %-interval (justeret)",
    ]
    assert tables[2][0][5:] == ["Trend", "Sæsonkorrigeret", "Usædvanlig"]
    assert tables[2][1 + 4][7] == "Usædvanligt høj"
    assert tables[3][0] == ["Måned", "Sæsonfaktor (odds)", "95 %-interval"]
    assert [row[0] for row in tables[3][1:]][4:10] == ["maj", "jun", "jul", "aug", "sep", "okt"]
    assert tables[3][1][1:] == ["0,84", "0,71–1,01"]
    assert tables[5][0][:4] == ["Kohorte", "Handler", "Fulgt (dage)", "Vundet inden for 30 dage"]
    assert tables[5][1][3] == "5,0 %"
    for words in (
        "Der vises ingen sæsonfaktorer.",
        "Linjerne omkring den samlede hitrate danner en tragt",
        "Den svage ring i samme række er den rå hitrate",
        "Hver søjle er en måneds sæsonfaktor",
        "Unge kohorter har korte linjer",
        '<abbr title="kohorten er ikke så gammel endnu">',
        "<dfn>Tragtgrænser</dfn>",
        "<dfn>Sæsonopdeling</dfn>",
    ):
        assert words in bench_da, words
    rest = without_plotly_bundle(bench_da)
    for english in (
        "Clearly above",
        "Within chance",
        "Seasonally adjusted",
        "Hit rate, adjusted",
        "Raw hit rate",
        "Won within",
        "No seasonal factors",
        "Funnel limits",
        "Deal age",
        "99.8% limits",
        "Unusually",
        "Each dot",
    ):
        assert english not in rest, english
    assert rest.count('"separators":",."') == len(BENCH_CHARTS)


def test_the_report_and_the_dashboard_say_each_word_once() -> None:
    """The report's words (``report``), the dashboard's (``web``) and the ones they share (``common``) are
        one catalogue: no key of a face is also a shared one, and no English text stands in two of them (within one,
    the same English may stand for two Danish words: "Import" the page and "Importér" the button)."""
    from hitrate.i18n import namespace

    spaces = {name: namespace("en", name) for name in ("report", "web", "common")}
    for face in ("report", "web"):
        assert not set(spaces[face]) & set(spaces["common"]), face
    seen: dict[str, str] = {}
    for name, words in spaces.items():
        for key, text in words.items():
            other = seen.get(text, name)
            assert other == name or text.startswith("{"), f"{name}.{key} repeats {other}"
            seen[text] = name
    for lang in ("en", "da"):
        assert len(strings(lang)["month_names"].split()) == 12


def test_every_word_the_report_and_dashboard_use_is_in_the_catalogue() -> None:
    """``s["key"]``, ``s("key", ...)``, ``t.key`` in the code and templates of hitrate/report and hitrate/web
    name keys the catalogues have (tests/test_i18n.py checks the ids given in full)."""
    from hitrate.web.i18n import words as web_words

    root = Path(__file__).resolve().parents[1] / "hitrate"
    found: list[tuple[str, str, str]] = []
    for folder, name in (("report", "s"), ("web", "t")):
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in (".py", ".html"):
                continue
            text = path.read_text(encoding="utf-8")
            quoted = rf"""\b{name}[\[(]["']([a-z][a-z0-9_]*)["'][\]),]"""  # s["key"], s("key", ...)
            pattern = quoted + (rf"|\b{name}\.([a-z][a-z0-9_]*)" if path.suffix == ".html" else "")  # {{ s.key }}
            found += [(folder, path.name, "".join(keys)) for keys in re.findall(pattern, text)]
    report, web = strings("en"), web_words("en")
    methods = {"get", "keys", "items", "values", "lang", "message_id"}
    missing = [
        f"{file}: {key}"
        for folder, file, key in found
        if key not in methods and key not in (report if folder == "report" else web)
    ]
    assert missing == []


def test_benchmark_sections_reject_bad_input() -> None:
    bench = bench_frame()
    with pytest.raises(ValueError, match="FunnelPlot"):
        RateTable("x", rate_frame("team", ["North"], [10], [3]), "team", kind="funnel")
    with pytest.raises(ValueError, match="funnel998_high"):
        FunnelPlot("x", bench.drop(columns="funnel998_high"), "rep", overall_rate=P0)
    with pytest.raises(ValueError, match="overall_rate"):
        FunnelPlot("x", bench, "rep", overall_rate=math.nan)
    with pytest.raises(ValueError, match="overall_rate"):
        FunnelPlot("x", bench, "rep", overall_rate=35)
    with pytest.raises(ValueError, match="label column"):
        CaterpillarPlot("x", bench, "rep", extra_labels=["region"])
    with pytest.raises(ValueError, match="shrunk_low"):
        CaterpillarPlot("x", bench.drop(columns="shrunk_low"), "rep")
    with pytest.raises(ValueError, match="unusual"):
        SeasonalPlot("x", season_frame().drop(columns="unusual"))
    with pytest.raises(ValueError, match="cumulative_win_rate"):
        CohortCurves("x", cohort_frame().drop(columns="cumulative_win_rate"))
    with pytest.raises(ValueError, match="milestones"):
        CohortCurves("x", cohort_frame(), milestones=(30, 0))


def test_benchmark_sections_without_data() -> None:
    empty_bench = bench_frame().iloc[[5]]  # Finn: no attempts
    cohorts = cohort_frame().iloc[0:0]
    html = render_report(
        title="t",
        subtitle="",
        definitions_hash="h",
        sections=[
            FunnelPlot("Funnel", empty_bench, "rep", overall_rate=P0),
            CohortCurves("Cohorts", cohorts),
        ],
    )
    assert "Plotly.newPlot(" not in html
    assert "no row has any attempts" in html
    assert tables_of(html)[0][1][:4] == ["Finn", "0", "0", "–"]
    assert "No rows to show." in html
