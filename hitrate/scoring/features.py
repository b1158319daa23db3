"""Turn raw lead columns into model features.

The transformer decides, from the training frame, which columns are numeric and
which are categorical, drops constant columns, and then applies the same layout
to any new frame::

    ft = FeatureTransformer().fit(train)
    X = ft.transform(new_leads)        # numeric float columns + pandas categoricals
    ft.spec_.categorical               # names of the categorical features

Rules
-----
* Placeholder values (``missing_values``: by default ``"Select"``, ``"select"``
  and ``""``) count as missing, as do NaN/None and strings that are only spaces.
* A column is numeric when every non-missing value parses as a number; if any
  value is text it is categorical (numbers are then compared as their text).
* Categorical values are stripped strings; missing is a level of its own
  (``MISSING``); levels beyond the ``max_levels`` most frequent and levels never
  seen in training become ``OTHER``.
* A column with a single value (counting missing as a value) is dropped.
* A frame to transform must contain every feature column; extra columns are
  ignored. A numeric feature whose new values are all text is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from hitrate.errors import InvalidValueError
from hitrate.i18n import Joined
from hitrate.scoring._errors import not_a_frame

MISSING = "(missing)"
OTHER = "(other)"
DEFAULT_MISSING_VALUES: tuple[str, ...] = ("Select", "select", "")


@dataclass(frozen=True)
class FeatureSpec:
    """The feature layout learned from a training frame.

    Attributes
    ----------
    numeric : tuple of str
        Numeric feature columns, in output order.
    categorical : tuple of str
        Categorical feature columns, in output order (after the numeric ones).
    dropped : tuple of (str, str)
        Columns left out and why, e.g. ``("Magazine", "constant: one value")``.
    """

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    dropped: tuple[tuple[str, str], ...] = ()

    @property
    def columns(self) -> list[str]:
        """Return all feature columns in output order (numeric first, then categorical)."""
        return [*self.numeric, *self.categorical]

    def kinds(self) -> dict[str, str]:
        """Return a mapping column -> ``"numeric"`` or ``"categorical"``."""
        out = {c: "numeric" for c in self.numeric}
        out.update({c: "categorical" for c in self.categorical})
        return out


def missing_mask(values: pd.Series, missing_values: Iterable[str] = DEFAULT_MISSING_VALUES) -> pd.Series:
    """Return a boolean mask of missing cells: NaN/None, blank strings and placeholder values.

    Parameters
    ----------
    values : pandas.Series
        One raw column.
    missing_values : iterable of str
        Placeholder strings that mean "not answered" (compared after stripping spaces).
    """
    placeholders = {str(v).strip() for v in missing_values}
    mask = values.isna()
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype | pd.CategoricalDtype):
        # judged once per distinct value, not once per cell: a lead column holds a few dozen values at most
        codes, uniques = pd.factorize(values)
        text = pd.Series(np.asarray(uniques, dtype=object)).astype("string").str.strip()
        blank = (text.isin(placeholders) | (text == "")).fillna(False).to_numpy(dtype=bool)
        cells = np.zeros(len(values), dtype=bool)
        known = codes >= 0
        cells[known] = blank[codes[known]]
        mask = mask | pd.Series(cells, index=values.index)
    return mask.astype(bool)


def coerce_numeric(values: pd.Series, missing: pd.Series) -> pd.Series:
    """Return one raw column (``values``, with its ``missing`` mask from :func:`missing_mask`) as float64,
    missing cells and unparsable text as NaN."""
    if pd.api.types.is_bool_dtype(values.dtype):
        out = values.astype(float)
    else:
        out = pd.to_numeric(values.where(~missing), errors="coerce").astype(float)
    return out.where(~missing)


def as_text(values: pd.Series, missing: pd.Series) -> pd.Series:
    """Return one raw column (``values``, with its ``missing`` mask from :func:`missing_mask`) as stripped
    strings, ``MISSING`` for missing cells."""
    text = values.astype("string").str.strip().astype(object)
    return text.where(~missing, MISSING)


def check_columns(frame: pd.DataFrame, required: Sequence[str], what: str = "frame") -> None:
    """Raise :class:`~hitrate.scoring._errors.InvalidValueError` (a ``UserInputError``) naming the required
    columns that ``frame`` (the parameter called ``what``) lacks."""
    if not isinstance(frame, pd.DataFrame):
        raise not_a_frame(what, frame)
    absent = [c for c in required if c not in frame.columns]
    if absent:
        raise InvalidValueError(
            "scoring.missing_features",
            parameter=what,
            columns=Joined([repr(c) for c in absent]),
            trained=Joined([repr(c) for c in required]),
        )


class FeatureTransformer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Learn numeric/categorical feature columns from a training frame and apply them to new frames.

    Parameters
    ----------
    columns : sequence of str or None
        Columns to consider; None means every column of the training frame.
    exclude : sequence of str
        Columns never used (identifiers, the outcome, leaking fields).
    missing_values : sequence of str
        Placeholder strings that mean missing (compared after stripping spaces).
    max_levels : int
        Keep at most this many (most frequent) levels per categorical column; the
        rest, and levels unseen in training, become ``OTHER``. At most 250.

    Attributes
    ----------
    spec_ : FeatureSpec
        The learned layout.
    levels_ : dict of str to list of str
        Output categories per categorical column (kept levels, then MISSING, OTHER).
    medians_ : dict of str to float
        Training median of each numeric column (NaN when all missing).
    reference_levels_ : dict of str to str
        Neutral level per categorical column for explanations: MISSING if the
        column was ever missing in training, else its most frequent level.
    """

    def __init__(
        self,
        *,
        columns: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        missing_values: Sequence[str] = DEFAULT_MISSING_VALUES,
        max_levels: int = 100,
    ) -> None:
        self.columns = columns
        self.exclude = exclude
        self.missing_values = missing_values
        self.max_levels = max_levels

    def fit(self, X: pd.DataFrame, y: Any = None) -> FeatureTransformer:
        """Learn the feature layout from the training frame ``X``; return self.

        Parameters
        ----------
        X : pandas.DataFrame
            Training rows, one per lead.
        y : ignored
        """
        if not isinstance(X, pd.DataFrame):
            raise not_a_frame("X", X)
        if not 1 <= int(self.max_levels) <= 250:
            raise InvalidValueError("scoring.expected_max_levels", parameter="max_levels", got=self.max_levels)
        wanted = list(X.columns) if self.columns is None else list(self.columns)
        check_columns(X, wanted, "X")
        excluded = {str(c) for c in self.exclude}
        numeric: list[str] = []
        categorical: list[str] = []
        dropped: list[tuple[str, str]] = []
        levels: dict[str, list[str]] = {}
        medians: dict[str, float] = {}
        reference: dict[str, str] = {}
        for col in wanted:
            if col in excluded:
                dropped.append((col, "excluded"))
                continue
            raw = X[col]
            miss = missing_mask(raw, self.missing_values)
            present = raw[~miss]
            num = coerce_numeric(raw, miss)
            is_numeric = bool(num[~miss].notna().all()) and not pd.api.types.is_bool_dtype(raw.dtype)
            if is_numeric:
                distinct = int(num.nunique(dropna=True)) + int(bool(miss.any()))
            else:
                distinct = int(present.astype("string").str.strip().nunique()) + int(bool(miss.any()))
            if distinct <= 1:
                dropped.append((col, "constant: one value"))
                continue
            if is_numeric:
                numeric.append(col)
                medians[col] = float(num.median()) if num.notna().any() else float("nan")
            else:
                categorical.append(col)
                counts = as_text(raw, miss)[~miss].value_counts()
                kept = sorted(str(v) for v in counts.index[: int(self.max_levels)])
                levels[col] = [*kept, MISSING, OTHER]
                reference[col] = MISSING if bool(miss.any()) else str(counts.index[0])
        if not numeric and not categorical:
            raise InvalidValueError("scoring.no_usable_features", parameter="X")
        self.spec_ = FeatureSpec(tuple(numeric), tuple(categorical), tuple(dropped))
        self.levels_ = levels
        self.medians_ = medians
        self.reference_levels_ = reference
        self.n_features_in_ = len(wanted)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return the model features of ``X`` (numeric floats, then pandas categoricals).

        Parameters
        ----------
        X : pandas.DataFrame
            Rows with at least every feature column; extra columns are ignored.
        """
        spec: FeatureSpec = self.spec_
        check_columns(X, spec.columns, "frame")
        out: dict[str, Any] = {}
        for col in spec.numeric:
            raw = X[col]
            miss = missing_mask(raw, self.missing_values)
            num = coerce_numeric(raw, miss)
            if bool((~miss).any()) and bool(num.isna().all()):
                example = str(raw[~miss].iloc[0])
                raise InvalidValueError("scoring.numeric_now_text", parameter="X", column=col, example=example)
            out[col] = num.to_numpy(dtype=float)
        for col in spec.categorical:
            raw = X[col]
            miss = missing_mask(raw, self.missing_values)
            text = as_text(raw, miss)
            cats = self.levels_[col]
            text = text.where(text.isin(cats), OTHER)
            out[col] = pd.Categorical(text.to_numpy(dtype=object), categories=cats)
        return pd.DataFrame(out, index=X.index, columns=spec.columns)

    def reference_frame(self, features: pd.DataFrame) -> pd.DataFrame:
        """Return a one-row-per-input frame where every feature holds its neutral reference value.

        The reference is the training median for a numeric column and the MISSING
        level for a categorical one (its most frequent level if it was never
        missing in training). Used by occlusion explanations.

        Parameters
        ----------
        features : pandas.DataFrame
            Output of :meth:`transform` (only its index and length are used).
        """
        ref: dict[str, Any] = {}
        for col in self.spec_.numeric:
            ref[col] = np.full(len(features), self.medians_[col], dtype=float)
        for col in self.spec_.categorical:
            ref[col] = pd.Categorical([self.reference_levels_[col]] * len(features), categories=self.levels_[col])
        return pd.DataFrame(ref, index=features.index, columns=self.spec_.columns)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray[Any, np.dtype[Any]]:
        """Return the output feature names as a numpy array of str."""
        return np.asarray(self.spec_.columns, dtype=object)
