"""Split leads into training and test parts, and measure a score on the test part.

``split`` is time-based when a date column is given (train on the older leads,
test on the newer: the way a score is used) and stratified on the outcome
otherwise. ``evaluate`` returns discrimination (AUC), probability quality (Brier,
log loss, a 10-bin calibration table), lift and cumulative gains by decile, and
the hit rate reps would get working only the top k% of leads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split

from hitrate.errors import InvalidValueError
from hitrate.i18n import Phrase
from hitrate.scoring._errors import not_a_frame
from hitrate.scoring.model import outcome_array
from hitrate.scoring.results import EvaluationResult

THIN = 100
TOP_SHARES: tuple[int, ...] = (10, 20, 30, 50)


@dataclass(frozen=True)
class Split:
    """A train/test split of closed leads.

    Attributes
    ----------
    train, test : pandas.DataFrame
        The rows (original index labels kept).
    y_train, y_test : numpy.ndarray
        Their outcomes (0/1).
    method : str
        ``"time"`` or ``"stratified"``.
    cutoff : object or None
        For a time split, the earliest date in the test part.
    """

    train: pd.DataFrame
    test: pd.DataFrame
    y_train: np.ndarray[Any, np.dtype[np.int64]]
    y_test: np.ndarray[Any, np.dtype[np.int64]]
    method: str
    cutoff: Any = None


def _column_or_values(frame: pd.DataFrame, value: Any, name: str) -> pd.Series:
    if isinstance(value, str):
        if value not in frame.columns:
            raise InvalidValueError(
                "scoring.column_not_in_frame", parameter=name, got=value, columns=list(frame.columns)
            )
        return frame[value]
    arr = np.asarray(value, dtype=object).ravel()
    if arr.shape[0] != len(frame):
        raise InvalidValueError("scoring.values_count", parameter=name, got=arr.shape[0], n=len(frame))
    return pd.Series(arr, index=frame.index)


def split(
    frame: pd.DataFrame,
    y: Any,
    dates: Any = None,
    test_size: float = 0.25,
    random_state: int = 0,
) -> Split:
    """Split closed leads into train and test; open leads (missing outcome) are left out.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per lead.
    y : str or array-like
        Outcome column name, or outcomes (1 won / 0 lost / NaN open) one per row.
        A named outcome column is dropped from the returned frames.
    dates : str, array-like or None
        Date column name or values: if given, the newest ``test_size`` share of
        leads (whole dates: every lead on the cutoff date goes to test) is the test part.
    test_size : float
        Share of closed leads in the test part, between 0 and 1.
    random_state : int
        Seed of the stratified split.
    """
    if not isinstance(frame, pd.DataFrame):
        raise not_a_frame("frame", frame)
    if not 0 < float(test_size) < 1:
        raise InvalidValueError("scoring.expected_share", parameter="test_size", got=test_size)
    yy = outcome_array(_column_or_values(frame, y, "y"), len(frame))
    data = frame.drop(columns=[y]) if isinstance(y, str) else frame
    closed = ~np.isnan(yy)
    data, yc = data.loc[closed], yy[closed].astype(np.int64)
    if len(np.unique(yc)) < 2:
        raise InvalidValueError("scoring.both_outcomes_split", parameter="y")
    if dates is None:
        tr, te, ytr, yte = train_test_split(data, yc, test_size=test_size, stratify=yc, random_state=random_state)
        return Split(tr, te, np.asarray(ytr), np.asarray(yte), "stratified")
    d = pd.to_datetime(_column_or_values(frame, dates, "dates"), errors="coerce").loc[closed]
    if d.isna().any():
        raise InvalidValueError("scoring.unreadable_dates", parameter="dates", got=int(d.isna().sum()))
    order = np.argsort(d.to_numpy(), kind="stable")
    n_test = max(1, int(round(len(d) * float(test_size))))
    cutoff = d.to_numpy()[order][len(d) - n_test]
    is_test = (d >= cutoff).to_numpy()
    if is_test.all():
        raise InvalidValueError("scoring.dates_not_spread", parameter="dates")
    return Split(data.loc[~is_test], data.loc[is_test], yc[~is_test], yc[is_test], "time", pd.Timestamp(cutoff))


def evaluate(y_true: Any, p: Any, *, y_train: Any = None, bins: int = 10) -> EvaluationResult:
    """Return metrics of predicted probabilities ``p`` against outcomes ``y_true``.

    Parameters
    ----------
    y_true : array-like
        1 won / 0 lost.
    p : array-like
        Predicted probabilities of winning, one per outcome.
    y_train : array-like or None
        Training outcomes: if given, a warning is added when they hold fewer than
        100 wins or 100 losses.
    bins : int
        Equal-width probability bins of the calibration table.

    Returns
    -------
    EvaluationResult
        A result that is also a dict: ``n``, ``wins``, ``base_rate``, ``auc``, ``brier``, ``log_loss``;
        ``calibration``: per non-empty bin ``bin_low``, ``bin_high``,
        ``mean_predicted``, ``observed``, ``count``; ``deciles``: per tenth of
        leads by descending score ``decile``, ``n``, ``hits``, ``hit_rate``,
        ``lift``, ``cumulative_gain`` (share of all hits found so far);
        ``top``: per k in 10, 20, 30, 50 ``share``, ``leads``, ``hits``,
        ``hit_rate``, ``lift``; ``warnings``: list of :class:`~hitrate.stats.phrase.Phrase` (English ``str``).
    """
    yy = outcome_array(y_true, len(np.asarray(y_true).ravel()), "y_true")
    if np.isnan(yy).any():
        raise InvalidValueError("scoring.y_true_open", parameter="y_true")
    pp = np.asarray(p, dtype=float).ravel()
    if pp.shape != yy.shape:
        raise InvalidValueError("scoring.probabilities_count", parameter="p", got=pp.size, n=yy.size)
    if np.isnan(pp).any() or (pp < 0).any() or (pp > 1).any():
        raise InvalidValueError("scoring.expected_probabilities", parameter="p")
    y = yy.astype(np.int64)
    n, wins = len(y), int(y.sum())
    if wins == 0 or wins == n:
        raise InvalidValueError("scoring.both_outcomes_evaluate", parameter="y_true")
    base = wins / n
    warnings: list[Phrase] = []
    if y_train is not None:
        yt = outcome_array(y_train, len(np.asarray(y_train).ravel()), "y_train")
        tw, tl = int(np.nansum(yt == 1)), int(np.nansum(yt == 0))
        if tw < THIN or tl < THIN:
            warnings.append(Phrase("scoring.thin_training", wins=tw, losses=tl, minimum=THIN))
    if wins < THIN or n - wins < THIN:
        warnings.append(Phrase("scoring.thin_test", wins=wins, losses=n - wins))
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(pp, edges[1:-1], right=False), 0, bins - 1)
    calibration: list[dict[str, Any]] = []
    for b in range(bins):
        m = idx == b
        if m.any():
            calibration.append(
                {
                    "bin_low": float(edges[b]),
                    "bin_high": float(edges[b + 1]),
                    "mean_predicted": float(pp[m].mean()),
                    "observed": float(y[m].mean()),
                    "count": int(m.sum()),
                }
            )
    order = np.argsort(-pp, kind="stable")
    ys = y[order]
    deciles: list[dict[str, Any]] = []
    found = 0
    for d, part in enumerate(np.array_split(ys, 10), start=1):
        hits = int(part.sum())
        found += hits
        rate = hits / len(part) if len(part) else float("nan")
        deciles.append(
            {
                "decile": d,
                "n": len(part),
                "hits": hits,
                "hit_rate": rate,
                "lift": rate / base,
                "cumulative_gain": found / wins,
            }
        )
    top: list[dict[str, Any]] = []
    for k in TOP_SHARES:
        leads = max(1, math.ceil(n * k / 100))
        hits = int(ys[:leads].sum())
        top.append({"share": k, "leads": leads, "hits": hits, "hit_rate": hits / leads, "lift": hits / leads / base})
    return EvaluationResult(
        {
            "n": n,
            "wins": wins,
            "base_rate": base,
            "auc": float(roc_auc_score(y, pp)),
            "brier": float(brier_score_loss(y, pp)),
            "log_loss": float(log_loss(y, np.clip(pp, 1e-15, 1 - 1e-15), labels=[0, 1])),
            "calibration": calibration,
            "deciles": deciles,
            "top": top,
            "warnings": warnings,
        }
    )
