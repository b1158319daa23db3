"""The definitions as readable rules (:func:`rules`): what counts, what is a win and a loss, the rate, the period
date, the columns lead scoring never uses, one sentence each, in English or Danish. The dashboard's definitions
page leads with them, the YAML one click away."""

from __future__ import annotations

from collections.abc import Sequence

from hitrate.i18n import text
from hitrate.spec.model import Condition, Definitions


def condition(c: Condition, lang: str) -> str:
    """One condition in words: ``stage is Won``, ``amount at least 1000``, ``any of: ... or ...``."""
    if c.any is not None:
        return text(
            "spec_words.any", lang, conditions=text("spec_words.or", lang).join(condition(x, lang) for x in c.any)
        )
    shown = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in (c.values or []))
    value = repr(c.value) if isinstance(c.value, str) else str(c.value)
    return text(f"spec_words.op_{c.op}", lang, field=c.field, value=value, values=shown)


def conditions(items: Sequence[Condition], lang: str) -> str:
    """Conditions that must all hold, joined with "and"."""
    return text("spec_words.and", lang).join(condition(c, lang) for c in items)


def rules(defs: Definitions, lang: str = "en") -> list[str]:
    """The definitions, one plain sentence per rule."""
    what = text(f"rates.denominator_{defs.denominator}", lang)
    out = [
        text("spec_words.counted_where", lang, what=what, conditions=conditions(defs.opportunity, lang))
        if defs.opportunity
        else text("spec_words.counted_all", lang, what=what),
        text("spec_words.won", lang, conditions=conditions(defs.won, lang)),
        text("spec_words.lost", lang, conditions=conditions(defs.lost, lang)),
        text(f"spec_words.basis_{defs.basis}", lang),
        text("spec_words.period_date", lang, field=defs.effective_period_date),
    ]
    if defs.post_outcome:
        out.append(text("spec_words.post_outcome", lang, columns=", ".join(defs.post_outcome)))
    return out
