"""What ``hitrate doctor`` found: one :class:`Finding` per check that found something, and the result's faces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hitrate.i18n import DEFAULT_LANG, Message
from hitrate.report.result import Result, json_ready

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from hitrate.report._model import FindingsTable


@dataclass(frozen=True)
class Finding:
    """One kind of problem: ``check`` (its id, e.g. ``closed_before_created``), how many deals (``count``), a few
    ``examples`` (rows as dicts), what was found (``detail``) and what fixes or explains it (``fix``: the command
    to run or the change to make)."""

    check: str
    count: int
    examples: list[dict[str, Any]]
    detail: Message
    fix: Message


@dataclass(eq=False)
class DoctorResult(Result):
    """A data-quality report of the store: the ``opportunities`` checked, the ``findings`` (none: nothing
    found) and the definitions hash they were counted under."""

    opportunities: int
    findings: list[Finding] = field(default_factory=list)
    definitions_hash: str = ""

    def __len__(self) -> int:
        return len(self.findings)

    def finding(self, check: str) -> Finding | None:
        """The finding of one check, or None when that check found nothing."""
        return next((f for f in self.findings if f.check == check), None)

    def title(self) -> Message:
        return Message("doctor.title")

    def headline(self) -> Message:
        if not self.findings:
            return Message("doctor.all_clear", opportunities=self.opportunities)
        return Message("doctor.headline", findings=len(self.findings), opportunities=self.opportunities)

    def to_frame(self) -> pd.DataFrame:
        """One row per finding: ``check``, ``count``, ``finding`` and ``fix`` (English)."""
        import pandas as pd

        rows = [
            {"check": f.check, "count": f.count, "finding": str(f.detail), "fix": str(f.fix)} for f in self.findings
        ]
        return pd.DataFrame(rows, columns=["check", "count", "finding", "fix"])

    def to_dict(self) -> dict[str, Any]:
        """``{"opportunities", "definitions_hash", "findings": [{"check", "count", "finding", "fix", "examples"}]}``."""
        return {
            "opportunities": self.opportunities,
            "definitions_hash": self.definitions_hash,
            "findings": [
                {"check": f.check, "count": f.count, "finding": str(f.detail), "fix": str(f.fix),
                 "examples": json_ready(f.examples)}
                for f in self.findings
            ],
        }  # fmt: skip

    def summary(self, lang: str = DEFAULT_LANG) -> str:
        """The title, the headline, then each finding: what, how many, examples and the fix."""
        lines = [self.title().render(lang), self.headline().render(lang)]
        for f in self.findings:
            lines.append(f"- {f.detail.render(lang)}")
            for example in f.examples:
                lines.append("    " + ", ".join(f"{k}={_shown(v, k, lang)}" for k, v in example.items()))
            lines.append("  " + Message("doctor.fix_line", fix=f.fix).render(lang))
        return "\n".join(lines)

    def sections(self, lang: str = DEFAULT_LANG) -> list[FindingsTable]:
        """The report's data-quality section: one row per finding with its examples and fix."""
        from hitrate.i18n import format as fmt
        from hitrate.report._model import FindingsTable

        heads = [Message(f"doctor.col_{c}").render(lang) for c in ("finding", "count", "examples", "fix")]
        rows = [
            [f.detail.render(lang), fmt.integer(f.count, lang),
             "; ".join(", ".join(f"{k}={_shown(v, k, lang)}" for k, v in e.items()) for e in f.examples),
             f.fix.render(lang)]
            for f in self.findings
        ]  # fmt: skip
        said = self.headline().render(lang)  # with findings the sentence leads; without, it stands for the table
        lead, empty = (said, "") if rows else ("", said)
        return [FindingsTable(self.title().render(lang), heads, rows, frozenset({1}), empty=empty, lead=lead)]

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """The deals each check found, as bars."""
        import plotly.graph_objects as go

        names = [f.check for f in self.findings]
        fig = go.Figure(go.Bar(x=[f.count for f in self.findings], y=names, orientation="h", marker_color="#2c5d8f"))
        fig.update_layout(
            title={"text": self.title().render(lang)},
            template="none",
            height=120 + 32 * max(len(names), 1),
            margin={"l": 10, "r": 24, "t": 56, "b": 48},
            xaxis={"title": {"text": Message("doctor.col_count").render(lang)}, "automargin": True},
            yaxis={"automargin": True, "autorange": "reversed"},
        )
        return fig


#: The outcomes hitrate counts a row as (an example's ``counted_as``), said in the report's language.
OUTCOMES = ("won", "lost", "open")


def _shown(value: Any, key: str = "", lang: str = DEFAULT_LANG) -> str:
    """An example's value as the report shows it: missing as a dash, hitrate's own outcome words translated."""
    from hitrate.i18n import format as fmt

    if value is None:
        return fmt.MISSING
    if key == "counted_as" and value in OUTCOMES:
        return Message(f"doctor.counted_{value}").render(lang)
    return str(value)


__all__ = ["DoctorResult", "Finding"]
