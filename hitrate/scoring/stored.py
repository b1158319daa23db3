"""Stored lead scores read back: the leads ``hitrate score predict`` scored, best first, within a scope (the
dashboard's leads page, the weekly digest's leads to work)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hitrate.store.embedded import Store


def scored_leads(
    store: Store, where: Mapping[str, Sequence[str]], limit: int, *, open_only: bool = False
) -> dict[str, Any]:
    """The leads ``hitrate score predict`` kept scores for, within ``where`` (field -> accepted values; a field
    with no values means nothing), best score first (ties by id), at most ``limit``; with ``open_only`` only
    those still open. ``total`` counts all that match."""
    from hitrate.engine.expressions import analysis_table, compile_condition, fields_available
    from hitrate.errors import UnknownFieldError
    from hitrate.i18n import Param
    from hitrate.scoring.reasons import read_reasons
    from hitrate.spec.model import Condition

    if store.count("lead_scores") == 0:
        return {"total": 0, "leads": []}
    shown = [f for f in ("rep", "team") if f in fields_available(store.con)]
    t = analysis_table(store.con, {"id", "outcome", *shown, *where})
    if open_only:
        t = t.filter(t.outcome == "open")
    for field, values in where.items():
        if field not in t.columns:
            raise UnknownFieldError(field, fields_available(store.con), Param("where"))
        if not values:  # a scope of nothing (a manager of no team)
            return {"total": 0, "leads": []}
        # The engine compiles the filter: values compare in the field's own type (amount=1054 is 1054.0).
        t = t.filter(compile_condition(Condition(field=field, op="in", values=list(values)), t, f"where {field}"))
    s = store.con.table("lead_scores")
    joined = s.inner_join(t.select("id", *shown), "id")
    total = int(joined.count().to_pyarrow().as_py())
    rows = joined.order_by([joined.probability.desc(), joined.id]).limit(limit).to_pyarrow().to_pylist()
    leads = [
        {
            "id": r["id"],
            **{f: r[f] for f in shown},
            "probability": r["probability"],
            "band": r["band"],
            "up": read_reasons(r["reasons_up"]),
            "down": read_reasons(r["reasons_down"]),
            "scored_at": str(r["scored_at"]),
        }
        for r in rows
    ]
    return {"total": total, "leads": leads}
