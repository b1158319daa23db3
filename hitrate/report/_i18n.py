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
        # Funnel plots.
        "read_funnel": "Each dot is a group: further right means more attempts, higher up a higher hit rate. "
        "The lines around the overall hit rate form a funnel: they show how far a group can land from the "
        "overall rate by chance alone, given its attempts. Small groups sit on the left, where the funnel is "
        "wide. Inside the inner (95%) lines is what chance gives; outside the outer (99.8%) lines is very "
        "unlikely to be luck. Triangles mark groups clearly above or below the overall rate.",
        "limits95": "95% limits",
        "limits998": "99.8% limits",
        "funnel_limits": "Funnel limits",
        "flag": "Compared with overall",
        "flag_above": "Clearly above",
        "flag_below": "Clearly below",
        "flag_within": "Within chance",
        "hover_flag": "Flag: {flag}",
        # Caterpillar plots.
        "read_caterpillar": "Each solid dot is a group's shrunk hit rate, and its whisker the 95% interval "
        "for it; groups are sorted from the highest shrunk rate at the top. The faint ring on the same row is "
        "the raw hit rate (hits / attempts): the shrunk rate pulls small groups towards the overall rate, "
        "because a few lucky or unlucky deals say little about them, while big groups hardly move. "
        "Where whiskers overlap, the order may be chance.",
        "raw_rate": "Raw hit rate",
        "shrunk_rate": "Shrunk hit rate",
        "shrunk_interval": "95% interval (shrunk)",
        "hover_raw": "Raw hit rate {rate}",
        "hover_shrunk": "Shrunk hit rate {rate} ({interval})",
        # Seasonal decomposition.
        "read_seasonal": "The dots are the hit rate in each period and the shaded band its 95% interval. "
        "The solid line is the trend, the slow movement. The dashed line is the seasonally adjusted hit rate: "
        "each period with the usual effect of its time of year taken out, so a dip that comes every year no "
        "longer looks like a problem. Triangles mark periods that were unusually high or low for their trend "
        "and season.",
        "read_factors": "Each bar is a month's seasonal factor: how much that time of year lifts (above the line "
        "at 1) or lowers (below it) the odds of a hit compared with a typical month. The whisker is its 95% "
        "interval; when it crosses 1, the month may not differ at all.",
        "read_factors_week": "Each bar is a week's seasonal factor: how much that time of year lifts (above the "
        "line at 1) or lowers (below it) the odds of a hit compared with a typical week. The whisker is its 95% "
        "interval; when it crosses 1, the week may not differ at all.",
        "trend": "Trend",
        "seasonal_decomposition": "Seasonal decomposition",
        "adjusted_rate": "Seasonally adjusted",
        "unusual": "Unusual",
        "unusual_high": "Unusually high",
        "unusual_low": "Unusually low",
        "seasonal_factor": "Seasonal factor (odds)",
        "factors_title": "{title} – seasonal factors",
        "factors_caption": "{title}: the seasonal factors behind the second chart",
        "no_factors": "No seasonal factors are shown.",
        "month": "Month",
        "week": "Week",
        "month_names": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
        "hover_trend": "Trend {rate}",
        "hover_adjusted": "Seasonally adjusted {rate}",
        "hover_factor": "Seasonal factor {factor} ({interval})",
        # Cohort curves.
        "read_cohorts": "Each line is a cohort: deals created in the same period. It climbs as the cohort's "
        "deals are won; its height at a deal age is the share of the cohort won by then. Young cohorts have "
        "short lines (the dot marks where each line ends) because their deals have not had time to close. "
        "Compare cohorts at the same age, not at the ends of their lines: a young cohort whose line runs with "
        "the older ones is not doing worse, only younger.",
        "cohort": "Cohort",
        "cohort_size": "Deals",
        "age_reached": "Followed (days)",
        "deal_age": "Deal age (days)",
        "share_won": "Share won",
        "won_by": "Won within {days} days",
        "not_reached": "the cohort is not that old yet",
        "hover_age": "Day {days}",
        "hover_share": "{share} of {n} deals won",
        # Footer paragraphs, shown when the report has such a section.
        "about_funnel": "a group's hit rate is compared with the overall hit rate, allowing for its number "
        "of attempts: the control limits are the range an exact binomial count would fall in 95% and 99.8% of "
        "the time if the group were just like the whole. A group is flagged clearly above or below only when "
        "a test says so after allowing for the number of groups compared, so that many groups do not give "
        "false alarms.",
        "about_shrunk": "the group's hit rate after borrowing strength from the other groups (empirical "
        "Bayes): a group with few attempts is pulled towards the rate of all groups, one with many attempts "
        "keeps close to its own. It ranks groups more fairly than the raw rate.",
        "about_seasonal": "the hit rate split into a slow trend, a repeating effect of the time of year "
        "(the seasonal factors, on the odds of a hit; 1 is a typical month) and what is left over. "
        "The seasonally adjusted rate is the observed rate with the seasonal effect taken out.",
        "about_cohorts": "the share of a cohort's deals won within a given number of days of being created. "
        "Deals still open count as not won yet, so a young cohort's share can only grow.",
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
        "col_cohort": "Cohort",
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
        "read_funnel": "Hvert punkt er en gruppe: længere til højre betyder flere forsøg, højere oppe en højere "
        "hitrate. Linjerne omkring den samlede hitrate danner en tragt: de viser, hvor langt fra den samlede "
        "rate en gruppe kan lande alene ved tilfældighed med det antal forsøg, den har. Små grupper ligger til "
        "venstre, hvor tragten er bred. Inden for de inderste (95 %) linjer er, hvad tilfældigheder giver; uden "
        "for de yderste (99,8 %) linjer er det meget usandsynligt, at det er held. Trekanter markerer grupper, "
        "der ligger tydeligt over eller under den samlede rate.",
        "limits95": "95 %-grænser",
        "limits998": "99,8 %-grænser",
        "funnel_limits": "Tragtgrænser",
        "flag": "I forhold til samlet",
        "flag_above": "Tydeligt over",
        "flag_below": "Tydeligt under",
        "flag_within": "Inden for det tilfældige",
        "hover_flag": "Markering: {flag}",
        "read_caterpillar": "Hvert fyldt punkt er en gruppes krympede hitrate, og stregen er dens 95 %-interval; "
        "grupperne er sorteret med den højeste krympede rate øverst. Den svage ring i samme række er den rå "
        "hitrate (vundne / forsøg): den krympede rate trækker små grupper ind mod den samlede rate, fordi nogle "
        "få heldige eller uheldige handler ikke siger meget om dem, mens store grupper næsten ikke flytter sig. "
        "Hvor stregerne overlapper, kan rækkefølgen være tilfældig.",
        "raw_rate": "Rå hitrate",
        "shrunk_rate": "Krympet hitrate",
        "shrunk_interval": "95 %-interval (krympet)",
        "hover_raw": "Rå hitrate {rate}",
        "hover_shrunk": "Krympet hitrate {rate} ({interval})",
        "read_seasonal": "Punkterne er hitraten i hver periode, og det skraverede bånd er dens 95 %-interval. "
        "Den fuldt optrukne linje er trenden, den langsomme bevægelse. Den stiplede linje er den "
        "sæsonkorrigerede hitrate: hver periode med den sædvanlige effekt af årstiden trukket ud, så et fald, "
        "der kommer hvert år, ikke længere ligner et problem. Trekanter markerer perioder, der var usædvanligt "
        "høje eller lave i forhold til deres trend og sæson.",
        "read_factors": "Hver søjle er en måneds sæsonfaktor: hvor meget den tid på året løfter (over linjen ved "
        "1) eller sænker (under den) oddsene for en vundet handel i forhold til en typisk måned. Stregen er "
        "dens 95 %-interval; når den krydser 1, er måneden måske slet ikke anderledes.",
        "read_factors_week": "Hver søjle er en uges sæsonfaktor: hvor meget den tid på året løfter (over linjen "
        "ved 1) eller sænker (under den) oddsene for en vundet handel i forhold til en typisk uge. Stregen er "
        "dens 95 %-interval; når den krydser 1, er ugen måske slet ikke anderledes.",
        "trend": "Trend",
        "seasonal_decomposition": "Sæsonopdeling",
        "adjusted_rate": "Sæsonkorrigeret",
        "unusual": "Usædvanlig",
        "unusual_high": "Usædvanligt høj",
        "unusual_low": "Usædvanligt lav",
        "seasonal_factor": "Sæsonfaktor (odds)",
        "factors_title": "{title} – sæsonfaktorer",
        "factors_caption": "{title}: sæsonfaktorerne bag den anden graf",
        "no_factors": "Der vises ingen sæsonfaktorer.",
        "month": "Måned",
        "week": "Uge",
        "month_names": "jan feb mar apr maj jun jul aug sep okt nov dec",
        "hover_trend": "Trend {rate}",
        "hover_adjusted": "Sæsonkorrigeret {rate}",
        "hover_factor": "Sæsonfaktor {factor} ({interval})",
        "read_cohorts": "Hver linje er en kohorte: handler oprettet i samme periode. Den stiger, efterhånden som "
        "kohortens handler bliver vundet; dens højde ved en given alder er den andel af kohorten, der var vundet "
        "til den tid. Unge kohorter har korte linjer (punktet markerer, hvor hver linje slutter), fordi deres "
        "handler ikke har nået at blive afgjort. Sammenlign kohorter ved samme alder, ikke ved enden af deres "
        "linjer: en ung kohorte, hvis linje følger de ældre, klarer sig ikke dårligere, den er bare yngre.",
        "cohort": "Kohorte",
        "cohort_size": "Handler",
        "age_reached": "Fulgt (dage)",
        "deal_age": "Handlens alder (dage)",
        "share_won": "Andel vundet",
        "won_by": "Vundet inden for {days} dage",
        "not_reached": "kohorten er ikke så gammel endnu",
        "hover_age": "Dag {days}",
        "hover_share": "{share} af {n} handler vundet",
        "about_funnel": "en gruppes hitrate sammenlignes med den samlede hitrate under hensyn til antallet af "
        "forsøg: kontrolgrænserne er det område, et eksakt binomialt antal ville ligge i 95 % og 99,8 % af "
        "gangene, hvis gruppen var ligesom helheden. En gruppe markeres kun som tydeligt over eller under, når "
        "en test siger det efter hensyn til, hvor mange grupper der sammenlignes, så mange grupper ikke giver "
        "falske alarmer.",
        "about_shrunk": "gruppens hitrate, efter at den har lånt styrke fra de andre grupper (empirisk Bayes): "
        "en gruppe med få forsøg trækkes ind mod alle gruppers rate, en med mange forsøg holder sig tæt på sin "
        "egen. Den rangordner grupper mere retfærdigt end den rå rate.",
        "about_seasonal": "hitraten delt op i en langsom trend, en tilbagevendende effekt af årstiden "
        "(sæsonfaktorerne, på oddsene for en vundet handel; 1 er en typisk måned) og resten. Den "
        "sæsonkorrigerede rate er den observerede rate med sæsoneffekten trukket ud.",
        "about_cohorts": "den andel af en kohortes handler, der er vundet inden for et givet antal dage efter "
        "oprettelsen. Handler, der stadig er åbne, tæller som ikke vundet endnu, så en ung kohortes andel kan "
        "kun vokse.",
        "col_team": "Team",
        "col_rep": "Sælger",
        "col_period": "Periode",
        "col_segment": "Segment",
        "col_region": "Region",
        "col_manager": "Leder",
        "col_product": "Produkt",
        "col_sector": "Branche",
        "col_lead_source": "Leadkilde",
        "col_cohort": "Kohorte",
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


def fmt_factor(value: Any, lang: str) -> str:
    """A multiplicative factor with two decimals, ``1.234`` -> ``"1.23"``; ``∞`` when unbounded."""
    if is_missing(value):
        return MISSING
    if math.isinf(float(value)):
        return "∞" if float(value) > 0 else "-∞"
    return _localise(f"{float(value):.2f}", lang)


def fmt_factor_interval(low: Any, high: Any, lang: str) -> str:
    """An interval of factors as ``"0.91–1.32"``, or :data:`MISSING` if either end is missing."""
    if is_missing(low) or is_missing(high):
        return MISSING
    return f"{fmt_factor(low, lang)}–{fmt_factor(high, lang)}"


def flag_text(flag: str, s: dict[str, str]) -> str:
    """A funnel flag (``"above"``, ``"below"``, ``"within"``) in words; other flags as given, ``""`` as missing."""
    if not flag:
        return MISSING
    return s.get(f"flag_{flag}", flag) if flag in ("above", "below", "within") else flag


def unusual_text(unusual: str, s: dict[str, str]) -> str:
    """An unusual-period mark (``"high"``, ``"low"``) in words; ``""`` stays empty, other marks as given."""
    if unusual in ("high", "low"):
        return s[f"unusual_{unusual}"]
    return unusual


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
