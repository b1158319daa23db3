"""The words the plain-language and language tests look for (issue 21).

*Jargon* is the statistician's vocabulary: a sales leader's main text (a command's output without
``--explain``, a report section or dashboard page outside its method block) must not use it; the method, named,
is one ``--explain`` or one click away. *Foreign words* are the other language's common words: Danish output
must not fall back to English, nor English output to Danish.

HTML marks method text with ``class="method"`` on the element that holds it (a ``<details>`` block, usually);
:func:`main_text` drops those elements, scripts, styles and tags, and gives the rest as text.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterable
from typing import Any

#: The statistician's words, English and Danish (case-insensitive, whole words).
JARGON: tuple[str, ...] = (
    r"logit",
    r"log[- ]?odds\w*",
    r"log OR",
    r"odds ?ratio\w*",
    r"GLM",
    r"IRLS",
    r"Aalen",
    r"Johansen",
    r"Kaplan",
    r"convol\w+",
    r"foldning\w*",
    r"shrunk\w*",
    r"shrinkage",
    r"krymp\w*",
    r"posterior\w*",
    r"beta-binomial\w*",
    r"empiri\w* Bayes",
    r"Poisson",
    r"negative-binomial",
    r"negativ binomial\w*",
    r"quasi-binomial",
    r"Wilson",
    r"Newcombe",
    r"Clopper",
    r"Jeffreys",
    r"Benjamini",
    r"Hochberg",
    r"Fisher\w*",
    r"chi-square",
    r"chi-i-anden",
    r"competing risks",
    r"konkurrerende risici",
    r"censor\w*",
    r"censur\w*",
    r"cumulative incidence",
    r"kumulativ\w* incidens",
    r"pseudo-\w+",
    r"false discovery rate",
    r"falsk\w* opdagelses\w*",
    r"credible interval",
    r"troværdighedsinterval\w*",
    r"marginal likelihood",
    r"profile likelihood",
    r"bootstrap\w*",
    r"delta method",
    r"deltametode\w*",
    r"SLSQP",
    r"p-value",
    r"p-værdi\w*",
)
_JARGON = re.compile(r"(?<![\w-])(" + "|".join(JARGON) + r")(?![\w])", re.IGNORECASE)

#: Common English words that Danish output must not hold (whole words, case-sensitive lower case); words that are
#: Danish too (rate, interval, team, chance, basis, total) are not on the list.
ENGLISH: tuple[str, ...] = (
    "the", "of", "and", "with", "from", "than", "which", "their", "this", "that", "these", "those", "is", "are",
    "was", "were", "not", "none", "below", "above", "attempts", "hits", "won", "lost", "open", "deals", "reps",
    "period", "week", "month", "quarter", "year", "goal", "goals", "forecast", "reason", "reasons", "share",
    "overall", "days", "left", "made", "make", "amount", "closed", "expected", "clearly", "about", "after",
    "before",
)  # fmt: skip

#: Common Danish words that English output must not hold.
DANISH: tuple[str, ...] = (
    "og", "af", "til", "ikke", "med", "fra", "eller", "der", "det", "som", "forsøg", "vundet", "tabt", "åbne",
    "aftaler", "periode", "uge", "måned", "kvartal", "mål", "prognose", "andel", "samlet", "dage", "sandsynlighed",
    "hitraten", "sælger", "sælgere", "årsag", "årsager", "over", "under",
)  # fmt: skip

_SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def data_names(store: Any) -> set[str]:
    """The data's own words in an open store, in whatever language the data is: every text value of its data
    tables (reps, teams, stages, products, reasons, sources, activity types, ids...), every column name (a table
    grouped by a field shows the field's name) and the product's name."""
    names: set[str] = {"hitrate", "Hitrate"}
    names |= {str(c) for (c,) in store.fetch("SELECT DISTINCT column_name FROM information_schema.columns")}
    columns = store.fetch(
        "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR' "
        "AND table_schema = 'main' AND table_name IN ('opportunities', 'reps', 'stage_history', 'activities', "
        "'feedback')"
    )
    for table, column in columns:
        found = store.fetch(f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')
        names.update(str(v) for (v,) in found)
    return names


def jargon_in(text: str) -> list[str]:
    """The jargon words ``text`` uses, in order (empty when it is plain)."""
    return [m.group(1) for m in _JARGON.finditer(text)]


def foreign_words(text: str, lang: str, known: Iterable[str] = ()) -> list[str]:
    """The other language's words in ``text`` (which should be ``lang``), after removing the ``known`` values
    (data: names of reps, teams, stages, products, which are in whatever language the data is)."""
    for value in sorted(known, key=len, reverse=True):
        if value:
            text = text.replace(value, " ")
    words = ENGLISH if lang == "da" else DANISH
    if lang == "en":
        words = tuple(w for w in words if w not in {"over", "under"})  # English words too
    found = re.findall(r"(?<![\w'./-])(" + "|".join(re.escape(w) for w in words) + r")(?![\w'/-])", text)
    return found


def main_text(page: str) -> str:
    """An HTML page's text outside its method blocks (elements with ``class="method"``), scripts and styles."""
    page = _SCRIPT.sub(" ", page)
    page = _drop_method(page)
    return html_lib.unescape(_TAG.sub(" ", page))


def method_text(page: str) -> str:
    """The text of an HTML page's method blocks only."""
    blocks = []
    for m in re.finditer(r"<(\w+)[^>]*\bclass=\"[^\"]*\bmethod\b[^\"]*\"[^>]*>", page):
        end = _closing(page, m.group(1), m.end())
        blocks.append(page[m.end() : end])
    return html_lib.unescape(_TAG.sub(" ", " ".join(blocks)))


def _drop_method(page: str) -> str:
    out, pos = [], 0
    opener = re.compile(r"<(\w+)[^>]*\bclass=\"[^\"]*\bmethod\b[^\"]*\"[^>]*>")
    while (m := opener.search(page, pos)) is not None:
        out.append(page[pos : m.start()])
        pos = _closing(page, m.group(1), m.end())
    out.append(page[pos:])
    return "".join(out)


def _closing(page: str, tag: str, start: int) -> int:
    """The index after the ``</tag>`` that closes the element opened just before ``start`` (nesting counted)."""
    depth, pattern = 1, re.compile(rf"<(/?){tag}\b[^>]*>", re.IGNORECASE)
    for m in pattern.finditer(page, start):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return m.end()
    return len(page)
