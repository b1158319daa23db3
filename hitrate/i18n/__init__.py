"""One home for words: every user-facing sentence of hitrate, in English and Danish.

Code holds message ids and parameters, never sentences. The catalogues are TOML files, one folder per
language (``catalogues/en``, ``catalogues/da``) and one file per namespace: the id ``rates.small_sample``
lives in ``catalogues/<lang>/rates.toml`` under the key ``small_sample``. A namespace is read the first time
one of its ids is used, so the command line pays only for the words it prints. A test fails when an id
exists in one language and not the other.

Library results carry :class:`Message` objects (an id and its parameters), and the faces (command line,
web, report, notebook) turn them into sentences with :func:`text` in the language they serve::

    >>> from hitrate.i18n import Message
    >>> note = Message("rates.small_sample_all", small=3, groups=12, minimum=10)
    >>> note.render("en")  # doctest: +SKIP
    '3 of 12 groups have fewer than 10 attempts: ...'

Parameters are formatted for the language by the placeholder's format spec (see
:mod:`hitrate.i18n.format`): ``{rate:pct}`` is ``45.0%`` in English and ``45,0 %`` in Danish,
``{n:int}`` is ``1,234`` / ``1.234``. A :class:`Param` names a parameter of the library (``by``,
``where``); each face says how its users write it (``--by`` on the command line, ``by`` in the web API).
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

LANGS: tuple[str, ...] = ("en", "da")
DEFAULT_LANG = "en"

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}\.[a-z0-9_.]{1,200}$")

#: How a face writes a library parameter: ``"by"`` -> ``"--by"`` (command line), ``"by"`` (web).
ParamNames = Callable[[str], str]


class Param(str):
    """The name of a library parameter (``by``, ``where``, ``date_from``) inside a message.

    Rendered through the face's :data:`ParamNames`, so the command line says ``--by`` and the web API ``by``
    while the library itself raises one error.
    """

    __slots__ = ()


def plain_names(name: str) -> str:
    """The library's own spelling of a parameter: its keyword argument."""
    return name


class UnknownLanguageError(LookupError):
    """A language hitrate has no catalogue for."""


def check_lang(lang: str) -> str:
    """``lang`` if hitrate speaks it; raises :class:`UnknownLanguageError` (a ``LookupError``) otherwise."""
    if lang not in LANGS:
        raise UnknownLanguageError(f"unknown language {lang!r}; expected one of: {', '.join(LANGS)}")
    return lang


@cache
def namespace(lang: str, name: str) -> dict[str, str]:
    """The messages of one namespace (``catalogues/<lang>/<name>.toml``), flattened to ``key -> text``;
    empty when the file does not exist."""
    check_lang(lang)
    source = resources.files("hitrate.i18n") / "catalogues" / lang / f"{name}.toml"
    if not source.is_file():
        return {}
    data = tomllib.loads(source.read_text(encoding="utf-8"))
    return dict(_flatten(data, ""))


def _flatten(data: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, str]]:
    for key, value in data.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", str(value)


def namespaces(lang: str) -> list[str]:
    """Every namespace of a language's catalogue."""
    folder = resources.files("hitrate.i18n") / "catalogues" / check_lang(lang)
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def catalogue(lang: str) -> dict[str, str]:
    """The whole catalogue of a language: every message id -> its text."""
    out: dict[str, str] = {}
    for name in namespaces(lang):
        out.update({f"{name}.{key}": value for key, value in namespace(lang, name).items()})
    return out


def template(key: str, lang: str = DEFAULT_LANG) -> str | None:
    """The text of message ``key`` in ``lang`` (English when ``lang`` lacks it), or None when no
    catalogue has it (or ``key`` is not an id at all). Inside :func:`unit_words`, the unit's own wording of
    ``key`` when the ``units`` catalogue has one."""
    if not _ID.match(key):
        return None
    unit = _UNIT.get()
    if unit is not None:
        own = _find("units", f"{unit}.{key}", lang)
        if own is not None:
            return own
    name, _, rest = key.partition(".")
    return _find(name, rest, lang)


def _find(name: str, rest: str, lang: str) -> str | None:
    """Key ``rest`` of namespace ``name`` in ``lang``, else in English; None when neither has it."""
    found = namespace(lang, name).get(rest)
    if found is None and lang != DEFAULT_LANG:
        found = namespace(DEFAULT_LANG, name).get(rest)
    return found


#: The unit whose words messages are read in (see :func:`unit_words`); None: the general words.
_UNIT: ContextVar[str | None] = ContextVar("hitrate_unit_words", default=None)


@contextmanager
def unit_words(unit: str | None) -> Iterator[None]:
    """Read every message inside this block in the words of ``unit``, a denominator of the definitions.

    The ``units`` catalogue holds, per unit, its own wording of the messages that name attempts and hits:
    with ``sessions`` an attempt is a session, a hit a conversion and the hit rate the conversion rate
    (``units.sessions.common.hit_rate`` replaces ``common.hit_rate``). Messages it does not reword, and every
    message when ``unit`` has no words of its own (or is None), read as usual. The faces open this block with
    the definitions in force; a result's ``summary()`` with its own definitions."""
    token = _UNIT.set(unit)
    try:
        yield
    finally:
        _UNIT.reset(token)


def has(key: str) -> bool:
    """True when the English catalogue has ``key``."""
    return template(key) is not None


class _Formatter(string.Formatter):
    """``str.format`` with the language's number, percent and date formats as format specs."""

    def __init__(self, lang: str, names: ParamNames) -> None:
        self.lang = lang
        self.names = names

    def format_field(self, value: Any, format_spec: str) -> str:
        from . import format as fmt

        if isinstance(value, Message):
            return value.render(self.lang, self.names)
        if isinstance(value, Param):
            return self.names(str(value))
        if format_spec in fmt.SPECS:
            return fmt.SPECS[format_spec](value, self.lang)
        if format_spec == "list":
            return ", ".join(str(self.format_field(v, "")) for v in value)
        if format_spec == "params":
            return ", ".join(self.names(str(v)) for v in value)
        return str(super().format_field(value, format_spec))


def text(key: str, lang: str = DEFAULT_LANG, names: ParamNames = plain_names, /, **params: Any) -> str:
    """Message ``key`` in ``lang`` with ``params`` filled in.

    Placeholders take the format specs of :mod:`hitrate.i18n.format` (``{rate:pct}``, ``{n:int}``,
    ``{when:date}``), ``{items:list}`` joins a sequence, and a :class:`Param` is written the face's way
    (``names``). A key no catalogue has renders as the key and its parameters, so a missing message never
    hides an error (a test keeps every key used in the code in both catalogues).
    """
    found = template(key, lang)
    if found is None:
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"{key}({shown})" if shown else key
    return _Formatter(lang, names).vformat(found, (), params)


@dataclass(frozen=True)
class Message:
    """A sentence waiting for its language: a message id and its parameters.

    Results and errors carry messages, not English text; ``str(message)`` is the English sentence (what
    ``to_dict()`` writes into JSON), :meth:`render` any language.
    """

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def __init__(self, key: str, /, **params: Any) -> None:
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "params", params)

    def render(self, lang: str = DEFAULT_LANG, names: ParamNames = plain_names) -> str:
        """The sentence in ``lang``, parameters written the face's way (``names``)."""
        return text(self.key, lang, names, **self.params)

    def __str__(self) -> str:
        return self.render()

    def __contains__(self, part: str) -> bool:
        """``"wide" in message``: whether the English sentence contains ``part`` (code written for plain
        string warnings keeps working)."""
        return part in str(self)

    def __hash__(self) -> int:
        return hash((self.key, tuple(sorted((k, repr(v)) for k, v in self.params.items()))))


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


class Joined(Message):
    """Items joined by a separator, each rendered in the language of the message around it (messages and
    parameters included)."""

    def __init__(self, items: Any, sep: str | Message = ", ") -> None:
        super().__init__("", items=list(items), sep=sep)

    def render(self, lang: str = DEFAULT_LANG, names: ParamNames = plain_names) -> str:
        sep = _item(self.params["sep"], lang, names)
        return sep.join(_item(i, lang, names) for i in self.params["items"])


class Lines(Joined):
    """Items one per line, each after ``indent``."""

    def __init__(self, items: Any, indent: str = "") -> None:
        Message.__init__(self, "", items=list(items), sep="\n" + indent, indent=indent)

    def render(self, lang: str = DEFAULT_LANG, names: ParamNames = plain_names) -> str:
        return str(self.params["indent"]) + super().render(lang, names)


def _item(value: Any, lang: str, names: ParamNames) -> str:
    if isinstance(value, Message):
        return value.render(lang, names)
    if isinstance(value, Param):
        return names(str(value))
    return str(value)


def render_all(messages: Any, lang: str = DEFAULT_LANG, names: ParamNames = plain_names) -> list[str]:
    """A list of messages (or plain strings) as sentences in ``lang``."""
    return [m.render(lang, names) if isinstance(m, Message) else str(m) for m in messages]


__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "Joined",
    "Lines",
    "Message",
    "Param",
    "Phrase",
    "ParamNames",
    "UnknownLanguageError",
    "catalogue",
    "check_lang",
    "has",
    "namespace",
    "namespaces",
    "plain_names",
    "render_all",
    "template",
    "text",
    "unit_words",
]
