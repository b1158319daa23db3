"""The dashboard's words and the API's names, in English and Danish.

The words are in the catalogues (``web``, and ``common`` for those the report uses too): :func:`words` gives a
page's words in its language, read as ``t["overview"]`` or ``t("signed_in_as", name=..., role=...)``.
Numbers and dates are formatted by :mod:`hitrate.i18n.format`, as in the report.

Library errors name library parameters (:class:`~hitrate.i18n.Param`); the web writes them as the caller sent
them (:func:`param_name`), as the command line writes ``--by`` (:func:`hitrate.cli.flag_name`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hitrate.errors import HitrateError
from hitrate.i18n import DEFAULT_LANG, LANGS, ParamNames
from hitrate.report.words import Words

__all__ = ["LANGS", "PARAM_NAMES", "accepted_lang", "error_text", "param_name", "pick_lang", "renamed", "words"]

#: How the API's query parameters and the pages' form fields name a library parameter, where the name differs
#: from the library's keyword (``rates(date_from=...)`` is ``?date_from=`` too: the API's names are the
#: library's, so this table is empty until one differs).
PARAM_NAMES: dict[str, str] = {}


def param_name(parameter: str) -> str:
    """How a web caller writes a library parameter: ``by`` -> ``by``, ``where`` -> ``where``."""
    return PARAM_NAMES.get(parameter, parameter)


def renamed(aliases: Mapping[str, str]) -> ParamNames:
    """:func:`param_name` for a request whose fields are named otherwise (the goal body's ``from``/``to``)."""
    return lambda parameter: aliases.get(parameter, param_name(parameter))


def error_text(error: HitrateError, lang: str = DEFAULT_LANG, names: ParamNames = param_name) -> str:
    """An error as the web shows it: in ``lang``, library parameters written as the caller sent them."""
    return error.render(lang, names)


def words(lang: str) -> Words:
    """The dashboard's words in ``lang``."""
    return Words(lang, ("web", "common"), param_name)


def pick_lang(asked: str | None, session_lang: Any) -> str:
    """The page language: the one asked for (``?lang=``), else the session's, else English."""
    for lang in (asked, session_lang):
        if lang in LANGS:
            return str(lang)
    return DEFAULT_LANG


def accepted_lang(header: str | None) -> str:
    """The language an API caller asks for in ``Accept-Language`` (``da``, ``da-DK;q=0.9, en;q=0.5``): the one of
    :data:`LANGS` with the highest weight, English when none is asked for (or none is spoken here)."""
    best, weight = DEFAULT_LANG, 0.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if lang in LANGS and q > weight:
            best, weight = lang, q
    return best
