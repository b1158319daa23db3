"""The rep card in sentences: :class:`~hitrate.i18n.Message` objects built from the card's numbers (the words are
in the ``coach`` catalogue), each with the numbers behind it. The faces render them in their language."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hitrate.i18n import DEFAULT_LANG, Joined, Message
from hitrate.i18n.format import MISSING

if TYPE_CHECKING:
    from hitrate.improve.coach._card import RepCard

#: Activity types with a word of their own (others are shown as the data has them, capitalised).
ACTIVITY_WORDS = ("call", "email", "meeting")


def _signed(value: float | None) -> Message | str:
    """Percentage points with their sign, ``+16.3`` / ``-9.7`` (one decimal)."""
    if value is None:
        return MISSING
    points = 100 * float(value)
    return Message("coach.signed", sign="-" if math.copysign(1.0, points) < 0 else "+", value=abs(points))


def _gap(r: Mapping[str, Any]) -> Message:
    """``+16.3 points (+7.7 to +24.9)``."""
    return Message(
        "coach.points",
        d=_signed(r["difference"]),
        low=_signed(r["difference_low"]),
        high=_signed(r["difference_high"]),
    )


def _ratio(r: Mapping[str, Any], k: str = "hits", n: str = "attempts", rate: str = "hit_rate") -> Message:
    """``75/154 = 48.7% (40.9%–56.5%)``."""
    low, high = ("ci_low", "ci_high") if rate == "hit_rate" else (f"{rate}_low", f"{rate}_high")
    return Message("coach.ratio", k=r[k], n=r[n], rate=r[rate], low=r[low], high=r[high])


def _conversion(r: Mapping[str, Any]) -> Message:
    return _ratio(r, "advanced", "reached", "conversion")


def _to(stage: str) -> Message | str:
    """The stage a conversion goes to; ``won`` in the language."""
    return Message("coach.won") if stage == "won" else stage


def card_statements(c: Mapping[str, Any]) -> list[Message]:
    """The card's statements from its data (a :meth:`RepCard.to_dict` or the same keys)."""
    h = c["hit_rate"]
    if not c["team"]:
        group: Message | str = Message("coach.all_reps")
    elif c["peers_by"] == "team":
        group = str(c["team"])
    else:
        group = Message("coach.field_value", field=c["peers_by"], value=c["team"])
    out = [
        Message(
            "coach.hit",
            rate=_ratio(h),
            n=c["n_peers"],
            group=group,
            peers=_ratio(h["peers"]),
            gap=_gap(h),
            shrunk=h["shrunk_rate"],
            rank=h["rank"],
            of=h["of"],
        )
    ]
    if h.get("quality_index") is not None:
        out.append(
            Message(
                "coach.quality",
                q=h["quality_index"],
                low=h["quality_low"],
                high=h["quality_high"],
                fields=Joined(h["adjust"]),
                hits=h["hits"],
                expected=h["expected_hits"],
            )
        )
    ch = c["trend_change"]
    if ch is not None:
        out.append(
            Message(
                "coach.trend",
                r0=ch["recent"][0],
                r1=ch["recent"][1],
                recent=_ratio(ch["recent_rate"]),
                b0=ch["before"][0],
                b1=ch["before"][1],
                before=_ratio(ch["before_rate"]),
                gap=_gap(ch),
            )
        )
    weak = c["weak_stage"]
    if weak is not None:
        clear = (weak["difference_high"] or 0) < 0
        out.append(
            Message(
                "coach.weak" if clear else "coach.weak_unclear",
                stage=weak["stage"],
                to=_to(weak["to"]),
                rate=_conversion(weak),
                peers=_conversion(weak["peers"]),
                gap=_gap(weak),
                lost=weak["lost_here"],
            )
        )
    elif c["stages"]:
        out.append(Message("coach.no_weak"))
    for row in c["activities"]:
        r, b = row["rep"], row["best"]
        if r["per_opportunity"] is None or b["per_opportunity"] is None:
            continue
        kind = str(row["type"])
        out.append(
            Message(
                "coach.activity",
                kind=Message(f"coach.activity_{kind}") if kind in ACTIVITY_WORDS else kind.capitalize(),
                v=r["per_opportunity"],
                low=r["low"],
                high=r["high"],
                k=r["activities"],
                n=r["opportunities"],
                b=b["per_opportunity"],
                blow=b["low"],
                bhigh=b["high"],
                nb=c["n_best"],
            )
        )
    for f in c["segments"]:
        for word in ("strongest", "weakest"):
            seg = c[word].get(f)
            if seg is not None:
                # The words follow the sign: a "strongest" value still below the peers is the closest to them,
                # a "weakest" one still above them the smallest lead.
                if word == "strongest" and seg["difference"] <= 0:
                    word = "closest"
                elif word == "weakest" and seg["difference"] >= 0:
                    word = "smallest_lead"
                out.append(
                    Message(
                        f"coach.{word}",
                        field=f,
                        value=seg[f],
                        rate=_ratio(seg),
                        peers=_ratio(seg["peers"]),
                        gap=_gap(seg),
                    )
                )
    return out


def statements(card: RepCard | Mapping[str, Any], lang: str = DEFAULT_LANG) -> list[str]:
    """The card (a :class:`RepCard` or its ``to_dict()``) in sentences, each with the numbers behind it, in
    English (``en``) or Danish (``da``)."""
    from hitrate.improve.coach._card import RepCard

    messages = card.statements if isinstance(card, RepCard) else card_statements(card)
    return [m.render(lang) for m in messages]


def stage_label(r: Mapping[str, Any], lang: str) -> str:
    """``Qualified → Proposal`` (``won`` in the language)."""
    return Message("coach.stage_to", stage=r["stage"], to=_to(r["to"])).render(lang)
