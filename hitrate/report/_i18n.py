"""What is left of the report's old word table: one helper :mod:`hitrate.improve.coach` still imports.

The report's words are in the catalogues now (``report``, ``common``; see :mod:`hitrate.report.words`) and
its numbers are formatted by :mod:`hitrate.i18n.format`. Delete this module once the coach formats through
:mod:`hitrate.i18n.format` too.
"""

from __future__ import annotations


def _localise(text: str, lang: str) -> str:
    """Swap English separators (``1,234.5``) for Danish ones (``1.234,5``)."""
    if lang == "da":
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text
