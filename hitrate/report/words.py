"""The words of a face in one language, read from the catalogues (:mod:`hitrate.i18n`).

The report's words are in the ``report`` namespace, the dashboard's in ``web``, and the words both use (hit
rate, attempts, the 95% interval, names of label columns) once, in ``common``. A :class:`Words` looks a
short key up in its namespaces in turn, so code and templates write ``s["hit_rate"]`` (``{{ s.hit_rate }}``)
for a word and ``s("hover_rate", rate=0.45)`` for a sentence with its numbers formatted for the language.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hitrate.errors import InvalidParameterError
from hitrate.i18n import (
    DEFAULT_LANG,
    LANGS,
    Joined,
    Message,
    ParamNames,
    check_lang,
    namespace,
    plain_names,
    template,
    text,
)
from hitrate.i18n.format import MISSING

#: Label columns whose name is translated in table headings (``common.toml``); others show as named.
COLUMN_WORDS: frozenset[str] = frozenset(
    {"team", "rep", "period", "segment", "region", "manager", "product", "sector", "lead_source", "cohort"}
)
#: Funnel flags and unusual-period marks that have words of their own.
FLAGS: tuple[str, ...] = ("above", "below", "within")
UNUSUAL: tuple[str, ...] = ("high", "low")


class Words(Mapping[str, str]):
    """The words of ``namespaces`` (searched in order) in ``lang``.

    ``words[key]`` is the catalogue text as written (placeholders unfilled), ``words(key, **params)`` the
    sentence with its placeholders filled and formatted for the language; library parameters inside it are
    written by ``names``. An unknown key is a ``KeyError``.
    """

    def __init__(self, lang: str, namespaces: Sequence[str], names: ParamNames = plain_names) -> None:
        self._lang = check_lang(lang)
        self._spaces = tuple(namespaces)
        self._names = names

    @property
    def lang(self) -> str:
        """The language of these words."""
        return self._lang

    def message_id(self, key: str) -> str:
        """The full message id of ``key`` (``hit_rate`` -> ``common.hit_rate``)."""
        for space in self._spaces:
            if key in namespace(self._lang, space) or key in namespace(DEFAULT_LANG, space):
                return f"{space}.{key}"
        raise KeyError(key)

    def __getitem__(self, key: str) -> str:
        found = template(self.message_id(key), self._lang)
        assert found is not None
        return found

    def __call__(self, key: str, /, **params: Any) -> str:
        return text(self.message_id(key), self._lang, self._names, **params)

    def __iter__(self) -> Iterator[str]:
        seen: dict[str, None] = {}
        for space in self._spaces:
            seen.update(dict.fromkeys(namespace(DEFAULT_LANG, space)))
        return iter(seen)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def report_words(lang: str = DEFAULT_LANG) -> Words:
    """The HTML report's words in ``lang``; :class:`~hitrate.errors.InvalidParameterError` (a ``ValueError``)
    for a language hitrate has no catalogue for."""
    if lang not in LANGS:
        raise InvalidParameterError("lang", Message("report.errors.a_language", langs=Joined(LANGS)), lang)
    return Words(lang, ("report", "common"))


def column_name(column: str, s: Words) -> str:
    """A table heading for a label column: translated if it is a common one, else as named."""
    return s[column] if column in COLUMN_WORDS else column


def flag_text(flag: str, s: Words) -> str:
    """A funnel flag (``"above"``, ``"below"``, ``"within"``) in words; other flags as given, ``""`` as missing."""
    if not flag:
        return MISSING
    return s[f"flag_{flag}"] if flag in FLAGS else flag


def unusual_text(unusual: str, s: Words) -> str:
    """An unusual-period mark (``"high"``, ``"low"``) in words; ``""`` stays empty, other marks as given."""
    return s[f"unusual_{unusual}"] if unusual in UNUSUAL else unusual
