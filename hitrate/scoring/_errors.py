"""The error scoring raises for a parameter value it cannot use, in a sentence of its own.

:class:`InvalidValueError` is an :class:`~hitrate.errors.InvalidParameterError` (so a ``ValueError`` and a
``UserInputError``) whose sentence is a message of the ``scoring`` catalogue, e.g. ``"{param}: expected a
share between 0 and 1, got {got!r}"``: it names the parameter as a :class:`~hitrate.i18n.Param`, so the
library says ``test_size`` and the command line ``--test-size``.
"""

from __future__ import annotations

from typing import Any

from hitrate.errors import InvalidValueError, UserInputError


def not_a_frame(parameter: str, value: Any) -> InvalidValueError:
    """The error for ``parameter`` given something other than a pandas DataFrame."""
    return InvalidValueError("scoring.expected_frame", parameter=parameter, got=type(value).__name__)


def not_fitted(model: Any) -> UserInputError:
    """The error for a model used before ``fit``."""
    return UserInputError("scoring.not_fitted", model=type(model).__name__)
