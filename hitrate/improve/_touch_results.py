"""The results of the touch-level analyses: the outreach funnel, the sequence ranking, the personalisation lift
table (:mod:`hitrate.improve.outreach`) and the experiment comparison (:mod:`hitrate.improve.experiments`).

They share their shape (what was counted: ``by``, ``step``, ``campaign``, ``types``; a method; warnings; rows),
so they share :class:`TouchResult`: ``to_dict()`` writes the keys in :attr:`TouchResult.KEYS` order, each chart
is a report section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from hitrate.i18n import DEFAULT_LANG, Joined, Message
from hitrate.improve._base import RowsResult, rate_table
from hitrate.report.result import json_ready

if TYPE_CHECKING:
    from hitrate.report import CaterpillarPlot, RateTable

DEFAULT_TYPES: tuple[str, ...] = ("email", "call")
FUNNEL_STEPS: tuple[str, ...] = ("touched", "replied", "meeting", "opportunity", "won")

FUNNEL_METHOD = Message("outreach.method_funnel")
SEQUENCE_METHOD = Message("outreach.method_sequences")
LIFT_METHOD = Message("outreach.method_lift")
EXPERIMENT_METHOD = Message("experiments.method")


class TouchResult(RowsResult):
    """Rows of touch or lead counts with the choices that made them; ``to_dict()`` in :attr:`KEYS` order."""

    KEYS: ClassVar[tuple[str, ...]] = ()
    METHOD: ClassVar[Message]
    campaign: str | None
    types: tuple[str, ...]
    warnings: list[Message | str]

    def to_dict(self) -> dict[str, Any]:
        """The keys of :attr:`KEYS` (``method`` the method's English, ``steps`` the funnel's), JSON-ready."""
        special: dict[str, Any] = {"method": self.METHOD, "steps": FUNNEL_STEPS}
        return {k: json_ready(special[k] if k in special else getattr(self, k)) for k in self.KEYS}

    def notes(self) -> list[Message | str]:
        return [*self.warnings, self.METHOD]

    def _in_campaign(self) -> Message | str:
        """``, campaign X`` when one campaign was asked, else nothing."""
        return Message("outreach.in_campaign", campaign=self.campaign) if self.campaign else ""


@dataclass
class FunnelResult(TouchResult):
    """The outreach funnel: per group and step, leads reaching it and the conversions with Wilson intervals."""

    by: list[str]
    rows: list[dict[str, Any]]
    campaign: str | None = None
    types: tuple[str, ...] = DEFAULT_TYPES
    warnings: list[Message | str] = field(default_factory=list)

    KEYS = ("by", "campaign", "types", "steps", "method", "warnings", "rows")
    METHOD = FUNNEL_METHOD
    COLUMNS = ("step", "leads", "touches", "from_previous", "from_first")

    def title(self) -> Message:
        by = Message("outreach.by", by=Joined(self.by)) if self.by else ""
        return Message("outreach.funnel_title", by=by, campaign=self._in_campaign())

    def headline(self) -> Message:
        total = {s: sum(r["leads"] for r in self.rows if r["step"] == s) for s in FUNNEL_STEPS}
        return Message("outreach.funnel_headline", touched=total["touched"], won=total["won"])

    def sections(self, lang: str = DEFAULT_LANG) -> list[RateTable]:
        """Each step's conversion from the previous one, per group, with its Wilson interval."""
        rows = []
        previous: dict[tuple[Any, ...], int] = {}
        for r in self.rows:
            group = tuple(r[k] for k in self.by)
            if r["step"] != FUNNEL_STEPS[0]:
                name = " · ".join([*(str(g) for g in group), str(r["step"])])
                rows.append(
                    (name, previous[group], r["leads"], r["from_previous"], r["previous_low"], r["previous_high"])
                )
            previous[group] = r["leads"]
        table = rate_table(self.title().render(lang), rows, Message("outreach.step").render(lang))
        return [] if table is None else [table]


@dataclass
class SequenceRanking(TouchResult):
    """Sequences ranked by their shrunk rate at a step, with the raw rate and attempts beside it."""

    by: str
    step: str
    rows: list[dict[str, Any]]
    prior: dict[str, Any]
    campaign: str | None = None
    types: tuple[str, ...] = DEFAULT_TYPES
    warnings: list[Message | str] = field(default_factory=list)

    KEYS = ("by", "step", "campaign", "types", "method", "prior", "warnings", "rows")
    METHOD = SEQUENCE_METHOD
    COLUMNS = ("rank", "attempts", "hits", "rate", "shrunk")

    def title(self) -> Message:
        return Message("outreach.sequences_title", by=self.by, step=self.step, campaign=self._in_campaign())

    def headline(self) -> Message | None:
        if not self.rows:
            return None
        top = self.rows[0]
        return Message("outreach.sequences_headline", arm=top[self.by], rate=top["shrunk"], n=top["attempts"])

    def sections(self, lang: str = DEFAULT_LANG) -> list[CaterpillarPlot]:
        """The shrunk rates with their credible intervals, each beside its raw rate."""
        import pandas as pd

        from hitrate.report import CaterpillarPlot

        frame = pd.DataFrame(
            {
                self.by: [str(r[self.by]) for r in self.rows],
                "attempts": [r["attempts"] for r in self.rows],
                "hits": [r["hits"] for r in self.rows],
                "hit_rate": [r["rate"] for r in self.rows],
                "shrunk_rate": [r["shrunk"] for r in self.rows],
                "shrunk_low": [r["shrunk_low"] for r in self.rows],
                "shrunk_high": [r["shrunk_high"] for r in self.rows],
            }
        )
        if not len(frame):
            return []
        return [CaterpillarPlot(self.title().render(lang), frame, self.by, self.prior.get("mean"))]


@dataclass
class LiftResult(TouchResult):
    """Per group: rate of personalised and of other touches, the lift with interval, p and BH q."""

    by: str
    step: str
    rows: list[dict[str, Any]]
    alpha: float = 0.05
    campaign: str | None = None
    types: tuple[str, ...] = DEFAULT_TYPES
    warnings: list[Message | str] = field(default_factory=list)

    KEYS = ("by", "step", "alpha", "campaign", "types", "method", "warnings", "rows")
    METHOD = LIFT_METHOD
    COLUMNS = ("rate_yes", "rate_no", "lift", "q_value")

    def title(self) -> Message:
        return Message("outreach.lift_title", by=self.by, step=self.step, campaign=self._in_campaign())

    def headline(self) -> Message:
        significant = sum(1 for r in self.rows if r["significant"])
        return Message("outreach.lift_headline", significant=significant, groups=len(self.rows), alpha=self.alpha)

    def sections(self, lang: str = DEFAULT_LANG) -> list[RateTable]:
        """Each group's rate with and without personalisation, with Wilson intervals."""
        rows = [
            (
                Message("outreach.lift_row", group=r[self.by], side=Message(f"outreach.side_{side}")).render(lang),
                r[f"attempts_{side}"],
                r[f"hits_{side}"],
                r[f"rate_{side}"],
                r[f"{side}_low"],
                r[f"{side}_high"],
            )
            for r in self.rows
            for side in ("yes", "no")
        ]
        table = rate_table(self.title().render(lang), rows, self.by)
        return [] if table is None else [table]


@dataclass
class ExperimentResult(TouchResult):
    """Per variant: touches, hits at the step, rate with Wilson interval, and the comparison with the
    control (difference, Newcombe interval, p-value, probability to beat, probability best)."""

    step: str
    by: str
    control: str
    rows: list[dict[str, Any]]
    campaign: str | None = None
    types: tuple[str, ...] = DEFAULT_TYPES
    warnings: list[Message | str] = field(default_factory=list)

    KEYS = ("step", "by", "control", "campaign", "types", "method", "warnings", "rows")
    METHOD = EXPERIMENT_METHOD
    COLUMNS = ("attempts", "hits", "rate", "prob_best")

    def title(self) -> Message:
        return Message("experiments.title", step=self.step, by=self.by, campaign=self._in_campaign())

    def headline(self) -> Message | None:
        if not self.rows:
            return None
        best = max(self.rows, key=lambda r: r["prob_best"])
        return Message("experiments.headline", arm=best[self.by], p=best["prob_best"], control=self.control)

    def sections(self, lang: str = DEFAULT_LANG) -> list[RateTable]:
        """Each variant's rate with its Wilson interval; the line is the control's rate."""
        rows = [(str(r[self.by]), r["attempts"], r["hits"], r["rate"], r["ci_low"], r["ci_high"]) for r in self.rows]
        control = next((r["rate"] for r in self.rows if r["control"]), None)
        table = rate_table(self.title().render(lang), rows, self.by, overall=control)
        return [] if table is None else [table]
