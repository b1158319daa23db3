"""What an account may see, as a restriction on a query's ``where`` that the caller cannot widen.

An admin's query runs as asked. A manager's ``team`` filter is intersected with the teams they manage (all of
them when none is asked). A rep's ``rep`` filter is set to their own rep. The dashboard applies it to every page
and endpoint (:mod:`hitrate.web.scoping`), the weekly digest to every recipient's mail (:mod:`hitrate.digest`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from hitrate.errors import PermissionDeniedError
from hitrate.i18n import Joined
from hitrate.store.users import User


class Forbidden(PermissionDeniedError):
    """The user asked for data outside their scope (the API answers 403, a page says so)."""


def scoped_where(user: User, where: Mapping[str, Sequence[str]] | None = None) -> dict[str, list[str]]:
    """``where`` narrowed to what ``user`` may see; :class:`Forbidden` when nothing of what was asked is."""
    out = {k: list(v) for k, v in (where or {}).items()}
    if user.role == "admin":
        return out
    if user.role == "manager":
        return _narrow(out, "team", list(user.teams))
    if user.role == "rep" and user.rep:
        return _narrow(out, "rep", [user.rep])
    raise Forbidden("web.errors.no_scope", name=user.name)


def _narrow(where: dict[str, list[str]], field: str, allowed: list[str]) -> dict[str, list[str]]:
    asked = where.get(field)
    if asked is None:
        where[field] = allowed
        return where
    kept = [v for v in asked if v in allowed]
    if not kept:
        raise Forbidden("web.errors.not_in_scope", field=field, asked=Joined(asked), allowed=Joined(allowed))
    where[field] = kept
    return where


def may_see(user: User, field: str, value: str, reps: Collection[str] = ()) -> bool:
    """Whether ``user`` may see a goal or an intervention on ``field = value``: an admin any, a manager one on
    their teams or on a rep in ``reps`` (the reps of their teams), a rep one on themselves."""
    if user.role == "admin":
        return True
    if user.role == "manager":
        return (field == "team" and value in user.teams) or (field == "rep" and value in reps)
    return user.role == "rep" and field == "rep" and value == user.rep
