"""Settling a logged bet: what it counts in the hit rate and what it returned.

The result of a bet comes from the import's outcome (``won``/``lost``, from ``--won``/``--lost``) or, for
the results a won/lost mapping cannot say, from the result text itself (the ``stage`` column):

========================  =========  ==========  ===============  ==========================
result (case, ``_``/space  counts as  hits        staked           returned
and ``-`` alike)           bets
========================  =========  ==========  ===============  ==========================
won, win, w                1          1           s                s·o
lost, lose, loss, l        1          0           s                0
half-win (Asian handicap)  ½          ½           s                ½s·o + ½s
half-lose                  ½          0           s                ½s
dead heat (``dead_heat``   1          1/d         s                (s/d)·o
column: d runners tied,
default 2)
void, push, refund,        0          0           0                (the stake back)
cancelled
========================  =========  ==========  ===============  ==========================

A half-win is half a bet won and half a bet voided, a half-lose half a bet lost and half voided: each counts
½ in the bets the hit rate divides by (the voided half is no attempt), and a half-win ½ in the hits. A dead
heat with d runners tied pays 1/d of the stake at the full odds and loses the rest: one bet, 1/d of a hit.
Voids are counted (``void``) and left out of bets, stakes and returns. Yield = (returned − staked) / staked,
with a half result's whole stake staked (the money that was at risk).
"""

from __future__ import annotations

from typing import Any

WIN = ("won", "win", "w", "winner")
LOSE = ("lost", "lose", "loss", "l", "loser")
HALF_WIN = ("half-win", "half-won", "halfwin", "hw", "win-half", "½-win")
HALF_LOSE = ("half-lose", "half-lost", "half-loss", "halflose", "hl", "lose-half", "½-lose")
DEAD_HEAT = ("dead-heat", "deadheat", "dh")
VOID = ("void", "push", "refund", "refunded", "cancelled", "canceled", "v", "p", "voided")
#: The column that says how many runners a dead heat was shared between.
DEAD_HEAT_FIELD = "dead_heat"


def result_expr(t: Any) -> Any:
    """Each bet's settlement, ``win``, ``lose``, ``half_win``, ``half_lose``, ``dead_heat``, ``void`` or NULL
    (still open or unknown), from ``outcome`` first and then the result text in ``stage`` (Ibis)."""
    import ibis

    text = t.stage.cast("string").strip().lower().replace("_", "-").replace(" ", "-") if "stage" in t.columns else None
    outcome = t.outcome if "outcome" in t.columns else ibis.null("string")
    branches = [(outcome == "won", "win"), (outcome == "lost", "lose")]
    if text is not None:
        branches += [
            (text.isin(WIN), "win"),
            (text.isin(LOSE), "lose"),
            (text.isin(HALF_WIN), "half_win"),
            (text.isin(HALF_LOSE), "half_lose"),
            (text.isin(DEAD_HEAT), "dead_heat"),
            (text.isin(VOID), "void"),
        ]
    return ibis.cases(*branches, else_=ibis.null("string"))


def settle(t: Any, result: Any, odds: Any, stake: Any) -> dict[str, Any]:
    """Per bet (Ibis): ``weight`` (counts as bets), ``hit`` (counts as hits), ``staked`` and ``returned``,
    by the table in this module's docstring; NULL-free for settled bets, 0 for voids."""
    import ibis

    if DEAD_HEAT_FIELD in t.columns:
        tied = t[DEAD_HEAT_FIELD].cast("string").try_cast("float64")
        tied = ibis.ifelse(tied >= 1, tied, 2.0)
    else:
        tied = ibis.literal(2.0)

    def by_result(win: Any, lose: Any, half_win: Any, half_lose: Any, dead_heat: Any) -> Any:
        return ibis.cases(
            (result == "win", win),
            (result == "lose", lose),
            (result == "half_win", half_win),
            (result == "half_lose", half_lose),
            (result == "dead_heat", dead_heat),
            else_=0.0,
        )

    return {
        "weight": by_result(1.0, 1.0, 0.5, 0.5, 1.0),
        "hit": by_result(1.0, 0.0, 0.5, 0.0, 1 / tied),
        "staked": by_result(stake, stake, stake, stake, stake),
        "returned": by_result(stake * odds, 0.0, stake * odds / 2 + stake / 2, stake / 2, stake / tied * odds),
    }
