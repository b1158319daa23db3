"""The library face of ``hitrate score``: the commands' functions take the store (or lead files) first and
return result objects with summary(), to_frame(), to_dict(), _repr_html_() and plot(), in English and Danish."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hitrate.errors import InvalidParameterError
from hitrate.report.result import Result
from hitrate.scoring import (
    EvaluationResult,
    ExplanationResult,
    ScoresResult,
    TrainResult,
    leakage_report,
    score_evaluate,
    score_explain,
    score_predict,
    score_train,
)
from hitrate.store.embedded import Store
from hitrate.synth.demo import build_demo


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, TrainResult]:
    folder = tmp_path_factory.mktemp("scoring")
    path, model = folder / "demo.duckdb", folder / "leads.model"
    with Store(path) as store:
        build_demo(store, seed=3, n_opportunities=1_000)
        result = score_train(store, model=model)
    return path, model, result


def faces(result: Result) -> dict[str, object]:
    """Call every face of a result; check each gives something."""
    frame = result.to_frame()
    data = result.to_dict()
    text = json.dumps(data, ensure_ascii=False)
    html = result._repr_html_()
    fig = result.plot()
    assert len(frame) and json.loads(text) == data and "<table" in html and fig.data
    assert result.title().render("da") != result.title().render("en")
    return {"summary": result.summary(), "summary_da": result.summary("da"), "frame": frame, "data": data, "fig": fig}


def test_train_from_the_store(trained) -> None:
    _, model, result = trained
    assert isinstance(result, TrainResult) and isinstance(result, Result)
    assert result.model == result.model_path == str(model) and model.exists()
    shown = faces(result)
    assert list(shown["data"]) == [
        "excluded",
        "warnings",
        "metrics",
        "baselines",
        "split",
        "calibration",
        "importance",
        "model",
        "beats_baseline",
        "checks",
    ]
    assert list(shown["frame"]["model"]) == ["lead_scorer", "odoo_naive_bayes", "logistic_regression"]
    assert shown["summary"].splitlines()[:2] == [
        "Lead-scoring model",
        f"Held-out ({result.split['method']}, {result.split['test']:,} leads): AUC {result.metrics['auc']:.3f}, "
        f"Brier {result.metrics['brier']:.3f}, log loss {result.metrics['log_loss']:.3f}",
    ]
    assert shown["summary_da"].splitlines()[1].startswith("Tilbageholdt (")
    calibration = result.metrics["calibration"]
    assert list(shown["fig"].data[1].x) == [b["mean_predicted"] for b in calibration]


def test_evaluate_and_explain_from_the_store(trained) -> None:
    path, model, _ = trained
    with Store(path) as store:
        evaluation = score_evaluate(store, model=model)
        explanation = score_explain(store, model=model, top=2)
    assert isinstance(evaluation, EvaluationResult) and isinstance(evaluation, dict)
    shown = faces(evaluation)
    assert json.dumps(evaluation.to_dict()) == json.dumps(evaluation, default=str)  # the command line's JSON
    assert len(shown["frame"]) == 10 and list(shown["fig"].data[0].y) == [d["hit_rate"] for d in evaluation["deciles"]]
    assert shown["summary"].splitlines()[1] == (
        f"{evaluation['leads']:,} decided leads: AUC {evaluation['auc']:.3f}, Brier {evaluation['brier']:.3f}, "
        f"log loss {evaluation['log_loss']:.3f}"
    )
    assert isinstance(explanation, ExplanationResult)
    shown = faces(explanation)
    assert json.dumps(explanation.to_dict()) == json.dumps(explanation, default=str)
    assert len(shown["frame"]) == len(explanation["leads"]) == 1_000
    top = max(explanation["importance"], key=explanation["importance"].get)
    assert f"the feature that matters most is {top}" in shown["summary"]
    assert shown["fig"].data[0].y[0] == top


def test_predict_writes_the_file_and_keeps_the_scores(trained, tmp_path: Path) -> None:
    path, model, _ = trained
    out = tmp_path / "scores.csv"
    with Store(path) as store:
        scores = score_predict(store, model=model, out=out)
        kept = store.count("lead_scores")
    assert isinstance(scores, ScoresResult) and len(scores) == scores.kept == kept == 1_000
    assert len(pd.read_csv(out)) == 1_000 and scores.out == str(out)
    written = pd.read_csv(out)  # best score first, ties by id: the list reps work down
    assert written["probability"].is_monotonic_decreasing
    assert written.sort_values(["probability", "id"], ascending=[False, True]).index.tolist() == list(range(1_000))
    shown = faces(scores)
    bands = scores.bands()
    assert sum(bands.values()) == 1_000 and list(shown["fig"].data[0].y) == list(bands.values())
    assert shown["summary"].splitlines()[1].startswith(f"1,000 leads scored: {bands['A']:,} in band A")
    assert shown["summary_da"].splitlines()[1].startswith("1.000 leads scoret")
    with pytest.raises(InvalidParameterError) as info:
        scores.write(tmp_path / "scores.txt")
    assert info.value.parameter == "out"
    assert info.value.render("en", lambda p: f"--{p}").startswith("--out ") and "expected a .csv" in str(info.value)


def test_lead_files_come_first_too(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 400
    source = rng.choice(["web", "fair", "referral", "cold"], n)
    p = np.select([source == "referral", source == "fair"], [0.7, 0.45], 0.15)
    frame = pd.DataFrame(
        {
            "lead": [f"L{i}" for i in range(n)],
            "status": np.where(rng.random(n) < p, "Signed", "Dropped"),
            "source": source,
            "visits": rng.poisson(3, n),
        }
    )
    csv = tmp_path / "leads.csv"
    frame.to_csv(csv, index=False)
    files = {"mapping": {"id": "lead", "stage": "status"}, "won": ["Signed"], "lost": ["Dropped"]}
    result = score_train(csv, model=tmp_path / "m", **files)  # type: ignore[arg-type]
    assert result.split["test"] == 100 and result.metrics["auc"] > 0.6
    evaluation = score_evaluate([csv], model=tmp_path / "m", **files)  # type: ignore[arg-type]
    assert evaluation["leads"] == n


def test_file_options_on_a_store_are_refused(trained) -> None:
    path, model, _ = trained
    with Store(path) as store, pytest.raises(InvalidParameterError) as info:
        score_evaluate(store, model=model, preset="salesforce")
    assert info.value.parameter == "preset"
    assert info.value.render("en", lambda p: f"--{p}") == "--preset apply to lead files; the source is a store"


def test_leakage_reasons_and_evaluation_warnings_are_messages_in_danish() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    frame = pd.DataFrame({"copy": y.astype(str), "noise": rng.normal(size=200), "id": [f"x{i}" for i in range(200)]})
    report = {s.column: s for s in leakage_report(frame, y)}
    assert report["copy"].reason.startswith("single-feature AUC 1.00 (out-of-fold) ≥ 0.85")
    assert report["copy"].reason.render("da").startswith("AUC for denne feature alene 1,00")
    assert report["id"].reason.render("da") == "unik pr. række: en identifikator"
    assert report["noise"].reason == "" and report["noise"].decision == "ok"
