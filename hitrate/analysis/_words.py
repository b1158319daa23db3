"""Numbers inside messages written as the command line always wrote them, in every language.

:class:`Number` keeps a Python format spec (``+.1%``, ``.3g``) so the English text stays exactly what it
was, and writes the same digits with the language's separators elsewhere (``+3,2 %`` in Danish).
"""

from __future__ import annotations

from typing import Any

from hitrate.i18n import DEFAULT_LANG, Message, ParamNames, plain_names
from hitrate.i18n.format import MISSING, is_missing

#: How each language writes a Python-formatted number: decimal and thousands separators, the percent sign.
_SEPARATORS: dict[str, tuple[str, str, str]] = {"en": (".", ",", "%"), "da": (",", ".", " %")}


class Number(Message):
    """A number with a Python format spec (``Number(0.032, "+.1%")`` is ``+3.2%`` in English, ``+3,2 %`` in
    Danish); a missing value is an en dash."""

    def __init__(self, value: Any, spec: str) -> None:
        super().__init__("", value=value, spec=spec)

    def render(self, lang: str = DEFAULT_LANG, names: ParamNames = plain_names) -> str:
        value = self.params["value"]
        if is_missing(value):
            return MISSING
        text = format(value, self.params["spec"])
        decimal, thousands, percent = _SEPARATORS.get(lang, _SEPARATORS["en"])
        table = {".": decimal, ",": thousands, "%": percent}
        return "".join(table.get(ch, ch) for ch in text)
