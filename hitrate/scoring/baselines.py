"""Baselines a lead score must beat.

``OdooNaiveBayes`` reproduces Odoo CRM's "predictive lead scoring"
(``crm.lead._pls_get_naive_bayes_probabilities``): for every field and value a
won count and a lost count, each starting at 0.1; a lead's score starts from the
number of won and lost leads (the prior) and is multiplied, per field whose value
was seen in training, by ``won(value) / won_total(field)`` and
``lost(value) / lost_total(field)``, where the totals are the sums of that field's
(smoothed) counts. Fields are treated as independent, so correlated fields are
counted twice; unseen and missing values are skipped; no calibration. The product
is computed in logs (same result, no underflow) and is not rounded to Odoo's 2
decimals of a percent.

``LogisticBaseline`` is a plain scikit-learn pipeline: numeric columns median-
imputed with a missing indicator and standardised, categoricals one-hot encoded
(missing is a level, unknown levels ignored), L2 logistic regression.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from hitrate.errors import InvalidValueError
from hitrate.scoring._errors import not_a_frame
from hitrate.scoring.features import (
    DEFAULT_MISSING_VALUES,
    as_text,
    check_columns,
    missing_mask,
)
from hitrate.scoring.model import Scorer, outcome_array


def _closed(X: Any, y: Any) -> tuple[pd.DataFrame, np.ndarray[Any, np.dtype[np.int64]]]:
    if not isinstance(X, pd.DataFrame):
        raise not_a_frame("X", X)
    yy = outcome_array(y, len(X))
    keep = ~np.isnan(yy)
    yc = yy[keep].astype(np.int64)
    if len(np.unique(yc)) < 2:
        raise InvalidValueError("scoring.both_outcomes_closed", parameter="y")
    return X.loc[keep], yc


class OdooNaiveBayes(Scorer):
    """Odoo-style naive Bayes lead scoring (see the module docstring).

    Parameters
    ----------
    fields : sequence of str or None
        Fields to use; None means the categorical columns found by
        :class:`FeatureTransformer` (Odoo scores only selection/relational fields).
    exclude : sequence of str
        Columns never used (when ``fields`` is None).
    missing_values : sequence of str
        Placeholder strings that mean missing (skipped, like an empty Odoo field).
    smoothing : float
        Start value of every won and lost count (Odoo: 0.1).

    Attributes
    ----------
    fields_ : list of str
        Fields used.
    frequencies_ : dict
        field -> value -> ``[won_count, lost_count]`` (smoothed).
    totals_ : dict
        field -> ``[won_total, lost_total]``.
    n_won_, n_lost_ : int
        Training won and lost leads (the prior).
    """

    FITTED = "frequencies_"

    def __init__(
        self,
        *,
        fields: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        missing_values: Sequence[str] = DEFAULT_MISSING_VALUES,
        smoothing: float = 0.1,
    ) -> None:
        self.fields = fields
        self.exclude = exclude
        self.missing_values = missing_values
        self.smoothing = smoothing

    def fit(self, X: pd.DataFrame, y: Any) -> OdooNaiveBayes:
        """Count won and lost leads (``y``: 1 won / 0 lost / NaN open, not used) per field value of ``X``
        (one row per lead); return self."""
        Xc, yc = _closed(X, y)
        if self.fields is None:
            fields = list(self._layout().fit(Xc).spec_.categorical)
        else:
            fields = list(self.fields)
            check_columns(Xc, fields, "X")
        if not fields:
            raise InvalidValueError("scoring.no_fields", parameter="fields")
        s = float(self.smoothing)
        freq: dict[str, dict[str, list[float]]] = {}
        totals: dict[str, list[float]] = {}
        for f in fields:
            raw = Xc[f]
            miss = missing_mask(raw, self.missing_values)
            text = as_text(raw, miss)[~miss]
            ys = yc[~miss.to_numpy()]
            table = pd.crosstab(text.to_numpy(), ys).reindex(columns=[1, 0], fill_value=0)
            freq[f] = {str(v): [float(r[1]) + s, float(r[0]) + s] for v, r in table.iterrows()}
            totals[f] = [sum(c[0] for c in freq[f].values()), sum(c[1] for c in freq[f].values())]
        self.fields_ = fields
        self.frequencies_ = freq
        self.totals_ = totals
        self.n_won_ = int(yc.sum())
        self.n_lost_ = int(len(yc) - yc.sum())
        self.classes_ = np.array([0, 1])
        return self

    def _won(self, X: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
        check_columns(X, self.fields_, "frame")
        log_won = np.full(len(X), np.log(self.n_won_), dtype=float)
        log_lost = np.full(len(X), np.log(self.n_lost_), dtype=float)
        for f in self.fields_:
            raw = X[f]
            miss = missing_mask(raw, self.missing_values)
            text = as_text(raw, miss)
            won_total, lost_total = self.totals_[f]
            if won_total <= 0 or lost_total <= 0:
                continue
            table = self.frequencies_[f]
            w = text.map({k: np.log(v[0] / won_total) for k, v in table.items()}).astype(float).fillna(0.0)
            lo = text.map({k: np.log(v[1] / lost_total) for k, v in table.items()}).astype(float).fillna(0.0)
            known = ~miss.to_numpy()
            log_won += np.where(known, w.to_numpy(), 0.0)
            log_lost += np.where(known, lo.to_numpy(), 0.0)
        return np.asarray(1.0 / (1.0 + np.exp(log_lost - log_won)), dtype=float)


class LogisticBaseline(Scorer):
    """Logistic regression on one-hot categoricals and standardised numerics (see the module docstring).

    Parameters
    ----------
    C : float
        Inverse L2 penalty strength.
    exclude : sequence of str
        Columns never used as features.
    missing_values : sequence of str
        Placeholder strings that mean missing.
    max_iter : int
        Solver iterations.

    Attributes
    ----------
    features_ : FeatureTransformer
        Fitted feature layout.
    pipeline_ : sklearn.pipeline.Pipeline
        Fitted encoder + logistic regression.
    """

    FITTED = "pipeline_"

    def __init__(
        self,
        *,
        C: float = 1.0,
        exclude: Sequence[str] = (),
        missing_values: Sequence[str] = DEFAULT_MISSING_VALUES,
        max_iter: int = 2000,
    ) -> None:
        self.C = C
        self.exclude = exclude
        self.missing_values = missing_values
        self.max_iter = max_iter

    def fit(self, X: pd.DataFrame, y: Any) -> LogisticBaseline:
        """Fit features, encoders and the logistic regression on ``X`` (one row per lead) and ``y`` (1 won /
        0 lost / NaN open, not used); return self."""
        Xc, yc = _closed(X, y)
        self.features_ = self._layout().fit(Xc)
        F = self.features_.transform(Xc)
        spec = self.features_.spec_
        encode = ColumnTransformer(
            [
                (
                    "num",
                    make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()),
                    list(spec.numeric),
                ),
                ("cat", OneHotEncoder(handle_unknown="ignore"), list(spec.categorical)),
            ]
        )
        self.pipeline_: Pipeline = make_pipeline(encode, LogisticRegression(C=self.C, max_iter=self.max_iter))
        self.pipeline_.fit(F, yc)
        self.classes_ = np.array([0, 1])
        return self

    def _won(self, X: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.asarray(self.pipeline_.predict_proba(self.features_.transform(X))[:, 1], dtype=float)
