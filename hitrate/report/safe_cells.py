"""Cells a spreadsheet will not run: the one place every CSV file hitrate writes is made safe to open.

A spreadsheet reads a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and a leading tab or
carriage return can hide one), so a lead, rep or account name such as ``=HYPERLINK("http://x","y")`` would run
when the file is opened (CSV or formula injection). Following the OWASP advice, such text gets a leading ``'``:
the spreadsheet shows it as text. Numbers are not text and stay as they are; text that is only a number
(``-5``, ``+1.5e3``) is not a formula either and stays as it is, so a spreadsheet still reads it as a number::

    from hitrate.report.safe_cells import safe_frame, safe_records

    safe_frame(scores).to_csv("scores.csv", index=False)
    csv.DictWriter(out, fieldnames=columns).writerows(safe_records(records))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: The characters that make a spreadsheet read a cell as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Text a spreadsheet would run: a formula start, unless the whole text is a plain number.
_RUNS = re.compile(r"(?![-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\Z)[" + re.escape("".join(FORMULA_STARTS)) + "]")

#: A formula start, for Arrow's regular expressions (RE2, which has no look-ahead).
_STARTS = "^[" + re.escape("".join(FORMULA_STARTS)) + "]"

#: What goes in front of such text.
PREFIX = "'"

T = TypeVar("T")


def runs_in_a_spreadsheet(value: object) -> bool:
    """Whether ``value`` is text a spreadsheet would read as a formula (``=1+1``, ``@SUM(1)``, ``-2+3``)."""
    return isinstance(value, str) and _RUNS.match(value) is not None


def safe_cell(value: T) -> T | str:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run; anything else as it is."""
    if isinstance(value, str) and _RUNS.match(value) is not None:
        return PREFIX + value
    return value


def safe_records(records: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Each record (column -> value) with its cells made safe (:func:`safe_cell`); for small, aggregated rows."""
    for record in records:
        yield {column: safe_cell(value) for column, value in record.items()}


def write_safe_csv(stream: IO[str], columns: Sequence[str], records: Iterable[Mapping[str, Any]]) -> None:
    """``records`` as CSV with a header row of ``columns`` on ``stream``, every cell made safe (:func:`safe_cell`):
    what ``--format csv`` writes, and the dashboard's CSV downloads."""
    import csv

    writer = csv.DictWriter(stream, fieldnames=list(columns), lineterminator="\n")
    writer.writerow({c: safe_cell(c) for c in columns})
    writer.writerows(safe_records(records))


def safe_series(series: pd.Series) -> pd.Series:
    """A column with every text cell a spreadsheet would run prefixed with ``'``; numbers, dates and missing
    values as they are. Only text columns (object, string and categorical) are looked at; a column with nothing
    to change is returned as it was."""
    import pandas as pd

    given = series
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    if not (series.dtype == object or isinstance(series.dtype, pd.StringDtype)):
        return given
    runs = _runs(series)
    if not runs.any():
        return given
    out = series.copy()
    out[runs] = PREFIX + series[runs].astype(str)
    return out


def _runs(series: pd.Series) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Which cells of a text column would run. A column of text only is scanned by Arrow for a formula start
    in one pass (a million ids in about 0.1 s); only those cells are then checked for being a plain number. A
    column mixing text with other values is read with pandas' string methods."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if pd.api.types.infer_dtype(series, skipna=True) not in ("string", "empty"):
        matched = series.str.match(_RUNS, na=False)  # cells that are not text give NaN: nothing to run
        return np.asarray(matched.fillna(False), dtype=bool)
    starts = pc.match_substring_regex(pa.array(series, type=pa.string(), from_pandas=True), _STARTS)
    runs = np.asarray(starts.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    for i in np.flatnonzero(runs):
        runs[i] = runs_in_a_spreadsheet(series.iat[int(i)])
    return runs


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a copy when anything changes) with every text cell a spreadsheet would run made safe, column
    names too; numeric columns untouched, so numbers (negative ones as well) stay numbers."""
    out = frame
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        safe = safe_series(column)
        if safe is not column:
            if out is frame:
                out = frame.copy()
            out.isetitem(i, cast(Any, safe))  # a Series keeps its dtype (pandas-stubs want arrays)
    names = [safe_cell(c) for c in frame.columns]
    if names != list(frame.columns):
        out = frame.copy() if out is frame else out
        out.columns = names
    return out


__all__ = [
    "FORMULA_STARTS",
    "PREFIX",
    "runs_in_a_spreadsheet",
    "safe_cell",
    "safe_frame",
    "safe_records",
    "safe_series",
    "write_safe_csv",
]
