"""Syncs on a schedule: ``every`` an interval until stopped, a failing run not stopping the next.

:func:`run_every` is clock-free for its callers' tests: it waits on a :class:`threading.Event` (``stop``), so
setting the event ends the loop at once, and ``runs`` bounds the number of runs. Each run is logged (logger
``hitrate.sync``) with its counts or its error, and handed to ``on_run``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from hitrate.errors import InvalidValueError

T = TypeVar("T")
LOG = logging.getLogger("hitrate.sync")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)


def parse_interval(value: str | float) -> float:
    """``30s``, ``15m``, ``1h``, ``1d`` or a number of seconds, as seconds (more than 0); anything else raises
    :class:`~hitrate.errors.InvalidValueError` for the parameter ``every``."""
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        found = _INTERVAL.match(value)
        if not found:
            raise InvalidValueError("sync.every_bad", parameter="every", got=value, value=value)
        seconds = float(found.group(1)) * _UNITS[(found.group(2) or "s").lower()]
    if seconds <= 0:
        raise InvalidValueError("sync.every_bad", parameter="every", got=value, value=value)
    return seconds


@dataclass(frozen=True)
class Run(Generic[T]):
    """One run of a schedule: its number (from 1), when it started, and its result or the exception it raised."""

    number: int
    started: float
    result: T | None = None
    error: Exception | None = None


def run_every(
    run: Callable[[], T],
    interval: float,
    *,
    runs: int | None = None,
    stop: threading.Event | None = None,
    on_run: Callable[[Run[T]], None] | None = None,
    describe: Callable[[T], str] = str,
) -> list[Run[T]]:
    """Call ``run`` now and then every ``interval`` seconds (from each start; a run longer than the interval is
    followed at once) until ``stop`` is set or ``runs`` runs are done; returns the runs. An ``Exception`` from a
    run is logged and kept in its :class:`Run`, and the schedule goes on; ``KeyboardInterrupt`` (Ctrl-C) ends
    it, as ``stop`` does. ``describe`` gives a result's line for the log."""
    stop = stop or threading.Event()
    done: list[Run[T]] = []
    while not stop.is_set() and (runs is None or len(done) < runs):
        started = time.monotonic()
        number = len(done) + 1
        try:
            item: Run[T] = Run(number, time.time(), result=run())
            LOG.info("run %d: %s", number, describe(item.result))  # type: ignore[arg-type]
        except Exception as exc:  # one failing run does not stop the next
            item = Run(number, time.time(), error=exc)
            LOG.warning("run %d failed: %s", number, safe_text(exc))
        done.append(item)
        if on_run is not None:
            on_run(item)
        if runs is not None and len(done) >= runs:
            break
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
    return done


def safe_text(exc: Exception) -> str:
    """An error's text when hitrate wrote it (it never holds a credential), else only its kind (another
    library's text may quote a request)."""
    from hitrate.errors import HitrateError

    return str(exc) if isinstance(exc, HitrateError) else type(exc).__name__
