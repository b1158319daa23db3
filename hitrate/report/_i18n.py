"""UI strings and number formatting for the HTML report, in English and Danish.

Everything the report prints that is not user data comes from :data:`STRINGS`, so a
page is in one language throughout. Numbers follow the language too: ``1,234`` and
``45.0 %`` in English, ``1.234`` and ``45,0 %`` in Danish. Missing values print as
:data:`MISSING` (an en dash).
"""

from __future__ import annotations

import math
from typing import Any

LANGS: tuple[str, ...] = ("en", "da")
MISSING = "–"

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "hit_rate": "Hit rate",
        "attempts": "Attempts",
        "hits": "Hits",
        "interval": "95% interval",
        "value_hit_rate": "Value hit rate",
        "amount_won": "Amount won",
        "overall": "Overall",
        "overall_line": "Overall {rate}",
        "definitions": "Definitions",
        "generated": "Generated",
        "notes": "Notes",
        "contents": "Contents",
        "about": "About the numbers",
        "table_caption": "{title}: the numbers behind the chart",
        "chart_label": "Chart: {title}. The same numbers are in the table below.",
        "no_rows": "No rows to show.",
        "no_chart": "Nothing to chart: no row has any attempts.",
        "not_available": "not available",
        "hover_rate": "Hit rate {rate}",
        "hover_interval": "95% interval {interval}",
        "hover_counts": "{hits} hits of {attempts} attempts",
        "hover_value": "Value hit rate {rate}",
        "read_bars": "Each dot is a hit rate; the whisker around it is its 95% interval. "
        "Rows are sorted from highest to lowest hit rate.",
        "read_trend": "The line is the hit rate in each period and the shaded band its 95% interval. "
        "Bigger markers mean more attempts.",
        "read_overall": "The dashed line is the overall hit rate.",
        "about_hit_rate": "the share of attempts that were won. It is always shown next to the number "
        "of attempts, because a rate worked out from a few attempts says little.",
        "about_interval": "a Wilson score interval: the range of hit rates that fit the attempts and "
        "hits seen. With few attempts it is wide, and it narrows as attempts grow. When the "
        "intervals of two groups overlap a lot, the difference between them may be chance.",
        "about_value": "the share of the money that was won: the amount won divided by the amount of "
        "all attempts whose amount is known (won and lost; on the cohort basis open ones too). It is blank (–) "
        "when there are no amounts to compare.",
        "about_definitions": "Definitions hash",
        "about_generated_by": "Made with hitrate. This file works offline: everything it needs is inside it.",
        # Names of common label columns; other columns are shown as named in the data.
        "col_team": "Team",
        "col_rep": "Rep",
        "col_period": "Period",
        "col_segment": "Segment",
        "col_region": "Region",
        "col_manager": "Manager",
        "col_product": "Product",
        "col_sector": "Sector",
        "col_lead_source": "Lead source",
    },
    "da": {
        "hit_rate": "Hitrate",
        "attempts": "Forsøg",
        "hits": "Vundne",
        "interval": "95 %-interval",
        "value_hit_rate": "Værdi-hitrate",
        "amount_won": "Vundet beløb",
        "overall": "Samlet",
        "overall_line": "Samlet {rate}",
        "definitions": "Definitioner",
        "generated": "Dannet",
        "notes": "Bemærkninger",
        "contents": "Indhold",
        "about": "Om tallene",
        "table_caption": "{title}: tallene bag grafen",
        "chart_label": "Graf: {title}. De samme tal står i tabellen nedenfor.",
        "no_rows": "Ingen rækker at vise.",
        "no_chart": "Intet at vise i en graf: ingen række har forsøg.",
        "not_available": "ikke tilgængelig",
        "hover_rate": "Hitrate {rate}",
        "hover_interval": "95 %-interval {interval}",
        "hover_counts": "{hits} vundne af {attempts} forsøg",
        "hover_value": "Værdi-hitrate {rate}",
        "read_bars": "Hvert punkt er en hitrate, og stregen omkring det er dens 95 %-interval. "
        "Rækkerne er sorteret fra højeste til laveste hitrate.",
        "read_trend": "Linjen er hitraten i hver periode, og det skraverede bånd er dens 95 %-interval. "
        "Større punkter betyder flere forsøg.",
        "read_overall": "Den stiplede linje er den samlede hitrate.",
        "about_hit_rate": "den andel af forsøgene, der blev vundet. Den vises altid sammen med antallet "
        "af forsøg, for en rate udregnet på få forsøg siger ikke meget.",
        "about_interval": "et Wilson-interval, dvs. de hitrates, der passer med de forsøg og vundne, vi "
        "har set. Med få forsøg er det bredt, og det bliver smallere, jo flere forsøg der er. "
        "Når to gruppers intervaller overlapper meget, kan forskellen mellem dem være tilfældig.",
        "about_value": "den andel af pengene, der blev vundet, dvs. det vundne beløb delt med beløbet "
        "for alle forsøg med kendt beløb (vundne og tabte; på kohortebasis også åbne). Feltet er tomt "
        "(–), når der ikke er beløb at sammenligne.",
        "about_definitions": "Definitioner (hash)",
        "about_generated_by": "Lavet med hitrate. Filen virker uden netforbindelse: alt, hvad den "
        "skal bruge, er indeni.",
        "col_team": "Team",
        "col_rep": "Sælger",
        "col_period": "Periode",
        "col_segment": "Segment",
        "col_region": "Region",
        "col_manager": "Leder",
        "col_product": "Produkt",
        "col_sector": "Branche",
        "col_lead_source": "Leadkilde",
    },
}


def strings(lang: str) -> dict[str, str]:
    """The UI strings for ``lang``; raises ``ValueError`` for a language we do not have."""
    try:
        return STRINGS[lang]
    except KeyError:
        raise ValueError(f"unknown report language {lang!r}; expected one of: {', '.join(LANGS)}") from None


def column_name(column: str, lang: str) -> str:
    """A table heading for a label column: translated if it is a common one, else as named."""
    return strings(lang).get(f"col_{column}", column)


def is_missing(value: Any) -> bool:
    """True for ``None``, NaN, ``pd.NA`` and ``NaT`` (anything that is not a real number)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return False
    try:
        # NaN-like values (NaT, Decimal("NaN")) are not equal to themselves.
        return bool(value != value)
    except TypeError:
        # pd.NA: its comparisons return pd.NA, whose truth value is ambiguous.
        return True


def _localise(text: str, lang: str) -> str:
    """Swap English separators (``1,234.5``) for Danish ones (``1.234,5``)."""
    if lang == "da":
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def fmt_int(value: Any, lang: str) -> str:
    """A whole number with thousands separators, or :data:`MISSING`."""
    if is_missing(value):
        return MISSING
    return _localise(f"{int(value):,}", lang)


def fmt_amount(value: Any, lang: str) -> str:
    """A money amount rounded to a whole number with thousands separators, or :data:`MISSING`."""
    if is_missing(value):
        return MISSING
    return _localise(f"{float(value):,.0f}", lang)


def _pct_number(value: float, lang: str, digits: int) -> str:
    return _localise(f"{float(value) * 100:.{digits}f}", lang)


def fmt_pct(value: Any, lang: str, digits: int = 1) -> str:
    """A proportion as a percentage, ``0.4502`` -> ``"45.0 %"``, or :data:`MISSING`."""
    if is_missing(value):
        return MISSING
    return f"{_pct_number(value, lang, digits)} %"


def fmt_interval(low: Any, high: Any, lang: str, digits: int = 1) -> str:
    """An interval of proportions as ``"36.4–53.9 %"``, or :data:`MISSING` if either end is missing."""
    if is_missing(low) or is_missing(high):
        return MISSING
    return f"{_pct_number(low, lang, digits)}–{_pct_number(high, lang, digits)} %"


def label_text(value: Any) -> str:
    """A row label as text: dates without a midnight time, whole floats without ``.0``."""
    if is_missing(value):
        return MISSING
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat) and hasattr(value, "hour"):
        if (value.hour, value.minute, value.second, getattr(value, "microsecond", 0)) == (0, 0, 0, 0):
            return str(value.date()) if hasattr(value, "date") else str(isoformat())
        return str(isoformat(sep=" ", timespec="minutes"))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
