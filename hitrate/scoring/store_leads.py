"""Leads read from the store for scoring: lead fields, account/rep/product attributes and activity counts.

Everything is one Ibis expression run by the store's engine (no row loops in Python):

* **Lead fields**: the opportunity's dimension columns (``lead_source``, ``segment``...), plus ``account`` and
  ``product`` as categorical fields.
* **Dimension tables**: every attribute of the rep, account and product tables joined by key (``team``,
  ``region``, ``sector``, ``revenue``...), and ``rep_tenure_days``: days from the rep's ``hired_at`` to the
  lead's ``created_at`` (new reps close less while they ramp up).
* **Activities**: per opportunity, ``activity_calls``, ``activity_emails``, ``activity_meetings`` and
  ``activity_other`` (by ``type``: call/phone, e-mail/mail, meeting/demo/visit, anything else) and
  ``days_since_activity`` (from the last activity to the lead's end: its close date when decided, the export
  date when open). Only activities *before* the end count: what happens on or after the close date is a
  consequence of the outcome, not a predictor of it.

Which opportunities count and which are won or lost follows the definitions in force, exactly as ``rates``
does: ``y`` is 1 for won, 0 for lost and NaN for open.
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd

from hitrate.engine.expressions import as_of_expr, classified, fields_available
from hitrate.engine.query import Query
from hitrate.errors import UserInputError
from hitrate.scoring.training import OUTCOME_FIELDS, LeadFrame
from hitrate.spec.model import Definitions
from hitrate.store.schema import LOOKUPS

# Activity type -> feature, matched case-insensitively on substrings of ``type``; first match wins.
ACTIVITY_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("activity_calls", ("call", "phone")),
    ("activity_emails", ("mail",)),
    ("activity_meetings", ("meet", "demo", "visit")),
)
ACTIVITY_OTHER = "activity_other"
RECENCY = "days_since_activity"
TENURE = "rep_tenure_days"
_NOT_FEATURES = {"id", "rep", "created_at", "hired_at", "_won", "_lost", *OUTCOME_FIELDS}


def feature_sources(con: Any) -> dict[str, str]:
    """Which table each store feature comes from (``opportunities``, ``reps``, ``accounts``, ``products`` or
    ``activities``); ``benchmark --adjust model`` uses it to warn when a model credits rep attributes."""
    opps = con.table("opportunities")
    out = {c: "opportunities" for c in opps.columns if not c.startswith("_") and c not in _NOT_FEATURES}
    present = set(con.list_tables())
    for lookup in LOOKUPS:
        if lookup.name in present and lookup.key in opps.columns:
            for c in con.table(lookup.name).columns:
                if not c.startswith("_") and c not in out and c not in _NOT_FEATURES:
                    out[c] = lookup.name
    out[TENURE] = "reps"
    for name, _ in ACTIVITY_KINDS:
        out[name] = "activities"
    out[ACTIVITY_OTHER] = out[RECENCY] = "activities"
    return out


def _activity_features(con: Any, leads: Any, as_of: Any) -> Any | None:
    """Per opportunity id: activity counts by kind before the lead's end, and days from the last one to it."""
    if "activities" not in set(con.list_tables()):
        return None
    acts = con.table("activities")
    if int(acts.count().execute()) == 0:
        return None
    decided = leads._won | leads._lost
    end = decided.ifelse(ibis.coalesce(leads.closed_at, as_of), as_of)
    ends = leads.select(_opp=leads.id, _end=end)
    a = acts.inner_join(ends, acts.opportunity_id == ends._opp)
    a = a.filter(a["at"].notnull() & (a["at"] < a._end))
    kind = a["type"].lower()
    matched: Any = ibis.literal(False)
    metrics: dict[str, Any] = {}
    for name, needles in ACTIVITY_KINDS:
        hit = ibis.literal(False)
        for needle in needles:
            hit = hit | kind.contains(needle)
        this = hit & ~matched
        metrics[name] = a.count(where=this)
        matched = matched | hit
    metrics[ACTIVITY_OTHER] = a.count(where=~matched.fill_null(False))
    metrics["_last"] = a["at"].max()
    metrics["_end_at"] = a._end.max()
    agg = a.group_by(_act_opp=a.opportunity_id).aggregate(**metrics)
    return agg.mutate(**{RECENCY: agg._end_at.date().delta(agg._last.date(), unit="day").cast("float64")}).drop(
        "_last", "_end_at"
    )


def read_store_leads(store: Any, defs: Definitions) -> LeadFrame:
    """Every opportunity that counts under ``defs``, with its features (see the module docstring).
    ``store`` is the embedded store or any Ibis backend holding the canonical tables.

    Raises :class:`~hitrate.errors.UserInputError` when there are no opportunities.
    """
    con = store
    if "opportunities" not in set(con.list_tables()) or int(con.table("opportunities").count().execute()) == 0:
        where = getattr(store, "path", "the engine")
        raise UserInputError("scoring.no_opportunities", where=where)
    fields = set(fields_available(con))
    t = classified(con, defs, Query(), fields)
    as_of = as_of_expr(con).execute()
    as_of_lit = ibis.timestamp(pd.Timestamp(as_of).to_pydatetime()) if as_of is not None else ibis.now()
    if "hired_at" in t.columns and "created_at" in t.columns:
        t = t.mutate(**{TENURE: t.created_at.date().delta(t.hired_at.date(), unit="day").cast("float64")})
    acts = _activity_features(con, t, as_of_lit)
    if acts is not None:
        t = t.left_join(acts, t.id == acts._act_opp).drop("_act_opp")
        counts = [name for name, _ in ACTIVITY_KINDS] + [ACTIVITY_OTHER]
        t = t.mutate(**{c: t[c].fill_null(0).cast("float64") for c in counts})
    frame = t.order_by("id").execute()
    y = pd.Series(np.where(frame["_won"], 1.0, np.where(frame["_lost"], 0.0, np.nan)), index=frame.index)
    created = frame["created_at"] if "created_at" in frame and frame["created_at"].notna().any() else None
    features = frame.drop(columns=[c for c in frame.columns if c in _NOT_FEATURES or c.startswith("_")])
    features = features.dropna(axis=1, how="all")
    sources = {c: s for c, s in feature_sources(con).items() if c in features.columns}
    return LeadFrame(features, y, frame["id"].astype(str), created, sources)
