"""The rep card: where one rep stands against their peers, and where their deals are lost.

:func:`rep_card` (or :func:`coach`, named as the command) puts together, for one rep and their *peers* (the
other reps of the rep's team, or every other rep when there is no ``team`` field):

* **hit rate** against the peers and the team: the rep's row of ``benchmark --by rep --where team=T`` (Wilson
  interval, shrunk rate, funnel flag, and with ``adjust`` the quality index by indirect standardisation), the
  peers' pooled rate and the difference with a Newcombe interval;
* **trend**: the rep's and the peers' rate per period (``rates --period``), and the last four periods against
  the four before;
* **stages**: conversion from each open stage to the next (to won, from the last open stage) for the rep and
  the peers, from :func:`hitrate.analysis.funnel.stage_funnel`, and the **weak stage** (see :func:`stage_gaps`);
* **activity mix**: calls, e-mails and meetings per decided opportunity, for the rep, the peers and the team's
  best (the top quarter of the peers by shrunk hit rate, at least one rep), with exact Poisson intervals;
* **segments and lead sources**: the rep's rate and the peers' in each value, the difference with a Newcombe
  interval, and the strongest and weakest value (largest and smallest difference among values where the rep
  has at least 20 attempts).

Counting runs in the engine (the same queries as ``rates``, ``benchmark`` and ``funnel``, and one grouped query
over the activities); the statistics run on the small aggregated tables. Every number is reproducible with a
command; :attr:`RepCard.reproduce` lists them and ``docs/commands/coach.md`` explains the mapping.

The card carries numbers and :class:`~hitrate.i18n.Message` objects; the words are in the ``coach`` catalogue
and the faces (the command line, :mod:`hitrate.improve.coach_card`, the web's Rep page) render them.

The modules: ``_collect`` counts (hit rate, trend, activities, segments), ``_stages`` compares stage by stage
and names the weak stage, ``_card`` assembles the card, ``_words`` says it in sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hitrate.improve.coach._card import RepCard, UnknownRepError, rep_card
from hitrate.improve.coach._collect import BEST_SHARE, SMALL, TREND_WINDOW
from hitrate.improve.coach._stages import MIN_REACHED, STAGE_METHOD, StageGaps, stage_gaps
from hitrate.improve.coach._words import card_statements, statements
from hitrate.spec.model import Definitions

__all__ = [
    "BEST_SHARE",
    "MIN_REACHED",
    "SMALL",
    "STAGE_METHOD",
    "TREND_WINDOW",
    "RepCard",
    "StageGaps",
    "UnknownRepError",
    "card_statements",
    "coach",
    "rep_card",
    "stage_gaps",
    "statements",
]


def coach(
    store: Any,
    rep: str,
    *,
    peers_by: str | None = "team",
    period: str = "quarter",
    adjust: Sequence[str] | None = None,
    segment_fields: Sequence[str] | None = None,
    definitions: Definitions | None = None,
    confidence: float = 0.95,
) -> RepCard:
    """``hitrate coach REP``: the rep card of ``rep`` (:func:`rep_card`); ``peers_by="none"`` (as on the command
    line) or None compares with every other rep."""
    return rep_card(
        store,
        rep,
        peers_by=None if peers_by is None or peers_by.lower() == "none" else peers_by,
        adjust=adjust,
        period=period,
        segment_fields=segment_fields,
        definitions=definitions,
        confidence=confidence,
    )
