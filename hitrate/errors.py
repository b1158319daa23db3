"""Exceptions and warnings raised by hitrate.

The tree::

    HitrateError                      base of everything hitrate raises on purpose
    ├── UserInputError                a user mistake: names the file, row, column, key or parameter
    │   ├── InvalidParameterError     a parameter value that is not allowed (also a ValueError)
    │   │   └── InvalidValueError     the same, said in a sentence of the function's own
    │   ├── DefinitionsError          a definitions file that does not validate
    │   ├── InputFileError            a file that cannot be read or mapped
    │   │   └── AmbiguousDateFormatError  dates that parse as both dd/mm and mm/dd
    │   ├── UnknownFieldError         a field that is not in the data
    │   ├── NotFoundError             a rep, goal, intervention, preset or user that does not exist (also a LookupError)
    │   └── StrictImportError         ``strict`` and some rows were quarantined
    ├── PermissionDeniedError         the caller's role or scope does not allow it
    ├── MissingDependencyError        an optional extra is not installed (also an ImportError)
    ├── StoreError                    the store refuses an operation (e.g. demo over imported data)
    └── SyncError                     a CRM's API failed or refused (names the CRM and what to do)

    HitrateWarning (UserWarning)
    ├── SmallSampleWarning            a group too small to support a claim
    └── ValueRateWarning              value hit rate that says nothing (lost amounts all zero/missing)

Every error carries a :class:`~hitrate.i18n.Message` (an id in the catalogues and its parameters) rather than
an English sentence: ``str(error)`` is the English text, :meth:`HitrateError.render` any language. A
library parameter inside a message is a :class:`~hitrate.i18n.Param`; the faces write it their way, so
``rates(by=["x"])`` says ``by`` in Python, ``--by`` on the command line and ``by`` in the web API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hitrate.i18n import DEFAULT_LANG, Joined, Lines, Message, Param, ParamNames, plain_names


class HitrateError(Exception):
    """Base class for every error hitrate raises on purpose.

    ``key`` is the message id (see :mod:`hitrate.i18n`), ``params`` its parameters; both stay on the
    error (``error.params["field"]``) for code that handles it.
    """

    def __init__(self, key: str, /, **params: Any) -> None:
        self.message = Message(key, **params)
        super().__init__(key)

    @property
    def key(self) -> str:
        """The message id."""
        return self.message.key

    @property
    def params(self) -> dict[str, Any]:
        """The message's parameters."""
        return self.message.params

    def render(self, lang: str = DEFAULT_LANG, names: ParamNames = plain_names) -> str:
        """The error as a sentence in ``lang``, with library parameters written the face's way (``names``)."""
        return self.message.render(lang, names)

    def __str__(self) -> str:
        return self.render()


class UserInputError(HitrateError):
    """A user mistake; the message names what was wrong and what was expected."""


class InvalidParameterError(UserInputError, ValueError):
    """A parameter value that is not allowed: names the parameter, the function, what was expected and what
    was received (``The 'basis' parameter of rates must be one of closed, cohort. Got 'close' instead.``).

    Statistics functions raise it for impossible input (hits above attempts, a confidence of 1.5).
    """

    def __init__(self, parameter: str, expected: str | Message, got: Any, *, caller: str = "") -> None:
        self.parameter = parameter
        self.expected = expected
        self.got = got
        key = "errors.invalid_parameter_of" if caller else "errors.invalid_parameter"
        super().__init__(key, param=Param(parameter), caller=caller, expected=expected, got=repr(got))


class InvalidValueError(InvalidParameterError):
    """A parameter value that is not allowed, said in a sentence of the area's own: ``key`` is the message id,
    and the message gets ``param`` (the parameter, written the face's way) and ``got`` (the value) besides
    ``params`` (``--target 1.3: a hit-rate goal must be between 0 and 1``)."""

    def __init__(self, key: str, /, *, parameter: str, got: Any = None, **params: Any) -> None:
        self.parameter = parameter
        self.expected = Message(key, param=Param(parameter), got=got, **params)
        self.got = got
        UserInputError.__init__(self, key, param=Param(parameter), got=got, **params)


class DefinitionsError(UserInputError):
    """A definitions file (or override) that does not validate.

    ``source`` is the file (or ``"<built-in>"``), ``problems`` a list of ``(key, message)`` pairs, one per
    problem found.
    """

    def __init__(self, source: str, problems: Sequence[tuple[str, str | Message]]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [
            Message("errors.definitions_problem_at", source=source, key=key, problem=msg)
            if key
            else Message("errors.definitions_problem", source=source, problem=msg)
            for key, msg in self.problems
        ]
        super().__init__("errors.definitions", lines=Lines(lines))


class InputFileError(UserInputError):
    """A file that cannot be read, or whose columns cannot be mapped: ``<path>: <what is wrong>``."""

    def __init__(self, path: str, key: str, /, **params: Any) -> None:
        self.path = path
        self.problem = Message(key, **params)
        super().__init__("errors.in_file", path=path, problem=self.problem)


class AmbiguousDateFormatError(InputFileError):
    """Every date in a column parses as both day-first and month-first."""

    def __init__(self, path: str, column: str, candidates: Sequence[str]) -> None:
        self.column = column
        self.candidates = list(candidates)
        super().__init__(
            path,
            "errors.ambiguous_dates",
            column=column,
            readings=Joined(self.candidates, Message("errors.and_as")),
            options=Joined(
                [Message("errors.option_value", param=Param("date_format"), value=c) for c in self.candidates], " or "
            ),
        )


class UnknownFieldError(UserInputError):
    """A field name (``by``, ``where``, a definitions condition) that the data does not have.

    ``where`` says where the name came from: a :class:`~hitrate.i18n.Param` for a parameter of the call
    (``Param("by")``), or a definitions key (``"won[0]"``).
    """

    def __init__(self, field: str, available: Sequence[str], where: str | Message = "") -> None:
        self.field = field
        self.available = sorted(available)
        self.where = where
        key = "errors.unknown_field_at" if where else "errors.unknown_field"
        super().__init__(key, field=field, at=where, available=Joined(self.available, ", "))


class NotFoundError(UserInputError, LookupError):
    """Something named by the caller does not exist: a rep, goal, intervention, preset, user or file."""


class StrictImportError(UserInputError):
    """Raised by a ``strict`` import when any row was quarantined; nothing was stored."""

    def __init__(self, quarantined: int, first_reasons: Sequence[str | Message]) -> None:
        self.quarantined = quarantined
        self.first_reasons = list(first_reasons)
        super().__init__(
            "errors.strict_import",
            quarantined=quarantined,
            param=Param("strict"),
            reasons=Lines(self.first_reasons, indent="  "),
        )


class PermissionDeniedError(HitrateError):
    """The caller's role or scope does not allow the operation (the web answers 403)."""


class MissingDependencyError(HitrateError, ImportError):
    """An optional extra is not installed; the message names the ``pip install`` that adds it."""


class StoreError(HitrateError):
    """The store refuses an operation (for example building the demo over imported data)."""


class SyncError(HitrateError):
    """A CRM's API failed or refused a sync (an expired token, rate limits that did not ease, a server that
    kept failing, a timeout), or its credentials cannot be used: one line naming the CRM (``crm``) and what to
    do. It never holds a credential, a URL's query or a response body."""

    def __init__(self, key: str, /, *, crm: str, **params: Any) -> None:
        self.crm = crm
        super().__init__(key, crm=crm, **params)


class HitrateWarning(UserWarning):
    """Base class for hitrate's warnings."""


class SmallSampleWarning(HitrateWarning):
    """A group is too small for its rate to support a claim."""


class ValueRateWarning(HitrateWarning):
    """Value hit rate cannot be interpreted (e.g. lost deals carry no amount)."""
