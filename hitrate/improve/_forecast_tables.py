"""The forecast and its backtest as tables of text in a language, for the HTML report and the dashboard.

Both show the same two tables: the forecast per group and period (wins with their interval, booked, from open
deals, from new deals, amount won with its interval) and the backtest's accuracy per method (MAE, MAPE, bias and
the coverage of hitrate's intervals). Each function takes the rows as the results' ``to_dict`` gives them, so the
dashboard can build them from its cached JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from hitrate.i18n import Message
from hitrate.i18n import format as fmt

#: The forecast table's number columns (after the groups and the period).
FORECAST_HEADS = ("col_wins", "col_booked", "col_open", "col_new", "col_amount")
#: The accuracy table's columns.
ACCURACY_HEADS = ("col_method", "col_mae", "col_mape", "col_bias", "col_coverage")


def _word(key: str, lang: str) -> str:
    return Message(f"forecast.{key}").render(lang)


def estimate(value: float, low: float, high: float, lang: str) -> str:
    """``1,276 (1,183–1,372)``: an expected count or amount with its interval, rounded to whole numbers."""
    return f"{fmt.number(value, lang, 0)} ({fmt.number(low, lang, 0)}–{fmt.number(high, lang, 0)})"


def money_estimate(value: float, low: float, high: float, currency: str | None, lang: str) -> str:
    """``1.276 kr. (1.183 kr.–1.372 kr.)``: an expected amount with its interval in ``currency`` (when known;
    else as :func:`estimate`), rounded to whole amounts."""
    if not currency:
        return estimate(value, low, high, lang)
    return f"{fmt.money(value, currency, lang)} ({fmt.money(low, currency, lang)}–{fmt.money(high, currency, lang)})"


def forecast_cells(
    rows: Sequence[Mapping[str, Any]],
    by: Sequence[str],
    group_heads: Sequence[str],
    lang: str,
    currency: str | None = None,
) -> tuple[list[str], list[list[str]]]:
    """The forecast table: headings (``group_heads`` for the ``by`` fields, then period and numbers) and one row
    of text per group and period, amounts in ``currency`` when it is known."""
    heads = [*group_heads, _word("col_period", lang), *(_word(k, lang) for k in FORECAST_HEADS)]
    cells = [
        [
            *(str(r[b]) for b in by),
            str(r["period"]),
            estimate(r["expected_wins"], r["wins_low"], r["wins_high"], lang),
            fmt.integer(r["won_so_far"], lang),
            fmt.number(r["from_open"], lang, 1),
            fmt.number(r["from_new"], lang, 1),
            money_estimate(r["expected_amount"], r["amount_low"], r["amount_high"], currency, lang),
        ]
        for r in rows
    ]
    return heads, cells


def accuracy_cells(summary: Mapping[str, Mapping[str, float | None]], lang: str) -> tuple[list[str], list[list[str]]]:
    """The backtest's accuracy table: one row per method (hitrate, stage-weighted, run-rate)."""
    heads = [_word(k, lang) for k in ACCURACY_HEADS]
    cells = [
        [
            _word(f"method_{method}", lang),
            fmt.number(s["mae"], lang, 1),
            fmt.percent(s["mape"], lang),
            fmt.number(s["bias"], lang, 1),
            fmt.percent(s["coverage"], lang) if s["coverage"] is not None else "",
        ]
        for method, s in summary.items()
    ]
    return heads, cells


def backtest_window(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """``date_from`` and ``date_to`` of the monthly backtest shown beside a forecast made on ``as_of``: the first
    of the same month a year earlier, to the end of the month before last (its month's wins are all known by
    ``as_of``)."""
    first = dt.date(as_of.year - 1, as_of.month, 1)
    last = dt.date(as_of.year, as_of.month, 1) - dt.timedelta(days=1)
    return first, dt.date(last.year, last.month, 1) - dt.timedelta(days=1)
