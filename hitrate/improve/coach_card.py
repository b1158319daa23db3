"""The rep card as report sections and as a self-contained HTML file (the report's offline Plotly machinery).

Each proportion on the card (hit rate, stage conversion, rate by segment) becomes a :class:`hitrate.report.RateTable`
section, so the file and the dashboard draw it with its attempts and Wilson interval like every other rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hitrate.improve.coach import RepCard
    from hitrate.report import RateTable

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Rep card: {rep}",
        "who": "who",
        "rep": "{rep}",
        "peers": "peers ({n} reps)",
        "stage": "stage",
        "segment_value": "value",
        "hit_rate": "Hit rate against peers",
        "hit_rate_note": "The line is the team's rate, the rep included.",
        "trend": "Trend ({period})",
        "trend_note": "The rep's rate per period; the band is the 95% interval.",
        "stages": "Conversion to the next stage",
        "stages_note": "Each stage for the rep and for the peers: deals that moved on of deals that reached it.",
        "segments": "Hit rate by {field}",
        "segments_note": "The rep and the peers in each value.",
        "of_rep": "{label} · rep",
        "won": "won",
        "of_peers": "{label} · peers",
    },
    "da": {
        "title": "Sælgerkort: {rep}",
        "who": "hvem",
        "rep": "{rep}",
        "peers": "kolleger ({n} sælgere)",
        "stage": "fase",
        "segment_value": "værdi",
        "hit_rate": "Hitrate mod kolleger",
        "hit_rate_note": "Linjen er teamets hitrate, sælgeren medregnet.",
        "trend": "Udvikling ({period})",
        "trend_note": "Sælgerens hitrate pr. periode; båndet er 95 %-intervallet.",
        "stages": "Konvertering til næste fase",
        "stages_note": "Hver fase for sælgeren og for kollegerne: handler der gik videre af handler der nåede den.",
        "segments": "Hitrate pr. {field}",
        "segments_note": "Sælgeren og kollegerne i hver værdi.",
        "of_rep": "{label} · sælger",
        "won": "vundet",
        "of_peers": "{label} · kolleger",
    },
}


def _row(label_col: str, label: str, r: dict[str, Any]) -> dict[str, Any]:
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


def _as_rate(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "attempts": c["reached"],
        "hits": c["advanced"],
        "hit_rate": c["conversion"],
        "ci_low": c["conversion_low"],
        "ci_high": c["conversion_high"],
    }


def card_sections(card: RepCard | Mapping[str, Any], lang: str = "en", period: str = "quarter") -> list[RateTable]:
    """The card's proportions (a :class:`hitrate.coach.RepCard` or its ``to_dict()``) as report sections: hit
    rate, trend, stage conversions, segments."""
    import pandas as pd

    from hitrate.improve.coach import RepCard
    from hitrate.report import RateTable

    c = card.to_dict() if isinstance(card, RepCard) else card
    s = TEXT[lang]
    h = c["hit_rate"]
    who = s["who"]
    peers = s["peers"].format(n=c["n_peers"])
    sections = [
        RateTable(
            s["hit_rate"],
            pd.DataFrame([_row(who, c["rep"], h), _row(who, peers, h["peers"])]),
            who,
            "bars",
            h["team_rate"],
            s["hit_rate_note"],
        )
    ]
    trend = [_row("period", r["period"], r) for r in c["trend"] if r["attempts"]]
    if trend:
        sections.append(
            RateTable(s["trend"].format(period=period), pd.DataFrame(trend), "period", "trend", None, s["trend_note"])
        )
    if c["stages"]:
        stage = s["stage"]
        rows = []
        for r in c["stages"]:
            label = f"{r['stage']} → {s['won'] if r['to'] == 'won' else r['to']}"
            rows.append(_row(stage, s["of_rep"].format(label=label), _as_rate(r)))
            rows.append(_row(stage, s["of_peers"].format(label=label), _as_rate(r["peers"])))
        sections.append(RateTable(s["stages"], pd.DataFrame(rows), stage, "bars", None, s["stages_note"]))
    for f, values in c["segments"].items():
        col = s["segment_value"]
        rows = []
        for r in values:
            rows.append(_row(col, s["of_rep"].format(label=r[f]), r))
            rows.append(_row(col, s["of_peers"].format(label=r[f]), r["peers"]))
        if rows:
            sections.append(
                RateTable(s["segments"].format(field=f), pd.DataFrame(rows), col, "bars", None, s["segments_note"])
            )
    return sections


def write_card(card: RepCard, path: str | Path, *, lang: str = "en", period: str = "quarter") -> Path:
    """Write the rep card as one self-contained HTML file (English ``en`` or Danish ``da``) and return its path.
    The card's statements head the file; each proportion is drawn with its interval and tabled below."""
    from hitrate.improve.coach import statements
    from hitrate.report import write_report

    if lang not in TEXT:
        raise ValueError(f"The 'lang' parameter of write_card must be one of {sorted(TEXT)}. Got {lang!r}.")
    c = card.to_dict()
    lines = statements(c, lang)
    title = TEXT[lang]["title"].format(rep=card.rep)
    return write_report(
        path,
        title=title,
        subtitle=lines[0] if lines else title,
        definitions_hash=card.definitions.hash,
        sections=card_sections(c, lang, period),
        notes=[*lines[1:], *card.warnings],
        lang=lang,
    )
