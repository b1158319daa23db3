"""Exceptions and warnings raised by hitrate.

The tree::

    HitrateError                      base of everything hitrate raises on purpose
    ├── UserInputError                a user mistake: names the file, row, column or key
    │   ├── DefinitionsError          a definitions file that does not validate
    │   ├── InputFileError            a file that cannot be read or mapped
    │   ├── AmbiguousDateFormatError  dates that parse as both dd/mm and mm/dd
    │   ├── UnknownFieldError         a field that is not in the data
    │   └── StrictImportError         ``--strict`` and some rows were quarantined
    └── StoreError                    the store refuses an operation (e.g. demo over imported data)

    HitrateWarning (UserWarning)
    ├── SmallSampleWarning            a group too small to support a claim
    └── ValueRateWarning              value hit rate that says nothing (lost amounts all zero/missing)
"""

from __future__ import annotations

from collections.abc import Sequence


class HitrateError(Exception):
    """Base class for every error hitrate raises on purpose."""


class UserInputError(HitrateError):
    """A user mistake; the message names what was wrong and what was expected."""


class DefinitionsError(UserInputError):
    """A definitions file (or override) that does not validate.

    ``source`` is the file (or ``"<built-in>"``), ``problems`` a list of
    ``(key, message)`` pairs, one per problem found.
    """

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [f"{source}: {key}: {msg}" if key else f"{source}: {msg}" for key, msg in self.problems]
        super().__init__("invalid definitions\n" + "\n".join(lines))


class InputFileError(UserInputError):
    """A file that cannot be read, or whose columns cannot be mapped."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class AmbiguousDateFormatError(InputFileError):
    """Every date in a column parses as both day-first and month-first."""

    def __init__(self, path: str, column: str, candidates: Sequence[str]) -> None:
        self.column = column
        self.candidates = list(candidates)
        opts = " or ".join(f"--date-format {c}" for c in self.candidates)
        super().__init__(
            path,
            f"column '{column}': dates are ambiguous (every value reads as {' and as '.join(self.candidates)}); "
            f"settle it with {opts}",
        )


class UnknownFieldError(UserInputError):
    """A field name (``--by``, ``--where``, a definitions condition) that the data does not have."""

    def __init__(self, field: str, available: Sequence[str], where: str = "") -> None:
        self.field = field
        self.available = sorted(available)
        at = f" ({where})" if where else ""
        super().__init__(f"unknown field '{field}'{at}; expected one of: {', '.join(self.available)}")


class StrictImportError(UserInputError):
    """Raised by a ``strict`` import when any row was quarantined; nothing was stored."""

    def __init__(self, quarantined: int, first_reasons: Sequence[str]) -> None:
        self.quarantined = quarantined
        shown = "\n".join(f"  {r}" for r in first_reasons)
        super().__init__(f"--strict: {quarantined} row(s) would be quarantined, so nothing was imported:\n{shown}")


class StoreError(HitrateError):
    """The store refuses an operation (for example building the demo over imported data)."""


class HitrateWarning(UserWarning):
    """Base class for hitrate's warnings."""


class SmallSampleWarning(HitrateWarning):
    """A group is too small for its rate to support a claim."""


class ValueRateWarning(HitrateWarning):
    """Value hit rate cannot be interpreted (e.g. lost deals carry no amount)."""
