"""Errors of the report: a section given input it cannot draw, a report asked in a language hitrate does not
speak, a result with nothing to chart. Each is also a ``ValueError`` (or ``TypeError``), as before."""

from __future__ import annotations

from hitrate.errors import UserInputError


class SectionError(UserInputError, ValueError):
    """A report section (:class:`~hitrate.report.RateTable`, :class:`~hitrate.report.FunnelPlot`...) built
    with a frame or an argument it cannot draw; the message names the section, its title and what is wrong."""


class NotASectionError(UserInputError, TypeError):
    """Something given as a report section that is none of the section classes."""


class NothingToChartError(UserInputError, ValueError):
    """A result whose report sections have no row with attempts, so there is no figure to return."""
