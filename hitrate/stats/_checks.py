"""Checks of the statistics functions' input: impossible input raises
:class:`~hitrate.errors.InvalidParameterError` (a ``ValueError``), naming the parameter, the function, what was
expected (a message of the ``stats`` catalogue) and the value received::

    The 'confidence' parameter of wilson_interval must be in (0, 1). Got 1.5 instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from hitrate.errors import InvalidParameterError
from hitrate.i18n import Joined, Message

FloatArray = npt.NDArray[np.float64]


class Shown(str):
    """A value as an error message shows it, as is (``hits=5 > attempts=3``), not quoted like a string."""

    def __repr__(self) -> str:
        return str(self)


def shown(values: FloatArray) -> object:
    """Values for an error message: a plain number for one value, else a list."""
    return values.item() if values.size == 1 else values.tolist()


def invalid(parameter: str, caller: str, expected: str, got: Any, /, **params: Any) -> InvalidParameterError:
    """The error for ``parameter`` of ``caller``: expected ``stats.<expected>`` (with ``params``), got ``got``."""
    return InvalidParameterError(parameter, Message(f"stats.expected_{expected}", **params), got, caller=caller)


def level(name: str, value: float, caller: str) -> float:
    """``value`` when it lies in (0, 1) (a confidence, an alpha); else the error."""
    if not 0 < value < 1:
        raise invalid(name, caller, "open_unit", value)
    return float(value)


def unit(name: str, value: float, caller: str, *, closed: bool) -> float:
    """``value`` as a float when it lies in [0, 1] (``closed``) or (0, 1); else the error."""
    number = float(value)
    if not ((0.0 <= number <= 1.0) if closed else (0.0 < number < 1.0)):
        raise invalid(name, caller, "closed_unit" if closed else "open_unit", value)
    return number


def one_of(name: str, value: Any, options: tuple[str, ...], caller: str) -> None:
    """The error unless ``value`` is one of ``options``."""
    if value not in options:
        shown_options = [repr(o) for o in options]
        listed = Message("stats.or_list", head=Joined(shown_options[:-1]), last=shown_options[-1])
        raise invalid(name, caller, "one_of", value, options=listed)


def whole_number(name: str, value: Any, caller: str, minimum: int = 1) -> int:
    """``value`` when it is an integer (not a bool) of at least ``minimum``; else the error."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise invalid(name, caller, "whole_at_least", value, minimum=minimum)
    return int(value)


def vector(values: npt.ArrayLike, name: str, caller: str) -> FloatArray:
    """A finite 1-D float array (a scalar becomes one entry); else the error."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise invalid(name, caller, "one_dimensional", Shown(f"shape {arr.shape}"))
    bad = ~np.isfinite(arr)
    if np.any(bad):
        raise invalid(name, caller, "finite", float(arr[bad][0]))
    return arr


def whole_counts(values: npt.ArrayLike, name: str, caller: str) -> FloatArray:
    """A 1-D array of non-negative whole numbers (kept as float); else the error."""
    arr = vector(values, name, caller)
    bad = (arr < 0) | (arr != np.floor(arr))
    if np.any(bad):
        raise invalid(name, caller, "counts", float(arr[bad][0]))
    return arr


def same_length(caller: str, **arrays: FloatArray) -> None:
    """The error unless the arrays have the same length; it names the first one that differs."""
    names = list(arrays)
    first = arrays[names[0]].size
    for name in names[1:]:
        if arrays[name].size != first:
            raise invalid(
                name, caller, "same_length", Shown(f"length {arrays[name].size}"), other=names[0], length=first
            )


def counts(
    hits: npt.ArrayLike,
    attempts: npt.ArrayLike,
    caller: str,
    names: tuple[str, str] = ("hits", "attempts"),
) -> tuple[FloatArray, FloatArray]:
    """Hits and attempts as float arrays of one shape, whole counts with ``0 <= hits <= attempts``; else the
    error, naming ``names`` (the parameters of ``caller`` that hold hits and attempts)."""
    hits_name, attempts_name = names
    k = np.asarray(hits, dtype=float)
    n = np.asarray(attempts, dtype=float)
    if k.shape != n.shape:
        raise invalid(attempts_name, caller, "same_shape", Shown(f"shape {n.shape}"), other=hits_name, shape=k.shape)
    if not np.all(np.isfinite(n)) or np.any(n < 0) or np.any(n != np.round(n)):
        raise invalid(attempts_name, caller, "counts", shown(n))
    if not np.all(np.isfinite(k)) or np.any(k != np.round(k)):
        raise invalid(hits_name, caller, "whole_counts", shown(k))
    if np.any(k < 0) or np.any(k > n):
        got = Shown(f"{hits_name}={shown(k)!r}, {attempts_name}={shown(n)!r}")
        raise invalid(hits_name, caller, "hits_within", got, hits=hits_name, attempts=attempts_name)
    return k, n


def some_attempts(attempts: FloatArray, caller: str, expected: str = "some_attempts") -> None:
    """The error unless at least one group has attempts."""
    if not np.any(attempts > 0):
        raise invalid("attempts", caller, expected, shown(attempts))
