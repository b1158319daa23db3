"""The stage history: one row per stage a deal entered by the export date, then its closing stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from hitrate.synth._arrays import empty, strings, taken, timestamps
from hitrate.synth.deals import Deals, Path
from hitrate.synth.model import STAGES

HISTORY_COLUMNS = {"id": "str", "stage": "str", "entered_at": "ts"}


def stage_history(ids: ExtensionArray, deals: Deals, path: Path, would_win: np.ndarray) -> pd.DataFrame:
    """Rows ``id``, ``stage``, ``entered_at``: the open stages each deal reached, then Won or Lost at its
    decision for the deals decided by the export date."""
    n = len(deals)
    if not n:
        return empty(HISTORY_COLUMNS)
    slots = np.zeros((n, 5), dtype=bool)  # four open stages, then the closing stage
    slots[:, :4] = path.reached
    slots[:, 4] = deals.closed
    times = np.empty((n, 5), dtype=np.int64)
    times[:, :4] = path.entered_s
    times[:, 4] = deals.decided_s
    labels = np.empty((n, 5), dtype=np.int8)
    labels[:, :4] = np.arange(4, dtype=np.int8)
    labels[:, 4] = np.where(would_win, np.int8(4), np.int8(5))
    row = np.broadcast_to(np.arange(n)[:, None], (n, 5))[slots]
    return pd.DataFrame(
        {
            "id": taken(ids, row),
            "stage": strings(STAGES, labels[slots]),
            "entered_at": timestamps(times[slots]),
        }
    )
