"""What an import did: :class:`FileReport` per file and :class:`ImportReport` for the whole call.

Both are result objects (:class:`~hitrate.report.result.Result`): ``summary()``, ``to_frame()`` (one row per
file: read, imported, updated, unchanged, quarantined, non-data rows skipped), ``to_dict()`` (what
``hitrate import --format json`` prints), ``plot()`` (the counts per file as bars) and ``_repr_html_()``.
They carry :class:`~hitrate.i18n.Message` objects (the preset's reason, warnings, quarantine reasons);
``to_dict()`` writes them in English.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitrate.i18n import DEFAULT_LANG, Message
from hitrate.report.result import Result, english

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

#: The counts of every file, in the order reports show them; ``read`` is the sum of the other four.
COUNTS: tuple[str, ...] = ("read", "imported", "updated", "unchanged", "quarantined")
#: The columns of :meth:`ImportReport.to_frame`.
FRAME_COLUMNS: tuple[str, ...] = ("file", "table", *COUNTS, "skipped_non_data")


@dataclass
class FileReport(Result):
    """What happened to one file: its counts (``read == imported + updated + unchanged + quarantined``), how it
    was read (encoding, delimiter, date format, decimal separator), mapped (preset and why, columns per
    field, dimensions) and what it held (stages, outcomes), with its warnings. For already-aggregated input
    the counts are of lines, and ``attempts_represented`` is the attempts the stored lines stand for (None
    for row-level input, where a row is one attempt)."""

    path: str
    table: str
    read: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    attempts_represented: int | None = None  # aggregated input: the attempts its stored lines stand for
    encoding: str = ""
    delimiter: str = ""
    date_format: str | None = None
    decimal: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    dimensions: list[str] = field(default_factory=list)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    preset: str | None = None
    preset_reason: Message | str = ""
    skipped_non_data: int = 0
    renamed_columns: list[str] = field(default_factory=list)
    outcome_from: list[str] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    warnings: list[Message] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready; messages (the preset's reason, warnings) in English."""
        return {f.name: english(getattr(self, f.name)) for f in fields(self)}

    def adds_up(self) -> bool:
        """Whether every row read was stored or quarantined."""
        return self.read == self.imported + self.updated + self.unchanged + self.quarantined

    @property
    def name(self) -> str:
        """The file's name, without its folder."""
        return Path(self.path).name

    def row(self) -> dict[str, Any]:
        """The file as a row of :meth:`ImportReport.to_frame`."""
        return {"file": self.name, "table": self.table, **{c: getattr(self, c) for c in FRAME_COLUMNS[2:]}}

    def to_frame(self) -> pd.DataFrame:
        """One row: the file, its table and its counts."""
        return _frame([self])

    def title(self) -> Message:
        return Message("ingest.file_title", file=self.name, table=self.table)

    def headline(self) -> Message:
        return _headline(self)

    def notes(self) -> list[Message | str]:
        return [*([self.preset_reason] if self.preset_reason else []), *self.warnings]

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """The file's counts as bars."""
        return _bars([self], self.title(), lang)


class _Total:
    """A count of an :class:`ImportReport`: the sum of that count over its files."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, report: ImportReport | None, owner: type) -> int:
        if report is None:  # on the class: no total
            return 0
        return sum(int(getattr(f, self.name)) for f in report.files)


@dataclass
class ImportReport(Result):
    """The outcome of one import: totals over all files, per-file details, unmatched keys and the first
    quarantined rows."""

    batch_id: int
    files: list[FileReport]
    unmatched_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    quarantine_sample: list[dict[str, Any]] = field(default_factory=list)

    read = _Total()
    imported = _Total()
    updated = _Total()
    unchanged = _Total()
    quarantined = _Total()
    skipped_non_data = _Total()

    @property
    def attempts_represented(self) -> int | None:
        """The attempts the stored lines of aggregated files stand for; None when no file is aggregated."""
        counted = [f.attempts_represented for f in self.files if f.attempts_represented is not None]
        return sum(counted) if counted else None

    @property
    def warnings(self) -> list[Message]:
        """Every file's warnings, each after its file's name."""
        return [Message("ingest.file_warning", file=f.name, warning=w) for f in self.files for w in f.warnings]

    def to_dict(self) -> dict[str, Any]:
        """Totals as top-level integers, plus ``batch_id``, ``warnings``, ``files``, ``unmatched_keys`` and
        ``quarantine_sample``; messages in English."""
        totals = {name: getattr(self, name) for name in (*COUNTS, "attempts_represented", "skipped_non_data")}
        rest = ("batch_id", "warnings", "files", "unmatched_keys", "quarantine_sample")
        return {**totals, **{name: english(getattr(self, name)) for name in rest}}

    def to_frame(self) -> pd.DataFrame:
        """One row per file: its name, table and counts."""
        return _frame(self.files)

    def title(self) -> Message:
        return Message("ingest.title", batch=self.batch_id)

    def headline(self) -> Message:
        return _headline(self)

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """The counts per file as grouped bars: imported, updated, unchanged and quarantined."""
        return _bars(self.files, self.title(), lang)


def _headline(report: FileReport | ImportReport) -> Message:
    """``Read 1,204 rows: 1,200 imported, 0 updated, 0 unchanged, 4 quarantined.``; for aggregated input
    ``Read 480 lines (419,113 attempts): ...``."""
    counts = {c: getattr(report, c) for c in COUNTS}
    if report.attempts_represented is not None:
        return Message("ingest.headline_lines", attempts=report.attempts_represented, **counts)
    return Message("ingest.headline", **counts)


def _frame(files: list[FileReport]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame([f.row() for f in files], columns=list(FRAME_COLUMNS))


def _bars(files: list[FileReport], title: Message, lang: str) -> go.Figure:
    """Grouped bars of the stored and quarantined counts, one group per file."""
    import plotly.graph_objects as go

    names = [f.name for f in files]
    fig = go.Figure()
    for count in COUNTS[1:]:
        label = Message(f"ingest.count_{count}").render(lang)
        fig.add_bar(name=label, x=names, y=[getattr(f, count) for f in files])
    fig.update_layout(
        title=title.render(lang),
        barmode="group",
        xaxis_title=Message("ingest.axis_file").render(lang),
        yaxis_title=Message("ingest.axis_rows").render(lang),
    )
    return fig
