"""Leakage guard: find columns that give the outcome away before a model is trained.

Per column it measures

* the out-of-fold single-feature AUC (5-fold stratified): a categorical column
  scores each row by the won rate of its level in the other folds (missing is a
  level; a level unseen in the other folds gets their overall won rate); a
  numeric column is cut into up to 20 quantile bins on the other folds, plus a
  bin for missing, and scored the same way;
* missingness: the share missing among won and among lost rows, and the AUC of
  "is missing" alone;
* whether it is unique per row (an identifier: text, or whole numbers, all different).

and decides ``excluded`` (with a reason), ``warning`` or ``ok``. A field filled in
after the outcome (e.g. a sales "Tags" field) predicts it almost perfectly, so a
single-feature AUC at or above ``threshold`` excludes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from hitrate.errors import InvalidValueError
from hitrate.i18n import Joined, Message, Phrase
from hitrate.scoring._errors import not_a_frame
from hitrate.scoring.features import DEFAULT_MISSING_VALUES, as_text, coerce_numeric, missing_mask

EXCLUDED = "excluded"
WARNING = "warning"
OK = "ok"


@dataclass(frozen=True)
class Suspect:
    """What the leakage guard found about one column.

    Attributes
    ----------
    column : str
        The column name.
    kind : str
        ``"numeric"`` or ``"categorical"``.
    auc : float
        Out-of-fold single-feature AUC (NaN for a constant column).
    missing_won, missing_lost : float
        Share of missing cells among won and among lost rows.
    missing_auc : float
        AUC of "is missing" alone as a predictor of winning (0.5 = unrelated).
    unique_per_row : bool
        Every row has its own value: an identifier.
    decision : str
        ``"excluded"``, ``"warning"`` or ``"ok"``.
    reason : Phrase
        Why (empty for ``ok``): a :class:`~hitrate.stats.phrase.Phrase`, English as a ``str``.
    """

    column: str
    kind: str
    auc: float
    missing_won: float
    missing_lost: float
    missing_auc: float
    unique_per_row: bool
    decision: str
    reason: Phrase

    @property
    def excluded(self) -> bool:
        """Return True when the column must not be used as a feature."""
        return self.decision == EXCLUDED


def _binary_outcome(y: Any, n: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    arr = pd.to_numeric(pd.Series(np.asarray(y).ravel()), errors="coerce").to_numpy(dtype=float)
    if arr.shape[0] != n:
        raise InvalidValueError("scoring.outcome_count_frame", parameter="y", got=arr.shape[0], n=n)
    if np.isnan(arr).any() or not np.isin(arr, (0.0, 1.0)).all():
        raise InvalidValueError("scoring.y_binary", parameter="y")
    if arr.min() == arr.max():
        raise InvalidValueError("scoring.y_one_outcome", parameter="y")
    return arr.astype(np.int64)


def _level_scores(train_keys: pd.Series, y_train: np.ndarray[Any, Any], test_keys: pd.Series) -> np.ndarray[Any, Any]:
    means = pd.Series(y_train, index=train_keys.index).groupby(train_keys.to_numpy()).mean()
    prior = float(np.mean(y_train))
    return test_keys.map(means).astype(float).fillna(prior).to_numpy(dtype=float)


def _numeric_keys(train: pd.Series, test: pd.Series, bins: int = 20) -> tuple[pd.Series, pd.Series]:
    """Key numbers by value (at most ``bins`` distinct values) or by training quantile bin; missing is a key."""
    values = train.to_numpy(dtype=float)
    distinct = np.unique(values[~np.isnan(values)])
    if distinct.size <= bins:

        def key(s: pd.Series) -> pd.Series:
            return s.astype(object).where(s.notna(), "missing")

        return key(train), key(test)
    inner = np.unique(np.quantile(values[~np.isnan(values)], np.linspace(0, 1, bins + 1)))[1:-1]

    def bin_key(s: pd.Series) -> pd.Series:
        idx = np.searchsorted(inner, s.to_numpy(dtype=float), side="right").astype(object)
        idx[s.isna().to_numpy()] = "missing"
        return pd.Series(idx, index=s.index)

    return bin_key(train), bin_key(test)


def single_feature_auc(
    values: pd.Series, y: np.ndarray[Any, Any], *, numeric: bool, n_splits: int = 5, random_state: int = 0
) -> float:
    """Return the out-of-fold AUC of one prepared column used alone (see module docstring).

    Parameters
    ----------
    values : pandas.Series
        Float column with NaN for missing (numeric) or text with a missing level (categorical).
    y : numpy.ndarray
        0/1 outcomes.
    numeric : bool
        Whether to bin the column by quantiles first.
    n_splits : int
        Number of stratified folds.
    random_state : int
        Seed of the fold assignment.
    """
    folds = min(n_splits, int(np.bincount(y).min()))
    if folds < 2:
        raise InvalidValueError("scoring.too_few_for_leakage", parameter="y", got=str(np.bincount(y)))
    scores = np.empty(len(values), dtype=float)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    for tr, te in cv.split(np.zeros(len(y)), y):
        a, b = values.iloc[tr], values.iloc[te]
        if numeric:
            a, b = _numeric_keys(a, b)
        scores[te] = _level_scores(a, y[tr], b)
    return float(roc_auc_score(y, scores))


def leakage_report(
    frame: pd.DataFrame,
    y: Any,
    *,
    threshold: float = 0.85,
    warn_threshold: float = 0.75,
    missing_gap: float = 0.25,
    exclude: Sequence[str] = (),
    allow: Sequence[str] = (),
    post_outcome: Sequence[str] = (),
    missing_values: Sequence[str] = DEFAULT_MISSING_VALUES,
    random_state: int = 0,
) -> list[Suspect]:
    """Check every column of ``frame`` for leakage of the outcome ``y``; return one Suspect per column.

    Parameters
    ----------
    frame : pandas.DataFrame
        Candidate feature columns of closed leads (without the outcome column).
    y : array-like
        1 won / 0 lost, one per row of ``frame``.
    threshold : float
        Single-feature AUC at or above which a column is excluded.
    warn_threshold : float
        Single-feature AUC at or above which (below ``threshold``) a column gets a warning.
    missing_gap : float
        Difference in missing share between won and lost rows that earns a warning.
    exclude : sequence of str
        Columns excluded on request.
    allow : sequence of str
        Columns kept whatever the checks say (their findings become a warning).
    post_outcome : sequence of str
        Columns the definitions declare as filled in after the outcome: excluded.
    missing_values : sequence of str
        Placeholder strings that mean missing.
    random_state : int
        Seed of the fold assignment.

    Returns
    -------
    list of Suspect
        Sorted by decision (excluded, warning, ok), then by AUC, highest first.
    """
    if not isinstance(frame, pd.DataFrame):
        raise not_a_frame("frame", frame)
    if not 0.5 < threshold <= 1.0:
        raise InvalidValueError("scoring.expected_threshold", parameter="threshold", got=threshold)
    for name, cols in (("exclude", exclude), ("allow", allow), ("post_outcome", post_outcome)):
        unknown = [c for c in cols if c not in frame.columns]
        if unknown:
            raise InvalidValueError("scoring.unknown_columns", parameter=name, columns=Joined(map(repr, unknown)))
    yy = _binary_outcome(y, len(frame))
    won = yy == 1
    out: list[Suspect] = []
    for col in frame.columns:
        raw = frame[col].reset_index(drop=True)
        miss = missing_mask(raw, missing_values)
        num = coerce_numeric(raw, miss)
        numeric = bool(num[~miss].notna().all()) and not pd.api.types.is_bool_dtype(raw.dtype)
        values = num if numeric else as_text(raw, miss)
        present = values[~miss]
        n_distinct = int(present.nunique())
        whole = numeric and bool(np.all(np.mod(present.to_numpy(dtype=float), 1) == 0))
        unique = len(raw) > 1 and not bool(miss.any()) and n_distinct == len(raw) and (not numeric or whole)
        if n_distinct + int(bool(miss.any())) <= 1:
            auc = float("nan")
        else:
            auc = single_feature_auc(values, yy, numeric=numeric, random_state=random_state)
        m = miss.to_numpy()
        m_won, m_lost = float(m[won].mean()), float(m[~won].mean())
        m_auc = float(roc_auc_score(yy, m.astype(float))) if 0 < m.sum() < len(m) else 0.5
        reasons: list[Message] = []
        decision = OK
        if col in post_outcome:
            decision, reasons = EXCLUDED, [Message("scoring.reason_post_outcome")]
        elif col in exclude:
            decision, reasons = EXCLUDED, [Message("scoring.reason_excluded")]
        elif unique:
            decision, reasons = EXCLUDED, [Message("scoring.reason_identifier")]
        elif not np.isnan(auc) and auc >= threshold:
            decision = EXCLUDED
            reasons = [Message("scoring.reason_leaks", auc=auc, threshold=threshold)]
        else:
            if not np.isnan(auc) and auc >= warn_threshold:
                decision = WARNING
                reasons.append(Message("scoring.reason_predictive", auc=auc, threshold=warn_threshold))
            if abs(m_won - m_lost) >= missing_gap:
                decision = WARNING
                reasons.append(Message("scoring.reason_missingness", won=m_won, lost=m_lost))
        if col in allow and decision == EXCLUDED:
            decision = WARNING
            reasons = [Message("scoring.reason_allowed", reasons=Joined(reasons, "; "))]
        out.append(
            Suspect(
                column=str(col),
                kind="numeric" if numeric else "categorical",
                auc=auc,
                missing_won=m_won,
                missing_lost=m_lost,
                missing_auc=m_auc,
                unique_per_row=unique,
                decision=decision,
                reason=Phrase(Joined(reasons, "; ")),
            )
        )
    order = {EXCLUDED: 0, WARNING: 1, OK: 2}
    out.sort(key=lambda s: (order[s.decision], -(0.0 if np.isnan(s.auc) else s.auc)))
    return out


def excluded_columns(report: Sequence[Suspect]) -> list[str]:
    """Return the names of the columns a report excludes.

    Parameters
    ----------
    report : sequence of Suspect
        Output of :func:`leakage_report`.
    """
    return [s.column for s in report if s.excluded]
