"""The face every result object shows: ``summary()``, ``to_frame()``, ``to_dict()``, ``_repr_html_()``, ``plot()``.

A computation (``rates``, ``benchmark``, ``coach``, ``goals``, ``bets``...) returns a result object that
holds data: numbers, codes and :class:`~hitrate.i18n.Message` objects, never finished English sentences.
:class:`Result` turns that data into what a person or a program wants:

* ``to_dict()``: JSON-ready data (the command line's ``--format json`` prints exactly this);
* ``to_frame()``: the main table as a pandas DataFrame;
* ``summary(lang)``: plain text, the headline first (what a sales leader reads), then the table;
* ``plot(lang)``: the Plotly figure the HTML report draws for the result;
* ``_repr_html_()``: what a notebook shows: the headline, the chart and a compact table, offline.

A subclass provides ``to_frame()`` and either ``sections()`` (the report sections it is drawn as) or its own
``plot()``; ``title()``, ``headline()`` and ``notes()`` are optional. ``to_dict()`` defaults to the
dataclass fields made JSON-ready by :func:`json_ready`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from hitrate.i18n import DEFAULT_LANG, Message, render_all, unit_words

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from hitrate.report._model import Section
    from hitrate.report.workbook import DataTable

#: The columns of every rates row, after its label columns.
RATE_COLUMNS: tuple[str, ...] = ("attempts", "hits", "hit_rate", "ci_low", "ci_high", "amount_won", "value_hit_rate")

#: Columns printed as percentages, whole numbers or amounts in summaries and notebook tables.
PERCENT_COLUMNS = frozenset(
    {"hit_rate", "ci_low", "ci_high", "value_hit_rate", "share", "rate", "shrunk_rate", "shrunk_low", "shrunk_high"}
)
COUNT_COLUMNS = frozenset({"attempts", "hits", "n", "won", "lost", "open", "count", "reached", "deals"})


def clean_column(values: Any) -> list[Any]:
    """A column (numpy array or sequence) as :func:`clean` makes each of its cells, a whole column at a time:
    numbers through ``tolist()`` with NaN as None, dates as ISO text, text as it is; only a column of mixed
    Python objects goes cell by cell. Results with thousands of rows serialise without a call per cell."""
    import numpy as np

    arr = np.asarray(values)
    kind = arr.dtype.kind
    if kind == "f":
        out = arr.astype(object)
        out[np.isnan(arr)] = None
        return out.tolist()  # type: ignore[no-any-return]
    if kind in "iub":
        return arr.tolist()  # type: ignore[no-any-return]
    if kind == "M":
        text = np.datetime_as_string(arr).astype(object)
        text[np.isnat(arr)] = None
        return text.tolist()  # type: ignore[no-any-return]
    cells = arr.tolist()
    if all(type(v) is str or v is None for v in cells):
        return cells  # type: ignore[no-any-return]
    return [clean(v) for v in cells]


def clean(value: Any) -> Any:
    """JSON-safe scalar: NaN/NaT/NA -> None, numpy scalars -> Python, timestamps -> ISO text, messages -> English."""
    if value is None:
        return None
    if isinstance(value, Message):
        return str(value)
    if type(value).__name__ == "datetime64":
        import numpy as np

        return None if np.isnat(value) else str(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if type(value).__name__ in {"NAType", "NaTType"}:
        return None
    return value


def json_ready(value: Any) -> Any:
    """Any result data as JSON-ready data: dataclasses and mappings to dicts, sequences and arrays to lists,
    scalars through :func:`clean`, messages to their English sentences."""
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, Message):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_ready(getattr(value, f.name)) for f in dataclasses.fields(value) if f.repr}
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if type(value).__name__ == "ndarray":
        return [json_ready(v) for v in value.tolist()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_ready(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return clean(value)


def english(value: Any) -> Any:
    """``value`` with every message in it as its English sentence and every result as its ``to_dict()``, through
    mappings, lists, tuples and dataclasses; other values stay as they are (unlike :func:`json_ready`, numbers
    are not cleaned). For a ``to_dict()`` that keeps its own number types."""
    if isinstance(value, Message):
        return str(value)
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {str(k): english(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [english(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return english_fields(value)
    return value


def said(message: Message | str | None, lang: str = DEFAULT_LANG) -> str:
    """A message (or plain text) as a sentence in ``lang``; "" for none."""
    if message is None:
        return ""
    return message.render(lang) if isinstance(message, Message) else str(message)


def english_fields(data: Any) -> dict[str, Any]:
    """A dataclass's shown fields, in order, through :func:`english`."""
    return {f.name: english(getattr(data, f.name)) for f in dataclasses.fields(data) if f.repr}


class Result:
    """Base class of every result object; see the module docstring."""

    def to_frame(self) -> pd.DataFrame:
        """The main table of the result as a pandas DataFrame."""
        raise NotImplementedError(f"{type(self).__name__}.to_frame")

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data."""
        if not dataclasses.is_dataclass(self):
            raise NotImplementedError(f"{type(self).__name__}.to_dict")
        return {f.name: json_ready(getattr(self, f.name)) for f in dataclasses.fields(self) if f.repr}

    def tables(self) -> list[DataTable]:
        """The result's tables as data (:class:`~hitrate.report.workbook.DataTable`): what ``--format xlsx``
        writes, a sheet each, and ``--format csv`` the first of. By default the main table (``to_frame()``), its
        proportions and counts known by their column names, as in :meth:`summary`."""
        from hitrate.report.workbook import DataTable

        frame = self.to_frame()
        columns = tuple(str(c) for c in frame.columns)
        percent = {c for c in columns if c in PERCENT_COLUMNS or c.endswith(("_rate", "_share"))}
        records = [dict(zip(columns, row, strict=True)) for row in frame.itertuples(index=False, name=None)]
        return [DataTable("table", columns, records, frozenset(percent), counts=COUNT_COLUMNS.intersection(columns))]

    def title(self) -> Message:
        """What the result is, in a few words (``Hit rate by rep``)."""
        return Message("results.untitled", kind=type(self).__name__)

    def headline(self) -> Message | None:
        """The one sentence a sales leader reads first, or None."""
        return None

    def notes(self) -> list[Message | str]:
        """Warnings and caveats that belong with the numbers."""
        found = getattr(self, "warnings", None)
        return list(found) if isinstance(found, list) else []

    def sections(self, lang: str = DEFAULT_LANG) -> Sequence[Section]:
        """The report sections the result is drawn as (:mod:`hitrate.report`); none by default."""
        return []

    def section_words(self, lang: str = DEFAULT_LANG) -> dict[str, str]:
        """A section's ``lead`` (the :meth:`headline`) and ``method`` (the result's ``method``, when it has one) in
        ``lang``, to pass to a section: the plain sentence first, the named method in its block."""
        method = getattr(self, "method", None)
        return {"lead": said(self.headline(), lang), "method": said(method, lang)}

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """The Plotly figure of the result: the chart the HTML report draws for it."""
        from hitrate.report._render import section_figures

        with self._own_words():
            for section in self.sections(lang):
                figures = section_figures(section, lang)
                if figures:
                    return figures[0]
        from hitrate.report._errors import NothingToChartError

        raise NothingToChartError("report.errors.nothing_to_chart", kind=type(self).__name__)

    def summary(self, lang: str = DEFAULT_LANG) -> str:
        """Plain text for people: the title, the headline, the table, then the notes."""
        with self._own_words():
            lines = [self.title().render(lang)]
            headline = self.headline()
            if headline is not None:
                lines.append(headline.render(lang))
            frame = self.to_frame()
            lines.append(frame_text(frame, lang) if len(frame) else Message("results.no_rows").render(lang))
            lines.extend(f"- {note}" for note in render_all(self.notes(), lang))
        return "\n".join(lines)

    def _own_words(self) -> AbstractContextManager[None]:
        """The words of the unit the result was counted in (:func:`hitrate.i18n.unit_words`: sessions and
        conversions under the sessions definitions), when it carries its ``definitions``; else the words in use."""
        unit = getattr(getattr(self, "definitions", None), "denominator", None)
        return unit_words(unit) if isinstance(unit, str) else nullcontext()

    def _repr_html_(self) -> str:
        from hitrate.report.notebook import result_html

        with self._own_words():
            return result_html(self)

    def __str__(self) -> str:
        return self.summary()


def formatted_frame(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A copy of ``frame`` with every cell as text in ``lang``: proportions as percentages, counts with
    separators, missing values as an en dash."""
    from hitrate.i18n import format as fmt

    out = frame.copy()
    for column in out.columns:
        name = str(column)
        if name in PERCENT_COLUMNS or name.endswith("_rate") or name.endswith("_share"):
            out[column] = [fmt.percent(v, lang) for v in frame[column]]
        elif name in COUNT_COLUMNS and frame[column].dtype.kind in "iuf":
            out[column] = [fmt.integer(v, lang) for v in frame[column]]
        elif frame[column].dtype.kind == "f":
            out[column] = [fmt.number(v, lang) for v in frame[column]]
        else:
            out[column] = [_cell(v, lang) for v in frame[column]]
    return out


def _cell(value: Any, lang: str) -> str:
    from hitrate.i18n import format as fmt

    if isinstance(value, Message):
        return value.render(lang)
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v, lang) for v in value)
    return fmt.label(value)


def frame_text(frame: pd.DataFrame, lang: str) -> str:
    """A frame as a plain-text table, cells formatted for ``lang``."""
    return str(formatted_frame(frame, lang).to_string(index=False))


def frame_html(frame: pd.DataFrame, lang: str, max_rows: int = 30) -> str:
    """A frame as a compact HTML table (the first ``max_rows`` rows), cells formatted for ``lang``."""
    shown = formatted_frame(frame.head(max_rows), lang)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in shown.itertuples(index=False)
    )
    more = ""
    if len(frame) > max_rows:
        more = f"<p>{html.escape(Message('results.more_rows', shown=max_rows, total=len(frame)).render(lang))}</p>"
    return f'<table class="hitrate-result"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}'
