"""Whether a trained model earns its keep: it must beat the better baseline on the held-out leads.

:func:`baseline_verdict` compares the model's held-out AUC with the best baseline's (``score train`` fits an
Odoo-style naive Bayes and a logistic regression on the same split) and says what it found when the model
does not win: too few decided leads to learn from, features that hold one value only, or no signal at all.
``score train --strict`` refuses to save such a model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hitrate.i18n import Joined, Message

if TYPE_CHECKING:
    import pandas as pd

#: Fewer decided training leads than this (or fewer wins or losses than a fifth of it) is "too few".
ENOUGH_LEADS = 200


def baseline_verdict(
    metrics: Mapping[str, Any], baselines: Mapping[str, Mapping[str, Any]], train: pd.DataFrame, y_train: Any
) -> tuple[bool | None, list[Message]]:
    """``(beats, findings)``: whether the model's held-out AUC is above every baseline's (None when there is
    no baseline or no AUC to compare), and the messages that explain a model that does not, plus any
    constant feature (found whatever the verdict: such a column cannot help)."""
    findings: list[Message] = []
    constant = [str(c) for c in train.columns if train[c].nunique(dropna=False) <= 1]
    if constant:
        findings.append(Message("scoring_check.constant", columns=Joined(constant), n=len(constant)))
    auc = float(metrics.get("auc", math.nan))
    scored = {name: float(b["auc"]) for name, b in baselines.items() if not math.isnan(float(b.get("auc", math.nan)))}
    if not scored or math.isnan(auc):
        return None, findings
    best = max(scored, key=lambda name: scored[name])
    if auc > scored[best]:
        return True, findings
    out = [Message("scoring_check.not_better", auc=round(auc, 3), baseline=best, baseline_auc=round(scored[best], 3))]
    import numpy as np

    outcomes = np.asarray(y_train, dtype=float)
    wins = int(outcomes.sum())
    losses = int(len(outcomes) - wins)
    if len(outcomes) < ENOUGH_LEADS or min(wins, losses) < ENOUGH_LEADS // 5:
        out.append(Message("scoring_check.too_few", leads=len(outcomes), wins=wins, losses=losses, enough=ENOUGH_LEADS))
    if auc <= 0.5:
        out.append(Message("scoring_check.no_signal", auc=round(auc, 3)))
    return False, out + findings


__all__ = ["ENOUGH_LEADS", "baseline_verdict"]
