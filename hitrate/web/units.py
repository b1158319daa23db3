"""The dashboard speaks in the words of the definitions in force, as the command line does.

The command line reads every message inside :func:`hitrate.i18n.unit_words` with the denominator of the
definitions in force; :class:`UnitWords` does the same around each request, so that with the ``sessions``
definitions the pages, charts, tables and the API's texts say sessions, conversions and conversion rate
(English and Danish). The denominator is read from the store once per data version (new definitions change it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hitrate.i18n import unit_words

if TYPE_CHECKING:
    from hitrate.spec.model import Definitions
    from hitrate.web.data import StoreAccess

__all__ = ["UnitWords", "in_force"]

#: Paths whose answers hold no words: served without reading the store.
_WORDLESS = ("/static/",)


def in_force(access: StoreAccess) -> Definitions:
    """The definitions in force in the store (their ``denominator`` names the unit: ``opportunities``,
    ``sessions``...; ``sales`` says whether there are reps and open deals to follow)."""
    from hitrate.engine.definitions import definitions_in_force

    return access.cached(("definitions_in_force",), definitions_in_force)


def _denominator(access: StoreAccess) -> str:
    return in_force(access).denominator


class UnitWords:
    """ASGI middleware: each HTTP request runs inside ``unit_words`` of the store's definitions in force."""

    def __init__(self, app: Any, access: StoreAccess) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(_WORDLESS):
            await self.app(scope, receive, send)
            return
        import anyio.to_thread

        unit = await anyio.to_thread.run_sync(_denominator, self.access)
        with unit_words(unit):
            await self.app(scope, receive, send)
