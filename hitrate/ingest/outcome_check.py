"""Outcome values checked against the data, before anything is written.

* **Boolean columns** (:func:`boolean_values`): an outcome column that holds only ``TRUE``/``FALSE``,
  ``1``/``0``, ``ja``/``nej``, ``yes``/``no``... is read as one: true is won, false is lost (the other way
  round only when the won values given are themselves false words, ``won=["0"]``).
* **Won values that match nothing** (:func:`check_values`): when won values were given (``--won``) and no
  row of an opportunities file comes out won, the import stops (:class:`OutcomeValuesError`) listing the
  outcome column's values with their counts and the closest matches (``did you mean --won Vundet --lost
  Tabt?``). With a preset's or the built-in won values, a file with no row won or lost is a warning with
  the same list: an export of the open pipeline is a file of its own, and a preset's values are its CRM's.
  Lost values given that match nothing while won values do are a warning: some exports hold only won and
  open deals.
* **Re-imports that rewrite outcomes** (:func:`guard_changes`): when an import would change the outcome of
  a stored deal that was won or lost for more than 1% of the stored deals (and more than two), it stops
  (:class:`OutcomeChangesError`) naming the changes, unless ``allow_outcome_changes``. Open deals that
  close are the ordinary course of a re-export and never count.

Every value compared is a bound parameter; cells are addressed by generated names (``c0``...) only.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hitrate.errors import InputFileError
from hitrate.i18n import Joined, Message, Param
from hitrate.ingest.scratch import RAW, NotClean
from hitrate.store.schema import quote

if TYPE_CHECKING:
    from hitrate.ingest.plan import Plan
    from hitrate.ingest.typed import TypedRows

#: Pairs of words a yes/no column is written in (lower case): true words, false words.
BOOLEAN_TRUE = ("true", "1", "yes", "y", "ja", "j", "t", "sand", "wahr", "vrai", "oui", "si", "sí", "x", "1.0")
BOOLEAN_FALSE = ("false", "0", "no", "n", "nej", "nein", "f", "falsk", "faux", "non", "0.0")
#: Words for won and lost in the exports hitrate has met, for the suggestions of :class:`OutcomeValuesError`.
WON_WORDS = (
    "won", "closed won", "closed-won", "closedwon", "closed/won", "win", "deal won", "vundet", "vundne", "vunnet",
    "vunnen", "vunnit", "gewonnen", "gagné", "gagne", "ganado", "ganada", "ganho", "vinto", "wygrana", "sold",
    "solgt", "signed", "underskrevet", "ordre", "order",
)  # fmt: skip
LOST_WORDS = (
    "lost", "closed lost", "closed-lost", "closedlost", "closed/lost", "loss", "deal lost", "tabt", "tabte",
    "tapt", "förlorad", "forlorad", "verloren", "perdu", "perdue", "perdido", "perdida", "perso", "przegrana",
    "afvist", "rejected", "declined", "no sale",
)  # fmt: skip
_SHOWN = 12  # values listed in the error
_CHANGES_SHARE = 0.01  # share of stored deals whose outcome may change before a re-import stops
_CHANGES_FEW = 2  # changes that never stop an import, however small the store


class OutcomeValuesError(InputFileError):
    """No row of the file comes out won: the won values (given, the preset's or the defaults) match nothing."""


class OutcomeChangesError(InputFileError):
    """A re-import would change the outcome of more stored won or lost deals than ``allow_outcome_changes``
    lets pass silently."""


def _stage_idx(plan: Plan) -> int:
    return plan.cmap.fields["stage"]


def boolean_values(con: Any, plan: Plan, won: list[str], lost: list[str]) -> tuple[list[str], list[str]]:
    """The won and lost values for ``plan``'s file: ``won`` and ``lost`` as given, or the true and false words
    when the outcome column holds yes/no values only and the given won values do not occur in it."""
    i = _stage_idx(plan)
    rows = con.execute(
        f"SELECT DISTINCT lower(trim(c{i})) FROM {RAW} WHERE nullif(trim(c{i}), '') IS NOT NULL LIMIT 20"
    ).fetchall()
    values = {str(r[0]) for r in rows}
    trues, falses = values & set(BOOLEAN_TRUE), values & set(BOOLEAN_FALSE)
    if not trues or not falses or values - trues - falses or values & set(won):
        return won, lost
    if won and all(w in BOOLEAN_FALSE for w in won):
        return list(BOOLEAN_FALSE), list(BOOLEAN_TRUE)
    return list(BOOLEAN_TRUE), list(BOOLEAN_FALSE)


def check_values(
    con: Any,
    plan: Plan,
    rows: TypedRows,
    won: Sequence[str],
    lost: Sequence[str],
    *,
    whole: bool,
    lost_given: bool,
    won_given: bool,
) -> list[Message]:
    """Stop the import (:class:`OutcomeValuesError`) when won values were given (``won_given``) and no row of
    the file comes out won; the warnings to add to the file's report (see the module). ``won`` and ``lost``
    are the values as the user wrote them, for the messages. ``whole``: the whole file is in
    :data:`~hitrate.ingest.scratch.RAW` (else its first rows: a sample without a won row raises
    :class:`~hitrate.ingest.scratch.NotClean`, so that the whole file is read and checked)."""
    if plan.schema.name != "opportunities":
        return []
    i = _stage_idx(plan)
    not_data = " OR ".join(cond for cond in rows.nondata_sql) or "FALSE"
    sql = (
        f"SELECT trim(c{i}) AS v, {rows.outcome_expr} AS o, count(*) AS n FROM {RAW} "
        f"WHERE nullif(trim(c{i}), '') IS NOT NULL AND NOT ({not_data}) GROUP BY ALL ORDER BY n DESC, v"
    )
    used = {k: v for k, v in rows.params.items() if re.search(rf"\${k}(?![A-Za-z0-9_])", sql)}
    counted = con.execute(sql, used).fetchall()
    outcomes = {str(o) for v, o, n in counted}
    if not counted or "won" in outcomes or (not won_given and "lost" in outcomes):
        if lost_given and counted and "lost" not in outcomes:
            return [Message("ingest_checks.no_lost_match", column=_column(plan), wanted=_wanted(lost))]
        return []
    if not whole:
        raise NotClean  # the first rows hold no won deal: check the whole file
    values = [(str(v) if v is not None else "", int(n)) for v, o, n in counted]
    found = [Message("ingest_checks.value_count", value=v or "''", n=n) for v, n in values[:_SHOWN]]
    if len(values) > _SHOWN:
        found.append(Message("ingest_checks.more_values", n=len(values) - _SHOWN))
    hint = _suggestion([v for v, _ in values if v], won, lost)
    if not won_given:
        return [Message("ingest_checks.all_open", column=_column(plan), found=Joined(found), hint=hint)]
    raise OutcomeValuesError(
        plan.raw.path,
        "ingest_checks.no_won_match",
        column=_column(plan),
        wanted=_wanted(won),
        found=Joined(found),
        hint=hint,
    )


def _column(plan: Plan) -> str:
    return plan.raw.columns[_stage_idx(plan)]


def _wanted(values: Sequence[str]) -> Joined:
    return Joined([f"'{v}'" for v in values[:6]], Message("ingest_checks.or"))


def _closest(values: list[str], words: tuple[str, ...], given: Sequence[str]) -> str | None:
    """The value that reads as one of ``words``, else the one closest to a ``given`` value."""
    for v in values:
        if v.lower() in words:
            return v
    low = {v.lower(): v for v in values}
    for g in given:
        near = difflib.get_close_matches(g.lower(), list(low), n=1, cutoff=0.6)
        if near:
            return low[near[0]]
    return None


def _suggestion(values: list[str], won: Sequence[str], lost: Sequence[str]) -> Message:
    """``did you mean --won Vundet --lost Tabt?``, or how to name the values when nothing is close."""
    w = _closest(values, WON_WORDS, won)
    lo = _closest([v for v in values if v != w], LOST_WORDS, lost)
    names = {"won_param": Param("won"), "lost_param": Param("lost")}
    if w and lo:
        return Message("ingest_checks.did_you_mean_both", won=w, lost=lo, **names)
    if w:
        return Message("ingest_checks.did_you_mean_won", won=w, **names)
    return Message("ingest_checks.name_the_values", **names)


def guard_changes(con: Any, path: str, target: str, key: str, staged: str) -> None:
    """Stop (:class:`OutcomeChangesError`) when the rows in ``staged`` would change the outcome of more
    stored won or lost deals of ``target`` than the module allows. Table names are generated or canonical."""
    t, k = quote(target), quote(key)
    stored = con.execute(f"SELECT count(*) FROM {t}").fetchone()
    total = int(stored[0]) if stored else 0
    changes = con.execute(
        f"SELECT t.outcome, s.outcome, count(*), list(t.{k} ORDER BY t.{k})[1:3] FROM {staged} s "
        f"JOIN {t} t ON s.{k} = t.{k} WHERE t.outcome IN ('won', 'lost') AND s.outcome IS DISTINCT FROM t.outcome "
        f"GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2"
    ).fetchall()
    n = sum(int(c[2]) for c in changes)
    if n <= max(_CHANGES_FEW, _CHANGES_SHARE * total):
        return
    listed = [
        Message("ingest_checks.change", before=b, after=a, n=int(c), examples=Joined(ex)) for b, a, c, ex in changes
    ]
    raise OutcomeChangesError(
        path,
        "ingest_checks.outcome_changes",
        n=n,
        stored=total,
        share=f"{n / total:.0%}" if total else "",
        changes=Joined(listed, "; "),
        won_param=Param("won"),
        lost_param=Param("lost"),
        allow=Param("allow_outcome_changes"),
    )
