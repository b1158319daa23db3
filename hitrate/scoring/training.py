"""Train, evaluate and apply a lead-scoring model on a lead file: the workflow behind ``hitrate score``.

A file is read through the same import pipeline as ``hitrate import`` (presets, ``--map``, ``--won``,
``--lost``, detection), into a throwaway in-memory store, so scoring sees exactly the rows and values an
import would store. Columns keep their source names (``Lead Quality``, not ``lead_quality``), so the
leakage report and ``--exclude`` speak the user's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, Unpack

import numpy as np
import pandas as pd

from hitrate._progress import Progress, Steps
from hitrate.errors import InputFileError, InvalidValueError, UserInputError
from hitrate.i18n import Joined, Param
from hitrate.scoring.results import BANDS, EvaluationResult, ExplanationResult, TrainResult

__all__ = [
    "BANDS",
    "OUTCOME_FIELDS",
    "LeadFrame",
    "ReadOptions",
    "TrainResult",
    "band",
    "evaluate_model",
    "explain",
    "predict",
    "read_leads",
    "save_scores",
    "train",
]
# Canonical fields that describe the outcome itself: never features.
OUTCOME_FIELDS = ("stage", "outcome", "closed_at", "amount", "loss_reason", "expected_close")


@dataclass
class LeadFrame:
    """Leads to score: ``features`` (file leads keep their source column names), ``y`` (1 won, 0 lost, NaN
    open), ``ids``, ``created_at`` (None when there is no creation date) and ``sources`` (feature -> the
    table it comes from, for store leads; empty for files)."""

    features: pd.DataFrame
    y: pd.Series
    ids: pd.Series
    created_at: pd.Series | None
    sources: dict[str, str] = field(default_factory=dict)


class ReadOptions(TypedDict, total=False):
    """How lead files are read: the options of :func:`hitrate.ingest.import_files` (and of ``hitrate import``)
    that say what the columns and stages mean."""

    preset: str | None
    mapping: dict[str, str] | None
    won: Sequence[str] | None
    lost: Sequence[str] | None
    date_format: str | None
    decimal: str | None


def read_leads(paths: Sequence[str | Path], **options: Unpack[ReadOptions]) -> LeadFrame:
    """Read lead files as ``hitrate import`` would (``preset``, ``mapping``, ``won``, ``lost``,
    ``date_format``, ``decimal``), and return features, outcome and ids."""
    from hitrate.ingest import import_files
    from hitrate.store.embedded import Store

    with Store(":memory:") as store:
        report = import_files(store, paths, table="opportunities", **options)
        frame = store.raw.execute("SELECT * EXCLUDE (_batch) FROM opportunities ORDER BY id").fetchdf()
    if frame.empty:
        raise InputFileError(", ".join(map(str, paths)), "scoring.no_rows")
    sources: dict[str, str] = {}
    for f in report.files:
        sources.update(f.mapping)
    y = frame["outcome"].map({"won": 1.0, "lost": 0.0})
    created = frame["created_at"] if frame["created_at"].notna().any() else None
    drop = ["id", "rep", "created_at", *OUTCOME_FIELDS]
    features = frame.drop(columns=[c for c in drop if c in frame.columns])
    features = features.rename(columns={c: sources.get(c, c) for c in features.columns})
    features = features.dropna(axis=1, how="all")
    return LeadFrame(features, y, frame["id"].astype(str), created)


def band(probability: np.ndarray) -> np.ndarray:
    """A (≥ 0.75), B (≥ 0.5), C (≥ 0.25), D: calibrated probabilities read as work-first bands."""
    out = np.full(len(probability), "D", dtype=object)
    for cut, label in reversed(BANDS[:-1]):
        out[probability >= cut] = label
    return out


def train(
    leads: LeadFrame,
    model_path: str | Path,
    *,
    exclude: Sequence[str] = (),
    allow: Sequence[str] = (),
    post_outcome: Sequence[str] = (),
    definitions_hash: str | None = None,
    baselines: bool = True,
    random_state: int = 0,
    strict: bool = False,
    progress: Progress | None = None,
) -> TrainResult:
    """Split (by time when creation dates exist, else stratified 75/25), run the leakage guard on the
    training part, fit :class:`LeadScorer` and the baselines, evaluate all on the held-out part, then refit
    the model on every decided lead and save it with its metadata.

    A model that does not beat the better baseline's held-out AUC is reported (``checks``, with what was found:
    too few decided leads, constant features); with ``strict`` it is refused with a
    :class:`~hitrate.errors.UserInputError` and no model file is written.

    ``progress(done, total)`` (:mod:`hitrate._progress`) is told after each step: the leakage guard, the model's
    steps (:data:`~hitrate.scoring.model.FIT_STEPS`: its cross-validation folds among them), each baseline, the
    final model's steps on every lead, the file."""
    from hitrate.scoring.baselines import LogisticBaseline, OdooNaiveBayes
    from hitrate.scoring.evaluation import evaluate, split
    from hitrate.scoring.io import save_model
    from hitrate.scoring.leakage import excluded_columns, leakage_report
    from hitrate.scoring.model import FIT_STEPS, LeadScorer
    from hitrate.scoring.results import METRICS

    decided = leads.y.notna()
    if int(decided.sum()) < 20 or leads.y[decided].nunique() < 2:
        raise UserInputError("scoring.train_needs_outcomes")
    unknown = [c for c in [*exclude, *allow] if c not in leads.features.columns]
    if unknown:
        raise InvalidValueError(
            "scoring.unknown_exclude",
            parameter="exclude" if unknown[0] in exclude else "allow",
            exclude=Param("exclude"),
            allow=Param("allow"),
            columns=Joined(unknown),
            available=Joined(map(str, leads.features.columns)),
        )
    frame = leads.features[decided].reset_index(drop=True)
    y = leads.y[decided].astype(int).reset_index(drop=True)
    dates = leads.created_at[decided].reset_index(drop=True) if leads.created_at is not None else None
    steps = Steps(progress, 2 + 2 * FIT_STEPS + (2 if baselines else 0))
    parts = split(frame, y, dates=dates, test_size=0.25, random_state=random_state)
    report = leakage_report(
        parts.train, parts.y_train, exclude=exclude, allow=allow, post_outcome=post_outcome, random_state=random_state
    )
    drop = excluded_columns(report)
    steps.done()
    model = LeadScorer(exclude=drop, random_state=random_state).fit(parts.train, parts.y_train, steps.part(FIT_STEPS))
    p = model.predict_proba(parts.test)[:, 1]
    metrics = evaluate(parts.y_test, p, y_train=parts.y_train)
    base: dict[str, dict[str, Any]] = {}
    if baselines:
        for name, est in (
            ("odoo_naive_bayes", OdooNaiveBayes(exclude=drop)),
            ("logistic_regression", LogisticBaseline(exclude=drop)),
        ):
            pb = est.fit(parts.train, parts.y_train).predict_proba(parts.test)[:, 1]
            m = evaluate(parts.y_test, pb)
            base[name] = {k: m[k] for k in METRICS}
            steps.done()
    from hitrate.scoring.verdict import baseline_verdict

    beats, checks = baseline_verdict(metrics, base, parts.train, parts.y_train)
    if strict and beats is False:
        raise UserInputError("scoring_check.strict", found=Joined(checks, "; "), strict=Param("strict"))
    # The final model's importance is the evaluation model's (the same features and settings, measured on its
    # held-out part): measured once, not twice (permutation importance was half of the training time).
    final = LeadScorer(exclude=drop, random_state=random_state, n_repeats=0).fit(frame, y, steps.part(FIT_STEPS))
    final.feature_importance_ = dict(model.feature_importance_)
    summary = {k: metrics[k] for k in METRICS}
    used = set(final.features_.spec_.columns)
    sources = {c: s for c, s in leads.sources.items() if c in used}
    save_model(
        final,
        model_path,
        training_frame=frame,
        definitions_hash=definitions_hash,
        metrics=summary,
        extra={"feature_sources": sources} if sources else None,
    )
    steps.finish()
    return TrainResult(
        excluded=[{"feature": s.column, "reason": s.reason} for s in report if s.excluded],
        warnings=[{"feature": s.column, "reason": s.reason} for s in report if s.decision == "warning"],
        metrics=metrics,
        baselines=base,
        split={"method": parts.method, "train": len(parts.train), "test": len(parts.test)},
        calibration=dict(model.calibration_),
        importance={str(k): float(v) for k, v in dict(model.feature_importance_).items()},
        model=str(model_path),
        beats_baseline=beats,
        checks=list(checks),
    )


def predict(leads: LeadFrame, model_path: str | Path, *, top: int = 3) -> pd.DataFrame:
    """Score every lead (open or decided): ``id`` verbatim, ``probability``, ``band`` and top reasons (each a JSON
    list of feature, value and effect: :mod:`hitrate.scoring.reasons`, the form the store keeps); best score
    first (ties by id), as people read a list of leads."""
    from hitrate.scoring.io import load_model
    from hitrate.scoring.reasons import write_reasons

    loaded = load_model(model_path)
    loaded.check_frame(leads.features)
    probability = loaded.predict_proba(leads.features)[:, 1]
    explanations = loaded.model.explain(leads.features, top=top)
    up = [write_reasons(e.up) for e in explanations]
    down = [write_reasons(e.down) for e in explanations]
    frame = pd.DataFrame(
        {
            "id": leads.ids.to_numpy(),
            "probability": probability,
            "band": band(probability),
            "reasons_up": up,
            "reasons_down": down,
        }
    )
    order = np.lexsort((frame["id"].astype(str).to_numpy(), -frame["probability"].to_numpy()))
    return frame.iloc[order].reset_index(drop=True)


def evaluate_model(leads: LeadFrame, model_path: str | Path) -> EvaluationResult:
    """Evaluate a saved model on the decided leads of a file: AUC, Brier, log loss, calibration curve,
    lift and gains, and the hit rate if reps work only the top k% (see :func:`hitrate.scoring.evaluate`)."""
    from hitrate.scoring.evaluation import evaluate
    from hitrate.scoring.io import load_model

    loaded = load_model(model_path)
    loaded.check_frame(leads.features)
    decided = leads.y.notna().to_numpy()
    if decided.sum() == 0 or leads.y[decided].nunique() < 2:
        raise UserInputError("scoring.evaluate_needs_outcomes")
    p = loaded.predict_proba(leads.features[decided])[:, 1]
    result = evaluate(leads.y[decided].astype(int).to_numpy(), p)
    result["leads"] = int(decided.sum())
    result["trained_metrics"] = loaded.metadata.get("metrics")
    return result


def explain(leads: LeadFrame, model_path: str | Path, *, top: int = 3) -> ExplanationResult:
    """Per lead, the ``top`` factors pushing its probability up and down (occlusion: the change in
    probability when a feature is set to its training median or missing level), and the model's global
    importance (permutation importance on held-out training rows)."""
    from hitrate.scoring.io import load_model

    loaded = load_model(model_path)
    loaded.check_frame(leads.features)
    probability = loaded.predict_proba(leads.features)[:, 1]
    rows = []
    for lead_id, p, e in zip(leads.ids, probability, loaded.model.explain(leads.features, top=top), strict=True):
        rows.append(
            {
                "id": lead_id,
                "probability": float(p),
                "up": [{"feature": f.feature, "value": f.value, "effect": float(f.effect)} for f in e.up],
                "down": [{"feature": f.feature, "value": f.value, "effect": float(f.effect)} for f in e.down],
            }
        )
    importance = dict(getattr(loaded.model, "feature_importance_", {}) or {})
    return ExplanationResult(importance={str(k): float(v) for k, v in importance.items()}, leads=rows)


def save_scores(store: Any, scores: pd.DataFrame, model_path: str | Path) -> int:
    """Keep scores in the store's ``lead_scores`` table (one row per lead id, replaced on re-scoring), for the
    dashboard; one transaction. Returns the number of rows written."""
    import datetime as dt

    from hitrate.scoring.io import load_model

    meta = load_model(model_path).metadata
    table = scores.assign(
        model=str(Path(model_path).resolve()),
        model_sha256=str(meta.get("model_sha256", "")),
        scored_at=dt.datetime.now(),
    )
    store.raw.register("_hr_scores", table)
    try:
        with store.transaction():
            store.raw.execute("DELETE FROM lead_scores WHERE id IN (SELECT id FROM _hr_scores)")
            store.raw.execute(
                "INSERT INTO lead_scores SELECT id, probability, band, reasons_up, reasons_down, model, model_sha256, "
                "scored_at FROM _hr_scores"
            )
    finally:
        store.raw.unregister("_hr_scores")
    return len(table)
