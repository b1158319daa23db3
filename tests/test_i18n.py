"""One home for words (hitrate.i18n): the catalogues agree, the code uses only ids they have, numbers read
right in each language.

Reference values for the formatter are CLDR's (through Babel), written out here as a reader would check
them: English ``45.0%``, ``1,234,567``; Danish ``45,0 %``, ``1.234.567``, ``1. okt. 2024``.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import string
from pathlib import Path

import pytest

from hitrate.errors import InvalidParameterError, StrictImportError, UnknownFieldError
from hitrate.i18n import LANGS, Joined, Message, Param, catalogue, namespaces, text
from hitrate.i18n import format as fmt

ROOT = Path(__file__).resolve().parents[1]
ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_.]+$")
#: Calls whose first argument is a message id.
MESSAGE_CALLS = {"Message", "text", "template", "has"}


def _placeholders(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_language_has_the_same_namespaces() -> None:
    assert namespaces("da") == namespaces("en")


def test_every_id_exists_in_both_languages() -> None:
    en, da = catalogue("en"), catalogue("da")
    assert sorted(set(en) - set(da)) == [], "ids in English only"
    assert sorted(set(da) - set(en)) == [], "ids in Danish only"


def test_both_languages_fill_in_the_same_placeholders() -> None:
    en, da = catalogue("en"), catalogue("da")
    differ = {key: (_placeholders(en[key]), _placeholders(da[key])) for key in en if key in da}
    assert {k: v for k, v in differ.items() if v[0] != v[1]} == {}


def test_danish_is_translated() -> None:
    """Danish sentences that are word for word the English ones: only names, symbols and borrowed words."""
    en, da = catalogue("en"), catalogue("da")
    same = [k for k in en if en[k] == da.get(k) and len(re.findall(r"[A-Za-z]{4,}", en[k])) >= 3]
    assert same == [], f"untranslated: {same[:20]}"


def _library_files() -> list[Path]:
    return sorted((ROOT / "hitrate").rglob("*.py"))


def _hitrate_errors() -> set[str]:
    """Names of hitrate's error classes that take a message id first: HitrateError and its subclasses
    anywhere in the package, less those with a signature of their own."""
    classes: dict[str, set[str]] = {}
    for path in _library_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {
                    b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
                    for b in node.bases
                }
                classes.setdefault(node.name, set()).update(bases)
    found = {"HitrateError"}
    while True:
        more = {name for name, bases in classes.items() if bases & found} - found
        if not more:
            break
        found |= more
    own_signature = {
        "InvalidParameterError",
        "DefinitionsError",
        "AmbiguousDateFormatError",
        "UnknownFieldError",
        "StrictImportError",
    }
    return found - own_signature


ERRORS = _hitrate_errors()


def _calls(tree: ast.AST) -> list[tuple[str, ast.expr]]:
    """(called name, the argument that holds the message id) for every call that takes one."""
    out: list[tuple[str, ast.expr]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        position = 1 if name == "InputFileError" else 0
        if (name in MESSAGE_CALLS or name in ERRORS) and len(node.args) > position:
            out.append((name, node.args[position]))
    return out


def test_every_id_the_code_uses_is_in_the_catalogue() -> None:
    en = catalogue("en")
    missing: list[str] = []
    for path in _library_files():
        for name, arg in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(ROOT)}:{arg.lineno} {name}"
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and ID.match(arg.value):
                if arg.value not in en:
                    missing.append(f"{where} {arg.value!r}")
            elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
                prefix = str(arg.values[0].value)
                if ID.match(prefix + "x") and not any(k.startswith(prefix) for k in en):
                    missing.append(f"{where} {prefix!r}…")
    assert missing == []


def test_errors_and_messages_carry_ids_not_sentences() -> None:
    """An error or message built from an English sentence would bypass the catalogues."""
    sentences: list[str] = []
    for path in _library_files():
        if path.parts[-2] == "tests":
            continue
        for name, arg in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            if (
                (literal and not ID.match(arg.value) and arg.value)
                or isinstance(arg, ast.JoinedStr)
                and not (
                    arg.values and isinstance(arg.values[0], ast.Constant) and ID.match(str(arg.values[0].value) + "x")
                )
            ):
                sentences.append(f"{path.relative_to(ROOT)}:{arg.lineno} {name}")
    assert sentences == []


# -- rendering ------------------------------------------------------------------------------------------------


def test_a_parameter_is_written_the_way_each_face_writes_it() -> None:
    err = UnknownFieldError("regoin", ["rep", "region"], Param("by"))
    assert str(err) == "unknown field 'regoin' (by); expected one of: region, rep"
    assert err.render("en", lambda p: f"--{p}") == "unknown field 'regoin' (--by); expected one of: region, rep"
    assert err.render("da", lambda p: f"?{p}=") == "ukendt felt 'regoin' (?by=); forventede et af: region, rep"


def test_errors_keep_their_context() -> None:
    err = StrictImportError(2, ["f.csv row 3: bad", "f.csv row 4: worse"])
    assert err.quarantined == 2 and err.key == "errors.strict_import"
    assert str(err).splitlines()[1:] == ["  f.csv row 3: bad", "  f.csv row 4: worse"]


def test_invalid_parameter_is_a_value_error_that_names_caller_expectation_and_value() -> None:
    err = InvalidParameterError("basis", "one of closed, cohort", "close", caller="rates")
    assert isinstance(err, ValueError)
    assert str(err) == "The 'basis' parameter of rates must be one of closed, cohort. Got 'close' instead."


def test_messages_nest_and_format_numbers_for_the_language() -> None:
    msg = Message("rates.small_sample_groups", small=1234, groups=5000, minimum=10)
    assert "1234 of 5000 groups" in msg.render("en")
    assert Message("results.more_rows", shown=30, total=1234).render("da") == "De første 30 af 1.234 rækker."
    assert text("rates.title_by", "da", by=Joined(["team", "rep"])) == "Hitrate efter team, rep"


def test_an_unknown_id_renders_as_itself_rather_than_hiding_the_error() -> None:
    assert text("nowhere.to_be_found", "en", n=3) == "nowhere.to_be_found(n=3)"


# -- the formatter ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("func", "args", "en", "da"),
    [
        (fmt.percent, (0.4502,), "45.0%", "45,0 %"),
        (fmt.percent, (0.4502, 0), "45%", "45 %"),
        (fmt.integer, (1234567,), "1,234,567", "1.234.567"),
        (fmt.number, (1234.5,), "1,234.50", "1.234,50"),
        (fmt.amount, (1234567.4,), "1,234,567", "1.234.567"),
        (fmt.factor, (1.234,), "1.23", "1,23"),
        (fmt.points, (-0.0152,), "−1.5", "−1,5"),
        (fmt.date, (dt.date(2024, 10, 1),), "Oct 1, 2024", "1. okt. 2024"),
        (fmt.datetime, (dt.datetime(2024, 10, 1, 14, 5),), "Oct 1, 2024, 2:05 PM", "1. okt. 2024 14.05"),
        (fmt.datetime, (dt.datetime(2024, 10, 1),), "Oct 1, 2024", "1. okt. 2024"),
        (fmt.percent, (float("nan"),), "–", "–"),
        (fmt.integer, (None,), "–", "–"),
    ],
)
def test_formats_follow_each_locale(func, args, en, da) -> None:
    assert func(*args[:1], "en", *args[1:]) == en
    assert func(*args[:1], "da", *args[1:]) == da


def test_an_interval_shares_its_percent_sign() -> None:
    assert fmt.interval(0.364, 0.539, "en") == "36.4–53.9%"
    assert fmt.interval(0.364, 0.539, "da") == "36,4–53,9 %"
    assert fmt.interval(None, 0.539, "da") == "–"


def test_money_carries_its_currency_in_the_languages_way() -> None:
    assert fmt.money(1234.0, "USD", "en") == "$1,234"
    assert fmt.money(1234.0, "DKK", "da") == "1.234 kr."
    assert fmt.money(1234.5, "EUR", "da", digits=2) == "1.234,50 €"
    assert fmt.money(1234.0, None, "da") == "1.234"


def test_every_language_is_known_to_babel() -> None:
    for lang in LANGS:
        assert fmt.percent(0.5, lang)


# -- no sentences outside the catalogues -------------------------------------------------------------------------

SQL = re.compile(
    r"\b(SELECT|FROM|WHERE|INSERT|CREATE|ALTER|UPDATE|DELETE|DROP|JOIN|CAST|CASE|WHEN|THEN|ELSE|TABLE|VALUES|GROUP BY|"
    r"AS|ON|ORDER BY|IS NOT NULL|OVER|PARTITION BY|INTEGER|BIGINT|DOUBLE|TRY_CAST|substr|sha256|concat_ws|"
    r"list_position)\b"
)
#: Strings of four words or more that are not sentences for users: (file, start of the string, why).
NOT_SENTENCES = {
    ("hitrate/__init__.py", "module 'hitrate' has no attribute"),  # Python's own AttributeError wording
    ("hitrate/analysis/_figures.py", "system-ui"),  # a font stack
    ("hitrate/report/_charts/style.py", "system-ui"),
    ("hitrate/report/workbook.py", "yyyy-mm-dd hh:mm"),  # a spreadsheet's number format
    ("hitrate/improve/coach/_card.py", "hitrate benchmark --by rep"),  # the command that reproduces a number
    ("hitrate/ingest/parsing.py", "a date shape must not contain quotes"),  # a programming error, not a user's
    ("hitrate/ingest/readers.py", "the cells are not read yet"),  # a programming error
    ("hitrate/ingest/readers.py", "a RawTable needs cells"),  # a programming error
    ("hitrate/spec/model.py", "Closed-basis hit rate of every opportunity"),  # the default definitions' data
    ("hitrate/stats/censoring.py", "no deal at all"),  # a value shown after "Got" in an InvalidParameterError
    ("hitrate/stats/censoring.py", ": open_count sums to"),
    ("hitrate/synth/reps.py", "Anna Lars Maria"),  # the demo's names
    ("hitrate/synth/reps.py", "Holm Berg Nielsen"),
    ("hitrate/sync/salesforce.py", "text/xml; charset=UTF-8"),  # an HTTP header's value
    ("hitrate/web/csp.py", "default-src"),  # Content-Security-Policy directives
    ("hitrate/web/csp.py", "img-src"),
    ("hitrate/web/csp.py", "style-src"),
}


def _sentences(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            s = node.value
            if (
                len(re.findall(r"[A-Za-z]{2,}", s)) >= 4
                and " " in s
                and not SQL.search(s)
                and not s.strip().startswith(
                    ("^", "(?", "%", "{", "<", "#", "'", ")", ",", "]", " IS", "SET", "read_csv")
                )
            ):
                found.append((node.lineno, s))
    return found


def test_no_user_facing_sentence_lives_outside_the_catalogues():
    """The library (everything but the faces' own code in cli/ and web/, which also read the catalogues)
    holds ids and parameters, not English sentences."""
    stray = []
    for path in _library_files():
        rel = str(path.relative_to(ROOT))
        for line, s in _sentences(path):
            if not any(rel == f and s.startswith(start) for f, start in NOT_SENTENCES):
                stray.append(f"{rel}:{line} {s[:80]!r}")
    assert stray == []
