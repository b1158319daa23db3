"""Lead scoring on the real X Education leads (Leads.csv): leakage guard, model vs baselines, model files."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from hitrate.errors import UserInputError
from hitrate.scoring import (
    MISSING,
    LeadScorer,
    LogisticBaseline,
    OdooNaiveBayes,
    evaluate,
    excluded_columns,
    leakage_report,
    load_model,
    save_model,
    split,
)
from tests.conftest import DATA, require

LEADS = DATA / "lead_scoring_x_education" / "Leads.csv"


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    if not LEADS.exists():
        require(f"the shared data file {LEADS} is missing")
    return pd.read_csv(LEADS).drop(columns=["Unnamed: 37"])


@pytest.fixture(scope="module")
def parts(leads: pd.DataFrame) -> Any:
    return split(leads, "Converted", test_size=0.25, random_state=0)


@pytest.fixture(scope="module")
def report(parts: Any) -> Any:
    return leakage_report(parts.train, parts.y_train)


@pytest.fixture(scope="module")
def excluded(parts: Any) -> list[str]:
    rep = leakage_report(parts.train, parts.y_train, post_outcome=["Lead Quality"])
    return excluded_columns(rep)


@pytest.fixture(scope="module")
def scorer(parts: Any, excluded: list[str]) -> LeadScorer:
    return LeadScorer(exclude=excluded).fit(parts.train, parts.y_train)


def test_split_is_stratified_75_25_and_keeps_ids(leads: pd.DataFrame, parts: Any) -> None:
    assert parts.method == "stratified"
    assert len(parts.test) == round(0.25 * len(leads))
    assert "Converted" not in parts.train.columns
    ids_train, ids_test = set(parts.train["Prospect ID"]), set(parts.test["Prospect ID"])
    assert not ids_train & ids_test
    assert ids_train | ids_test == set(leads["Prospect ID"])
    # outcomes travel with their rows
    assert np.array_equal(parts.y_test, leads.loc[parts.test.index, "Converted"].to_numpy())
    assert abs(parts.y_train.mean() - parts.y_test.mean()) < 0.005


def test_leakage_guard_excludes_tags_and_identifiers(report: Any) -> None:
    by = {s.column: s for s in report}
    tags = by["Tags"]
    assert tags.decision == "excluded"
    assert tags.auc >= 0.85
    assert re.fullmatch(
        r"single-feature AUC 0\.\d\d \(out-of-fold\) \u2265 0\.85: likely filled in after the outcome", tags.reason
    )
    assert f"{tags.auc:.2f}" in tags.reason
    for ident in ("Prospect ID", "Lead Number"):
        assert by[ident].decision == "excluded"
        assert by[ident].unique_per_row
        assert by[ident].reason == "unique per row: an identifier"
    # nothing else is excluded by default: the ordinary fields stay usable
    assert set(excluded_columns(report)) == {"Tags", "Prospect ID", "Lead Number"}
    # Lead Quality (a rep's judgement after contact) gets a warning, not silence
    assert by["Lead Quality"].decision == "warning"


def test_leakage_allow_and_post_outcome(parts: Any) -> None:
    rep = leakage_report(parts.train, parts.y_train, allow=["Tags"], post_outcome=["Lead Quality"])
    by = {s.column: s for s in rep}
    assert by["Tags"].decision == "warning"
    assert by["Tags"].reason.startswith("allowed by request despite: single-feature AUC")
    assert by["Lead Quality"].decision == "excluded"
    assert by["Lead Quality"].reason == "post-outcome by definitions"


def test_model_beats_thresholds_and_baselines(parts: Any, excluded: list[str], scorer: LeadScorer) -> None:
    assert {"Tags", "Lead Quality", "Prospect ID", "Lead Number"} <= set(excluded)
    assert not set(excluded) & set(scorer.features_.spec_.columns)
    p = scorer.predict_proba(parts.test)[:, 1]
    auc, brier = roc_auc_score(parts.y_test, p), brier_score_loss(parts.y_test, p)
    assert auc >= 0.92
    assert brier <= 0.10
    odoo = OdooNaiveBayes(exclude=excluded).fit(parts.train, parts.y_train)
    p_odoo = odoo.predict_proba(parts.test)[:, 1]
    assert auc >= roc_auc_score(parts.y_test, p_odoo) + 0.02
    logit = LogisticBaseline(exclude=excluded).fit(parts.train, parts.y_train)
    p_logit = logit.predict_proba(parts.test)[:, 1]
    assert auc > roc_auc_score(parts.y_test, p_logit)
    m = evaluate(parts.y_test, p, y_train=parts.y_train)
    assert m["auc"] == pytest.approx(auc)
    assert m["warnings"] == []
    top10 = m["top"][0]
    assert top10["share"] == 10 and top10["hit_rate"] > 2 * m["base_rate"]


def test_calibration_record_is_consistent(scorer: LeadScorer) -> None:
    cal = scorer.calibration_
    assert set(cal["brier"]) == set(cal["log_loss"]) == {"none", "sigmoid", "isotonic"}
    assert cal["holdout_rows"] > 1000
    method = cal["method"]
    if method == "none":
        assert scorer.calibrator_ is None
    else:
        assert cal["brier"][method] < cal["brier"]["none"]
        assert cal["log_loss"][method] < cal["log_loss"]["none"]
        assert scorer.calibrator_ is not None
    assert set(scorer.feature_importance_) == set(scorer.features_.spec_.columns)
    assert next(iter(scorer.feature_importance_)) == "Total Time Spent on Website"


def test_unseen_categories_score(parts: Any, scorer: LeadScorer) -> None:
    rows = parts.test.iloc[:50].copy()
    rows["Lead Source"] = "A source never seen"
    rows["Country"] = "Atlantis"
    p = scorer.predict_proba(rows)[:, 1]
    assert np.isfinite(p).all() and ((p > 0) & (p < 1)).all()
    other = rows.copy()
    other["Lead Source"] = "Another unseen source"
    other["Country"] = "Lemuria"
    assert np.array_equal(p, scorer.predict_proba(other)[:, 1])


def test_explanations_push_the_way_they_say(parts: Any, scorer: LeadScorer) -> None:
    rows = parts.test.iloc[:40]
    expl = scorer.explain(rows, top=3)
    assert len(expl) == len(rows)
    base = scorer.predict_proba(rows)[:, 1]
    ft = scorer.features_
    moved_rows, expected = [], []
    for i, e in enumerate(expl):
        assert e.index == rows.index[i]
        assert e.probability == pytest.approx(base[i])
        assert len(e.up) <= 3 and len(e.down) <= 3
        assert [f.effect for f in e.up] == sorted((f.effect for f in e.up), reverse=True)
        assert [f.effect for f in e.down] == sorted(f.effect for f in e.down)
        for factor, sign in [(f, 1) for f in e.up] + [(f, -1) for f in e.down]:
            assert sign * factor.effect > 0
            # independently: put the raw value to its reference and rescore
            row = rows.iloc[[i]].copy().astype(object)
            col = factor.feature
            if col in ft.medians_:
                row[col] = ft.medians_[col]
            else:
                level = ft.reference_levels_[col]
                row[col] = None if level == MISSING else level
            moved_rows.append(row)
            expected.append((base[i], factor.effect, sign))
    assert len(moved_rows) >= 40
    moved = scorer.predict_proba(pd.concat(moved_rows))[:, 1]
    for (p0, effect, sign), p1 in zip(expected, moved, strict=True):
        assert p0 - p1 == pytest.approx(effect, abs=1e-9)
        assert sign * (p0 - p1) > 0


def test_save_load_identical_and_metadata(tmp_path: Path, parts: Any, scorer: LeadScorer) -> None:
    path = tmp_path / "scorer.hitrate-model"
    meta = save_model(scorer, path, training_frame=parts.train, definitions_hash="abc123", metrics={"auc": 0.9})
    loaded = load_model(path)
    p0 = scorer.predict_proba(parts.test)
    assert np.array_equal(p0, loaded.model.predict_proba(parts.test))
    assert np.array_equal(p0, loaded.predict_proba(parts.test))
    assert loaded.metadata == meta
    assert meta["definitions_sha256"] == "abc123"
    assert meta["features"] == scorer.features_.spec_.kinds()
    assert meta["features"]["Total Time Spent on Website"] == "numeric"
    assert meta["calibration"]["method"] == scorer.calibration_["method"]
    assert len(meta["training_data_sha256"]) == 64


def test_tampered_file_is_refused(tmp_path: Path, parts: Any, scorer: LeadScorer) -> None:
    path = tmp_path / "scorer.hitrate-model"
    save_model(scorer, path)
    data = bytearray(path.read_bytes())
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(flipped))
    with pytest.raises(UserInputError, match="damaged or was modified"):
        load_model(path)
    # a re-packed archive with consistent CRCs but changed model bytes fails the sha256 check
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        blob, meta = zf.read("model.skops"), zf.read("metadata.json")
    changed = bytearray(blob)
    changed[len(changed) // 2] ^= 0x01
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model.skops", bytes(changed))
        zf.writestr("metadata.json", meta)
    path.write_bytes(buf.getvalue())
    with pytest.raises(UserInputError, match="do not match their recorded sha256"):
        load_model(path)


def test_frame_missing_a_feature_is_refused(tmp_path: Path, parts: Any, scorer: LeadScorer) -> None:
    path = tmp_path / "scorer.hitrate-model"
    save_model(scorer, path)
    loaded = load_model(path)
    with pytest.raises(UserInputError, match="'Lead Source'"):
        loaded.predict_proba(parts.test.drop(columns=["Lead Source"]))
    with pytest.raises(UserInputError, match="missing feature column.*'Lead Source'"):
        scorer.predict_proba(parts.test.drop(columns=["Lead Source"]))
    changed = parts.test.copy()
    changed["TotalVisits"] = "many"
    with pytest.raises(UserInputError, match="'TotalVisits'.*numeric"):
        loaded.predict_proba(changed)
