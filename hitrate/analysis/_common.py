"""What the analyses share: the definitions a computation runs under, the query echoed in results, fields
given the command line's way, and warnings raised from messages."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hitrate.engine.query import Query
from hitrate.i18n import Message
from hitrate.report.result import english
from hitrate.spec.model import Definitions, default_definitions, load_definitions

#: A definitions argument: the definitions themselves, or the path of a definitions file (as ``--definitions``).
DefinitionsArg = Definitions | str | os.PathLike[str] | None


def resolve_definitions(source: Any, definitions: DefinitionsArg, basis: str | None) -> Definitions:
    """The definitions a computation runs under: those given (or read from the file given, as the command
    line's ``--definitions``), else the store's in force (the built-in default for another backend), with the
    ``basis`` override applied."""
    from hitrate.store.embedded import Store

    if isinstance(definitions, str | Path | os.PathLike):
        definitions = load_definitions(os.fspath(definitions))
    if definitions is None:
        if isinstance(source, Store):
            from hitrate.engine.definitions import definitions_in_force

            definitions = definitions_in_force(source)
        else:
            definitions = default_definitions()
    return definitions.with_overrides(basis=basis)


def query_echo(query: Query) -> dict[str, Any]:
    """The query's date range and filters as every result's ``query`` echoes them: ``from``, ``to`` (ISO dates
    or None) and ``where`` (field -> values)."""
    return {
        "from": query.date_from.isoformat() if query.date_from else None,
        "to": query.date_to.isoformat() if query.date_to else None,
        "where": {field: list(values) for field, values in query.where},
    }


def comma_list(value: str | Sequence[str] | None) -> list[str]:
    """Field names given as a list or the command line's way, ``"a,b"``: ``["a", "b"]``."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [f.strip() for f in items if f and f.strip()]


def english_dict(**fields: Any) -> dict[str, Any]:
    """The fields in the order given, every message in them as its English sentence: a result's ``to_dict()``
    with the keys it always had."""
    return {name: english(value) for name, value in fields.items()}


def warn_all(notes: Sequence[Message | str], category: type[Warning], stacklevel: int = 3) -> None:
    """Each note as a Python warning of ``category`` (its English sentence), from the caller's caller."""
    for note in notes:
        warnings.warn(str(note), category, stacklevel=stacklevel + 1)
