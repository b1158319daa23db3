"""After a sync: the stored lead scores refreshed for the leads whose data changed.

When the store keeps lead scores (``hitrate score predict``), the model that wrote the latest of them scores
again the leads a sync imported or updated, and their rows of ``lead_scores`` are replaced; nothing happens in
a store without scores. A model file that is gone is reported, not fatal: the sync itself has committed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hitrate.i18n import Message

if TYPE_CHECKING:
    from hitrate.store.embedded import Store


def changed_ids(store: Store, batch_id: int) -> list[str]:
    """The ids of the opportunities that batch ``batch_id`` imported or updated."""
    return [str(r[0]) for r in store.fetch("SELECT id FROM opportunities WHERE _batch = ? ORDER BY id", [batch_id])]


def latest_model(store: Store) -> str | None:
    """The model file that wrote the most recent lead scores, or None when the store keeps none."""
    rows = store.fetch("SELECT model FROM lead_scores WHERE model IS NOT NULL ORDER BY scored_at DESC LIMIT 1")
    return str(rows[0][0]) if rows else None


def refresh_scores(store: Store, ids: list[str]) -> tuple[int, list[Message]]:
    """Score ``ids`` again with :func:`latest_model` and keep the scores: (leads scored, notes)."""
    model = latest_model(store) if ids else None
    if model is None:
        return 0, []
    if not Path(model).exists():
        return 0, [Message("sync.model_missing", model=model)]
    from hitrate.engine.definitions import definitions_in_force
    from hitrate.scoring.store_leads import read_store_leads
    from hitrate.scoring.training import LeadFrame, predict, save_scores

    leads = read_store_leads(store, definitions_in_force(store))
    mask = leads.ids.isin(set(ids)).to_numpy()
    if not mask.any():
        return 0, []
    changed = LeadFrame(
        leads.features[mask],
        leads.y[mask],
        leads.ids[mask],
        leads.created_at[mask] if leads.created_at is not None else None,
        leads.sources,
    )
    return save_scores(store, predict(changed, model), model), []
