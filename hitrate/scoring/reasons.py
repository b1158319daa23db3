"""How a lead's reasons are written and read: one format for the scores file, the store and the dashboard.

``score predict`` writes each lead's reasons (up and down) as a JSON list of ``{"feature", "value", "effect"}``
(:func:`write_reasons`); the store's ``lead_scores`` table keeps that text, and the dashboard and the API read it
back with :func:`read_reasons`. Stores scored by earlier versions hold the reasons as plain text
(``region=UK & Ireland; source=Web``); :func:`read_reasons` reads those too (effect unknown: None), so no store
needs scoring again. :func:`reasons_text` is the short form people read (``region=UK & Ireland; source=Web``).
Light: no pandas, no scikit-learn.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol


class _Factor(Protocol):
    @property
    def feature(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def effect(self) -> float: ...


def write_reasons(factors: Iterable[_Factor]) -> str:
    """The stored form of one lead's reasons in one direction: a JSON list of feature, value and effect."""
    items = [{"feature": str(f.feature), "value": str(f.value), "effect": float(f.effect)} for f in factors]
    return json.dumps(items, ensure_ascii=False)


def read_reasons(stored: str | None) -> list[dict[str, Any]]:
    """The reasons kept by :func:`write_reasons`, or by earlier versions as ``feature=value; ...`` text.

    Returns a list of ``{"feature", "value", "effect"}`` (``effect`` None when the store kept no effect).
    Empty or missing text is no reasons; text that is neither form is kept whole as one reason's value.
    """
    text = (stored or "").strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(item, Mapping) for item in parsed):
            return [
                {"feature": str(i.get("feature", "")), "value": str(i.get("value", "")), "effect": i.get("effect")}
                for i in parsed
            ]
    out = []
    for part in text.split("; "):
        feature, sep, value = part.partition("=")
        out.append({"feature": feature, "value": value, "effect": None} if sep else
                   {"feature": "", "value": part, "effect": None})  # fmt: skip
    return out


def reasons_text(items: Sequence[Mapping[str, Any]]) -> str:
    """Reasons as people read them: ``feature=value; feature=value``."""
    return "; ".join(f"{i['feature']}={i['value']}" if i.get("feature") else str(i.get("value", "")) for i in items)
