"""The outreach funnel: each lead followed from touch to reply, meeting, opportunity and won.

Definitions (``docs/outreach.md`` gives them with examples):

* A **touch** is an activity of the chosen types (default calls and e-mails), optionally of one campaign.
  Meetings themselves are not touches; a touch books one when its ``outcome`` is ``meeting_booked``.
* A touch's **lead** is its ``lead_id``; without one, the lead that another activity links to the touch's
  ``opportunity_id`` (an activity carrying both ids links them; the smallest lead id wins if several do);
  without that, the opportunity itself (``opportunity:<id>``); a touch with neither id is a lead of its own
  (``activity:<id>``), which can reply and book a meeting but never reach an opportunity.
* A lead's **opportunities** are the ``opportunity_id`` values of all its activities (any type, any
  campaign) that name an opportunity counted by the definitions in force; it is **won** when one of them
  is won under those definitions.
* Outcomes are compared after trimming, lower-casing and turning spaces and hyphens into ``_``, so
  ``Replied`` and ``Meeting Booked`` count as ``replied`` and ``meeting_booked``.
* The **funnel** counts leads per group (``--by`` values of the touches; a lead touched in two groups
  counts in both): ``touched`` (at least one touch), ``replied`` (one of those touches got ``replied`` or
  ``meeting_booked``), ``meeting`` (one booked a meeting), ``opportunity`` (booked a meeting and the lead
  has an opportunity) and ``won`` (that, and an opportunity was won). Each step includes the previous
  one, so conversions never exceed 1.

Touch-level rates (``experiment compare``, the sequence ranking and the personalisation lift table) count
touches, and a touch reaches a step when it got a response (``response``), booked a meeting
(``meeting``), or its lead has an opportunity (``opportunity``) or a won one (``won``).

Everything is counted in the engine, one grouped Ibis query per table; the statistics (Wilson intervals,
beta-binomial shrinkage, Newcombe differences, Benjamini-Hochberg) run on the aggregated counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from hitrate.errors import InvalidValueError, UnknownFieldError, UserInputError
from hitrate.i18n import Joined, Message, Param
from hitrate.improve._touch_results import (
    DEFAULT_TYPES,
    FUNNEL_METHOD,
    FUNNEL_STEPS,
    LIFT_METHOD,
    SEQUENCE_METHOD,
    FunnelResult,
    LiftResult,
    SequenceRanking,
)
from hitrate.spec.model import Definitions

__all__ = [
    "DEFAULT_TYPES",
    "FUNNEL_STEPS",
    "TOUCH_STEPS",
    "FunnelResult",
    "LiftResult",
    "SequenceRanking",
    "funnel",
    "outreach",
    "personalisation_lift",
    "rank_sequences",
    "touches",
]

#: Touch-level steps and the flag column of :func:`touches` that marks them.
TOUCH_STEPS: dict[str, str] = {
    "response": "_response",
    "meeting": "_meeting",
    "opportunity": "_opportunity",
    "won": "_won",
}
RESPONSE_OUTCOMES: tuple[str, ...] = ("replied", "meeting_booked")
MEETING_OUTCOMES: tuple[str, ...] = ("meeting_booked",)
YES: tuple[str, ...] = ("yes", "y", "true", "t", "1", "ja", "personalised", "personalized")
NO: tuple[str, ...] = ("no", "n", "false", "f", "0", "nej", "generic")
SMALL_GROUP = 30
METHODS = (FUNNEL_METHOD, SEQUENCE_METHOD, LIFT_METHOD)
VIEWS = ("funnel", "sequences", "personalisation")


# -- the touches ------------------------------------------------------------------------------------------------
def _activities(source: Any) -> Any:
    if "activities" not in set(source.list_tables()):
        raise UserInputError("outreach.no_activities")
    return source.table("activities")


def _check_fields(acts: Any, fields: Sequence[str], flag: str) -> None:
    available = [c for c in acts.columns if not c.startswith("_")]
    where = cast(str, Message("outreach.field_of_activities", param=Param(flag.removeprefix("--"))))
    for f in fields:
        if f not in acts.columns or f.startswith("_"):
            raise UnknownFieldError(f, available, where)


def touches(
    source: Any,
    *,
    types: Sequence[str] = DEFAULT_TYPES,
    campaign: str | None = None,
    definitions: Definitions | None = None,
    fields: Sequence[str] = (),
    flag: str = "by",
) -> Any:
    """The touches as an Ibis table: the activity's columns plus ``_lead`` and the step flags
    ``_response``, ``_meeting``, ``_opportunity``, ``_won`` (see the module docstring).

    ``fields`` are checked to be activity columns (:class:`UnknownFieldError` names the parameter ``flag``
    otherwise).
    Raises :class:`UserInputError` when the source has no activities table.
    """
    import ibis

    from hitrate.analysis.rates import resolve_definitions
    from hitrate.engine.expressions import classified
    from hitrate.engine.query import Query

    acts = _activities(source)
    _check_fields(acts, fields, flag)
    both = acts.filter(acts.lead_id.notnull() & acts.opportunity_id.notnull())
    links = both.group_by(_k_opp=both.opportunity_id).aggregate(_k_lead=both.lead_id.min())
    a = acts.left_join(links, acts.opportunity_id == links._k_opp)
    lead = ibis.coalesce(
        a.lead_id,
        a._k_lead,
        ibis.literal("opportunity:") + a.opportunity_id,
        ibis.literal("activity:") + a.id,
    )
    a = a.mutate(_lead=lead).drop("_k_opp", "_k_lead")

    defs = resolve_definitions(source, definitions, None)
    opps = classified(source, defs, Query(), {"id"})
    o = opps.select(_o_id=opps.id, _o_won=opps._won)
    sel = a.select("_lead", "opportunity_id")
    lo = sel.left_join(o, sel.opportunity_id == o._o_id)
    leads = lo.group_by(_p_lead=lo._lead).aggregate(
        _p_opp=lo._o_id.notnull().any(), _p_won=lo._o_won.fill_null(False).any()
    )

    t = a.filter(a["type"].lower().isin([x.lower() for x in types]))
    if campaign is not None:
        t = t.filter(t.campaign == campaign)
    t = t.left_join(leads, t._lead == leads._p_lead)
    said = t.outcome.strip().lower().re_replace(r"[\s-]+", "_")  # "Meeting Booked" -> meeting_booked
    t = t.mutate(
        _response=said.isin(list(RESPONSE_OUTCOMES)).fill_null(False),
        _meeting=said.isin(list(MEETING_OUTCOMES)).fill_null(False),
        _opportunity=t._p_opp.fill_null(False),
        _won=t._p_won.fill_null(False),
    )
    return t.drop("_p_lead", "_p_opp", "_p_won")


def check_step(step: str) -> str:
    """The flag column of a touch-level step; :class:`UserInputError` naming ``--step`` otherwise."""
    if step not in TOUCH_STEPS:
        raise InvalidValueError("outreach.bad_step", parameter="step", got=step, steps=Joined(TOUCH_STEPS))
    return TOUCH_STEPS[step]


def explain_empty(source: Any, campaign: str | None, types: Sequence[str]) -> UserInputError:
    """The error for a count that found no touches: no activities at all, an unknown campaign, no such types."""
    from hitrate.engine.counting import fetch

    acts = _activities(source)
    if campaign is not None:
        c = fetch(source, acts.group_by(_c=acts.campaign).aggregate(n=acts.count()).order_by("_c"))
        names = [str(x) for x in c["_c"] if x is not None]
        if campaign not in names:
            found = Joined(names) if names else Message("outreach.none")
            return InvalidValueError("outreach.no_campaign", parameter="campaign", got=campaign, campaigns=found)
    n = fetch(source, acts.aggregate(n=acts.count()))["n"]
    if not len(n) or int(n[0]) == 0:
        return UserInputError("outreach.no_activities")
    key = "outreach.no_touches_in_campaign" if campaign else "outreach.no_touches"
    return UserInputError(key, types=Joined(types), campaign=repr(campaign), type=Param("type"))


def _label(value: Any) -> str:
    return "(none)" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def outreach(
    store: Any,
    *,
    view: str = "funnel",
    by: Sequence[str] | str | None = None,
    campaign: str | None = None,
    step: str = "response",
    types: Sequence[str] = DEFAULT_TYPES,
    definitions: Definitions | None = None,
    confidence: float = 0.95,
) -> FunnelResult | SequenceRanking | LiftResult:
    """``hitrate outreach``: the ``funnel`` view (:func:`funnel`, grouped by the fields ``by``), the
    ``sequences`` view (:func:`rank_sequences`, ``by`` one field, default ``sequence``) or the
    ``personalisation`` view (:func:`personalisation_lift`, ``by`` one field, default ``segment``)."""
    fields = [by] if isinstance(by, str) else list(by or [])
    if view not in VIEWS:
        raise InvalidValueError("outreach.bad_view", parameter="view", got=view, views=Joined(VIEWS))
    if view != "funnel" and len(fields) > 1:
        raise InvalidValueError("outreach.one_field", parameter="by", got=fields, view=view, fields=Joined(fields))
    common: dict[str, Any] = {"campaign": campaign, "types": tuple(types), "definitions": definitions}
    if view == "funnel":
        return funnel(store, by=fields, confidence=confidence, **common)
    if view == "sequences":
        return rank_sequences(store, by=fields[0] if fields else "sequence", step=step, confidence=confidence, **common)
    return personalisation_lift(
        store, by=fields[0] if fields else "segment", step=step, confidence=confidence, **common
    )


# -- the funnel -------------------------------------------------------------------------------------------------
def funnel(
    source: Any,
    *,
    by: Sequence[str] = (),
    campaign: str | None = None,
    types: Sequence[str] = DEFAULT_TYPES,
    definitions: Definitions | None = None,
    confidence: float = 0.95,
) -> FunnelResult:
    """Leads per group through touched → replied → meeting → opportunity → won (one engine query).

    Each row is one group and step: ``leads`` reaching the step, ``touches`` of the group, the conversion
    from the previous step (``from_previous`` with ``previous_low``/``previous_high``) and from the first
    (``from_first`` with ``first_low``/``first_high``), Wilson score intervals at ``confidence``.
    """
    from hitrate.engine.counting import fetch
    from hitrate.stats.intervals import wilson_interval

    keys = list(dict.fromkeys(by))
    t = touches(source, types=types, campaign=campaign, definitions=definitions, fields=keys)
    cols = {f"_g{i}": t[k].cast("string") for i, k in enumerate(keys)}
    per = t.group_by([t._lead, *[v.name(n) for n, v in cols.items()]]).aggregate(
        _n=t.count(), _r=t._response.any(), _m=t._meeting.any(), _o=t._opportunity.any(), _w=t._won.any()
    )
    metrics = {
        "touches": per._n.sum(),
        "touched": per.count(),
        "replied": per.count(where=per._r),
        "meeting": per.count(where=per._r & per._m),
        "opportunity": per.count(where=per._r & per._m & per._o),
        "won": per.count(where=per._r & per._m & per._o & per._w),
    }
    agg = per.group_by(list(cols)).aggregate(**metrics).order_by(list(cols)) if cols else per.aggregate(**metrics)
    c = fetch(source, agg)
    if not len(c["touched"]) or int(np.asarray(c["touched"]).sum()) == 0:
        raise explain_empty(source, campaign, types)
    rows: list[dict[str, Any]] = []
    warnings: list[Message | str] = []
    counts = np.array([np.asarray(c[s], dtype=float) for s in FUNNEL_STEPS])  # steps x groups
    first = counts[0]
    prev = np.vstack([counts[:1], counts[:-1]])
    p_low, p_high = wilson_interval(counts, prev, confidence)
    f_low, f_high = wilson_interval(counts, np.broadcast_to(first, counts.shape), confidence)
    for g in range(counts.shape[1]):
        labels = {k: _label(c[n][g]) for k, n in zip(keys, cols, strict=True)}
        if first[g] < SMALL_GROUP:
            group = [f"{k}={v}" for k, v in labels.items()]
            name: Joined | Message = Joined(group) if group else Message("outreach.all")
            warnings.append(Message("outreach.few_leads", group=name, n=int(first[g])))
        for s, step in enumerate(FUNNEL_STEPS):
            n_prev, n_first = prev[s, g], first[g]
            rows.append(
                {
                    **labels,
                    "step": step,
                    "leads": int(counts[s, g]),
                    "touches": int(c["touches"][g]),
                    "from_previous": None if s == 0 or not n_prev else float(counts[s, g] / n_prev),
                    "previous_low": None if s == 0 or not n_prev else float(p_low[s, g]),
                    "previous_high": None if s == 0 or not n_prev else float(p_high[s, g]),
                    "from_first": None if s == 0 or not n_first else float(counts[s, g] / n_first),
                    "first_low": None if s == 0 or not n_first else float(f_low[s, g]),
                    "first_high": None if s == 0 or not n_first else float(f_high[s, g]),
                }
            )
    return FunnelResult(keys, rows, campaign, tuple(types), warnings)


# -- touch-level counts -----------------------------------------------------------------------------------------
def _touch_counts(
    source: Any,
    group: Callable[[Any], list[Any]],
    *,
    step: str,
    campaign: str | None,
    types: Sequence[str],
    definitions: Definitions | None,
    fields: Sequence[str],
    flag: str,
) -> dict[str, np.ndarray]:
    """Touches and hits at ``step`` per group (``group(t)`` gives the named key expressions)."""
    from hitrate.engine.counting import fetch

    hit = check_step(step)
    t = touches(source, types=types, campaign=campaign, definitions=definitions, fields=fields, flag=flag)
    keys = group(t)
    agg = t.group_by(keys).aggregate(attempts=t.count(), hits=t.count(where=t[hit]))
    c = fetch(source, agg.order_by([k.get_name() for k in keys]))
    if not len(c["attempts"]):
        raise explain_empty(source, campaign, types)
    return c


def rank_sequences(
    source: Any,
    *,
    by: str = "sequence",
    step: str = "response",
    campaign: str | None = None,
    types: Sequence[str] = DEFAULT_TYPES,
    definitions: Definitions | None = None,
    confidence: float = 0.95,
) -> SequenceRanking:
    """Rank the values of ``by`` (default ``sequence``) by their touches' rate at ``step``, shrunk.

    Raw rate with Wilson interval; shrunk rate and credible interval from a beta-binomial prior fitted
    across the sequences by marginal likelihood (:func:`hitrate.stats.shrinkage.fit_beta_binomial`), so a
    sequence with few touches is pulled towards the overall rate and cannot top the list by luck.
    """
    from hitrate.stats.intervals import wilson_interval
    from hitrate.stats.shrinkage import fit_beta_binomial, shrink

    c = _touch_counts(
        source,
        lambda t: [t[by].cast("string").name("_arm")],
        step=step,
        campaign=campaign,
        types=types,
        definitions=definitions,
        fields=[by],
        flag="by",
    )
    arms = [_label(a) for a in c["_arm"]]
    n = np.asarray(c["attempts"], dtype=float)
    k = np.asarray(c["hits"], dtype=float)
    keep = np.array([a != "(none)" for a in arms])
    warnings: list[Message | str] = []
    if not keep.all():
        warnings.append(Message("outreach.left_out", n=int(n[~keep].sum()), by=by))
    arms = [a for a, ok in zip(arms, keep, strict=True) if ok]
    n, k = n[keep], k[keep]
    if len(arms) < 2:
        found = str(arms) if arms else Message("outreach.none")
        raise InvalidValueError("outreach.ranking_needs_two", parameter="by", got=by, found=found)
    prior = fit_beta_binomial(k, n)
    mean, low, high = shrink(k, n, prior, confidence)
    w_low, w_high = wilson_interval(k, n, confidence)
    raw = k / n
    order = np.argsort(-mean, kind="stable")
    raw_rank = np.empty(len(arms), dtype=int)
    raw_rank[np.argsort(-raw, kind="stable")] = np.arange(1, len(arms) + 1)
    rows = [
        {
            by: arms[i],
            "rank": r + 1,
            "raw_rank": int(raw_rank[i]),
            "attempts": int(n[i]),
            "hits": int(k[i]),
            "rate": float(raw[i]),
            "ci_low": float(w_low[i]),
            "ci_high": float(w_high[i]),
            "shrunk": float(mean[i]),
            "shrunk_low": float(low[i]),
            "shrunk_high": float(high[i]),
        }
        for r, i in enumerate(order)
    ]
    small = [arms[i] for i in range(len(arms)) if n[i] < 100]
    if small:
        warnings.append(Message("outreach.few_touches_prior", arms=Joined(small)))
    if prior.complete_pooling:
        warnings.append(Message("outreach.complete_pooling", by=by))
    info = {
        "alpha": prior.alpha,
        "beta": prior.beta,
        "mean": prior.mean,
        "strength": prior.strength,
        "complete_pooling": prior.complete_pooling,
        "method": prior.method,
    }
    return SequenceRanking(by, step, rows, info, campaign, tuple(types), warnings)


# -- personalisation lift ---------------------------------------------------------------------------------------
def personalised_field(source: Any) -> str:
    """The activities' personalisation column (``personalised`` or ``personalized``)."""
    acts = _activities(source)
    for name in ("personalised", "personalized"):
        if name in acts.columns:
            return name
    where = cast(str, Message("outreach.lift_table"))
    raise UnknownFieldError("personalised", [c for c in acts.columns if not c.startswith("_")], where)


def personalisation_lift(
    source: Any,
    *,
    by: str = "segment",
    step: str = "response",
    campaign: str | None = None,
    types: Sequence[str] = DEFAULT_TYPES,
    definitions: Definitions | None = None,
    confidence: float = 0.95,
    alpha: float = 0.05,
) -> LiftResult:
    """Per value of ``by`` (default ``segment``): personalised touches' rate against the others'.

    ``personalised`` values yes/y/true/1 (and ``personalized``) count as personalised, no/n/false/0 as
    not; touches with another or no value are left out (a warning counts them). The lift is the
    difference of the two rates with Newcombe's hybrid score interval and the two-proportion test's
    p-value; ``q`` are Benjamini-Hochberg adjusted p-values across the groups, and ``significant`` says
    ``q < alpha``.
    """
    from hitrate.stats.compare import compare_proportions
    from hitrate.stats.intervals import wilson_interval
    from hitrate.stats.multiple import benjamini_hochberg

    pers = personalised_field(source)

    def group(t: Any) -> list[Any]:
        v = t[pers].strip().lower()
        flag = v.isin(list(YES)).ifelse("yes", v.isin(list(NO)).ifelse("no", None))
        return [t[by].cast("string").name("_g"), flag.name("_p")]

    c = _touch_counts(
        source, group, step=step, campaign=campaign, types=types, definitions=definitions, fields=[by], flag="by"
    )
    cells: dict[tuple[str, str], tuple[int, int]] = {}
    left_out = 0
    for g, p, n, k in zip(c["_g"], c["_p"], c["attempts"], c["hits"], strict=True):
        if p is None or (isinstance(p, float) and np.isnan(p)):
            left_out += int(n)
            continue
        cells[(_label(g), str(p))] = (int(k), int(n))
    warnings: list[Message | str] = []
    if left_out:
        warnings.append(Message("outreach.no_yes_no", n=left_out, field=pers))
    groups = sorted({g for g, _ in cells})
    if not groups:
        raise UserInputError("outreach.none_yes_no", field=pers)
    rows: list[dict[str, Any]] = []
    for g in groups:
        ky, ny = cells.get((g, "yes"), (0, 0))
        kn, nn = cells.get((g, "no"), (0, 0))
        row: dict[str, Any] = {by: g, "attempts_yes": ny, "hits_yes": ky, "attempts_no": nn, "hits_no": kn}
        for side, kk, nnn in (("yes", ky, ny), ("no", kn, nn)):
            lo, hi = wilson_interval(kk, nnn, confidence)
            row[f"rate_{side}"] = kk / nnn if nnn else None
            row[f"{side}_low"] = float(lo) if nnn else None
            row[f"{side}_high"] = float(hi) if nnn else None
        if ny and nn:
            d = compare_proportions(ky, ny, kn, nn, confidence)
            row.update(lift=d.difference, lift_low=d.low, lift_high=d.high, p_value=d.p_value)
        else:
            row.update(lift=None, lift_low=None, lift_high=None, p_value=None)
            warnings.append(Message("outreach.one_side", by=by, group=g))
        if min(ny, nn) < 100 and ny and nn:
            warnings.append(Message("outreach.few_touches_side", by=by, group=g))
        rows.append(row)
    q = benjamini_hochberg([np.nan if r["p_value"] is None else r["p_value"] for r in rows])
    for r, qi in zip(rows, q, strict=True):
        r["q_value"] = None if np.isnan(qi) else float(qi)
        r["significant"] = bool(r["q_value"] is not None and r["q_value"] < alpha)
    return LiftResult(by, step, rows, alpha, campaign, tuple(types), warnings)
