"""What each role may see, as a restriction on the query's ``where`` that the caller cannot widen.

An admin's query runs as asked. A manager's ``team`` filter is intersected with the teams they manage (all
of them when none is asked). A rep's ``rep`` filter is set to their own rep. The restriction is applied to the
query before it reaches the library, for every page and endpoint, so a template never sees other rows; any other
field of ``where`` (``id`` included) can then only narrow the caller's own rows.

A few answers need rows outside the scope: a rep's benchmark among peers and the peers' side of a rep card.
Those are aggregates over the whole store (never narrowed by the caller's ``where``; dates widened to whole
months), given only when the peers are at least :data:`MIN_PEER_REPS` reps with :data:`MIN_PEER_DEALS` deals
between them, so no single deal can be isolated by comparing two answers (see docs/security.md).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence

from hitrate.engine.query import as_date
from hitrate.i18n import Joined
from hitrate.store.scope import Forbidden, may_see, scoped_where
from hitrate.store.users import User

__all__ = ["Forbidden", "may_see", "scoped_where"]

#: The smallest peer group whose aggregates a non-admin may see: this many reps ...
MIN_PEER_REPS = 5
#: ... with at least this many deals (attempts) between them.
MIN_PEER_DEALS = 30


def scope_key(user: User) -> tuple[str, tuple[str, ...], str | None]:
    """What a cached result depends on besides the query: the role and its scope, never the name."""
    return (user.role, tuple(sorted(user.teams)), user.rep)


def peer_query(user: User, where: Mapping[str, Sequence[str]]) -> None:
    """Refuse (:class:`Forbidden`) a ``where`` on a non-admin's comparison with peers outside their scope: the
    peers are always the whole store, so a filter could only isolate other people's rows."""
    if user.role == "admin":
        return
    extra = sorted(k for k, v in where.items() if not (k == "rep" and list(v) == [user.rep]))
    if extra:
        raise Forbidden("security.errors.peers_without_where", fields=Joined(extra))


def check_peer_group(user: User, reps: int, deals: int) -> None:
    """Refuse (:class:`Forbidden`) aggregates over ``reps`` peers with ``deals`` deals to a non-admin when the
    group is smaller than :data:`MIN_PEER_REPS` reps or :data:`MIN_PEER_DEALS` deals."""
    if user.role != "admin" and (reps < MIN_PEER_REPS or deals < MIN_PEER_DEALS):
        raise Forbidden("security.errors.peers_too_few", reps=MIN_PEER_REPS, deals=MIN_PEER_DEALS)


def whole_months(date_from: str | None, date_to: str | None) -> tuple[str | None, str | None]:
    """A date range widened to whole calendar months (``2024-03-14`` .. ``2024-05-02`` becomes ``2024-03-01`` ..
    ``2024-05-31``): the peers' range, so two answers never differ by a few days' deals."""
    first, last = as_date(date_from, "date_from"), as_date(date_to, "date_to")
    start = first.replace(day=1).isoformat() if first else None
    if last is None:
        return start, None
    return start, last.replace(day=calendar.monthrange(last.year, last.month)[1]).isoformat()
