"""Progress of long library calls, told to whoever asks: a ``progress(done, total)`` callback.

A library function that can take more than a couple of seconds (training a lead score, writing the report, a
forecast backtest, an import) accepts ``progress: Progress | None = None`` and calls it after each real step
with the steps done so far and the steps in all, the last call ``progress(total, total)``. The library never
draws anything: the command line passes a bar on standard error (``hitrate.cli.output.LazyProgress``), a
notebook or a server whatever it likes. Where the number of steps is unknown (a CRM's pages) a ``stage(label)``
callback names each step instead.
"""

from __future__ import annotations

from collections.abc import Callable

#: ``progress(done, total)``: ``done`` of ``total`` steps are finished.
Progress = Callable[[int, int], None]


class Steps:
    """Counts finished steps for an optional :data:`Progress` callback: :meth:`done` after each step,
    :meth:`finish` at the end (steps that turned out to have nothing to do are counted there), so the callback
    sees increasing counts that end at ``total``. Nothing happens without a callback."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total = max(int(total), 1)
        self.count = 0

    def done(self, steps: int = 1) -> None:
        """``steps`` more steps are finished (never past the total)."""
        self.count = min(self.count + steps, self.total)
        if self.progress is not None:
            self.progress(self.count, self.total)

    def part(self, size: int) -> Progress:
        """A callback for another function that does the next ``size`` steps: its ``progress(done, total)``
        counts as ``size * done // total`` of them (it should end with ``(total, total)``)."""
        start = self.count

        def told(done: int, total: int) -> None:
            reached = min(start + size * done // max(total, 1), start + size)
            if reached > self.count:
                self.done(reached - self.count)

        return told

    def finish(self) -> None:
        """Every step is finished: the callback's last call is ``(total, total)``, said once."""
        if self.count < self.total:
            self.done(self.total - self.count)


__all__ = ["Progress", "Steps"]
