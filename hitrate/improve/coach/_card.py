"""The card itself: :func:`rep_card` puts the numbers together into a :class:`RepCard`."""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hitrate.errors import HitrateWarning, NotFoundError, SmallSampleWarning, UnknownFieldError, UserInputError
from hitrate.i18n import DEFAULT_LANG, Joined, Message, Param, Phrase
from hitrate.improve._base import rows_frame
from hitrate.improve.coach import _collect as collect
from hitrate.improve.coach._stages import stage_gaps, stage_method, stage_rows
from hitrate.improve.coach._words import card_statements, stage_label
from hitrate.report.result import Result, json_ready
from hitrate.spec.model import Definitions

if TYPE_CHECKING:
    import pandas as pd

    from hitrate.report import RateTable


class UnknownRepError(NotFoundError):
    """A rep name that is not in the data; the message suggests close matches."""

    def __init__(self, rep: str, known: Sequence[str]) -> None:
        self.rep = rep
        close = difflib.get_close_matches(rep, list(known), n=3, cutoff=0.5)
        hint: Message | str = (
            Message("coach.did_you_mean", names=Joined([repr(c) for c in close], Message("coach.or"))) if close else ""
        )
        super().__init__("coach.unknown_rep", rep=rep, n=len(known), hint=hint)


@dataclass
class RepCard(Result):
    """One rep's card; ``to_dict()`` gives the JSON of ``hitrate coach REP --format json``.

    The numbers are dicts of counts, rates and intervals; ``statements``, ``warnings`` and ``method`` are
    messages (English in ``to_dict()``, any language with ``render``).
    """

    rep: str
    team: str | None
    peers_by: str | None
    peers: list[str]
    definitions: Definitions
    hit_rate: dict[str, Any]
    trend: list[dict[str, Any]]
    trend_change: dict[str, Any] | None
    stages: list[dict[str, Any]]
    weak_stage: dict[str, Any] | None
    activities: list[dict[str, Any]]
    best: list[str]
    segments: dict[str, list[dict[str, Any]]]
    strongest: dict[str, dict[str, Any] | None]
    weakest: dict[str, dict[str, Any] | None]
    statements: list[Message]
    reproduce: dict[str, str]
    warnings: list[Message] = field(default_factory=list)
    method: dict[str, Phrase] = field(default_factory=dict)
    period: str = field(default="quarter", repr=False)

    def data(self) -> dict[str, Any]:
        """The card's numbers (``to_dict()`` without the statements), JSON-ready."""
        out: dict[str, Any] = {
            "rep": self.rep,
            "team": self.team,
            "peers_by": self.peers_by,
            "peers": self.peers,
            "n_peers": len(self.peers),
            "definitions": {"hash": self.definitions.hash, "basis": self.definitions.basis},
            "hit_rate": self.hit_rate,
            "trend": self.trend,
            "trend_change": self.trend_change,
            "stages": self.stages,
            "weak_stage": self.weak_stage,
            "activities": self.activities,
            "best": self.best,
            "n_best": len(self.best),
            "segments": self.segments,
            "strongest": self.strongest,
            "weakest": self.weakest,
        }
        return dict(json_ready(out))

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready data, its sentences in English."""
        return {
            **self.data(),
            "statements": [str(s) for s in self.statements],
            "reproduce": dict(self.reproduce),
            "warnings": [str(w) for w in self.warnings],
            "method": {k: str(v) for k, v in self.method.items()},
        }

    def to_frame(self) -> pd.DataFrame:
        """The card's comparisons, one row each: the hit rate, every stage's conversion and every segment value,
        the rep's count, rate and interval beside the peers' and the difference."""
        rows = [{"part": "hit_rate", "item": self.rep, **_comparison(self.hit_rate)}]
        for r in self.stages:
            rows.append({"part": "stage", "item": stage_label(r, DEFAULT_LANG), **_comparison(_as_rate(r))})
        for f, values in self.segments.items():
            rows.extend({"part": f, "item": str(r[f]), **_comparison(r)} for r in values)
        return rows_frame(rows, ("part", "item"))

    def title(self) -> Message:
        return Message("coach_card.title", rep=self.rep)

    def headline(self) -> Message | None:
        return self.statements[0] if self.statements else None

    def notes(self) -> list[Message | str]:
        return [*self.statements[1:], *self.warnings]

    def sections(self, lang: str = DEFAULT_LANG) -> list[RateTable]:
        """Hit rate, trend, stage conversions and segments, each rep against peers (:mod:`.coach_card`)."""
        from hitrate.improve.coach_card import card_sections

        return card_sections(self, lang, self.period)


def _as_rate(r: dict[str, Any]) -> dict[str, Any]:
    """A stage row in the keys of a rate (``attempts``, ``hits``, ``hit_rate``, ``ci_low``, ``ci_high``)."""
    names = {"reached": "attempts", "advanced": "hits", "conversion": "hit_rate"}
    names |= {"conversion_low": "ci_low", "conversion_high": "ci_high"}
    out = {names.get(k, k): v for k, v in r.items() if k != "peers"}
    out["peers"] = {names.get(k, k): v for k, v in r["peers"].items()}
    return out


def _comparison(r: dict[str, Any]) -> dict[str, Any]:
    p = r["peers"]
    return {
        "attempts": r["attempts"],
        "hits": r["hits"],
        "hit_rate": r["hit_rate"],
        "ci_low": r["ci_low"],
        "ci_high": r["ci_high"],
        "peers_attempts": p["attempts"],
        "peers_hits": p["hits"],
        "peers_rate": p["hit_rate"],
        "difference": r["difference"],
        "difference_low": r["difference_low"],
        "difference_high": r["difference_high"],
    }


def rep_card(
    source: Any,
    rep: str,
    *,
    peers_by: str | None = "team",
    adjust: Sequence[str] | None = None,
    period: str = "quarter",
    segment_fields: Sequence[str] | None = None,
    definitions: Definitions | None = None,
    confidence: float = 0.95,
) -> RepCard:
    """Build the rep card of ``rep`` (see :mod:`hitrate.improve.coach` for what it holds and how it is computed).

    Parameters
    ----------
    source:
        The store or any Ibis backend with the canonical tables.
    rep:
        The rep's name as in the data; an unknown name raises :class:`UnknownRepError` with close matches.
    peers_by:
        The field whose value the rep shares with their peers (default ``team``); ``None``, or ``team`` when the
        data has no team, makes every other rep a peer. Any other field the data lacks is an
        :class:`~hitrate.errors.UnknownFieldError`.
    adjust:
        Fields for the quality index (indirect standardisation); default those of ``lead_source`` and
        ``segment`` the data has.
    period:
        ``week``, ``month``, ``quarter`` or ``year`` for the trend.
    segment_fields:
        Fields for strongest and weakest values; default those of ``segment`` and ``lead_source`` it has.
    """
    from hitrate.analysis.rates import resolve_definitions
    from hitrate.engine.expressions import fields_available

    defs = resolve_definitions(source, definitions, None)
    available = set(fields_available(source))
    if "rep" not in available:
        raise UserInputError("coach.no_rep_field")
    if peers_by is not None and peers_by != "team" and peers_by not in available:
        raise UnknownFieldError(peers_by, sorted(available), Param("peers_by"))
    notes: list[Message] = []
    team_of = collect.teams(source, defs, peers_by if peers_by in available else None)
    if rep not in team_of:
        raise UnknownRepError(rep, sorted(team_of))
    use_team = peers_by is not None and peers_by in available and team_of[rep] is not None
    if peers_by is not None and not use_team:
        notes.append(Message("coach.note_no_team", field=peers_by, rep=rep))
    team = team_of[rep] if use_team else None
    peers = sorted(r for r, t in team_of.items() if r != rep and (not use_team or t == team))
    if not peers:
        raise UserInputError("coach.no_peers", rep=rep)
    team_where = {str(peers_by): [str(team)]} if use_team else {}
    adjust = [f for f in ("lead_source", "segment") if f in available] if adjust is None else list(adjust)
    segment_fields = (
        [f for f in ("segment", "lead_source") if f in available] if segment_fields is None else list(segment_fields)
    )

    hit, shrunk_of = collect.hit_rate(source, defs, rep, peers, team_where, adjust, confidence)
    trend_rows, change = collect.trend(source, defs, rep, peers, period, confidence)
    tables = set(source.list_tables())
    stages: list[dict[str, Any]] = []
    weak: dict[str, Any] | None = None
    try:
        gaps = stage_gaps(source, peers_by=peers_by, definitions=defs, team_of=team_of if use_team else None)
    except UserInputError as exc:  # no stage history table, or an empty one
        notes.append(Message("coach.note_no_stages", error=exc.message))
    else:
        stages, weak = stage_rows(gaps, rep, confidence)
        if not stages:
            notes.append(Message("coach.note_no_history", rep=rep))
    ranked = sorted(peers, key=lambda r: -shrunk_of.get(r, -1.0))
    best = ranked[: max(1, math.ceil(collect.BEST_SHARE * len(peers)))]
    activities = collect.activities(source, defs, rep, peers, best, confidence) if "activities" in tables else []
    if not activities:
        notes.append(Message("coach.note_no_activities"))
    segments, strongest, weakest = {}, {}, {}
    for f in segment_fields:
        segments[f], strongest[f], weakest[f] = collect.segments(source, defs, rep, peers, f, confidence)
    for note in notes:
        warnings.warn(str(note), HitrateWarning, stacklevel=2)
    if hit["attempts"] < collect.SMALL:
        notes.append(Message("coach.note_few_deals", rep=rep, n=hit["attempts"]))
        warnings.warn(str(notes[-1]), SmallSampleWarning, stacklevel=2)
    card = RepCard(
        rep=rep,
        team=team,
        peers_by=peers_by if use_team else None,
        peers=peers,
        definitions=defs,
        hit_rate=hit,
        trend=trend_rows,
        trend_change=change,
        stages=stages,
        weak_stage=weak,
        activities=activities,
        best=best,
        segments=segments,
        strongest=strongest,
        weakest=weakest,
        statements=[],
        reproduce=_reproduce(rep, peers, team_where, adjust, period, segment_fields),
        warnings=notes,
        method={
            "hit_rate": Phrase(Message("coach.method_hit_rate")),
            "stages": Phrase(stage_method()),
            "activities": Phrase(Message("coach.method_activities")),
            "segments": Phrase(Message("coach.method_segments", minimum=collect.SMALL)),
        },
        period=period,
    )
    card.statements = card_statements(card.data())
    return card


def _reproduce(
    rep: str,
    peers: list[str],
    team_where: dict[str, list[str]],
    adjust: list[str],
    period: str,
    segment_fields: list[str],
) -> dict[str, str]:
    """The commands that give the card's numbers (peers = the sum of the peers' rows, or one command with every
    peer as a ``--where rep=`` alternative)."""

    def q(text: str) -> str:
        return f"'{text}'" if any(ch in text for ch in " '\"&;|$") else text

    def where(field_: str, values: Sequence[str]) -> str:
        return " ".join(f"--where {q(f'{field_}={v}')}" for v in values)

    me, them = where("rep", [rep]), where("rep", peers)
    team = " ".join(where(k, v) for k, v in team_where.items()) or where("rep", [rep, *peers])
    adj = f" --adjust {','.join(adjust)}" if adjust else ""
    out = {
        "hit_rate": f"hitrate benchmark --by rep {team}{adj}",
        "peers_rate": f"hitrate rates {them}",
        "team_rate": f"hitrate rates {team}",
        "trend": f"hitrate rates --period {period} {me}",
        "peers_trend": f"hitrate rates --period {period} {them}",
        "stages": f"hitrate funnel {me}",
        "peers_stages": f"hitrate funnel {them}",
    }
    for f in segment_fields:
        out[f] = f"hitrate rates --by {f} {me}"
        out[f"peers_{f}"] = f"hitrate rates --by {f} {them}"
    return out
