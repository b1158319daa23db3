"""``--preset auto``: recognise the CRM an export comes from by its header.

Each shipped preset's tables carry a ``signature``, header names with weights (``StageName`` 3,
``Deal - Status`` 4, ``(Do Not Modify) Opportunity`` 5, ...). A file's score for a preset is the
best sum over its tables of the weights of the columns it has (names compared ignoring case and
surrounding spaces). The highest score wins when it is at least :data:`MIN_SCORE` and at least
:data:`MARGIN` times the runner-up's; when two presets are that close, recognition refuses and
lists them. A header with no real evidence for any preset is read without one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hitrate.errors import InputFileError
from hitrate.i18n import Joined, Message, Param
from hitrate.ingest.presets import Preset, load_preset, preset_names

MIN_SCORE = 4.0
MARGIN = 2.0


@dataclass(frozen=True)
class Candidate:
    """One preset's evidence for a header: its score and the columns that gave it."""

    preset: str
    score: float
    matched: tuple[str, ...]

    def describe(self) -> Message:
        """``zoho (score 9: Deal Owner.id, Closing Date)``."""
        return Message("ingest_recognise.candidate", preset=self.preset, score=self.score, columns=Joined(self.matched))


@dataclass(frozen=True)
class Recognition:
    """The preset chosen for a file (``None``: no preset fits), why, and the other candidates."""

    preset: Preset | None
    reason: Message
    candidates: list[Candidate] = field(default_factory=list)


def score(preset: Preset, columns: list[str]) -> Candidate:
    """The preset's evidence in the header ``columns``: the best-scoring table's weights summed."""
    have = {c.strip().lower(): c for c in columns}
    best = Candidate(preset.name, 0.0, ())
    for table in preset.tables.values():
        matched = [have[name.lower()] for name in table.signature if name.lower() in have]
        total = sum(w for name, w in table.signature.items() if name.lower() in have)
        if total > best.score:
            best = Candidate(preset.name, float(total), tuple(matched))
    return best


def recognise(path: str, columns: list[str], presets: list[Preset] | None = None) -> Recognition:
    """Choose a preset for a file from its header; raise :class:`InputFileError` listing the candidates
    when two presets fit about equally well."""
    pool = presets if presets is not None else [load_preset(n) for n in preset_names()]
    ranked = sorted((score(p, columns) for p in pool), key=lambda c: -c.score)
    ranked = [c for c in ranked if c.score > 0]
    if not ranked or ranked[0].score < MIN_SCORE:
        if ranked:
            return Recognition(None, Message("ingest_recognise.none_closest", closest=ranked[0].describe()), ranked)
        return Recognition(None, Message("ingest_recognise.none"), ranked)
    top = ranked[0]
    runner = ranked[1] if len(ranked) > 1 else None
    if runner is not None and runner.score >= MIN_SCORE and top.score < MARGIN * runner.score:
        close = [c for c in ranked if c.score >= MIN_SCORE and top.score < MARGIN * c.score]
        options = [Message("errors.option_value", param=Param("preset"), value=c.preset) for c in close]
        raise InputFileError(
            path,
            "ingest_recognise.ambiguous",
            candidates=Joined([c.describe() for c in close], "; "),
            options=Joined(options, Message("ingest_recognise.or")),
            map=Param("map"),
        )
    chosen = next(p for p in pool if p.name == top.preset)
    matched = Joined(top.matched)
    if runner is None:
        why = Message("ingest_recognise.recognised", preset=top.preset, columns=matched, score=top.score)
    else:
        why = Message(
            "ingest_recognise.recognised_next",
            preset=top.preset,
            columns=matched,
            score=top.score,
            next=runner.preset,
            next_score=runner.score,
        )
    return Recognition(chosen, why, ranked)
