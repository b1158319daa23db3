"""Lead scoring: features, a leakage guard, a calibrated model, baselines, evaluation and safe model files.

The commands' functions take the leads' source first (a store, or lead files) and keyword arguments named
as ``hitrate score``'s options, and return result objects (``summary()``, ``to_frame()``, ``to_dict()``,
``plot()``)::

    from hitrate.scoring import score_train, score_evaluate

    score_train(store, model="leads.model").summary()
    score_evaluate(store, model="leads.model").plot()

The building blocks, for a pandas frame of leads::

    from hitrate.scoring import leakage_report, excluded_columns, LeadScorer, split, evaluate

    report = leakage_report(closed.drop(columns=["won"]), closed["won"])
    s = split(closed, "won")
    scorer = LeadScorer(exclude=excluded_columns(report)).fit(s.train, s.y_train)
    metrics = evaluate(s.y_test, scorer.predict_proba(s.test)[:, 1], y_train=s.y_train)

Names load lazily: ``import hitrate.scoring`` does not import scikit-learn until one is used.
"""

from __future__ import annotations

from hitrate._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "LogisticBaseline": "baselines",
        "OdooNaiveBayes": "baselines",
        "leads_of": "commands",
        "score_evaluate": "commands",
        "score_explain": "commands",
        "score_predict": "commands",
        "score_train": "commands",
        "Split": "evaluation",
        "evaluate": "evaluation",
        "split": "evaluation",
        "MISSING": "features",
        "OTHER": "features",
        "FeatureSpec": "features",
        "FeatureTransformer": "features",
        "ALLOWED_TYPES": "io",
        "LoadedModel": "io",
        "frame_hash": "io",
        "load_model": "io",
        "read_metadata": "io",
        "save_model": "io",
        "Suspect": "leakage",
        "excluded_columns": "leakage",
        "leakage_report": "leakage",
        "Explanation": "model",
        "Factor": "model",
        "LeadScorer": "model",
        "EvaluationResult": "results",
        "ExplanationResult": "results",
        "ScoresResult": "results",
        "TrainResult": "results",
        "read_store_leads": "store_leads",
        "LeadFrame": "training",
        "evaluate_model": "training",
        "explain": "training",
        "predict": "training",
        "read_leads": "training",
        "train": "training",
    },
)
