"""Lead scoring: features, a leakage guard, a calibrated model, baselines, evaluation and safe model files.

Typical use::

    from hitrate.scoring import leakage_report, excluded_columns, LeadScorer, split, evaluate

    report = leakage_report(closed.drop(columns=["won"]), closed["won"])
    s = split(closed, "won")
    scorer = LeadScorer(exclude=excluded_columns(report)).fit(s.train, s.y_train)
    metrics = evaluate(s.y_test, scorer.predict_proba(s.test)[:, 1], y_train=s.y_train)
"""

from __future__ import annotations

from hitrate.scoring.baselines import LogisticBaseline, OdooNaiveBayes
from hitrate.scoring.evaluation import Split, evaluate, split
from hitrate.scoring.features import MISSING, OTHER, FeatureSpec, FeatureTransformer
from hitrate.scoring.io import ALLOWED_TYPES, LoadedModel, frame_hash, load_model, read_metadata, save_model
from hitrate.scoring.leakage import Suspect, excluded_columns, leakage_report
from hitrate.scoring.model import Explanation, Factor, LeadScorer
from hitrate.scoring.store_leads import read_store_leads

__all__ = [
    "ALLOWED_TYPES",
    "MISSING",
    "OTHER",
    "Explanation",
    "Factor",
    "FeatureSpec",
    "FeatureTransformer",
    "LeadScorer",
    "LoadedModel",
    "LogisticBaseline",
    "OdooNaiveBayes",
    "Split",
    "Suspect",
    "evaluate",
    "excluded_columns",
    "frame_hash",
    "leakage_report",
    "load_model",
    "read_metadata",
    "read_store_leads",
    "save_model",
    "split",
]
