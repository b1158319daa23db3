"""The import's own errors: a parameter of the import given a value it cannot use.

Both are :class:`~hitrate.errors.InputFileError` subclasses (``<parameter>: <what is wrong>``), so code that
catches a file's errors catches them too; the parameter is a :class:`~hitrate.i18n.Param`, which each face
writes its own way (``--date-format`` on the command line, ``date_format`` in Python).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hitrate.errors import InputFileError, NotFoundError, UserInputError
from hitrate.i18n import Joined, Message, Param


class ImportParameterError(InputFileError, ValueError):
    """A parameter of :func:`~hitrate.ingest.import_files` (``table``, ``decimal``, ``date_format``, ``map``,
    ``attempts``/``hits``...) that cannot be used as given. ``parameters`` names it (two for a pair that
    belongs together); the message says what was expected."""

    def __init__(self, key: str, /, *, parameters: Sequence[str], **params: Any) -> None:
        self.parameters = list(parameters)
        self.path = "/".join(self.parameters)
        self.problem = Message(key, **params)
        named = Joined([Param(p) for p in self.parameters], "/")
        UserInputError.__init__(self, "errors.in_file", path=named, problem=self.problem)


class UnknownPresetError(ImportParameterError, NotFoundError):
    """``preset`` names no shipped preset (and is not a YAML file)."""
