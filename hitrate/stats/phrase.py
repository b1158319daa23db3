"""Words a result carries: a :class:`~hitrate.i18n.Message` that is also its English sentence.

Results of :mod:`hitrate.stats`, :mod:`hitrate.scoring` and :mod:`hitrate.domains` describe their method and
their caveats in words. They hold them as a :class:`Phrase`: a message (an id and its parameters, so a face
renders it in Danish with ``phrase.render("da")``) that is at the same time the ``str`` of its English
sentence, so code that reads the words as text (``"Fisher" in d.method``, a table caption, ``json.dumps``)
keeps working unchanged.

:func:`english` turns result data holding messages into data with English sentences, for ``to_dict()``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from hitrate.i18n import DEFAULT_LANG, Message, ParamNames, plain_names


class Phrase(str, Message):
    """A message that is also its English sentence (a ``str``).

    ``Phrase("stats.pearson")`` or ``Phrase(message)``; ``str(phrase)`` and every ``str`` operation work on
    the English sentence, :meth:`render` gives any language. Equal to (and hashed as) its English text.
    """

    message: Message

    def __new__(cls, key: str | Message, /, **params: Any) -> Phrase:
        message = key if isinstance(key, Message) else Message(key, **params)
        made = str.__new__(cls, message.render())
        object.__setattr__(made, "message", message)
        return made

    def __init__(self, key: str | Message, /, **params: Any) -> None:
        object.__setattr__(self, "key", self.message.key)
        object.__setattr__(self, "params", self.message.params)

    def render(self, lang: str = DEFAULT_LANG, names: ParamNames = plain_names) -> str:
        """The sentence in ``lang``, parameters written the face's way (``names``)."""
        return self.message.render(lang, names)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Phrase, (self.message,))

    __str__ = str.__str__
    __hash__ = str.__hash__
    __contains__ = str.__contains__  # type: ignore[assignment]


def english(value: Any) -> Any:
    """``value`` with every message (nested in mappings, lists, tuples and dataclasses) as its English
    sentence, ready for :func:`hitrate.report.result.json_ready` (which would otherwise spread a message's
    dataclass fields)."""
    if isinstance(value, Message):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): english(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [english(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and not hasattr(value, "to_dict"):
        return english_fields(value)
    return value


def english_fields(data: Any) -> dict[str, Any]:
    """A dataclass's fields, in order, with every message as its English sentence (for a ``to_dict()`` that
    is the fields)."""
    return {f.name: english(getattr(data, f.name)) for f in dataclasses.fields(data) if f.repr}
