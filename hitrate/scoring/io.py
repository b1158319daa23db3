"""Save and load scoring models without pickle's arbitrary code execution.

A model file is a zip archive with two members:

* ``model.skops``: the estimator written by ``skops.io.dumps``;
* ``metadata.json``: format version, ``model_sha256`` (sha256 of the
  ``model.skops`` bytes), ``training_data_sha256`` (see :func:`frame_hash`),
  ``definitions_sha256`` (passed in), ``features`` (name -> kind), ``metrics``,
  ``created_at`` (UTC, ISO 8601), ``hitrate_version`` and ``model_class``.

Loading refuses, with an :class:`~hitrate.errors.InputFileError` (a ``UserInputError``): a file that
is not such an archive or whose members fail their zip CRC check (a flipped byte), a model whose sha256
does not match the metadata, and a model that contains any type outside
``ALLOWED_TYPES`` (skops' own safe types plus the few listed here), so
``skops.io.loads`` is only ever called with a checked list, never ``trusted=True``.

The sha256 catches corruption and naive edits; it is not a signature: someone
who can write the file can also rewrite the hash.
"""

from __future__ import annotations

import hashlib
import io as _io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import skops.io as sio

from hitrate.errors import InputFileError, InvalidValueError
from hitrate.i18n import Joined
from hitrate.scoring._errors import not_a_frame
from hitrate.scoring.baselines import LogisticBaseline, OdooNaiveBayes
from hitrate.scoring.features import DEFAULT_MISSING_VALUES, check_columns, coerce_numeric, missing_mask
from hitrate.scoring.model import LeadScorer

FORMAT = "hitrate-scoring-model/1"
MODEL_MEMBER = "model.skops"
METADATA_MEMBER = "metadata.json"

#: Types, beyond skops' default trusted ones, that a model file may contain.
ALLOWED_TYPES: frozenset[str] = frozenset(
    {
        "hitrate.scoring.model.LeadScorer",
        "hitrate.scoring.baselines.OdooNaiveBayes",
        "hitrate.scoring.baselines.LogisticBaseline",
        "hitrate.scoring.features.FeatureTransformer",
        "hitrate.scoring.features.FeatureSpec",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        # HistGradientBoostingClassifier's categorical preprocessor wraps check_array in a partial
        "functools.partial",
        "sklearn.utils.validation.check_array",
        "numpy.dtype",
    }
)

ScoringModel = LeadScorer | OdooNaiveBayes | LogisticBaseline


def frame_hash(frame: pd.DataFrame) -> str:
    """Return the sha256 of a frame in a canonical form: columns sorted by name, CSV, floats at full precision.

    Row order and values count; the index and column order do not.

    Parameters
    ----------
    frame : pandas.DataFrame
        Training rows (features and outcome, as the caller chooses).
    """
    if not isinstance(frame, pd.DataFrame):
        raise not_a_frame("training_frame", frame)
    cols = sorted(frame.columns, key=str)
    text = frame[cols].to_csv(
        index=False, lineterminator="\n", float_format="%.17g", date_format="%Y-%m-%dT%H:%M:%S.%f"
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _feature_kinds(model: Any) -> dict[str, str]:
    if isinstance(model, OdooNaiveBayes):
        return {f: "categorical" for f in model.fields_}
    return dict(model.features_.spec_.kinds())


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class LoadedModel:
    """A model read back from a file, with its metadata.

    Attributes
    ----------
    model : LeadScorer, OdooNaiveBayes or LogisticBaseline
        The fitted estimator.
    metadata : dict
        The metadata written beside it (see the module docstring).
    """

    model: ScoringModel
    metadata: dict[str, Any]

    @property
    def features(self) -> dict[str, str]:
        """Return the feature columns the model needs, with their kinds."""
        return dict(self.metadata["features"])

    def check_frame(self, frame: pd.DataFrame) -> None:
        """Raise a ``UserInputError`` naming feature columns that are missing or no longer numeric.

        Parameters
        ----------
        frame : pandas.DataFrame
            Leads to score.
        """
        check_columns(frame, list(self.features), "frame")
        changed = []
        placeholders = list(getattr(self.model, "missing_values", DEFAULT_MISSING_VALUES))
        for col, kind in self.features.items():
            if kind != "numeric":
                continue
            miss = missing_mask(frame[col], placeholders)
            num = coerce_numeric(frame[col], miss)
            if bool((~miss).any()) and bool(num.isna().all()):
                changed.append(col)
        if changed:
            raise InvalidValueError(
                "scoring.numeric_columns_now_text", parameter="frame", columns=Joined(map(repr, changed))
            )

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Check the frame's columns, then return the model's (n, 2) probabilities.

        Parameters
        ----------
        frame : pandas.DataFrame
            Leads to score.
        """
        self.check_frame(frame)
        return np.asarray(self.model.predict_proba(frame), dtype=float)


def save_model(
    model: ScoringModel,
    path: str | PathLike[str],
    *,
    training_frame: pd.DataFrame | None = None,
    definitions_hash: str | None = None,
    metrics: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write a fitted model and its metadata to ``path``; return the metadata.

    Parameters
    ----------
    model : LeadScorer, OdooNaiveBayes or LogisticBaseline
        A fitted estimator.
    path : str or path-like
        File to write (replaced if it exists).
    training_frame : pandas.DataFrame or None
        The training rows, hashed with :func:`frame_hash` (None: no hash recorded).
    definitions_hash : str or None
        Hash of the definitions in force, recorded as given.
    metrics : dict or None
        Evaluation numbers to record (must be JSON-serialisable after numpy scalars become numbers).
    extra : dict or None
        Further metadata entries (e.g. ``feature_sources``); they cannot replace the standard ones.
    """
    if not isinstance(model, LeadScorer | OdooNaiveBayes | LogisticBaseline):
        raise InvalidValueError("scoring.expected_model", parameter="model", got=type(model).__name__)
    if not hasattr(model, "classes_"):
        raise InvalidValueError("scoring.model_not_fitted", parameter="model", got=type(model).__name__)
    from hitrate._version import __version__

    blob = sio.dumps(model)
    metadata: dict[str, Any] = {
        "format": FORMAT,
        "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
        "model_sha256": hashlib.sha256(blob).hexdigest(),
        "training_data_sha256": None if training_frame is None else frame_hash(training_frame),
        "definitions_sha256": definitions_hash,
        "features": _feature_kinds(model),
        "metrics": _jsonable(metrics or {}),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "hitrate_version": __version__,
    }
    for key, value in (extra or {}).items():
        metadata.setdefault(key, _jsonable(value))
    if isinstance(model, LeadScorer):
        metadata["calibration"] = _jsonable(model.calibration_)
    try:
        meta_text = json.dumps(metadata, indent=2, allow_nan=True)
    except TypeError as exc:
        raise InvalidValueError("scoring.metrics_not_json", parameter="metrics", got=str(exc)) from exc
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(MODEL_MEMBER, blob)
        zf.writestr(METADATA_MEMBER, meta_text)
    Path(path).write_bytes(buf.getvalue())
    return metadata


def _read_archive(p: Path) -> tuple[bytes, dict[str, Any]]:
    """The model bytes and metadata of a model file; damaged or foreign files raise InputFileError."""
    where = str(p)
    if not p.is_file():
        raise InputFileError(where, "scoring.model_not_found")
    try:
        with zipfile.ZipFile(_io.BytesIO(p.read_bytes())) as zf:
            names = sorted(zf.namelist())
            if names != sorted([MODEL_MEMBER, METADATA_MEMBER]):
                raise InputFileError(where, "scoring.not_a_model_members", members=names)
            blob = zf.read(MODEL_MEMBER)
            metadata = json.loads(zf.read(METADATA_MEMBER).decode("utf-8"))
    except InputFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise InputFileError(where, "scoring.model_damaged", error=str(exc)) from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise InputFileError(where, "scoring.not_a_model_format", found=metadata.get("format"), expected=FORMAT)
    return blob, metadata


def read_metadata(path: str | PathLike[str]) -> dict[str, Any]:
    """The metadata of a model file (features, metrics, hashes...) without loading the model itself."""
    return _read_archive(Path(path))[1]


def load_model(path: str | PathLike[str]) -> LoadedModel:
    """Read a model file written by :func:`save_model`, refusing anything tampered with or untrusted.

    Parameters
    ----------
    path : str or path-like
        The model file.
    """
    p = Path(path)
    where = str(p)
    blob, metadata = _read_archive(p)
    digest = hashlib.sha256(blob).hexdigest()
    if digest != metadata.get("model_sha256"):
        raise InputFileError(where, "scoring.model_tampered")
    try:
        untrusted = sio.get_untrusted_types(data=blob)
    except Exception as exc:  # skops raises various errors on malformed input
        raise InputFileError(where, "scoring.model_not_inspected", error=str(exc)) from exc
    refused = sorted(t for t in untrusted if t not in ALLOWED_TYPES)
    if refused:
        raise InputFileError(where, "scoring.model_untrusted", types=Joined(refused))
    try:
        model = sio.loads(blob, trusted=list(untrusted))
    except Exception as exc:  # skops raises various errors on malformed input
        raise InputFileError(where, "scoring.model_not_loaded", error=str(exc)) from exc
    if not isinstance(model, LeadScorer | OdooNaiveBayes | LogisticBaseline):
        raise InputFileError(where, "scoring.not_a_scoring_model", found=type(model).__name__)
    return LoadedModel(model, metadata)
