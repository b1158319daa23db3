"""The rep card as report sections and as a self-contained HTML file (the report's offline Plotly machinery).

Each proportion on the card (hit rate, stage conversion, rate by segment) becomes a :class:`hitrate.report.RateTable`
section, so the file and the dashboard draw it with its attempts and Wilson interval like every other rate. The
words are in the ``coach_card`` catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitrate.i18n import LANGS, Joined, Message

if TYPE_CHECKING:
    from hitrate.improve.coach import RepCard
    from hitrate.report import RateTable

PERIODS = ("week", "month", "quarter", "year")


def _row(label_col: str, label: str, r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        label_col: label,
        "attempts": int(r["attempts"]),
        "hits": int(r["hits"]),
        "hit_rate": r["hit_rate"] if r["hit_rate"] is not None else float("nan"),
        "ci_low": r["ci_low"] if r["ci_low"] is not None else float("nan"),
        "ci_high": r["ci_high"] if r["ci_high"] is not None else float("nan"),
        "amount_won": float("nan"),
        "value_hit_rate": float("nan"),
    }


def _as_rate(c: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "attempts": c["reached"],
        "hits": c["advanced"],
        "hit_rate": c["conversion"],
        "ci_low": c["conversion_low"],
        "ci_high": c["conversion_high"],
    }


def card_sections(card: RepCard | Mapping[str, Any], lang: str = "en", period: str = "quarter") -> list[RateTable]:
    """The card's proportions (a :class:`hitrate.improve.coach.RepCard` or its ``to_dict()``) as report sections:
    hit rate, trend, stage conversions, segments."""
    import pandas as pd

    from hitrate.improve.coach import RepCard
    from hitrate.improve.coach._words import stage_label
    from hitrate.report import RateTable

    c = card.data() if isinstance(card, RepCard) else card

    def say(key: str, **params: Any) -> str:
        return Message(f"coach_card.{key}", **params).render(lang)

    h = c["hit_rate"]
    who = say("who")
    peers = say("peers", n=c["n_peers"])
    sections = [
        RateTable(
            say("hit_rate"),
            pd.DataFrame([_row(who, c["rep"], h), _row(who, peers, h["peers"])]),
            who,
            "bars",
            h["team_rate"],
            say("hit_rate_note"),
        )
    ]
    trend = [_row("period", r["period"], r) for r in c["trend"] if r["attempts"]]
    if trend:
        when: Message | str = Message(f"coach_card.period_{period}") if period in PERIODS else period
        sections.append(
            RateTable(say("trend", period=when), pd.DataFrame(trend), "period", "trend", None, say("trend_note"))
        )
    if c["stages"]:
        stage = say("stage")
        rows = []
        for r in c["stages"]:
            label = stage_label(r, lang)
            rows.append(_row(stage, say("of_rep", label=label), _as_rate(r)))
            rows.append(_row(stage, say("of_peers", label=label), _as_rate(r["peers"])))
        sections.append(RateTable(say("stages"), pd.DataFrame(rows), stage, "bars", None, say("stages_note")))
    for f, values in c["segments"].items():
        col = say("segment_value")
        rows = []
        for r in values:
            rows.append(_row(col, say("of_rep", label=r[f]), r))
            rows.append(_row(col, say("of_peers", label=r[f]), r["peers"]))
        if rows:
            sections.append(
                RateTable(say("segments", field=f), pd.DataFrame(rows), col, "bars", None, say("segments_note"))
            )
    return sections


def write_card(card: RepCard, path: str | Path, *, lang: str = "en", period: str | None = None) -> Path:
    """Write the rep card as one self-contained HTML file (English ``en`` or Danish ``da``) and return its path.
    The card's statements head the file; each proportion is drawn with its interval and tabled below. ``period``
    names the trend's periods (default: the card's)."""
    from hitrate.errors import InvalidValueError
    from hitrate.report import write_report

    if lang not in LANGS:
        raise InvalidValueError("coach_card.unknown_lang", parameter="lang", got=lang, langs=Joined(LANGS))
    lines = [m.render(lang) for m in card.statements]
    title = card.title().render(lang)
    return write_report(
        path,
        title=title,
        subtitle=lines[0] if lines else title,
        definitions_hash=card.definitions.hash,
        sections=card_sections(card, lang, period or card.period),
        notes=[*lines[1:], *(w.render(lang) for w in card.warnings)],
        lang=lang,
    )
