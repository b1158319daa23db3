"""The store's currency: what its amounts are counted in, when the data say so."""

from __future__ import annotations

import re
from typing import Any

#: A currency code as ISO 4217 writes it.
_CODE = re.compile(r"[A-Z]{3}\Z")


def store_currency(source: Any) -> str | None:
    """The currency of the opportunities' amounts: the code in their ``currency`` column when every deal that
    has one has the same (``DKK``), else None (no such column, no value, several currencies, or a value that is
    no ISO 4217 code, such as ``kr``)."""
    from hitrate.engine.counting import fetch

    t = source.table("opportunities")
    if "currency" not in t.columns:
        return None
    code = t.currency.cast("string").strip().upper()
    kept = t.filter(code.notnull() & (code != "")).select(code=code).distinct().limit(2)
    found = [str(c) for c in fetch(source, kept)["code"].tolist()]
    return found[0] if len(found) == 1 and _CODE.match(found[0]) else None


__all__ = ["store_currency"]
