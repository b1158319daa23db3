"""The input checks of ``hitrate.stats._checks``, one by one: which values pass (bounds inclusive or exclusive as
documented), what passes through unchanged, and the exact message of each refusal (parameter, function, what
was expected with its parameters, the value received). Fast: they run for every mutant of ``_checks.py``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hitrate.errors import InvalidParameterError
from hitrate.stats import _checks


def _message(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(InvalidParameterError) as info:
        call()
    return str(info.value), info.value.render("da")


@pytest.mark.parametrize(
    ("value", "closed", "ok"),
    [(0.0, True, True), (1.0, True, True), (0.5, True, True), (-1e-12, True, False), (1.0 + 1e-12, True, False),
     (0.0, False, False), (1.0, False, False), (0.5, False, True), (1.5, False, False)],
)  # fmt: skip
def test_unit_bounds(value: float, closed: bool, ok: bool) -> None:
    if ok:
        assert _checks.unit("p0", value, "f", closed=closed) == value
        return
    english, _ = _message(lambda: _checks.unit("p0", value, "f", closed=closed))
    interval = "[0, 1]" if closed else "(0, 1)"
    assert english == f"The 'p0' parameter of f must be in {interval}. Got {value!r} instead."


def test_one_of_lists_every_option() -> None:
    english, danish = _message(lambda: _checks.one_of("method", "x", ("a", "b", "c", "d"), "f"))
    assert english == "The 'method' parameter of f must be 'a', 'b', 'c' or 'd'. Got 'x' instead."
    assert danish == "Parameteren 'method' til f skal være 'a', 'b', 'c' eller 'd'. Fik 'x'."
    assert _checks.one_of("method", "c", ("a", "b", "c", "d"), "f") is None


@pytest.mark.parametrize(("value", "minimum", "ok"), [(3, 3, True), (2, 3, False), (np.int64(5), 1, True),
                                                      (True, 0, False), (2.0, 1, False), (0, 1, False)])  # fmt: skip
def test_whole_number(value: object, minimum: int, ok: bool) -> None:
    if ok:
        got = _checks.whole_number("n_draws", value, "f", minimum)
        assert got == value and type(got) is int
        return
    english, _ = _message(lambda: _checks.whole_number("n_draws", value, "f", minimum))
    assert english == f"The 'n_draws' parameter of f must be a whole number >= {minimum}. Got {value!r} instead."


def test_whole_number_default_minimum_is_one() -> None:
    english, _ = _message(lambda: _checks.whole_number("n_draws", 0, "f"))
    assert english == "The 'n_draws' parameter of f must be a whole number >= 1. Got 0 instead."


def test_vector() -> None:
    arr = _checks.vector([1, 2], "x", "f")
    assert arr.dtype == np.float64 and arr.tolist() == [1.0, 2.0]
    one = _checks.vector(7, "x", "f")
    assert one.dtype == np.float64 and one.tolist() == [7.0]
    english, danish = _message(lambda: _checks.vector([[1, 2]], "x", "f"))
    assert english == "The 'x' parameter of f must be one-dimensional (1-D). Got shape (1, 2) instead."
    assert danish == "Parameteren 'x' til f skal være endimensional (1-D). Fik shape (1, 2)."
    english, _ = _message(lambda: _checks.vector([1.0, np.inf, np.nan], "x", "f"))
    assert english == "The 'x' parameter of f must be finite. Got inf instead."


def test_whole_counts() -> None:
    assert _checks.whole_counts([0, 3], "n", "f").tolist() == [0.0, 3.0]
    english, _ = _message(lambda: _checks.whole_counts([1, 2.5, -1], "n", "f"))
    assert english == "The 'n' parameter of f must be non-negative whole counts. Got 2.5 instead."
    english, _ = _message(lambda: _checks.counts([0.5], [2], "f", ("won", "n")))
    assert english == "The 'won' parameter of f must be whole counts. Got 0.5 instead."
    english, _ = _message(lambda: _checks.whole_counts([[1]], "n", "f"))
    assert english == "The 'n' parameter of f must be one-dimensional (1-D). Got shape (1, 1) instead."
    english, _ = _message(lambda: _checks.whole_counts([np.nan], "n", "f"))
    assert english == "The 'n' parameter of f must be finite. Got nan instead."


def test_same_length_names_the_first_that_differs() -> None:
    a, b, c = np.zeros(3), np.zeros(3), np.zeros(2)
    assert _checks.same_length("f", a=a, b=b) is None
    english, danish = _message(lambda: _checks.same_length("f", a=a, b=b, c=c))
    assert english == "The 'c' parameter of f must be the same length as 'a' (3). Got length 2 instead."
    assert danish.startswith("Parameteren 'c' til f skal være ") and "'a' (3)" in danish


def test_counts_of_different_shapes_and_fractional_attempts() -> None:
    """Hits and attempts of different shapes: the message names both shapes; fractional attempts are refused by
    the attempts check itself (not let through to the hits checks); fractional hits show the value."""
    english, _ = _message(lambda: _checks.counts([1, 2], [[3, 4]], "f"))
    assert english == (
        "The 'attempts' parameter of f must be of the same shape as 'hits' (2,). Got shape (1, 2) instead."
    )
    english, _ = _message(lambda: _checks.counts([1], [2.5], "f", ("won", "n")))
    assert english == "The 'n' parameter of f must be non-negative whole counts. Got 2.5 instead."
    english, _ = _message(lambda: _checks.counts([0.5], [2], "f", ("won", "n")))
    assert english == "The 'won' parameter of f must be whole counts. Got 0.5 instead."
