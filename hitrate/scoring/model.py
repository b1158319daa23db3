"""Lead scoring model: gradient-boosted trees on raw lead columns, with honest calibration.

``LeadScorer`` fits scikit-learn's HistGradientBoostingClassifier with native
categorical support (categoricals come from :class:`FeatureTransformer`).

Calibration (``calibrate="auto"``): a stratified part of the *training* rows
(``holdout_size``) is held out; trees fitted on the rest score it; on those
held-out scores "none", "sigmoid" (Platt) and "isotonic" are compared by Brier
score and log loss, each calibrator judged on folds of the held-out part it was
not fitted on. A calibration is kept only if it improves both numbers over
"none" (the best Brier among those wins). The numbers are kept in
``calibration_``. Then the trees are refitted on all training rows; a kept
calibrator is refitted on 5-fold out-of-fold scores of all training rows.

``feature_importance_`` is permutation importance (drop in AUC when one column is
shuffled, mean of ``n_repeats``) on the held-out part.

Threads: below :data:`ONE_THREAD_BELOW` rows the trees are fitted and scored on one thread. OpenMP's threads
cost more to coordinate than they save on a few thousand leads, and on a busy machine they wait for each other:
X Education's 9,240 leads trained in 130 s with the default threads on two busy cores, 26 s on one.

``explain`` uses occlusion: for each row and feature, the predicted probability
minus the probability with that one feature set to its reference value (training
median for numbers, the missing level for categoricals, or the most frequent level
if the column was never missing). Positive = the feature's value pushes the score
up. It is cheap and exact for what it says, but not additive: the parts do not
sum to the score, and interactions are credited to each feature involved.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss
from sklearn.model_selection import StratifiedKFold, train_test_split

from hitrate._progress import Progress, Steps
from hitrate.errors import InvalidValueError
from hitrate.scoring._errors import not_a_frame, not_fitted
from hitrate.scoring.features import DEFAULT_MISSING_VALUES, FeatureTransformer

#: Rows below which trees are fitted and scored on one thread (see the module docstring).
ONE_THREAD_BELOW = 100_000


def threads_for(rows: int) -> contextlib.AbstractContextManager[Any]:
    """One OpenMP thread for the block when ``rows`` is below :data:`ONE_THREAD_BELOW`, else the default."""
    if rows >= ONE_THREAD_BELOW:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    limited: contextlib.AbstractContextManager[Any] = threadpool_limits(limits=1, user_api="openmp")
    return limited


CALIBRATIONS = ("none", "sigmoid", "isotonic")
#: The out-of-fold predictions a calibration is fitted on come from this many folds.
CALIBRATION_FOLDS = 5
#: The steps :meth:`LeadScorer.fit` tells its ``progress``: the held-out trees, the importance, each
#: calibration fold, the trees on all rows.
FIT_STEPS = 2 + CALIBRATION_FOLDS + 1
_EPS = 1e-6


@dataclass(frozen=True)
class Factor:
    """One feature's push on one lead's score.

    Attributes
    ----------
    feature : str
        Column name.
    value : str
        The lead's value of it, as text (``"(missing)"`` when missing).
    effect : float
        Probability minus probability with the feature at its reference value.
    """

    feature: str
    value: str
    effect: float


@dataclass(frozen=True)
class Explanation:
    """Top factors for one lead.

    Attributes
    ----------
    index : object
        The row's index label in the scored frame.
    probability : float
        Predicted probability of winning.
    up : list of Factor
        Largest positive effects, biggest first.
    down : list of Factor
        Largest negative effects, most negative first.
    """

    index: Any
    probability: float
    up: list[Factor]
    down: list[Factor]


def outcome_array(y: Any, n: int, name: str = "y") -> np.ndarray[Any, np.dtype[np.float64]]:
    """Return outcomes as floats (1 won, 0 lost, NaN open), checking length and values.

    Parameters
    ----------
    y : array-like
        Outcomes, one per row.
    n : int
        Expected number of rows.
    name : str
        Parameter name for error messages.
    """
    arr = pd.to_numeric(pd.Series(np.asarray(y, dtype=object).ravel()), errors="coerce").to_numpy(dtype=float)
    if arr.shape[0] != n:
        raise InvalidValueError("scoring.outcome_count", parameter=name, got=arr.shape[0], n=n)
    known = arr[~np.isnan(arr)]
    if not np.isin(known, (0.0, 1.0)).all():
        bad = sorted({float(v) for v in known if v not in (0.0, 1.0)})[:5]
        raise InvalidValueError("scoring.outcome_values", parameter=name, got=bad)
    return arr


def _clip(p: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.asarray(np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS), dtype=float)


def _logit(p: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    q = _clip(p)
    return np.log(q / (1 - q)).reshape(-1, 1)


def _fit_calibrator(method: str, p: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> Any:
    if method == "sigmoid":
        return LogisticRegression(C=1e6).fit(_logit(p), y)
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    return iso.fit(np.asarray(p, dtype=float), y)


def _apply_calibrator(cal: Any, p: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    if isinstance(cal, LogisticRegression):
        return np.asarray(cal.predict_proba(_logit(p))[:, 1], dtype=float)
    return _clip(cal.predict(np.asarray(p, dtype=float)))


class Scorer(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """What the scoring classifiers share: ``predict_proba`` and ``predict`` read off the probability of
    winning a subclass gives (``_won``), a guard against use before ``fit`` (``FITTED`` names the attribute
    ``fit`` sets) and the feature layout of its ``exclude`` and ``missing_values``."""

    FITTED = "model_"
    exclude: Sequence[str]
    missing_values: Sequence[str]

    def _check_fitted(self) -> None:
        if not hasattr(self, self.FITTED):
            raise not_fitted(self)

    def _layout(self) -> FeatureTransformer:
        """A feature transformer (to fit) that leaves out ``exclude`` and reads ``missing_values`` as missing."""
        return FeatureTransformer(exclude=list(self.exclude), missing_values=list(self.missing_values))

    def _won(self, X: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
        raise NotImplementedError

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Return an (n, 2) array: probability of lost, probability of won, per row of ``X`` (leads with every
        feature column, open leads included)."""
        self._check_fitted()
        p = self._won(X)
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Return 1 (won) where the probability of winning is at least 0.5, else 0, per row of ``X``."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)


class LeadScorer(Scorer):
    """Score leads by their probability of being won (see the module docstring for the method).

    Parameters
    ----------
    max_iter : int
        Boosting rounds.
    learning_rate : float
        Shrinkage per round.
    max_leaf_nodes : int
        Leaves per tree.
    min_samples_leaf : int
        Minimum rows per leaf.
    l2_regularization : float
        L2 penalty on leaf values.
    calibrate : str
        ``"auto"`` (keep a calibration only if it improves Brier and log loss on
        the held-out part), ``"none"``, ``"sigmoid"`` or ``"isotonic"``.
    holdout_size : float
        Share of training rows held out to choose calibration and measure importance.
    exclude : sequence of str
        Columns never used as features (identifiers, leaking fields).
    missing_values : sequence of str
        Placeholder strings that mean missing.
    n_repeats : int
        Shuffles per feature for permutation importance (0 to skip it).
    random_state : int
        Seed for the held-out split, folds and the trees.

    Attributes
    ----------
    features_ : FeatureTransformer
        The fitted feature layout.
    model_ : HistGradientBoostingClassifier
        Trees fitted on all training rows.
    calibrator_ : object or None
        Fitted calibration map (None when not calibrated).
    calibration_ : dict
        ``method`` chosen, ``holdout_rows`` and the held-out ``brier`` and
        ``log_loss`` for each of none / sigmoid / isotonic.
    feature_importance_ : dict of str to float
        Mean drop in held-out AUC when the column is shuffled, largest first.
    classes_ : numpy.ndarray
        ``[0, 1]``.
    """

    def __init__(
        self,
        *,
        max_iter: int = 100,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 20,
        l2_regularization: float = 0.0,
        calibrate: str = "auto",
        holdout_size: float = 0.2,
        exclude: Sequence[str] = (),
        missing_values: Sequence[str] = DEFAULT_MISSING_VALUES,
        n_repeats: int = 3,
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.calibrate = calibrate
        self.holdout_size = holdout_size
        self.exclude = exclude
        self.missing_values = missing_values
        self.n_repeats = n_repeats
        self.random_state = random_state

    def _trees(self) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            categorical_features="from_dtype",
            early_stopping=False,
            random_state=self.random_state,
        )

    def fit(self, X: pd.DataFrame, y: Any, progress: Progress | None = None) -> LeadScorer:
        """Fit features, choose calibration on a held-out part, refit on all rows; return self.

        Parameters
        ----------
        X : pandas.DataFrame
            One row per lead, raw columns.
        y : array-like
            1 won / 0 lost / NaN open, one per row; open rows are not used.
        progress : callable, optional
            ``progress(done, FIT_STEPS)`` after each step (:mod:`hitrate._progress`): the trees on the held-out
            split, the importance, each of the five calibration folds (counted at once when no calibration is
            chosen), the trees on all rows.
        """
        with threads_for(len(X)):
            return self._fit(X, y, progress)

    def _fit(self, X: pd.DataFrame, y: Any, progress: Progress | None) -> LeadScorer:
        if not isinstance(X, pd.DataFrame):
            raise not_a_frame("X", X)
        if self.calibrate not in ("auto", *CALIBRATIONS):
            raise InvalidValueError("scoring.expected_calibrate", parameter="calibrate", got=self.calibrate)
        if not 0.05 <= float(self.holdout_size) <= 0.5:
            raise InvalidValueError("scoring.expected_holdout", parameter="holdout_size", got=self.holdout_size)
        yy = outcome_array(y, len(X))
        closed = ~np.isnan(yy)
        Xc, yc = X.loc[closed], yy[closed].astype(np.int64)
        counts = np.bincount(yc, minlength=2)
        if counts.min() < 10:
            raise InvalidValueError("scoring.too_few_to_fit", parameter="y", got=None, won=counts[1], lost=counts[0])
        self.features_ = self._layout().fit(Xc)
        F = self.features_.transform(Xc)
        F_a, F_b, y_a, y_b = train_test_split(
            F, yc, test_size=self.holdout_size, stratify=yc, random_state=self.random_state
        )
        steps = Steps(progress, FIT_STEPS)
        trees_a = self._trees().fit(F_a, y_a)
        steps.done()
        p_b = np.asarray(trees_a.predict_proba(F_b)[:, 1], dtype=float)
        scores = self._compare_calibrations(p_b, np.asarray(y_b))
        method = self._choose(scores)
        self.calibration_ = {"method": method, "holdout_rows": len(y_b), **scores}
        if self.n_repeats > 0:
            imp = permutation_importance(
                trees_a, F_b, y_b, scoring="roc_auc", n_repeats=self.n_repeats, random_state=self.random_state
            )
            pairs = sorted(zip(F.columns, imp.importances_mean, strict=True), key=lambda t: -t[1])
            self.feature_importance_ = {str(c): float(v) for c, v in pairs}
        else:
            self.feature_importance_ = {}
        steps.done()
        self.calibrator_: Any = None
        if method != "none":
            oof = np.empty(len(yc), dtype=float)
            cv = StratifiedKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=self.random_state)
            for tr, te in cv.split(np.zeros(len(yc)), yc):
                oof[te] = self._trees().fit(F.iloc[tr], yc[tr]).predict_proba(F.iloc[te])[:, 1]
                steps.done()
            self.calibrator_ = _fit_calibrator(method, oof, yc)
        else:
            steps.done(CALIBRATION_FOLDS)
        self.model_ = self._trees().fit(F, yc)
        steps.finish()
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        return self

    def _compare_calibrations(self, p: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> dict[str, dict[str, float]]:
        brier: dict[str, float] = {"none": float(brier_score_loss(y, p))}
        ll: dict[str, float] = {"none": float(log_loss(y, _clip(p), labels=[0, 1]))}
        cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=self.random_state)
        for method in ("sigmoid", "isotonic"):
            q = np.empty(len(y), dtype=float)
            for tr, te in cv.split(np.zeros(len(y)), y):
                q[te] = _apply_calibrator(_fit_calibrator(method, p[tr], y[tr]), p[te])
            brier[method] = float(brier_score_loss(y, q))
            ll[method] = float(log_loss(y, _clip(q), labels=[0, 1]))
        return {"brier": brier, "log_loss": ll}

    def _choose(self, scores: dict[str, dict[str, float]]) -> str:
        if self.calibrate != "auto":
            return str(self.calibrate)
        b, ll = scores["brier"], scores["log_loss"]
        better = [m for m in ("sigmoid", "isotonic") if b[m] < b["none"] and ll[m] < ll["none"]]
        return min(better, key=lambda m: b[m]) if better else "none"

    def _proba_features(self, F: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
        with threads_for(len(F)):
            p = np.asarray(self.model_.predict_proba(F)[:, 1], dtype=float)
        if self.calibrator_ is not None:
            p = _apply_calibrator(self.calibrator_, p)
        return p

    def _won(self, X: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
        return self._proba_features(self.features_.transform(X))

    def contributions(self, X: pd.DataFrame, *, batch_rows: int = 200_000) -> pd.DataFrame:
        """Return the occlusion effect of every feature on every row (rows x features).

        Each cell is the row's probability minus its probability with that feature
        at its reference value (see the module docstring).

        Parameters
        ----------
        X : pandas.DataFrame
            Leads with every feature column.
        batch_rows : int
            Upper bound on rows scored in one call (rows x features per batch).
        """
        self._check_fitted()
        F = self.features_.transform(X)
        cols = list(F.columns)
        base = self._proba_features(F)
        ref = self.features_.reference_frame(F)
        k = len(cols)
        step = max(1, int(batch_rows) // max(k, 1))
        effects = np.empty((len(F), k), dtype=float)
        for start in range(0, len(F), step):
            chunk = F.iloc[start : start + step]
            rchunk = ref.iloc[start : start + step]
            m = len(chunk)
            stacked = pd.concat([chunk] * k, ignore_index=True)
            for j, col in enumerate(cols):
                rows = slice(j * m, (j + 1) * m)
                values = rchunk[col].to_numpy()
                if isinstance(stacked[col].dtype, pd.CategoricalDtype):
                    codes = stacked[col].cat.codes.to_numpy().copy()
                    codes[rows] = pd.Categorical(values, categories=stacked[col].cat.categories).codes
                    stacked[col] = pd.Categorical.from_codes(codes, categories=stacked[col].cat.categories)
                else:
                    arr = stacked[col].to_numpy(dtype=float).copy()
                    arr[rows] = values.astype(float)
                    stacked[col] = arr
            occluded = self._proba_features(stacked).reshape(k, m).T
            effects[start : start + m] = base[start : start + m, None] - occluded
        return pd.DataFrame(effects, index=X.index, columns=cols)

    def explain(self, X: pd.DataFrame, top: int = 3) -> list[Explanation]:
        """Return, per row, the ``top`` features pushing its score up and the ``top`` pushing it down.

        Parameters
        ----------
        X : pandas.DataFrame
            Leads with every feature column.
        top : int
            Factors per direction (effects of exactly 0 are never listed).
        """
        if int(top) < 1:
            raise InvalidValueError("scoring.expected_positive_whole", parameter="top", got=top)
        eff = self.contributions(X)
        F = self.features_.transform(X)
        proba = self._proba_features(F)
        cols = list(eff.columns)
        values = eff.to_numpy()
        out: list[Explanation] = []
        for i, label in enumerate(eff.index):
            row = values[i]
            order = np.argsort(row)
            ups = [j for j in order[::-1][:top] if row[j] > 0]
            downs = [j for j in order[:top] if row[j] < 0]

            def factor(j: int, i: int = i, row: np.ndarray[Any, Any] = row) -> Factor:
                v: Any = F.iat[i, j]
                return Factor(cols[j], "(missing)" if pd.isna(v) else str(v), float(row[j]))

            out.append(Explanation(label, float(proba[i]), [factor(j) for j in ups], [factor(j) for j in downs]))
        return out
